"""Whether a family's chains agree on one ladder world, at one fit seed.

    .venv/bin/python bench/chains.py --seed 4 [--family joint] [--fit-seed 1]
                                     [--set KEY=VALUE ...]

Fits world `--seed` of bench/ladder.py (one sampling round, no second one) and prints the
status with its reasons, then the quantities with the largest R-hat and each chain's mean
of them, and the 90% interval of the total against the truth. A status that differs
between fit seeds on the same world, with one chain away from the others, is a mode the
sampler finds now and then, not Monte Carlo error."""

import argparse
import tempfile
from pathlib import Path

import arviz as az
import numpy as np
from cargoinfer.inference.logs import quiet
from cargoinfer.observations.world import write_case
from ladder import fit_one, total_interval, world_of


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, required=True, help="the world, as in bench/ladder.py")
    ap.add_argument("--family", default="joint")
    ap.add_argument("--fit-seed", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--top", type=int, default=6)
    args = ap.parse_args()
    quiet()
    world = world_of(args.seed)
    truth = world.truth["total_containers"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_case(world, Path(tmp) / "case")
        result = fit_one(folder, args.family, args.set, {"borderline_draws": 0}, args.fit_seed)
    print(f"world {args.seed}, {args.family}, fit seed {args.fit_seed}: {result.status}")
    for reason in result.reasons:
        print(f"  {reason}")
    post = result.tree["posterior"].to_dataset()
    rhat = az.rhat(post)
    worst = sorted(((float(np.nanmax(rhat[k].values)), k) for k in rhat.data_vars), reverse=True)
    print(f"{'quantity':28} {'R-hat':>6}  each chain's mean (first element)")
    for r, k in worst[:args.top]:
        x = post[k].values
        means = x.reshape(x.shape[0], x.shape[1], -1)[:, :, 0].mean(axis=1)
        print(f"{k:28} {r:6.3f}  " + " ".join(f"{m:.3g}" for m in means))
    lo, med, hi = total_interval(result.tree)
    print(f"total: truth {truth:,.0f}, 90% interval {lo:,.0f}-{hi:,.0f}, median {med:,.0f}")


if __name__ == "__main__":
    main()
