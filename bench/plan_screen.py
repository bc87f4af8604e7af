"""The screen of `cargoinfer plan` (work in progress, issue 22) on a fitted run.

    PYTHONPATH=... .venv/bin/python bench/plan_screen.py RUN_DIR [--refits 6]

For the default menu's depot and count options (and the depot reading at sd 2,500, 250
and 25 m2): the width now, the expected width after the option with its Monte Carlo
error, the largest Pareto k and how many of the 32 outer draws the screen trusts, and
its seconds. With --refits N, also N refits of the depot option at sd 250 and 25 with
readings simulated at evenly spaced draws, each refit's width and seconds."""

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import yaml
from cargoinfer.experiments import plan
from cargoinfer.experiments.plan_menu import read_menu

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--refits", type=int, default=0)
    args = ap.parse_args()
    ctx = plan.context(args.run)
    menu = yaml.safe_load((ROOT / "configs/plan/default.yaml").read_text())["options"]
    opts = {o.name: o for o in read_menu(menu, ctx.case)}
    depot, count = opts["depot_area_late_oct"], opts["quay_count_next"]
    trials = [(f"depot sd {sd:g}", plan.screen_depot, dataclasses.replace(depot, sd=sd))
              for sd in (2500.0, 250.0, 25.0)]
    trials += [("count next, coverage 0.6", plan.screen_count, count),
               ("count next, unrecorded", plan.screen_count,
                dataclasses.replace(count, coverage=None))]
    print(f"run {ctx.folder.name}, {ctx.family.NAME}@{ctx.family.VERSION}, headline "
          f"{ctx.headline}, {len(ctx.draws[next(iter(ctx.draws))])} draws")
    for label, method, option in trials:
        t = time.perf_counter()
        s = method(ctx, option)
        print(f"  {label}: width now {s.width_now:.0f}, expected {s.width_expected:.0f} "
              f"+- {s.width_expected_mcse:.0f}; k max {np.nanmax(s.ks):.2f}, trusted "
              f"{int(s.trusted.sum())}/{len(s.ks)}; {time.perf_counter() - t:.1f} s")
    for sd in (250.0, 25.0) if args.refits else ():
        option = dataclasses.replace(depot, sd=sd)
        route0 = ctx.route_of(plan.with_depot_row(ctx.case, option, 0.0))
        pred = ctx.family.generate(ctx.draws, route0,
                                   ctx.family.data_values(route0, ctx.cfg.priors),
                                   np.random.default_rng([0, 22]))["pred_depot"][:, -1]
        widths = []
        for i, s in enumerate(np.linspace(0, len(pred) - 1, args.refits).astype(int)):
            t = time.perf_counter()
            widths.append(plan.refit_width(ctx, plan.with_depot_row(ctx.case, option,
                                                                     max(float(pred[s]), 0.0)),
                                           100 + i))
            print(f"  refit, depot sd {sd:g}, reading {pred[s]:.0f}: width {widths[-1]:.0f} "
                  f"({time.perf_counter() - t:.1f} s)")
        print(f"  refits at sd {sd:g}: mean width {np.mean(widths):.0f} +- "
              f"{np.std(widths, ddof=1) / np.sqrt(len(widths)):.0f}")


if __name__ == "__main__":
    main()
