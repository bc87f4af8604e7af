"""Figures the status rule compares with limits, each with its Monte Carlo error.

A figure computed from posterior draws (an R-hat, an ESS, a count of observations outside
their predictive intervals) would come out differently with another seed. The rule decides
only on what is clearly beyond a limit: a figure more than `Z` Monte Carlo standard errors
on the bad side of its limit fails, one more than `Z` on the good side passes, and one in
between is *borderline*. A borderline figure is resolved by drawing more (`inference.fit`)
or, when the budget is spent, reported as a note: never decided by the seed.

The Monte Carlo errors (numpy only):
- R-hat: under convergence, with M split chains of N draws and a parameter's
  autocorrelation time tau = draws / ESS, R-hat^2 ~ 1 + (tau X - 1) / N with
  X ~ chi2(M - 1) / (M - 1), so sd(R-hat) ~ tau sqrt(2 / (M - 1)) / (2 N). (Its mean is
  1 + (tau - 1) / (2 N): with 4 chains of 1000 draws and an ESS of 400, converged chains
  give an R-hat of 1.01 on average, the limit itself.)
- ESS: an integrated autocorrelation time estimated over a window W has relative sd
  sqrt(2 (2W + 1) / draws) (Sokal 1997); W = 2 tau matches the spread of arviz's ESS on
  autoregressive chains with tau from 1 to 19 (tests/test_limits.py).
- divergent transitions: a count of events, each one a fact, not an estimate: beyond the
  limit fails (`inference.fit` first samples again with a higher target_accept).
- E-BFMI: batch means over ten batches of each chain.
- Pareto k: the generalised Pareto shape fitted to the M largest of S importance ratios,
  M = min(S / 5, 3 sqrt(S)) (PSIS), has sd (1 + k) / sqrt(M): about 0.1 at 4000 draws, and
  three times the draws shrink it by a quarter only, so a borderline k is not drawn again.
- averages over draws (predictive counts, tail probabilities, interval ends): batch means
  over chains (`chain_se`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

Z = 3.0  # Monte Carlo standard errors between a figure and its limit before it decides:
# a figure whose expectation sits at its limit decides one way by chance 0.13% of the time
PASS, FAIL, BORDERLINE = "pass", "fail", "borderline"


@dataclass
class Figure:
    """One figure against one limit; `bad` is the side of the limit that demotes."""

    name: str  # what it is, in words: "R-hat of voyages_per_week"
    value: float
    mcse: float
    limit: float
    bad: str  # "above" or "below"
    text: str = ""  # the check it belongs to
    count: bool = False  # a count of events (divergences): beyond its limit it fails
    redraw: bool = True  # drawing more narrows its error enough to decide (not so Pareto k)

    @property
    def verdict(self) -> str:
        sign = 1.0 if self.bad == "above" else -1.0
        excess = sign * (self.value - self.limit)  # > 0: on the bad side
        band = Z * (self.mcse if np.isfinite(self.mcse) else np.inf)
        if not np.isfinite(self.value):
            return FAIL
        if excess > band:
            return FAIL
        if excess <= 0 and self.count:
            return PASS
        if self.count:  # an event seen is no chance of the draws: it happened
            return FAIL
        if excess < -band:
            return PASS
        return BORDERLINE

    @property
    def beyond(self) -> bool:
        """On the bad side of its limit (whatever its error)."""
        return self.value > self.limit if self.bad == "above" else self.value < self.limit

    def record(self) -> dict:
        return {**asdict(self), "verdict": self.verdict}


def rhat_se(ess, chains: int, draws: int):
    """sd of a converged parameter's R-hat (rank-normalised, split chains) given its ESS."""
    m, n = 2 * chains, draws / 2
    tau = chains * draws / np.maximum(np.asarray(ess, float), 1.0)
    return tau * np.sqrt(2.0 / max(m - 1, 1)) / (2.0 * n)


def ess_se(ess, total_draws: int):
    """sd of an ESS estimate, by the window rule above."""
    ess = np.asarray(ess, float)
    tau = total_draws / np.maximum(ess, 1.0)
    return ess * np.sqrt(2.0 * (2.0 * 2.0 * tau + 1.0) / total_draws)


def batch_se(x: np.ndarray, stat, batches: int = 10) -> float:
    """Standard error of `stat` of a 1-D series by non-overlapping batch means."""
    x = np.asarray(x, float)
    parts = [stat(b) for b in np.array_split(x, batches) if len(b) > 2]
    return float(np.std(parts, ddof=1) / np.sqrt(len(parts))) if len(parts) > 1 else np.inf


def chain_se(per_chain) -> float:
    """Standard error of an average over chains from its value in each chain."""
    v = np.asarray(per_chain, float)
    return float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1 else np.inf


def pareto_k_se(k, draws: int):
    m = min(0.2 * draws, 3.0 * np.sqrt(draws))
    return (1.0 + np.maximum(np.asarray(k, float), -0.5)) / np.sqrt(m)


def split(figures: list[Figure]) -> tuple[list[Figure], list[Figure]]:
    """(failing, borderline) figures."""
    return ([f for f in figures if f.verdict == FAIL],
            [f for f in figures if f.verdict == BORDERLINE])


def undecided_note(f: Figure, draws: int, words: str) -> str:
    return (f"undecided: {words}, but {f.name} ({f.value:.4g}) is within {Z:g} Monte Carlo "
            f"standard errors (each {f.mcse:.2g}) of its limit {f.limit:g} after {draws:,} "
            "draws, so it does not demote the run")
