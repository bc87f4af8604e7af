"""Why the law of total variance falls short for imagery on a voyages or dynamic run
(bench/plan_lotv.py, docs/plan.md#the-law-of-total-variance).

    PYTHONPATH=... .venv/bin/python bench/plan_coherence.py RUN_DIR [--option archive_dunai_sep] [--seeds 0-8] [--n-outer 64]

voyages and dynamic read the imagery as a table of voyages per recorded week and capture
history (dynamic's per vessel, at each vessel's rate: `dynamic.vessel_rates`). New archive
passes do not add rows to that table: they re-read it, as if the passes had always been
in the record. A refit then weighs today's table afresh under the
new record, which is not today's posterior updated by the news. Here the news is drawn
exactly from the model, given today's table, at each outer draw (new passes at a
destination site, every one usable): voyages nobody saw that the passes now show
(Poisson per week, the model's expected destination-only sightings with the new record
less those without) and voyages seen only at the origin now seen at both ends (binomial
per week). The draws are then weighted two ways:

- family: the family's likelihood of the new table against today's (what the plan's
  screen and a refit use);
- news: the likelihood of the news given today's table (a coherent update).

Printed per parameter, the ratio (E[Var] + Var[E]) / Var over seeds: 1 when the update
is coherent. Parameters only (no headline): they are not redrawn after the data."""

import argparse
import dataclasses

import numpy as np
import yaml
from cargoinfer.experiments import plan, plan_imagery
from cargoinfer.experiments.plan_menu import read_menu
from cargoinfer.inference.preposterior import data_loglik, screen
from cargoinfer.models import voyages
from fit_rows import commit
from plan_lotv import ROOT
from scipy.stats import binom, poisson

ORIGIN_ONLY, DESTINATION_ONLY, BOTH = 0, 1, 2  # capture histories (aggregate.HISTORIES)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--option", default="archive_dunai_sep")
    ap.add_argument("--seeds", default="0-8")
    ap.add_argument("--n-outer", type=int, default=64)
    a = ap.parse_args()
    ctx = plan.context(a.run, 600)
    per_vessel = ctx.family.NAME == "dynamic"  # its table has a row per period and vessel
    if ctx.family.NAME not in ("voyages", "dynamic"):
        raise SystemExit(f"a voyages or dynamic run, not {ctx.family.NAME}")
    menu = yaml.safe_load((ROOT / "configs/plan/default.yaml").read_text())["options"]
    option = {o.name: o for o in read_menu(menu, ctx.case)}[a.option]
    if option.site not in ctx.case.spec.destination:
        raise SystemExit("passes at a destination site only (their news keeps the week)")
    option = dataclasses.replace(option, usable=1.0)
    family, streams = ctx.family, list(ctx.family.LOGLIK_DIMS)
    passes = [(d, True) for d in plan_imagery.pass_days(ctx.case, option)]
    route = ctx.route_of(plan_imagery.with_rows(ctx.case, option,
                                                {"passes": passes, "sightings": []}))
    values = family.data_values(route, ctx.cfg.priors)
    days = ctx.route.period_days[None, :, None] / 7.0
    if per_vessel:  # voyages per period and vessel (S, P, V)
        rate = family.vessel_rates(ctx.draws) * days
        table = ctx.route.captures_vessel.astype(int)  # (P, V, 3)
    else:  # one column for the route
        rate = ctx.draws["voyages_per_week"][:, None, None] * days
        table = ctx.route.captures.astype(int)[:, None, :]
    now = np.einsum("spv,shpq->sqvh", rate, voyages.seen_probs(ctx.draws, ctx.values))
    new = np.einsum("spv,shpq->sqvh", rate, voyages.seen_probs(ctx.draws, values))
    shown = np.maximum(new[..., DESTINATION_ONLY] - now[..., DESTINATION_ONLY], 0.0)  # (S, P, V)
    single = np.maximum(now[..., ORIGIN_ONLY], 1e-300)
    both = np.clip((new[..., BOTH] - now[..., BOTH]) / single, 0.0, 1.0)  # (S, P, V)
    base = data_loglik(family.generate(ctx.draws, ctx.route, ctx.values,
                                       np.random.default_rng(1)), streams)
    names = ["voyages_per_week", "identification_destination", "port_call_days_destination"]
    ratios = {(w, k): [] for w in ("family", "news") for k in names}
    n = len(rate)
    first, last = (int(x) for x in a.seeds.split("-"))
    print(f"{option.name} ({len(passes)} passes, all usable) on run {ctx.folder.name}, "
          f"{a.n_outer} outer draws, seeds {a.seeds}, commit {commit()}")
    for seed in range(first, last):
        rng = np.random.default_rng([seed, 23])
        outer = np.unique(np.linspace(0, n - 1, a.n_outer).astype(int))
        fam, news = [], []
        for s in outer:
            seen = rng.poisson(shown[s])
            moved = rng.binomial(table[..., ORIGIN_ONLY], both[s])
            captures = table.copy()
            captures[..., DESTINATION_ONLY] += seen
            captures[..., ORIGIN_ONLY] -= moved
            captures[..., BOTH] += moved
            if per_vessel:
                v = {**values, "captures": captures.astype(float)}
                r = dataclasses.replace(route, captures=captures.sum(axis=1),
                                        captures_vessel=captures)
            else:
                v = {**values, "captures": captures[:, 0].astype(float)}
                r = dataclasses.replace(route, captures=captures[:, 0])
            fam.append(data_loglik(family.generate(ctx.draws, r, v, np.random.default_rng(1)),
                                   streams) - base)
            news.append((poisson.logpmf(seen[None], shown)
                         + binom.logpmf(moved[None], table[None, ..., ORIGIN_ONLY], both)
                         ).sum(axis=(1, 2)))
        for weights, lls in (("family", fam), ("news", news)):
            for k in names:
                x = ctx.draws[k]
                total, _ = screen(x, np.zeros(n), lls).total_variance()
                ratios[weights, k].append(total / x.var())
    for (weights, k), r in ratios.items():
        r = np.array(r)
        print(f"  {weights:6s} {k:28s} {r.mean():.3f} +- {r.std(ddof=1) / np.sqrt(len(r)):.3f}")


if __name__ == "__main__":
    main()
