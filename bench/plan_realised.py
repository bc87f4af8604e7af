"""Predicted against realised: does `cargoinfer plan` foresee how far an option narrows
the interval?

    .venv/bin/python bench/plan_realised.py prior|event FIRST-LAST OUT.jsonl [n_outer=16] [max_refits=2] [draws=2000] [replicates=1]
    .venv/bin/python bench/plan_realised.py --report OUT.jsonl [OUT2.jsonl ...]
    .venv/bin/python bench/plan_realised.py --design OUT.jsonl [OUT2.jsonl ...]

Per world (seeds FIRST..LAST-1): `prior` worlds are joint's own (`cargoinfer simulate
model=joint`: parameters from its prior, data from its process on the embedded case's
shape); `event` worlds are `observations.world`'s scenarios in turn, which no model shares.
The world's case is fitted with joint (default settings); the check's options
(`plan_truth.check_menu`: a count, a depot reading, archive passes of each end) are
assessed as `cargoinfer plan` assesses them; then the case is refitted as the plan refits
but with `draws` per chain (2 chains; the plan's refits draw 500: a realised width is one
world's, not an average over outer draws), once as it is (the width now at the refit's settings) and
once per option with the option's rows drawn from the world's own truth (the realised
width). One JSON line per (world, option) goes to OUT.jsonl; worlds already there are
skipped, so a stopped run resumes.

Each option's realised width is also measured by reweighting the run's own draws with
the world's rows (`plan_truth.screened_width`), where Pareto k allows: on the same draws
as the plan's width now, so the realised reduction carries no refit noise.

The realised refits draw `draws` per chain: a refit's width is noisy (sd 3.9% of the
width at 2000 draws, 1.6% at 6000: bench/refit_noise.py), and a realised reduction is the
difference of two. With `replicates=R` each option's rows are drawn R times from the world
(its clouds, recognitions, count coverages and depot noise, or the prior world's process
at its parameters) and refitted, and the realised width is their mean: the plan predicts
a mean over outcomes, and one outcome's width spreads about it as much as the options
differ (`ceiling`). The first replicate is the one a single-outcome run draws. --design
prints, from a run's options, what an exact plan would print at each setting of draws and
replicates.

--report prints, per world kind and option and over all: the mean predicted and realised
reductions and their ratio (realised / predicted; target 0.8-1.25) with a bootstrap 90%
interval over worlds, and Spearman's rank correlation between predicted and realised
reductions over (world, option) pairs (target: at least 0.7); and the ratio with each
reduction taken as a share of its world's width now, so that one very wide world (a prior
world can be) does not decide it; and what it would print if the plan were exactly
right (`ceiling`), since even then a world's realised reduction is one outcome among
those the plan averages over, measured through two noisy refits. A world whose fit is
not briefing-grade is left out and named: its plan stands on draws that are not its
posterior's; so is an option whose realised refit (or the world's refit as it is) did not
mix in two rounds (`plan.refit`): its width is a sampler's failure, not the option's
(prior world 10 once gave 394,859 for a width of 605). Both refits of a world share their
seed."""

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def one_world(kind: str, seed: int, tmp: Path, n_outer: int, max_refits: int,
              draws: int, replicates: int = 1) -> list[dict]:
    from cargoinfer.experiments.plan import assess, refit, with_rows
    from cargoinfer.experiments.plan_truth import (check_menu, fitted, prior_rows,
                                                   screened_width, world_case, world_rows)
    from cargoinfer.models.detection import ENDS

    t0 = time.perf_counter()
    folder, truth = world_case(kind, seed, tmp / f"{kind}-{seed}")
    ctx, result = fitted(folder, seed)
    now, mixed_now = refit(ctx, ctx.case, seed, draws=draws)
    width_refit = width(now)
    rows = []
    # a prior world's archive passes are usable at its own share (plan_truth._looked_as)
    usable = (None if kind == "event" else
              {end: truth["parameters"][f"usable_image_day_{end}"] for end in ENDS})
    for i, option in enumerate(check_menu(ctx.case, usable=usable)):
        t1 = time.perf_counter()
        a = assess(ctx, option, n_outer, seed, max_refits=max_refits)
        widths, mixed, screens, ks = [], [], [], []
        for j in range(replicates):  # the world's outcomes of the option; the first as before
            rng = np.random.default_rng([seed, 7, i] + ([j] if j else []))
            if kind == "event":
                readings = world_rows(truth, ctx.case, option, rng)
            else:
                readings = prior_rows(ctx, option, truth["parameters"],
                                      seed + 10_000 + 100_000 * j)
            case = with_rows(ctx.case, option.singles, readings)
            x, ok = refit(ctx, case, seed, draws=draws)
            screened, k = screened_width(ctx, case, seed)
            widths.append(width(x))
            mixed.append(ok)
            screens.append(screened)
            ks.append(k)
        realised, screened, k = float(np.mean(widths)), float(np.mean(screens)), max(ks)
        rows.append({"kind": kind, "seed": seed, "option": option.name,
                     "status": result.status, "width_now": a.width_now,
                     "width_expected": a.width_expected, "mcse": a.width_expected_mcse,
                     "method": a.method, "width_now_refit": width_refit,
                     "width_realised": realised, "widths_realised": widths,
                     "mixed_now": mixed_now, "mixed_realised": all(mixed), "draws": draws,
                     "replicates": replicates,
                     "outer_widths": [None if w != w else float(w) for w in a.widths],
                     "predicted": a.width_now - a.width_expected,
                     "realised": width_refit - realised,
                     "width_realised_screen": screened, "k_realised": k,
                     "realised_screen": a.width_now - screened if k <= 0.7 else None,
                     "seconds": time.perf_counter() - t1})
        print(f"{kind} {seed} {option.name}: predicted {rows[-1]['predicted']:,.0f} "
              f"realised {rows[-1]['realised']:,.0f} ({a.method}; "
              f"{rows[-1]['seconds']:.0f} s)", flush=True)
    print(f"{kind} {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
    return rows


def width(x: np.ndarray, prob: float = 0.9) -> float:
    lo, hi = np.quantile(x, [(1 - prob) / 2, 1 - (1 - prob) / 2])
    return float(hi - lo)


def ratio(rows, relative: bool = False) -> tuple[float, float, float]:
    """Sum of realised over sum of predicted reductions (with `relative`, each as a share
    of its width now), and a bootstrap 90% interval over worlds."""
    pred = np.array([r["predicted"] for r in rows])
    real = np.array([r["realised"] for r in rows])
    if relative:  # each as a share of its own width now: a wide world does not dominate
        pred = pred / np.array([r["width_now"] for r in rows])
        real = real / np.array([r["width_now_refit"] for r in rows])
    worlds = sorted({(r["kind"], r["seed"]) for r in rows})
    index = {w: [i for i, r in enumerate(rows) if (r["kind"], r["seed"]) == w] for w in worlds}
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(2000):
        pick = [j for w in rng.choice(len(worlds), len(worlds)) for j in index[worlds[w]]]
        boot.append(real[pick].sum() / pred[pick].sum())
    lo, hi = np.quantile(boot, [0.05, 0.95])
    return float(real.sum() / pred.sum()), float(lo), float(hi)


def read(paths: list[str]) -> list[dict]:
    return [json.loads(line) for p in paths for line in Path(p).read_text().splitlines()]


def report(paths: list[str]) -> None:
    from scipy import stats

    rows = read(paths)
    review = sorted({(r["kind"], r["seed"]) for r in rows if r["status"] != "briefing-grade"})
    rows = [r for r in rows if r["status"] == "briefing-grade"]
    unmixed = [r for r in rows if not (r.get("mixed_now", True) and r.get("mixed_realised", True))]
    rows = [r for r in rows if r not in unmixed]
    print(f"{len({(r['kind'], r['seed']) for r in rows})} worlds, {len(rows)} options; left out, "
          f"their fit not briefing-grade (the plan's draws are not the posterior's): "
          f"{', '.join(f'{k} {s}' for k, s in review) or 'none'}; left out, a realised "
          f"refit whose chains did not mix in two rounds: "
          f"{', '.join(f'{r['kind']} {r['seed']} {r['option']}' for r in unmixed) or 'none'}")
    print(f"{'worlds':8} {'option':22} {'n':>3} {'predicted':>10} {'realised':>10} "
          f"{'ratio':>6} {'90% (bootstrap)':>16}")
    groups = {}
    for r in rows:
        for key in ((r["kind"], r["option"]), (r["kind"], "all"), ("all", "all")):
            groups.setdefault(key, []).append(r)
    for (kind, option), part in sorted(groups.items()):
        pred = np.mean([r["predicted"] for r in part])
        real = np.mean([r["realised"] for r in part])
        est, lo, hi = ratio(part)
        print(f"{kind:8} {option:22} {len(part):3d} {pred:10,.0f} {real:10,.0f} {est:6.2f} "
              f"{lo:7.2f} - {hi:5.2f}")
    for kind in sorted({r["kind"] for r in rows}) + ["all"]:
        part = [r for r in rows if kind in ("all", r["kind"])]
        est, lo, hi = ratio(part, relative=True)
        print(f"relative to each world's width, {kind}: ratio {est:.2f} ({lo:.2f} - {hi:.2f})")
    screened = [dict(r, realised=r["realised_screen"], width_now_refit=r["width_now"])
                for r in rows
                if r.get("realised_screen") is not None]
    if screened:  # the realised width by reweighting the plan's own draws: no refit noise
        print(f"realised by reweighting the run's draws (k <= 0.7): {len(screened)} of "
              f"{len(rows)} options")
        for kind in sorted({r["kind"] for r in screened}) + ["all"]:
            part = [r for r in screened if kind in ("all", r["kind"])]
            est, lo, hi = ratio(part)
            rel, _, _ = ratio(part, relative=True)
            rho = stats.spearmanr([r["predicted"] for r in part], [r["realised"] for r in part])
            print(f"  {kind:8} n {len(part):3d}  ratio {est:5.2f} ({lo:.2f} - {hi:.2f}), "
                  f"relative {rel:.2f}  Spearman {rho.statistic:.2f}")
    for kind in sorted({r["kind"] for r in rows}) + ["all"]:
        part = [r for r in rows if kind in ("all", r["kind"])]
        rho = stats.spearmanr([r["predicted"] for r in part], [r["realised"] for r in part])
        print(f"Spearman rank correlation, {kind} worlds: {rho.statistic:.2f} "
              f"(n = {len(part)})")
    noise = ", ".join(f"{v:.1%} at {k} draws" for k, v in sorted(NOISE.items()))
    print("if the plan were exactly right (each realised width the mean of as many of its "
          f"outer draws' as the world's replicates, plus the refits' noise, sd {noise}):")
    for kind in sorted({r["kind"] for r in rows}) + ["all"]:
        part = [r for r in rows if kind in ("all", r["kind"])]
        est, _, _ = ratio(part)
        rho = stats.spearmanr([r["predicted"] for r in part],
                              [r["realised"] for r in part]).statistic
        ratios, rhos = ceiling(part)
        q = lambda a: " - ".join(f"{x:.2f}" for x in np.quantile(a, [0.05, 0.95]))  # noqa: E731
        outside = np.mean((ratios < 0.8) | (ratios > 1.25))
        print(f"  {kind:8} ratio {np.median(ratios):.2f} ({q(ratios)}; as low as "
              f"{est:.2f} in {np.mean(ratios <= est):.0%}, outside 0.8-1.25 in {outside:.0%}), "
              f"Spearman {np.median(rhos):.2f} ({q(rhos)}; as low as {rho:.2f} in "
              f"{np.mean(rhos <= rho):.0%}, at least 0.7 in {np.mean(rhos >= 0.7):.1%})")


# a refit width's sd over seeds, relative to the width, per draws a chain (2 chains;
# `bench/refit_noise.py event 2` at d886306, 6 seeds each); rows written before the
# bench recorded its draws had 2000
NOISE = {2000: 0.039, 6000: 0.016}


def ceiling(rows, n: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The ratio and Spearman correlation `report` would print if the plan were exactly
    right: each row's realised reduction drawn as the plan foresees it, its width now less
    the mean width of `replicates` of its outer draws at random, plus the noise of the
    refit of the case as it is and of the mean of the replicates' refits (`NOISE`).
    An outer draw's width carries its own estimation noise too (a screen's reweighting, a
    refit of 2 x 500 draws), so these spreads are wider than the outcomes' and refits'
    alone: an exact plan would give a Spearman correlation somewhat above these and a
    ratio somewhat nearer 1. Seeded; n draws of the whole table."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    pred = np.array([r["predicted"] for r in rows])
    now = np.array([r["width_now"] for r in rows])
    reps = np.array([r.get("replicates", 1) for r in rows])
    sd = np.sqrt(1 + 1 / reps) * now * np.array([NOISE[r.get("draws", 2000)] for r in rows])
    outer = [np.array([w for w in r["outer_widths"] if w is not None]) for r in rows]
    ratios, rhos = np.empty(n), np.empty(n)
    for i in range(n):
        real = now - np.array([rng.choice(w, m).mean() for w, m in zip(outer, reps)]) \
            + rng.normal(0.0, sd)
        ratios[i] = real.sum() / pred.sum()
        rhos[i] = stats.spearmanr(pred, real).statistic
    return ratios, rhos


def design(paths: list[str]) -> None:
    """What an exact plan would print on these worlds' options at each setting of draws
    and replicates (`ceiling`): how to run the bench so that its targets can be met."""
    rows = [r for r in read(paths) if r["status"] == "briefing-grade"]
    print(f"an exact plan on {len(rows)} options of "
          f"{len({(r['kind'], r['seed']) for r in rows})} worlds, 1,000 tables each:")
    for draws in sorted(NOISE):
        for reps in (1, 3, 5):
            ratios, rhos = ceiling([dict(r, draws=draws, replicates=reps) for r in rows])
            lo, hi = np.quantile(ratios, [0.05, 0.95])
            print(f"  draws {draws:5d}, replicates {reps}: ratio 5-95% {lo:.2f} - {hi:.2f}, "
                  f"inside 0.8-1.25 in {np.mean((ratios >= 0.8) & (ratios <= 1.25)):.0%}; "
                  f"Spearman median {np.median(rhos):.2f}, at least 0.7 in "
                  f"{np.mean(rhos >= 0.7):.0%}")


def main() -> None:
    if sys.argv[1] in ("--report", "--design"):
        (report if sys.argv[1] == "--report" else design)(sys.argv[2:])
        return
    from cargoinfer.inference.logs import quiet

    quiet()
    kind, span, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    opts = dict(a.split("=", 1) for a in sys.argv[4:])
    first, last = (int(x) for x in span.split("-"))
    done = set()
    if out.exists():
        done = {(r["kind"], r["seed"]) for r in map(json.loads, out.read_text().splitlines())}
    tmp = Path(tempfile.mkdtemp())
    for seed in range(first, last):
        if (kind, seed) in done:
            continue
        rows = one_world(kind, seed, tmp, int(opts.get("n_outer", 16)),
                         int(opts.get("max_refits", 2)), int(opts.get("draws", 2000)),
                         int(opts.get("replicates", 1)))
        with out.open("a") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)


if __name__ == "__main__":
    main()
