"""End-to-end time of `cargoinfer fit` on the default case, and where it goes.

    .venv/bin/python bench/fit_time.py [--model joint]

1. The command itself, wall clock, in a fresh process: first with an empty compile
   cache (a new machine: PyTensor's numba cache in a temporary folder), then again
   with that cache warm (every later fit: each new process still builds nutpie's
   wrapper, which is not cacheable), then with a second empty cache that only
   `cargoinfer warm MODEL` has filled (the first fit after `make`, which runs it).
2. The same fit split by stage in one interpreter, and the refit of the same
   compiled model on a second case of the same shape (`with_data`)."""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import json, shutil, sys, time
    t0 = time.perf_counter()
    from cargoinfer.inference.logs import quiet
    quiet()
    from cargoinfer.experiments.config import compose
    from cargoinfer.experiments.run import execute
    import pymc, nutpie  # noqa: F401 (the fit imports them; count them as import time)
    t_import = time.perf_counter() - t0
    store, second, model = sys.argv[1], sys.argv[2], sys.argv[3]
    _, first, _ = execute(compose([f"store={store}", f"model={model}"]), t_start=time.perf_counter())
    _, again, _ = execute(compose([f"store={store}", f"model={model}", f"case.path={second}"]),
                          t_start=time.perf_counter())
    print(json.dumps({"import_s": t_import, "first": first["timings"], "second": again["timings"],
                      "total_first": first["headline"], "total_second": again["headline"]}))
""")


def second_case(folder: str) -> str:
    """The default case with different counts and one more voyage: same shape of model."""
    from importlib import resources

    src = resources.files("cargoinfer.cases") / "rajin_dunai_2023"
    dst = f"{folder}/second_case"
    shutil.copytree(str(src), dst)
    with open(f"{dst}/voyages.csv", "a") as f:
        f.write("Maria,2023-10-03,,imagery,M9,bench: an extra voyage\n")
    lines = open(f"{dst}/containers.csv").read().splitlines()
    head, rows = lines[0], lines[1:]
    cols = head.split(",")
    vis = cols.index("visible")
    out = [head]
    for row in rows:
        cells = next(csv.reader([row]))
        cells[vis] = str(int(int(cells[vis]) * 0.8))
        out.append(",".join(f'"{c}"' if "," in c else c for c in cells))
    open(f"{dst}/containers.csv", "w").write("\n".join(out) + "\n")
    return dst


def cli_wall(env: dict, *args: str) -> float:
    exe = Path(sys.executable).with_name("cargoinfer")
    t0 = time.perf_counter()
    subprocess.run([str(exe), *args], env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="joint")
    model = parser.parse_args().model
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp}/compiledir"}
        cold_cache = cli_wall(env, "fit", f"model={model}", f"store={tmp}/store1")
        warm_cache = cli_wall(env, "fit", f"model={model}", f"store={tmp}/store2")
        env_make = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp}/compiledir_make"}
        warm_step = cli_wall(env_make, "warm", model)
        after_warm = cli_wall(env_make, "fit", f"model={model}", f"store={tmp}/store4")
        second = second_case(tmp)
        proc = subprocess.run([sys.executable, "-c", SCRIPT, f"{tmp}/store3", second, model],
                              capture_output=True, text=True, check=True, env=env)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
    f, s = r["first"], r["second"]
    print(f"`cargoinfer fit model={model}` on the default case, wall clock, fresh process, "
          f"{os.cpu_count()} cores:")
    print(f"  empty compile cache (first fit on a machine) {cold_cache:7.2f} s")
    print(f"  warm compile cache (every later fit)         {warm_cache:7.2f} s")
    print(f"  first fit after `cargoinfer warm {model}`       {after_warm:7.2f} s   "
          f"(the warm step took {warm_step:.2f} s)")
    total = r["import_s"] + f["total_s"]
    print("the later fit by stage (one interpreter, compile cache warm):")
    print(f"  import           {r['import_s']:7.2f} s")
    print(f"  read + validate  {f['prepare_s']:7.2f} s")
    print(f"  compile          {f['compile_s']:7.2f} s")
    print(f"  sampling         {f['sampling_s']:7.2f} s   (4 chains x 1000 draws, 1000 tune)")
    print(f"  estimands        {f['generated_s']:7.2f} s   (unseen voyages, loads, predictive)")
    print(f"  writing          {f['write_s']:7.2f} s   (tables, posterior.nc, figures, brief)")
    print(f"  total            {total:7.2f} s")
    warm_model = s["with_data_s"] + s["sampling_s"]
    print("second case of the same shape, same process (compiled model reused):")
    print(f"  with_data + sampling {warm_model:6.2f} s   vs compile + sampling "
          f"{f['compile_s'] + f['sampling_s']:6.2f} s: "
          f"{(f['compile_s'] + f['sampling_s']) / warm_model:.1f}x faster")
    print(f"  whole fit            {s['total_s']:6.2f} s   vs {total:6.2f} s: "
          f"{total / s['total_s']:.1f}x faster")


if __name__ == "__main__":
    main()
