"""The run store: content-derived run ids and run directories that appear whole or not at all."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

COMPLETE_MARK = "run.json"  # written last inside the staging folder


def digest(obj) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_refuse)
    return hashlib.sha256(text.encode()).hexdigest()


def _refuse(obj):
    raise TypeError(f"not serialisable for hashing: {type(obj).__name__}")


def run_id(model: str, version: int, case_hash: str, config_hash: str, seed: int) -> str:
    return digest([model, version, case_hash, config_hash, seed])[:16]


def is_complete(run_dir: Path) -> bool:
    return (run_dir / COMPLETE_MARK).is_file()


def status(run_dir: Path) -> str | None:
    """A complete run's status (briefing-grade, review or failed), from its run.json."""
    try:
        return json.loads((run_dir / COMPLETE_MARK).read_text()).get("status")
    except (OSError, ValueError):
        return None


def clean_staging(folder: Path) -> list[str]:
    """Remove what a killed writer left in a sweep folder: staging folders and failed
    records set aside. Only while no writer is running (the sweep holds its lock)."""
    removed = []
    for path in folder.glob(".staging-*"):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    for path in folder.glob(".replaced-*"):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return removed


@contextmanager
def staged(run_dir: Path):
    """Yield a staging folder beside `run_dir`; rename it into place on success.

    A crash leaves only a hidden `.staging-*` folder, never a partial run
    directory; the rename is atomic on one file system."""
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".staging-{run_dir.name}-", dir=run_dir.parent))
    try:
        yield tmp
        _fsync_tree(tmp)
        try:
            os.rename(tmp, run_dir)
        except OSError:
            if status(run_dir) == "failed" and status(tmp) != "failed":
                _replace(tmp, run_dir)  # a fit replaces the record of a failed one
            elif not is_complete(run_dir):
                raise
            else:  # someone else's complete copy wins
                shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _replace(new: Path, run_dir: Path) -> None:
    """Put `new` where `run_dir` is: at every moment run_dir is the old or the new
    complete folder, or absent."""
    aside = Path(tempfile.mkdtemp(prefix=f".replaced-{run_dir.name}-", dir=run_dir.parent))
    os.rename(run_dir, aside / "old")
    os.rename(new, run_dir)
    shutil.rmtree(aside, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
