"""Simulation-based calibration (SBC): does a model family's posterior cover what it simulated?

Each simulation draws parameters from the family's prior, data from its own generative
process on a template case's shape (`family.simulate`), and refits the one compiled
model to those data (`with_data`: no recompilation). For every scalar quantity the
truth's rank among L thinned posterior draws is uniform on 0..L when inference is
calibrated (Talts et al. 2018). Ranks are turned into a randomised PIT
u = (rank + V) / (L + 1), V uniform, which is then exactly uniform on (0, 1); ties (a
discrete estimand such as voyages) are split at random first.

From the PITs of n simulations: coverage of each central interval (u within
[(1 - p) / 2, (1 + p) / 2]: the equal-tailed interval, exactly p when calibrated), and a
uniformity test of the PIT ECDF against simultaneous bands (Säilynoja, Bürkner and
Vehtari 2022): the statistic is the smallest binomial tail probability of the ECDF over
the evaluation points, its null distribution simulated.

Simulations run in `workers` processes, each compiling the model once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from multiprocessing import get_context

import numpy as np
from scipy import special, stats

CI_PROBS = (0.5, 0.8, 0.9, 0.95)
PARAMETER = "parameter."  # prefix of a model parameter's row (estimands have none)


@dataclass
class Settings:
    """How each simulation is fitted, and how strict the verdict is."""

    draws: int = 500
    tune: int = 300
    chains: int = 1
    target_accept: float = 0.95
    adaptation: str = "diag"
    max_depth: int = 10  # NUTS tree depth cap: at most 2^max_depth - 1 leapfrog steps
    rank_draws: int = 100  # L: posterior draws kept (thinned) for each rank
    alpha: float = 0.01  # chance that a calibrated model fails the verdict (at most)
    # a negative control: "dependent_detection" simulates data in which a voyage seen at
    # the origin is far likelier to be seen at the destination (voyages.simulate_voyages),
    # while the model assumes the ends see independently; it must fail
    control: str | None = None
    # "model": the containers shipped per period are drawn as the model states them (its
    # log-normal stand-in for the sum of the loads): SBC proper, a check of the inference.
    # "exact": they are the loads' sum, so the approximation's error shows too.
    totals: str = "model"


@dataclass
class Simulation:
    index: int
    truth: dict[str, float]
    pit: dict[str, float]
    rank: dict[str, int]
    divergences: int
    seconds: float
    depth_capped: int = 0  # draws whose trajectory stopped at the depth cap
    sample_seconds: float = 0.0  # of `seconds`, in nutpie.sample
    gradients: int = 0  # leapfrog steps (gradient evaluations), warmup included


@dataclass
class Result:
    simulations: list[Simulation]
    rows: list[dict]  # one per quantity and interval probability
    verdict: str  # "pass" or "fail"
    reasons: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- one simulation

def quantities(family) -> list[str]:
    """Scalar estimands, then the parameters (`truths` keeps the scalar ones), as rows
    are named."""
    return [*family.SCALARS, *(PARAMETER + p for p in family.PARAMS)]


def truths(family, p: dict, truth: dict) -> dict[str, float]:
    """The true value of every quantity that has one in this simulation."""
    out = {}
    for name in quantities(family):
        if name.startswith(PARAMETER):
            value = np.asarray(p[name[len(PARAMETER):]])
            if value.ndim:
                continue
        elif name == "unseen_voyages":
            value = truth["voyages"] - truth["voyages_seen"]
        else:
            value = truth.get(name)
        if value is not None and np.isfinite(value):
            out[name] = float(value)
    return out


FOLLOW_UP = 20.0  # the negative control's odds ratio of a destination sighting


def pits(draws: np.ndarray, values: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """Rank of each value (n,) among its draws (S, n), ties split at random, and its
    randomised PIT: exactly uniform when the value is a draw of the same distribution."""
    below = (draws < values).sum(axis=0)
    ties = (draws == values).sum(axis=0)
    rank = below + np.floor(rng.random(len(values)) * (ties + 1))
    return rank.astype(int), (rank + rng.random(len(values))) / (len(draws) + 1)


def pit(draws: np.ndarray, truth: float, rng) -> tuple[int, float]:
    """`pits` of one truth among its draws (S,)."""
    rank, u = pits(np.asarray(draws, float)[:, None], np.array([truth], float), rng)
    return int(rank[0]), float(u[0])


def simulate_and_fit(family, template, priors, values0, index: int, seed: int,
                     settings: Settings, model_for=None) -> Simulation:
    """Simulation `index`: draw, simulate, fit, rank. The model for a simulation's data
    values is `model_for(values)`: by default the one compiled model with those data."""
    import nutpie

    from .fit import compiled

    model_for = model_for or (lambda values: compiled(family, values)[0])
    t0 = time.perf_counter()
    rng = np.random.default_rng([seed, index])
    p = {k: v[0] for k, v in family.prior_draws(values0, 1, rng).items()}
    control = {"follow_up": FOLLOW_UP} if settings.control == "dependent_detection" else {}
    route, truth = family.simulate(p, template, values0, rng, totals=settings.totals, **control)
    values = family.data_values(route, priors)
    model = model_for(values)
    t_sample = time.perf_counter()
    tree = nutpie.sample(model, draws=settings.draws, tune=settings.tune, chains=settings.chains,
                         cores=1, seed=int(rng.integers(2**31)), progress_bar=False,
                         save_warmup=True, target_accept=settings.target_accept,
                         adaptation=settings.adaptation, maxdepth=settings.max_depth)
    t_sample = time.perf_counter() - t_sample
    post = tree["posterior"]
    n = post.sizes["chain"] * post.sizes["draw"]
    keep = np.linspace(0, n - 1, min(settings.rank_draws, n)).round().astype(int)
    flat = {v: np.asarray(post[v]).reshape(n, *post[v].shape[2:])[keep] for v in post.data_vars}
    gen = family.generate(flat, route, values, rng)
    true = truths(family, p, truth)
    ranks, pits = {}, {}
    for name, value in true.items():
        draws = flat[name[len(PARAMETER):]] if name.startswith(PARAMETER) else gen[name]
        draws = np.asarray(draws, float)
        draws = draws[np.isfinite(draws)]
        if len(draws):
            ranks[name], pits[name] = pit(draws, value, rng)
    stats_ = tree["sample_stats"]
    divergences = int(np.asarray(stats_["diverging"]).sum())
    capped = int((np.asarray(stats_["n_steps"]) >= 2**settings.max_depth - 1).sum())
    gradients = int(np.asarray(stats_["n_steps"]).sum()
                    + np.asarray(tree["warmup_sample_stats"]["n_steps"]).sum())
    return Simulation(index, true, pits, ranks, divergences, time.perf_counter() - t0, capped,
                      t_sample, gradients)


# ---------------------------------------------------------------- many, in worker processes

_WORKER: dict = {}


def _init_worker(name, template, priors, settings, seed):
    from .logs import quiet

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    quiet()  # a worker is a fresh interpreter
    from ..models import registry

    family = registry.get(name)
    values0 = family.data_values(template, priors)
    _WORKER.update(family=family, template=template, priors=priors, values0=values0,
                   settings=settings, seed=seed)
    from .fit import compiled

    compiled(family, values0)  # compile once, before the first simulation


def _run_one(index: int) -> Simulation:
    w = _WORKER
    return simulate_and_fit(w["family"], w["template"], w["priors"], w["values0"], index,
                            w["seed"], w["settings"])


def run(family, template, priors, n_sims: int, seed: int, settings: Settings,
        workers: int = 0, progress=None) -> list[Simulation]:
    """`n_sims` simulations of `family` on `template`'s shape, in `workers` processes
    (0: one per core); simulation i is seeded by (seed, i) whatever the worker.

    Interrupted (Ctrl-C, or SIGTERM, which raises KeyboardInterrupt here), the workers
    are terminated before the exception goes on: none is left running."""
    workers = min(workers or os.cpu_count() or 1, n_sims)
    ctx = get_context("spawn")  # fresh interpreters: no threads inherited by fork
    out = []
    with _sigterm_interrupts(), ctx.Pool(
            workers, initializer=_init_worker,
            initargs=(family.NAME, template, priors, settings, seed)) as pool:
        # leaving the block terminates the workers, on success or on any exception
        for sim in pool.imap(_run_one, range(n_sims)):
            out.append(sim)
            if progress:
                progress(sim)
    return out


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def _sigterm_interrupts():
    """While active (main thread only: signals are set there), SIGTERM raises
    KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------- the verdict

