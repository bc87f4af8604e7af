"""The model ladder against event-level worlds that no model shares.

    .venv/bin/python bench/ladder.py [--per-scenario 10] [--draws 500]
                                     [--families baseline,voyages,joint,dynamic] [--priors "..."]

For each scenario family (steady, pause, load_change, vessel_joins) and seed, simulate a
world, write its case folder, fit every family with one compiled model per family (and
per shape), and print per family and scenario family: coverage of the 90% interval of
total containers, median interval width relative to the truth, and median absolute
error of the median relative to the truth.

The fits use the default priors with the overrides of `--priors` (default WORLD_PRIORS:
what the worlds' analyst knows, that most of what is unloaded goes to the depot and how
much pit area a container takes; `--priors none` keeps configs/priors/default.yaml)."""

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from cargoinfer.inference.logs import quiet
from cargoinfer.experiments.config import compose
from cargoinfer.inference.fit import fit
from cargoinfer.models import registry
from cargoinfer.observations.aggregate import route_data
from cargoinfer.observations.case import load_case
from cargoinfer.observations.world import SCENARIOS, simulate_world, write_case


# the worlds draw the depot share from 0.6-0.9 and use 30 m2 per container (world.Options)
WORLD_PRIORS = "priors.depot_share.alpha=9 priors.depot_share.beta=3 priors.m2_per_container.log_sd=0.3"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-scenario", type=int, default=10)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--families", default="baseline,voyages,joint,dynamic")
    ap.add_argument("--priors", default=WORLD_PRIORS)
    args = ap.parse_args()
    quiet()
    cfg = compose([] if args.priors == "none" else args.priors.split())
    print(f"priors: {args.priors}")
    inference = SimpleNamespace(**{**dict(cfg.inference), "draws": args.draws, "tune": args.draws,
                                   "chains": 2})
    families = [registry.get(n) for n in args.families.split(",")]
    results = defaultdict(list)  # (family, scenario) -> [(covered, rel_width, rel_error)]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in SCENARIOS:
            for seed in range(args.per_scenario):
                folder = write_case(simulate_world(scenario, seed), Path(tmp) / f"{scenario}-{seed}")
                truth = json.loads((folder / "truth.json").read_text())["total_containers"]
                route = route_data(load_case(folder), cfg.model.transit_days,
                                   cfg.model.max_containers_per_voyage)
                for family in families:
                    values = family.data_values(route, cfg.priors)
                    result = fit(family, route, values, seed, inference)
                    x = np.asarray(result.tree["estimands"]["total_containers"]).ravel()
                    lo, med, hi = np.nanquantile(x, [0.05, 0.5, 0.95])
                    results[family.NAME, scenario].append(
                        (lo <= truth <= hi, (hi - lo) / truth, abs(med - truth) / truth))
                print(f"  {scenario} seed {seed} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"\n{'family':10} {'scenario':13} {'covered':>9} {'width/truth':>12} {'|err|/truth':>12}")
    for family in families:
        rows = []
        for scenario in (*SCENARIOS, "all"):
            r = results[family.NAME, scenario] if scenario != "all" else [
                v for s in SCENARIOS for v in results[family.NAME, s]]
            cov = sum(c for c, _, _ in r)
            rows.append(f"{family.NAME:10} {scenario:13} {cov:>4}/{len(r):<4} "
                        f"{np.median([w for _, w, _ in r]):12.2f} {np.median([e for _, _, e in r]):12.2f}")
        print("\n".join(rows))
    print(f"\n{time.perf_counter() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
