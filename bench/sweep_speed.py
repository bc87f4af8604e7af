"""A sweep's cost per job against a cold `cargoinfer fit`, and how to split the cores.

    .venv/bin/python bench/sweep_speed.py [--model joint] [--jobs 6] [OVERRIDE ...]

1. `cargoinfer fit model=M` in a fresh interpreter, twice: with an empty compile cache
   (the first fit on a machine) and with the cache warm (as after `make`): start-up,
   compile, sampling, checks, writing.
2. The same model swept over --jobs seeds with each split of this machine's cores:
   serial (one job at a time, the sampler on every core) and joblib with n workers
   (cores / n threads each), every job a full run directory. Each sweep is a fresh
   `cargoinfer sweep` in a fresh store, so it pays its own start-up and compiles.
Prints the seconds per job of each, its ratio to the cold fit, and runs per minute, all
measured in this one run."""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-c", "import sys; from cargoinfer.experiments.cli import main; sys.exit(main())"]


def timed(args: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env)
    if proc.returncode not in (0, 1):
        sys.exit(f"failed: {' '.join(args)}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="joint")
    ap.add_argument("--jobs", type=int, default=6)
    ap.add_argument("overrides", nargs="*", help="config overrides for every fit")
    args = ap.parse_args()
    cpus = os.cpu_count() or 1
    seeds = "seed=" + ",".join(str(100 + i) for i in range(args.jobs))
    with tempfile.TemporaryDirectory() as tmp:
        empty = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp}/compiledir"}
        first = timed(["fit", f"model={args.model}", f"store={Path(tmp) / 'first'}",
                       *args.overrides], env=empty)
        cold = timed(["fit", f"model={args.model}", f"store={Path(tmp) / 'cold'}", *args.overrides])
        print(f"{args.model}, {cpus} cores; overrides: {' '.join(args.overrides) or '(none)'}")
        print(f"  `cargoinfer fit`, fresh process, empty compile cache: {first:.1f} s")
        print(f"  `cargoinfer fit`, fresh process, warm compile cache: {cold:.1f} s")
        splits = [("serial", ["hydra/launcher=serial"])] + [(f"joblib, {n} workers x {cpus // n} cores",
                                      ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={n}"])
                                     for n in range(2, cpus + 1) if cpus % n == 0]
        best = None
        for label, launcher in splits:
            store = Path(tmp) / label.split(",")[0]
            wall = timed(["sweep", f"model={args.model}", seeds, f"store={store}",
                          *launcher, *args.overrides])
            per_job = wall / args.jobs
            rate = 60 * args.jobs / wall
            print(f"  sweep, {label}: {args.jobs} jobs in {wall:.1f} s: {per_job:.1f} s per job, "
                  f"{per_job / first:.2f} of an empty-cache fit, {per_job / cold:.2f} of a "
                  f"warm-cache fit, {rate:.2f} runs per minute")
            if best is None or rate > best[1]:
                best = (label, rate)
        print(f"  most runs per minute: {best[0]}")


if __name__ == "__main__":
    main()
