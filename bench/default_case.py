"""Status and diagnostics of each family on the default case, over several seeds.

    .venv/bin/python bench/default_case.py [--families voyages,joint,dynamic] [--seeds 10]

Fits with the default inference settings (configs/inference/nutpie.yaml) and the default
status rule, one compiled model per family, seeds 20231013 (the default) and the next
ones, and prints per fit: divergences, max R-hat, min bulk and tail ESS, the sampling
rounds the rule asked for, status, the 90% interval of total containers and the seconds
spent; then per family whether every seed gave the same status and reasons (reasons compared
without their numbers: the status should be a property of the data and the model, not of
the seed)."""

import argparse
import re
import time

import numpy as np
from cargoinfer.experiments.config import case_dir, compose
from cargoinfer.inference.fit import fit
from cargoinfer.inference.logs import quiet
from cargoinfer.models import registry
from cargoinfer.observations.aggregate import route_data
from cargoinfer.observations.case import load_case


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--families", default="voyages,joint,dynamic")
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    quiet()
    print(f"{'family':9} {'seed':>9} {'div':>4} {'rhat':>6} {'ess_bulk':>9} {'ess_tail':>9} "
          f"{'rounds':>11} {'status':15} {'total_containers 90%':>22} {'time':>6}")
    summary = []
    for name in args.families.split(","):
        cfg = compose([f"model={name}"])
        family = registry.get(name)
        route = route_data(load_case(case_dir(cfg)), cfg.model.transit_days,
                           cfg.model.max_containers_per_voyage,
        transit_extra_days=cfg.model.transit_extra_days)
        values = family.data_values(route, cfg.priors)
        outcomes = []
        for seed in range(cfg.seed, cfg.seed + args.seeds):
            t0 = time.perf_counter()
            r = fit(family, route, values, seed, cfg.inference)
            d = r.diagnostics
            lo, hi = np.quantile(np.asarray(r.tree["estimands"]["total_containers"]), [0.05, 0.95])
            rounds = "+".join(str(x["draws"]) for x in r.rounds) if r.rounds else "-"
            print(f"{name:9} {seed:>9} {d.get('divergences', 0):>4} {d.get('rhat_max', np.nan):6.3f} "
                  f"{d.get('ess_bulk_min', np.nan):9.0f} {d.get('ess_tail_min', np.nan):9.0f} "
                  f"{rounds:>11} {r.status:15} {lo:10,.0f} - {hi:9,.0f} "
                  f"{time.perf_counter() - t0:5.0f}s", flush=True)
            for reason in r.reasons:
                print(f"{'':10} reason: {reason}")
            outcomes.append((r.status, tuple(re.sub(r"[\d.,]+", "#", x) for x in r.reasons)))
        same = len(set(outcomes)) == 1
        summary.append(f"{name}: {'the same status and reasons at every seed' if same else 'differs'}"
                       f" ({', '.join(sorted({s for s, _ in outcomes}))})")
    print("\n" + "\n".join(summary))


if __name__ == "__main__":
    main()
