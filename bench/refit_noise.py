"""How noisy is a refit's interval width? The realised bench (bench/plan_realised.py)
measures a realised reduction as the difference of two refits' widths, so this noise
is in every realised figure, and decides how many draws those refits need.

    .venv/bin/python bench/refit_noise.py event|prior SEED [draws=2000,6000] [repeats=6]

Fits the world's case as the realised bench does (`plan_truth.fitted`), then refits the
same case `repeats` times per draws setting (2 chains, `plan.refit`, seeds 100, 101, ...)
and prints each setting's mean width, its sd over the seeds, the sd relative to the
width, and the sd of a difference of two such widths (a realised reduction's noise:
sqrt(2) x sd, the two refits being independent), with the seconds a refit took."""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    from cargoinfer.experiments.plan import refit
    from cargoinfer.experiments.plan_truth import fitted, world_case
    from cargoinfer.inference.logs import quiet

    quiet()
    kind, seed = sys.argv[1], int(sys.argv[2])
    opts = dict(a.split("=", 1) for a in sys.argv[3:])
    settings = [int(d) for d in opts.get("draws", "2000,6000").split(",")]
    repeats = int(opts.get("repeats", 6))
    folder, _ = world_case(kind, seed, Path(tempfile.mkdtemp()) / "world")
    ctx, result = fitted(folder, seed)
    print(f"{kind} world {seed}: fit {result.status}", flush=True)
    for draws in settings:
        widths, seconds, mixed = [], [], 0
        for r in range(repeats):
            t0 = time.perf_counter()
            x, ok = refit(ctx, ctx.case, 100 + r, draws=draws)
            seconds.append(time.perf_counter() - t0)
            lo, hi = np.quantile(x, [0.05, 0.95])
            widths.append(hi - lo)
            mixed += ok
        w = np.array(widths)
        sd = w.std(ddof=1)
        print(f"draws {draws:5d} x 2 chains: width {w.mean():,.0f}, sd {sd:,.0f} "
              f"({sd / w.mean():.1%}), a difference's sd {np.sqrt(2) * sd:,.0f}; "
              f"{np.mean(seconds):.0f} s a refit; {mixed} of {repeats} mixed", flush=True)


if __name__ == "__main__":
    main()
