"""The default brief shown in the README: `cargoinfer fit` with no overrides (what
`make demo` runs) into a scratch store, then its headline and a figure.

    .venv/bin/python bench/readme_brief.py [--store DIR]

Prints the commit, the fit's own output lines, the brief's headline sentence and the
run directory, and copies the brief's
cumulative-containers figure to bench/readme/brief_cumulative_containers.png."""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from fit_rows import commit

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", default=None, help="default: a new temporary folder")
    args = ap.parse_args()
    store = args.store or tempfile.mkdtemp(prefix="readme-brief-")
    cli = Path(sys.executable).with_name("cargoinfer")
    out = subprocess.run([str(cli), "fit", f"store={store}"], check=True, capture_output=True,
                         text=True).stdout
    print(f"commit {commit()}; `cargoinfer fit store=...` printed:")
    print(out, end="")
    run = Path(out.strip().splitlines()[-1].removeprefix("run: "))
    md = (run / "brief.md").read_text()
    print(next(line.strip("*") for line in md.splitlines() if line.startswith("**We estimate")))
    print(f"run: {run}")
    (HERE / "readme").mkdir(exist_ok=True)
    dst = HERE / "readme" / "brief_cumulative_containers.png"
    shutil.copy(run / "figures" / "cumulative_containers.png", dst)
    print(f"figure: {dst.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
