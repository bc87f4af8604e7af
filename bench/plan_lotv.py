"""The law of total variance on one run (issue 22's property): today's variance of the
headline should equal the expected variance after an option plus the variance of the
headline's expected value over the option's outcomes, when the option's rows are drawn
from the model's own process. A shortfall means the simulated rows say more than the
model's likelihood expects, or the family's refit is not a coherent update of today's
posterior (bench/plan_coherence.py).

    PYTHONPATH=... .venv/bin/python bench/plan_lotv.py RUN_DIR [--option archive_dunai_sep] [--passes 14] [--seeds 5-13] [--n-outer 64] [--menu configs/plan/default.yaml]

--menu reads the option from another menu: bench/plan_network.yaml has archive passes at
each port of `cargoinfer simulate scenario=network seed=3` (a network run's case).

Prints per seed (outer draws all screened; `trusted` says how many) the ratio
(E[Var] + Var[E]) / Var today with its Monte Carlo error, then their mean over seeds."""

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import yaml
from cargoinfer.experiments import plan
from cargoinfer.experiments.plan_menu import read_menu
from fit_rows import commit

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--option", default="archive_dunai_sep")
    ap.add_argument("--passes", type=int, default=None)
    ap.add_argument("--seeds", default="5-13")
    ap.add_argument("--n-outer", type=int, default=64)
    ap.add_argument("--menu", default=str(ROOT / "configs/plan/default.yaml"))
    a = ap.parse_args()
    ctx = plan.context(a.run, 600)
    menu = yaml.safe_load(Path(a.menu).read_text())["options"]
    option = {o.name: o for o in read_menu(menu, ctx.case)}[a.option]
    if a.passes is not None:
        option = dataclasses.replace(option, passes=a.passes)
    print(f"{a.option} ({option.kind}{f', {a.passes} passes' if a.passes else ''}) on run "
          f"{ctx.folder.name} ({ctx.family.NAME}), {a.n_outer} outer draws, commit {commit()}")
    first, last = (int(x) for x in a.seeds.split("-"))
    ratios = []
    for seed in range(first, last):
        s, _ = plan.screen_option(ctx, option, n_outer=a.n_outer, seed=seed)
        n = len(s.means)
        total, se = s.total_variance()
        ratios.append(total / s.var_now)
        print(f"  seed {seed}: (E[Var] + Var[E]) / Var = {ratios[-1]:.3f} +- {se / s.var_now:.3f}"
              f"  (Var[E] / Var {s.means.var() / s.var_now:.3f}; trusted {s.trusted.sum()}/{n})")
    r = np.array(ratios)
    print(f"  mean over {len(r)} seeds: {r.mean():.3f} +- {r.std(ddof=1) / np.sqrt(len(r)):.3f}"
          " (1 when the simulated rows follow the model)")


if __name__ == "__main__":
    main()
