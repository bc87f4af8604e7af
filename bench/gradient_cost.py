"""Cost of one log-density gradient of a family on data simulated from its prior.

    .venv/bin/python bench/gradient_cost.py [--model joint] [--n-sims 8] [--evals 300]

For each simulation (calibrate's seeds): the number of counted load groups and distinct
capacities, and the microseconds of one logp-and-gradient call of the compiled model
(with_data: the one compile serves all). Shows what a gradient's cost scales with."""

import argparse
import time

import numpy as np
from cargoinfer.experiments.config import case_dir, compose
from cargoinfer.inference.fit import compiled
from cargoinfer.inference.logs import quiet
from cargoinfer.models import registry
from cargoinfer.observations.aggregate import route_data
from cargoinfer.observations.case import load_case


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="joint")
    ap.add_argument("--n-sims", type=int, default=8)
    ap.add_argument("--evals", type=int, default=300)
    args = ap.parse_args()
    quiet()
    cfg = compose([f"model={args.model}"], config_name="calibrate")
    family = registry.get(args.model)
    template = route_data(load_case(case_dir(cfg)), cfg.model.transit_days,
                          cfg.model.max_containers_per_voyage)
    values0 = family.data_values(template, cfg.priors)
    compiled(family, values0)
    print(f"{family.NAME}@{family.VERSION}, load grid of {len(template.grid)} values")
    for i in range(args.n_sims):
        rng = np.random.default_rng([int(cfg.seed), i])
        p = {k: v[0] for k, v in family.prior_draws(values0, 1, rng).items()}
        route, _ = family.simulate(p, template, values0, rng, totals="model")
        values = family.data_values(route, cfg.priors)
        model, _ = compiled(family, values)
        f = model.logp_func
        x = np.full(model.n_dim, 0.1)
        f(x)
        t0 = time.perf_counter()
        for _ in range(args.evals):
            f(x)
        us = (time.perf_counter() - t0) / args.evals * 1e6
        print(f"  simulation {i}: {route.n_groups} counted load groups, "
              f"{len(values['load_caps'])} capacities: {us:.0f} us per logp and gradient")


if __name__ == "__main__":
    main()
