"""Simulation-based calibration: one compiled model per worker against a rebuild per simulation.

    .venv/bin/python bench/calibrate_speed.py [--model joint] [--n-sims 100] [--naive 4]
        [OVERRIDE ...]   (calibrate's config overrides, e.g. inference.adaptation=diag)

1. `cargoinfer calibrate`'s path (`inference.calibration.run`): n simulations in one
   worker process per core, each worker compiling the model once and refitting every
   simulation through `with_data`. Wall clock of the whole run, start-up included.
2. The naive loop, as simuk does it: for each simulation, build the PyMC model on that
   simulation's data and compile it again (`nutpie.compile_pymc_model`), then sample
   with the same settings. Run in this process for a few simulations (the compile cache
   on disk is warm, as it is for the path above).

3. The compile-once path again, in this process alone, on the same simulations as the
   naive loop: the model compiled once (timed apart), then refitted through `with_data`.

Both paths print the seconds one simulation costs on one core (simulate, fit, estimands),
and their ratio on the same simulations (the first --naive of the n: a simulation's cost
depends on its data), measured in this one run. The headline ratio compares 3 with 2:
the same simulations, one process each, nothing else running (the workers of 1 share the
machine; their ratio is printed too)."""

import argparse
import os
import time

import numpy as np
from cargoinfer.experiments.calibrate import settings
from cargoinfer.inference import calibration
from cargoinfer.inference.fit import compiled
from cargoinfer.inference.logs import quiet
from prior_sims import family_on_case


def naive(family, template, priors, values0, index: int, seed: int, s: calibration.Settings):
    """One simulation, rebuilding and recompiling the model for its data (`values0`: the
    template's data values, from which the prior is drawn)."""
    import nutpie

    return calibration.simulate_and_fit(
        family, template, priors, values0, index, seed, s,
        model_for=lambda values: nutpie.compile_pymc_model(family.build(values)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="joint")
    ap.add_argument("--n-sims", type=int, default=100)
    ap.add_argument("--naive", type=int, default=4, help="simulations of the naive loop")
    ap.add_argument("overrides", nargs="*", help="calibrate config overrides")
    args = ap.parse_args()
    quiet()
    cfg, family, template, values0 = family_on_case(args.model, args.overrides)
    s = settings(cfg, family)
    seed = int(cfg.seed)

    t0 = time.perf_counter()
    sims = calibration.run(family, template, cfg.priors, args.n_sims, seed, s)
    wall = time.perf_counter() - t0
    ours = float(np.mean([x.seconds for x in sims]))
    t_compile = time.perf_counter()
    compiled(family, values0)
    t_compile = time.perf_counter() - t_compile
    serial = [calibration.simulate_and_fit(family, template, cfg.priors, values0, i, seed, s)
              for i in range(args.naive)]
    naive_sims = [naive(family, template, cfg.priors, values0, i, seed, s)
                  for i in range(args.naive)]
    naive_s = [x.seconds for x in naive_sims]
    theirs = float(np.mean(naive_s))
    same = float(np.mean([x.seconds for x in sims[:args.naive]]))
    sampling = float(np.mean([x.sample_seconds for x in sims]))
    gradients = float(np.mean([x.gradients for x in sims]))
    per_gradient = sum(x.sample_seconds for x in sims) / max(sum(x.gradients for x in sims), 1)
    rebuild = theirs - float(np.mean([x.sample_seconds for x in naive_sims])) - (
        same - float(np.mean([x.sample_seconds for x in sims[:args.naive]])))

    print(f"{family.NAME}@{family.VERSION}, default case's shape, {s.chains} chain x "
          f"({s.tune} tune + {s.draws} draws) per simulation, adaptation {s.adaptation}, "
          f"{os.cpu_count()} cores")
    workers = min(os.cpu_count() or 1, args.n_sims)
    print(f"  calibrate path: {args.n_sims} simulations in {wall:.1f} s wall clock "
          f"({workers} worker processes; start-up and compile included)")
    print(f"    per simulation on one core: {ours:.2f} s (simulate, with_data, sample, estimands);"
          f" {same:.2f} s on the first {args.naive}")
    print(f"  naive loop (rebuild + recompile each simulation): {args.naive} simulations")
    print(f"    per simulation on one core: {theirs:.2f} s "
          f"({', '.join(f'{x:.1f}' for x in naive_s)})")
    print(f"  sampling, compile-once path: {sampling:.2f} s per simulation, {gradients:,.0f} "
          f"gradient evaluations (warmup included) at {per_gradient * 1e6:.0f} us each")
    print(f"  rebuild and recompile, naive loop: {rebuild:.2f} s per simulation more than "
          f"compile-once; 10x needs compile-once at most {rebuild / 9:.2f} s per simulation, "
          f"i.e. about {rebuild / 9 / per_gradient:,.0f} gradient evaluations at this cost")
    print(f"  divergent fits: {sum(x.divergences > 0 for x in sims)}/{len(sims)}; draws at "
          f"the depth cap ({s.max_depth}): {sum(x.depth_capped for x in sims)} of "
          f"{len(sims) * s.draws * s.chains}")
    g = np.sort([x.gradients for x in sims])[::-1]
    top = max(len(g) // 10, 1)
    print(f"  gradient evaluations per simulation: median {np.median(g):,.0f}, largest "
          f"{g[0]:,}; the costliest {top} simulations took {g[:top].sum() / g.sum():.0%} of them")
    print(f"  compile-once is {theirs / same:.1f}x faster per simulation on the same "
          f"{args.naive} simulations ({theirs / ours:.1f}x against its mean over {len(sims)})")
    alone = float(np.mean([x.seconds for x in serial]))
    print(f"  compile-once alone in this process, the same {args.naive} simulations: "
          f"{alone:.2f} s per simulation ({', '.join(f'{x.seconds:.1f}' for x in serial)}): "
          f"{theirs / alone:.1f}x faster than the naive loop")
    print(f"    its one compile took {t_compile:.1f} s; spread over {args.n_sims} simulations "
          f"that is {t_compile / args.n_sims:.2f} s each: "
          f"{theirs / (alone + t_compile / args.n_sims):.1f}x")
    print(f"  wall clock per simulation: {wall / args.n_sims:.2f} s for calibrate on {workers} "
          f"processes against {theirs:.2f} s for the naive loop in one (as simuk runs it): "
          f"{theirs / (wall / args.n_sims):.1f}x")


if __name__ == "__main__":
    main()
