"""Cost of one log-density gradient of a family on data simulated from its prior.

    .venv/bin/python bench/gradient_cost.py [--model joint] [--n-sims 8] [--iterations 200]
        [OVERRIDE ...]   (calibrate's config overrides, e.g. case.path=DIR)

For each simulation (calibrate's seeds): the number of counted load groups and distinct
capacities, and the microseconds per gradient evaluation inside nutpie's sampler (a short
fit of the one compiled model through with_data, its seconds over its leapfrog steps,
warmup included). Shows what a gradient's cost scales with."""

import argparse
import time

import numpy as np
from cargoinfer.inference.fit import compiled
from cargoinfer.inference.logs import quiet
from prior_sims import family_on_case, simulation


def main() -> None:
    import nutpie

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="joint")
    ap.add_argument("--n-sims", type=int, default=8)
    ap.add_argument("--iterations", type=int, default=200, help="tune and draws, each")
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()
    quiet()
    cfg, family, template, values0 = family_on_case(args.model, args.overrides)
    compiled(family, values0)
    print(f"{family.NAME}@{family.VERSION}, load grid of {len(template.grid)} values")
    if "depot_lag_index" in values0:
        rows, days = values0["depot_lag_index"].shape
        print(f"  depot: {rows} rows x {days} days, {len(values0['depot_log_lag'])} distinct lags")
    costs = []
    for i in range(args.n_sims):
        route, values = simulation(cfg, family, template, values0, i)
        model, _ = compiled(family, values)
        t0 = time.perf_counter()
        tree = nutpie.sample(model, draws=args.iterations, tune=args.iterations, chains=1,
                             cores=1, seed=i, progress_bar=False, save_warmup=True,
                             target_accept=float(cfg.inference.target_accept))
        seconds = time.perf_counter() - t0
        steps = int(np.asarray(tree["sample_stats"]["n_steps"]).sum()
                    + np.asarray(tree["warmup_sample_stats"]["n_steps"]).sum())
        costs.append(seconds / steps * 1e6)
        print(f"  simulation {i}: {route.n_groups} counted load groups, "
              f"{len(values['load_caps'])} capacities: {costs[-1]:.0f} us per gradient "
              f"({steps:,} in {seconds:.2f} s)")
    print(f"  mean {np.mean(costs):.0f} us, range {min(costs):.0f}-{max(costs):.0f}")


if __name__ == "__main__":
    main()
