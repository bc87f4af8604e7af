"""More passes of the same kind never predict a wider interval (issue 22's property), on
one joint run: an archive imagery option of the default menu at several pass counts.

    PYTHONPATH=... .venv/bin/python bench/plan_passes.py RUN_DIR [--option archive_dunai_sep] [--passes 0 3 6 9]

Prints each count's expected width with its Monte Carlo error and method."""

import argparse
import dataclasses
from pathlib import Path

import yaml
from cargoinfer.experiments import plan
from cargoinfer.experiments.plan_menu import read_menu
from fit_rows import commit

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--option", default="archive_dunai_sep")
    ap.add_argument("--passes", type=int, nargs="*", default=[0, 3, 6, 9])
    a = ap.parse_args()
    ctx = plan.context(a.run)
    menu = yaml.safe_load((ROOT / "configs/plan/default.yaml").read_text())["options"]
    option = {o.name: o for o in read_menu(menu, ctx.case)}[a.option]
    print(f"{a.option} on run {ctx.folder.name} ({ctx.family.NAME}), commit {commit()}")
    for n in a.passes:
        r = plan.assess(ctx, dataclasses.replace(option, passes=n))
        print(f"  {n} passes: {r.width_now:,.0f} -> {r.width_expected:,.0f} "
              f"+- {r.width_expected_mcse:,.0f} ({r.method}; {r.seconds:.1f} s)")


if __name__ == "__main__":
    main()
