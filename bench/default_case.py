"""Sampling diagnostics of each family on the default case, over several seeds.

    .venv/bin/python bench/default_case.py [--families joint,dynamic] [--seeds 5]

Fits with the default inference settings (configs/inference/nutpie.yaml), one compiled
model per family, seeds 20231013 (the default) and the next ones, and prints per fit:
divergences, max R-hat, min bulk and tail ESS, min E-BFMI, status, the 90% interval
of total containers and the seconds spent sampling and generating the estimands."""

import argparse
import time

import numpy as np
from cargoinfer.inference.logs import quiet
from cargoinfer.experiments.config import case_dir, compose
from cargoinfer.inference.fit import fit
from cargoinfer.models import registry
from cargoinfer.observations.aggregate import route_data
from cargoinfer.observations.case import load_case


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--families", default="joint,dynamic")
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    quiet()
    print(f"{'family':9} {'seed':>9} {'div':>4} {'rhat':>6} {'ess_bulk':>9} {'ess_tail':>9} "
          f"{'ebfmi':>6} {'status':15} {'total_containers 90%':>22} {'sample':>7} {'generate':>8} "
          f"{'time':>6}")
    for name in args.families.split(","):
        cfg = compose([f"model={name}"])
        family = registry.get(name)
        route = route_data(load_case(case_dir(cfg)), cfg.model.transit_days,
                           cfg.model.max_containers_per_voyage)
        values = family.data_values(route, cfg.priors)
        for seed in range(cfg.seed, cfg.seed + args.seeds):
            t0 = time.perf_counter()
            r = fit(family, route, values, seed, cfg.inference)
            d = r.diagnostics
            lo, hi = np.quantile(np.asarray(r.tree["estimands"]["total_containers"]), [0.05, 0.95])
            print(f"{name:9} {seed:>9} {d['divergences']:>4} {d['rhat_max']:6.3f} "
                  f"{d['ess_bulk_min']:9.0f} {d['ess_tail_min']:9.0f} {d['ebfmi_min']:6.2f} "
                  f"{r.status:15} {lo:10,.0f} - {hi:9,.0f} {r.timings['sampling_s']:6.1f}s "
                  f"{r.timings['generated_s']:7.1f}s {time.perf_counter() - t0:5.0f}s",
                  flush=True)


if __name__ == "__main__":
    main()
