"""Why a family's fits take the leapfrog steps they take: the posterior's shape on the
sampler's (unconstrained) scale, on data simulated from the prior.

    .venv/bin/python bench/posterior_geometry.py [--model joint] [--sims 0,1,2,3]
        [--draws 2000] [--top 6]

For each simulation (calibrate's seeds and simulator, totals="model"), one long fit of
the one compiled model with the default target_accept, and:
- steps per draw and the adapted step size;
- the condition number of the draws' correlation matrix;
- per coordinate, sd(draws) x sd(gradient), against its value for a Gaussian with the
  draws' covariance, sqrt(cov_jj x (cov^-1)_jj) = 1 / sqrt(1 - R2_j) (R2_j: the
  coordinate's linear fit on the others). Both far above 1 and close to each other:
  the coordinate is nearly a linear function of others, which a diagonal mass matrix
  follows only with short steps and a dense one would undo. The first far above the
  second: the curvature changes along the coordinate (a curved ridge or a funnel),
  which no mass matrix undoes: a case for reparameterising it."""

import argparse

import numpy as np
from cargoinfer.inference.fit import compiled
from cargoinfer.inference.logs import quiet
from prior_sims import family_on_case, simulation


def main() -> None:
    import nutpie

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="joint")
    ap.add_argument("--sims", default="0,1,2,3", help="simulation indices, comma-separated")
    ap.add_argument("--draws", type=int, default=2000)
    ap.add_argument("--top", type=int, default=6, help="coordinates shown per simulation")
    args = ap.parse_args()
    quiet()
    cfg, family, template, values0 = family_on_case(args.model)
    compiled(family, values0)
    print(f"{family.NAME}@{family.VERSION}, {args.draws} draws per fit, target_accept "
          f"{cfg.inference.target_accept}")
    for i in (int(s) for s in args.sims.split(",")):
        _, values = simulation(cfg, family, template, values0, i)
        model, _ = compiled(family, values)
        tree = nutpie.sample(model, draws=args.draws, tune=500, chains=1, cores=1, seed=i,
                             progress_bar=False, save_warmup=False,
                             target_accept=float(cfg.inference.target_accept),
                             store_unconstrained=True, store_gradient=True)
        stats = tree["sample_stats"]
        x = np.asarray(stats["unconstrained_draw"])[0]
        g = np.asarray(stats["gradient"])[0]
        names = [str(n) for n in stats["unconstrained_draw"].coords[
            stats["unconstrained_draw"].dims[-1]].values]
        eig = np.linalg.eigvalsh(np.corrcoef(x.T))
        ratio = x.std(0) * g.std(0)
        cov = np.cov(x.T)
        gaussian = np.sqrt(np.diag(cov) * np.diag(np.linalg.inv(cov)))
        print(f"  simulation {i}: {float(stats['n_steps'].mean()):.0f} steps per draw at step "
              f"size {float(stats['step_size'].mean()):.3f}; correlation condition number "
              f"{eig[-1] / eig[0]:.0f}; {int(np.asarray(stats['diverging']).sum())} divergent")
        for j in np.argsort(-ratio)[:args.top]:
            print(f"    {names[j]:36s} sd(draws) x sd(gradient) {ratio[j]:5.1f}; "
                  f"Gaussian {gaussian[j]:5.1f}")
        print(f"    median over {len(names)} coordinates: {np.median(ratio):.1f}; "
              f"Gaussian {np.median(gaussian):.1f}")


if __name__ == "__main__":
    main()
