"""Time of `cargoinfer fit` on the default case, per family, measured in one run.

    .venv/bin/python bench/fit_time.py [--models voyages joint dynamic] [--install]

Per family, every figure wall clock on this machine:
1. `cargoinfer fit model=F seed=1` with a new worker (its own worker folder): the first
   fit after the worker starts, compiling (PyTensor's disk cache as this machine has it);
2. `cargoinfer fit model=F seed=2`: a fresh command, the worker warm;
3. the same command with `--no-worker` (a process of its own, the way before the worker);
4. the in-process warm refit of the same run: `ci.fit(model=F, seed=2)` in an interpreter
   that has fitted F once, so its compiled model is reused;
then the ratio 2 / 4 (target: at most 1.3) and 3 / 2, and the stages of fit 2 (run.json's
`timings`).

--install: also `make demo` in a fresh clone of this repository (a new .venv, packages
from the registry with empty download caches, an empty PyTensor compile cache, a worker
of its own), wall clock to its last line."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from fit_rows import commit

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("cargoinfer"))

IN_PROCESS = textwrap.dedent("""
    import json, sys, time
    import cargoinfer as ci
    model, store = sys.argv[1], sys.argv[2]
    ci.fit(model=model, seed=1, store=store + "/first")
    t0 = time.perf_counter()
    run = ci.fit(model=model, seed=2, store=store + "/again")
    print(json.dumps({"wall": time.perf_counter() - t0, "timings": run.record["timings"]}))
""")


def wall(args: list[str], env: dict, cwd=None) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{proc.stderr}")
    return time.perf_counter() - t0, proc


def run_json(proc: subprocess.CompletedProcess) -> dict:
    run_dir = proc.stdout.strip().splitlines()[-1].removeprefix("run: ")
    return json.loads((Path(run_dir) / "run.json").read_text())


def family(model: str, tmp: str) -> dict:
    env = {**os.environ, "CARGOINFER_WORKER": "1", "CARGOINFER_WORKER_DIR": f"{tmp}/w-{model}",
           "CARGOINFER_WORKER_IDLE": "600"}
    try:
        first, _ = wall([CLI, "fit", f"model={model}", "seed=1", f"store={tmp}/cli"], env)
        served, proc = wall([CLI, "fit", f"model={model}", "seed=2", f"store={tmp}/cli"], env)
        own, _ = wall([CLI, "--no-worker", "fit", f"model={model}", "seed=2",
                       f"store={tmp}/own"], env)
    finally:
        subprocess.run([CLI, "worker", "stop"], env=env, capture_output=True)
    _, inproc = wall([sys.executable, "-c", IN_PROCESS, model, f"{tmp}/api-{model}"],
                     {**os.environ, "CARGOINFER_WORKER": "0"})
    refit = json.loads(inproc.stdout.strip().splitlines()[-1])
    return {"first": first, "served": served, "own": own, "refit": refit["wall"],
            "timings": run_json(proc)["timings"], "refit_timings": refit["timings"]}


def install(tmp: str) -> tuple[float, str, list[tuple[float, str]]]:
    """`make demo` in a fresh clone as a new machine runs it: empty download caches (pip's,
    uv's), an empty PyTensor compile cache, a worker of its own (stopped afterwards).
    Returns the wall clock, the last line and each line of output with its time."""
    clone = f"{tmp}/clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), clone], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(CARGOINFER_WORKER="1", CARGOINFER_WORKER_DIR=f"{tmp}/w-install",
               XDG_CACHE_HOME=f"{tmp}/cache", PIP_NO_CACHE_DIR="1",
               PYTENSOR_FLAGS=f"base_compiledir={tmp}/compiledir")
    lines = []
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(["make", "demo"], env=env, cwd=clone, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            lines.append((time.perf_counter() - t0, line.rstrip()))
        if proc.wait() != 0:
            sys.exit("make demo failed:\n" + "\n".join(x for _, x in lines))
    finally:
        subprocess.run([f"{clone}/.venv/bin/cargoinfer", "worker", "stop"], env=env,
                       capture_output=True)
    return time.perf_counter() - t0, lines[-1][1], lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="*", default=["voyages", "joint", "dynamic"])
    parser.add_argument("--install", action="store_true")
    a = parser.parse_args()
    print(f"`cargoinfer fit` on the default case, commit {commit()}, {os.cpu_count()} cores, "
          "wall clock in seconds")
    print(f"{'family':8} {'1st (new worker)':>16} {'fresh command':>13} {'in-process refit':>16} "
          f"{'ratio':>6} {'--no-worker':>11} {'gain':>5}")
    stages = {}
    with tempfile.TemporaryDirectory() as tmp:
        for model in a.models:
            r = family(model, tmp)
            stages[model] = r
            print(f"{model:8} {r['first']:16.1f} {r['served']:13.1f} {r['refit']:16.1f} "
                  f"{r['served'] / r['refit']:6.2f} {r['own']:11.1f} {r['own'] / r['served']:5.1f}")
        print("\nthe fresh command's stages (run.json timings; the rest is the client and "
              "handing over):")
        keys = ["prepare_s", "compile_s", "with_data_s", "conflict_s", "sampling_s",
                "generated_s", "checks_s", "write_s", "total_s"]
        print(f"{'family':8} " + " ".join(f"{k.removesuffix('_s'):>9}" for k in keys)
              + f" {'around':>7}")
        for model, r in stages.items():
            t = r["timings"]
            around = sum(t.get(k, 0.0) for k in ("prepare_s", "generated_s", "checks_s", "write_s"))
            print(f"{model:8} " + " ".join(f"{t.get(k, 0.0):9.2f}" for k in keys)
                  + f" {around:7.2f}")
        print("(around = prepare + estimands + checks + writing; the conflict check's fit runs "
              "beside the estimands and checks)")
        if a.install:
            seconds, last, lines = install(tmp)
            print(f"\n`make demo` in a fresh clone (new .venv, empty download and compile "
                  f"caches): {seconds:.0f} s to its last line ({last})")
            starts = {}  # when make echoed each step's command, the first time
            for t, line in lines:
                for what, mark in (("warm", "cargoinfer warm"), ("fit", "cargoinfer fit")):
                    if mark in line:
                        starts.setdefault(what, t)
            compiled = next((line for _, line in lines if line.startswith("compiled ")), "")
            if {"warm", "fit"} <= starts.keys():
                print(f"install {starts['warm']:.1f} s, warm {starts['fit'] - starts['warm']:.1f} s "
                      f"({compiled}), fit {seconds - starts['fit']:.1f} s")


if __name__ == "__main__":
    main()
