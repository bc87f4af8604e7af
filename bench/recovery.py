"""A family refitted to the replications of tests/test_recovery.py, at any sampler settings.

    .venv/bin/python bench/recovery.py [--family joint] [--chains 4] [--draws 1000]
                                       [--quantity rail_delay_days] [--reps 20]
                                       [--totals exact|model]

The replications are the test's (its priors, its seed 20231014, its random numbers): each
draws parameters from the prior, simulates the default case's shape from the family's own
generative process and fits it. Printed per replication: the truth of `--quantity`, its
PIT and 90% interval, each chain's mean, the run's status and first reasons; then the
covered counts of every quantity the test checks, at 50% and 90%. Tells a miscalibrated
model (still missing at many draws) from a sampler that has too few. `--totals model`
simulates the shipped totals from the model's own stand-ins, as calibration does."""

import argparse
import sys
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_recovery import FAMILY_INFERENCE, N_FAMILY_REPS, PRIORS, _recovery  # noqa: E402

from cargoinfer.experiments.config import compose  # noqa: E402
from cargoinfer.inference.logs import quiet  # noqa: E402
from cargoinfer.models import registry  # noqa: E402
from cargoinfer.observations.aggregate import route_data  # noqa: E402
from cargoinfer.observations.case import load_case  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="joint")
    ap.add_argument("--chains", type=int, default=FAMILY_INFERENCE.chains)
    ap.add_argument("--draws", type=int, default=FAMILY_INFERENCE.draws)
    ap.add_argument("--quantity", default="rail_delay_days")
    ap.add_argument("--reps", type=int, default=N_FAMILY_REPS)
    ap.add_argument("--totals", choices=("exact", "model"), default="exact")
    args = ap.parse_args()
    quiet()
    family = registry.get(args.family)
    inference = SimpleNamespace(**{**vars(FAMILY_INFERENCE), "chains": args.chains,
                                   "draws": args.draws, "tune": args.draws})
    case = resources.files("cargoinfer.cases") / "rajin_dunai_2023"
    template = route_data(load_case(Path(str(case))), 1, 1000)

    def show(rep, truth_p, r, pits):
        x = np.asarray(r.tree["posterior"][args.quantity], float)
        lo, hi = np.quantile(x, [0.05, 0.95])
        print(f"{rep:3d} truth {float(truth_p[args.quantity]):8.2f}  pit {pits.get(args.quantity, np.nan):.3f}"
              f"  90% {lo:8.2f}-{hi:8.2f}  chains {np.round(x.mean(axis=1), 2)}  {r.status}"
              f" {r.reasons[:1]}", flush=True)

    print(f"{family.NAME}@{family.VERSION}, {args.chains} chains x {args.draws} draws, "
          f"{args.totals} totals")
    covered = _recovery(family, template, compose(PRIORS).priors, args.reps, 20231014,
                        inference, args.totals, show)
    for label in dict.fromkeys(label for label, _ in covered):
        print(f"  {label}: 50% {covered[label, 0.5]}/{args.reps}, 90% {covered[label, 0.9]}/{args.reps}")


if __name__ == "__main__":
    main()
