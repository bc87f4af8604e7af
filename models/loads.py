"""Containers per voyage on a grid of loads 0..K-1 (numpy only).

A voyage's load C is negative binomial (mean mu, shape alpha) truncated at the
vessel's capacity. A count of visible containers is C thinned by the share in
view: Binomial(C, coverage) when coverage is recorded (with the recorded share's
error summed out), BetaBinomial(C, a, b) when it is not. Summing over the grid marginalises C exactly.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, logsumexp


def nb_logpmf(k, mu, alpha):
    return (gammaln(k + alpha) - gammaln(alpha) - gammaln(k + 1)
            + alpha * np.log(alpha / (alpha + mu)) + k * np.log(mu / (alpha + mu)))


def load_prior_logp(grid, cap, mu, alpha):
    """log P(C = grid[k]) truncated at each cap; shape (..., n_cap, K).

    mu, alpha: arrays of shape (...,); cap: (n_cap,)."""
    mu = np.asarray(mu, float)[..., None]
    alpha = np.asarray(alpha, float)[..., None]
    lp = nb_logpmf(grid, mu, alpha)  # (..., K)
    # normaliser below each cap from one running log-sum-exp (not one per cap)
    running = np.logaddexp.accumulate(lp, axis=-1)
    norm = running[..., np.searchsorted(grid, np.asarray(cap), side="right") - 1]  # (..., n_cap)
    below = grid[None, :] <= np.asarray(cap)[:, None]
    return np.where(below, lp[..., None, :] - norm[..., None], -np.inf)


def clip_coverage(coverage):
    """Keep coverage inside (0, 1) so that log(1 - c) stays finite."""
    return np.clip(np.asarray(coverage, float), COVERAGE_EPS, 1 - COVERAGE_EPS)


COVERAGE_EPS = 1e-9


def log_choose(n, k):
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


# a recorded coverage's error: Gauss-Hermite nodes of a standard normal, and their weights
ERROR_NODES, ERROR_WEIGHTS = np.polynomial.hermite_e.hermegauss(7)
ERROR_WEIGHTS = ERROR_WEIGHTS / ERROR_WEIGHTS.sum()


def count_loglik(grid, visible, coverage, known, a, b, coverage_sd: float = 0.0):
    """log P(visible_i | C = grid[k]); shape (..., M, K).

    coverage/known: (M,); a, b: (...,) Beta prior of unrecorded coverage; coverage_sd:
    the relative error (sd of the log) of a recorded coverage, the true share in view
    being recorded x exp(Normal(0, coverage_sd)) (below 1), summed out by quadrature."""
    n = grid[None, :]
    y = np.asarray(visible, float)[:, None]
    ok = n >= y
    nn = np.where(ok, n, y)
    nodes = ERROR_NODES if coverage_sd > 0 else np.zeros(1)
    weights = ERROR_WEIGHTS if coverage_sd > 0 else np.ones(1)
    terms = []
    for z in nodes:
        c = clip_coverage(np.asarray(coverage, float) * np.exp(coverage_sd * z))[:, None]
        terms.append(y * np.log(c) + (nn - y) * np.log1p(-c))
    binom = log_choose(nn, y) + logsumexp(np.stack(terms), axis=0, b=weights[:, None, None])
    a = np.asarray(a, float)[..., None, None]
    b = np.asarray(b, float)[..., None, None]
    beta_binom = (log_choose(nn, y) + gammaln(y + a) + gammaln(nn - y + b) - gammaln(nn + a + b)
                  + gammaln(a + b) - gammaln(a) - gammaln(b))
    ll = np.where(np.asarray(known, bool)[:, None], binom, beta_binom)
    return np.where(ok, ll, -np.inf)


def count_evidence(grid, visible, coverage, known, group, n_groups, a, b, coverage_sd=0.0):
    """log P(counts of load group g | C = grid[k]); shape (G, K).

    It depends on data and on the fixed priors of coverage only (unrecorded, and a
    recorded one's error), so it is computed once per case and handed to the model as data."""
    ll = count_loglik(grid, visible, coverage, known, a, b, coverage_sd)  # (M, K)
    out = np.zeros((n_groups, len(grid)))
    np.add.at(out, np.asarray(group, int), ll)
    return out


def evidence_weights(evidence, grid, cap):
    """Each group's evidence (G, K) as weights relative to its largest value below the
    group's capacity, zero above it, and the log of that value (G,): the model sums
    weight x prior probability, which then stays in floating-point range."""
    below = grid[None, :] <= np.asarray(cap, float)[:, None]
    masked = np.where(below, evidence, -np.inf)
    scale = masked.max(axis=1) if masked.size else np.zeros(len(masked))
    with np.errstate(invalid="ignore"):
        weight = np.where(below, np.exp(masked - scale[:, None]), 0.0)
    return np.nan_to_num(weight), scale


class GridSampler:
    """Inverse-CDF draws from many discrete distributions on one grid at once, given
    their probabilities (..., K), up to a factor per row."""

    def __init__(self, probs):
        probs = probs.reshape(-1, probs.shape[-1])
        self.k = probs.shape[1]
        # one running sum over all rows, one after another: increasing across rows, so one
        # search finds any row's draw (row r spans start[r] to start[r] + mass[r])
        self.flat = np.cumsum(probs.ravel())
        ends = self.flat[self.k - 1::self.k]
        self.start = np.concatenate([[0.0], ends[:-1]])
        self.mass = ends - self.start

    @classmethod
    def from_logp(cls, logp):
        return cls(np.exp(logp - logp.max(axis=-1, keepdims=True)))

    def draw(self, rows, rng):
        """One grid index for each entry of `rows` (indices into the flattened distributions)."""
        rows = np.asarray(rows)
        u = self.start[rows] + rng.random(rows.shape) * self.mass[rows]
        idx = np.searchsorted(self.flat, u.ravel(), side="right").reshape(rows.shape) - rows * self.k
        return np.clip(idx, 0, self.k - 1)

    def draw_each(self, rng):
        """One draw per distribution, in their shape."""
        return self.draw(np.arange(len(self.start)), rng)


def sample_grid(logp, rng):
    """One draw of the grid index per row of logp (..., K)."""
    return GridSampler.from_logp(logp).draw_each(rng).reshape(logp.shape[:-1])


def normalised(logp):
    """exp(logp) scaled to sum to 1 along the last axis, and log of the sum: (probs, lse)."""
    m = logp.max(axis=-1, keepdims=True)
    probs = np.exp(logp - m)
    total = probs.sum(axis=-1, keepdims=True)
    probs /= total
    return probs, (m + np.log(total))[..., 0]
