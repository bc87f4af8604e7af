"""What a plan costs: `cargoinfer plan RUN [OVERRIDE ...]` in a fresh process, on 2 cores.

    PYTHONPATH=... .venv/bin/python bench/plan_speed.py RUN_DIR [OVERRIDE ...]

Prints the command's wall clock, and from plan.json: the screens' seconds (simulating
each option's rows at the outer draws and reweighting, targets: the whole plan within
5 minutes, the screens within 30 s), each option's seconds and refits, and the plan's table. The plan
directory it writes is removed afterwards, so that the next run computes it again."""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from fit_rows import commit


def main() -> None:
    run, overrides = sys.argv[1], sys.argv[2:]
    args = [sys.executable, "-c", "import sys; from cargoinfer.experiments.cli import main; "
            "sys.exit(main(sys.argv[1:]))", "plan", run, *overrides]
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(proc.stderr)
    folder = Path(proc.stdout.strip().splitlines()[-1].removeprefix("plan: "))
    record = json.loads((folder / "plan.json").read_text())
    t = record["timings"]
    print(f"cargoinfer plan on run {record['run_id']} ({record['model']}), commit {commit()}: "
          f"{len(t['options'])} options in {wall:.1f} s wall (plan.json: {t['total_s']:.1f} s), "
          f"screens {t['screen_s']:.1f} s")
    for name, o in t["options"].items():
        print(f"  {name}: {o['total_s']:.1f} s, screen {o['screen_s']:.1f} s, "
              f"{o['refits']} refits")
    print("\n".join(proc.stdout.strip().splitlines()[:-1]))  # the plan's table
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