@lru_cache(maxsize=64)
def _tails(n: int) -> np.ndarray:
    """T[j, c]: the smaller binomial tail probability of an ECDF count c of n uniform
    values at the point (j + 1) / n."""
    z = (np.arange(1, n) / n)[:, None]
    c = np.arange(n + 1)[None, :]
    lower = special.bdtr(c, n, z)  # P(Binomial(n, z) <= c)
    upper = np.where(c > 0, special.bdtrc(np.maximum(c - 1, 0), n, z), 1.0)  # P(>= c)
    return np.minimum(lower, upper)


def _min_tail(u: np.ndarray) -> np.ndarray:
    """Smallest binomial tail probability of the ECDF of each row of `u` (..., n) at the
    points k / n, k = 1..n-1: the simultaneous ECDF test's statistic (small: not uniform)."""
    u = np.atleast_2d(u)
    rows, n = u.shape
    k = np.clip(np.ceil(u * n).astype(int), 0, n)  # u <= j / n for j >= k
    hist = np.bincount((k + (n + 1) * np.arange(rows)[:, None]).ravel(),
                       minlength=rows * (n + 1)).reshape(rows, n + 1)
    counts = np.cumsum(hist, axis=1)[:, 1:n]  # #(u <= j / n), j = 1..n-1
    return _tails(n)[np.arange(n - 1), counts].min(axis=1)


