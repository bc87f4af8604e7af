"""A sweep killed with SIGKILL partway, then re-run: what was lost and what was redone.

    .venv/bin/python bench/sweep_resume.py [--jobs 12] [--kill-after 4] [OVERRIDE ...]

Runs `cargoinfer sweep model=joint` over --jobs seeds with the joblib launcher,
SIGKILLs its whole process group once --kill-after runs are complete, checks the sweep
folder (every visible folder a complete run directory), re-runs the same command and
prints how many runs were complete before, how many the re-run wrote, how many it
redid (a run.json changed), and the seconds of each part."""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-c", "import sys; from cargoinfer.experiments.cli import main; sys.exit(main())"]


def complete(folder: Path) -> dict[str, int]:
    """run id -> mtime of its run.json, for every visible run folder; a visible folder
    without run.json is a half-written run and stops the bench."""
    out = {}
    if not folder.is_dir():
        return out
    for d in folder.iterdir():
        if d.is_dir() and not d.name.startswith("."):
            record = d / "run.json"
            if not record.is_file():
                sys.exit(f"half-written run directory: {d}")
            json.loads(record.read_text())
            out[d.name] = record.stat().st_mtime_ns
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=12)
    ap.add_argument("--kill-after", type=int, default=4)
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [*CLI, "sweep", "model=joint", f"store={tmp}",
               "seed=" + ",".join(str(i) for i in range(1, args.jobs + 1)),
               "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *args.overrides]
        folder = Path(tmp) / "default"
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        while len(complete(folder)) < args.kill_after and proc.poll() is None:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        killed_at = time.perf_counter() - t0
        before = complete(folder)
        staging = len(list(folder.glob(".staging-*")))
        t1 = time.perf_counter()
        rerun = subprocess.run(cmd, capture_output=True, text=True)
        rerun_s = time.perf_counter() - t1
        after = complete(folder)
        redone = sum(after.get(rid) != m for rid, m in before.items())
        print(f"joint, {args.jobs} jobs, joblib with 2 workers; overrides: "
              f"{' '.join(args.overrides) or '(none)'}")
        print(f"  SIGKILL after {killed_at:.1f} s: {len(before)} runs complete, "
              f"{staging} staging folders left (hidden), no half-written run directory")
        print(f"  re-run: exit {rerun.returncode} in {rerun_s:.1f} s; {len(after)} runs complete, "
              f"{len(after) - len(before)} written by the re-run, {redone} redone")


if __name__ == "__main__":
    main()
