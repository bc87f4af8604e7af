"""The run store: content-derived run ids and run directories that appear whole or not at all."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import shutil
import tempfile
import time
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


def _writer_tag() -> str:
    """Who writes a staging folder: pid@host, so that a later sweep can tell a dead
    writer's leftovers from a live one's."""
    return f"{os.getpid()}@{socket.gethostname()}"


_LEFTOVER = re.compile(r"^\.(staging|replaced)-[0-9a-zA-Z_-]+\.(\d+)@(.+)\.[^.]*$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_staging(folder: Path, max_age_s: float = 86400) -> list[str]:
    """Remove what killed writers left in `folder`: staging folders, and failed records
    set aside, whose writer on this host is gone (or, from another host, older than a
    day). A live writer's are left alone."""
    removed, host = [], socket.gethostname()
    for path in folder.glob(".*-*"):
        m = _LEFTOVER.match(path.name)
        if not m or not path.is_dir():
            continue
        pid, where = int(m.group(2)), m.group(3)
        dead = (not _alive(pid)) if where == host else time.time() - path.stat().st_mtime > max_age_s
        if dead:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


@contextmanager
def staged(run_dir: Path):
    """Yield a staging folder beside `run_dir`; rename it into place on success.

    A crash leaves only a hidden `.staging-*` folder, never a partial run
    directory; the rename is atomic on one file system."""
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".staging-{run_dir.name}.{_writer_tag()}.", dir=run_dir.parent))
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
    aside = Path(tempfile.mkdtemp(prefix=f".replaced-{run_dir.name}.{_writer_tag()}.", dir=run_dir.parent))
    os.rename(run_dir, aside / "old")
    os.rename(new, run_dir)
    shutil.rmtree(aside, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