N_NULL = 50_000  # simulated uniform samples: p-values resolve down to 2e-5


@lru_cache(maxsize=64)
def _null_tails(n: int, seed: int = 2018) -> np.ndarray:
    """The statistic's distribution for n uniform values (seeded: the same for every run)."""
    rng = np.random.default_rng([seed, n])
    batch = max(1, 2_000_000 // n)
    return np.concatenate([_min_tail(rng.random((min(batch, N_NULL - lo), n)))
                           for lo in range(0, N_NULL, batch)])


def uniformity(u) -> float:
    """p-value of the simultaneous ECDF test that `u` is uniform on (0, 1), evaluated at
    k / n, k = 1..n-1 (as arviz's PIT ECDF); N_NULL simulated uniform samples set the null."""
    u = np.asarray(u, float)
    n = len(u)
    if n < 2:
        return float("nan")
    null = _null_tails(n)
    observed = _min_tail(u)[0]
    return float((1 + (null <= observed).sum()) / (1 + len(null)))


def band(n: int, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simultaneous `level` band of the ECDF of n uniform values: (z, lower, upper); the
    ECDF leaves it with probability 1 - level (the test above rejects at that level)."""
    z = np.linspace(0.0025, 0.9975, 200)
    gamma = np.quantile(_null_tails(n), 1 - level)
    lower = stats.binom.ppf(gamma, n, z) / n
    upper = stats.binom.isf(gamma, n, z) / n
    return z, lower, upper


def summarise(family, sims: list[Simulation], alpha: float) -> Result:
    """calibration.csv's rows and the verdict.

    Each of the K quantities has one uniformity test of its ranks and one coverage test
    per interval probability. Half of alpha goes to the K uniformity tests, half to the
    4K coverage tests, split evenly (Bonferroni), so a calibrated model fails the
    verdict with probability at most alpha."""
    names = [q for q in quantities(family) if any(q in s.pit for s in sims)]
    k = max(1, len(names))
    level_ranks, level_cover = alpha / 2 / k, alpha / 2 / (k * len(CI_PROBS))
    rows, reasons = [], []
    for name in names:
        u = np.array([s.pit[name] for s in sims if name in s.pit])
        p_unif = uniformity(u)
        n = len(u)
        if p_unif < level_ranks:
            reasons.append(f"{name}: ranks not uniform (p = {p_unif:.2g})")
        for prob in CI_PROBS:
            covered = int(((u >= (1 - prob) / 2) & (u <= (1 + prob) / 2)).sum())
            lo = stats.binom.ppf(level_cover / 2, n, prob)
            hi = stats.binom.isf(level_cover / 2, n, prob)
            ok = lo <= covered <= hi
            if not ok:
                reasons.append(f"{name}: {prob:.0%} interval covered {covered}/{n} "
                               f"(accepted {lo:.0f}-{hi:.0f})")
            rows.append({"estimand": name, "ci_prob": prob, "coverage": covered / n,
                         "n_sims": n, "rank_uniformity_p": p_unif, "covered": covered,
                         "accepted_low": lo / n, "accepted_high": hi / n,
                         "pass": bool(ok and p_unif >= level_ranks)})
    return Result(sims, rows, "pass" if not reasons else "fail", reasons)


RULE = ("fail when a quantity's ranks fail the simultaneous ECDF uniformity test at "
        "alpha / (2K), or one of its 50, 80, 90 or 95% intervals covers the truth in a "
        "share of simulations outside the central 1 - alpha / (8K) of Binomial(n, p) "
        "(K quantities): a calibrated model fails with probability at most alpha")
