"""Cold end-to-end time of `cargoinfer fit` on the default case, split by stage, and the
refit time of the same compiled model on a second case of the same shape.

    .venv/bin/python bench/fit_time.py

Runs in a fresh interpreter so that the import and compile costs are real."""

import csv
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap

SCRIPT = textwrap.dedent("""
    import json, shutil, sys, time
    t0 = time.perf_counter()
    from cargoinfer.experiments.cli import quiet
    quiet()
    from cargoinfer.experiments.config import compose
    from cargoinfer.experiments.run import execute
    import pymc, nutpie  # noqa: F401 (the fit imports them; count them as import time)
    t_import = time.perf_counter() - t0
    store, second = sys.argv[1], sys.argv[2]
    _, first, _ = execute(compose([f"store={store}"]), t_start=time.perf_counter())
    _, again, _ = execute(compose([f"store={store}", f"case.path={second}"]),
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


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        second = second_case(tmp)
        proc = subprocess.run([sys.executable, "-c", SCRIPT, f"{tmp}/store", second],
                              capture_output=True, text=True, check=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
    f, s = r["first"], r["second"]
    cold = r["import_s"] + f["total_s"]
    print("cold `cargoinfer fit` on the default case (fresh interpreter, 2 cores):")
    print(f"  import           {r['import_s']:7.2f} s")
    print(f"  read + validate  {f['prepare_s']:7.2f} s")
    print(f"  compile          {f['compile_s']:7.2f} s")
    print(f"  sampling         {f['sampling_s']:7.2f} s   (4 chains x 1000 draws, 1000 tune)")
    print(f"  estimands        {f['generated_s']:7.2f} s   (unseen voyages, loads, predictive)")
    print(f"  writing          {f['write_s']:7.2f} s   (tables, posterior.nc, figures, brief)")
    print(f"  total            {cold:7.2f} s")
    warm_model = s["with_data_s"] + s["sampling_s"]
    print("second case of the same shape, same process (compiled model reused):")
    print(f"  with_data + sampling {warm_model:6.2f} s   vs compile + sampling "
          f"{f['compile_s'] + f['sampling_s']:6.2f} s cold: "
          f"{(f['compile_s'] + f['sampling_s']) / warm_model:.1f}x faster")
    print(f"  whole fit            {s['total_s']:6.2f} s   vs {cold:6.2f} s cold: "
          f"{cold / s['total_s']:.1f}x faster")


if __name__ == "__main__":
    main()
