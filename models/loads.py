"""Containers per voyage on a grid of loads 0..K-1 (numpy only).

A voyage's load C is negative binomial (mean mu, shape alpha) truncated at the
vessel's capacity. A count of visible containers is C thinned by the share in
view: Binomial(C, coverage) when coverage is recorded, BetaBinomial(C, a, b)
when it is not. Summing over the grid marginalises C exactly.
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
    mu = np.asarray(mu, float)[..., None, None]
    alpha = np.asarray(alpha, float)[..., None, None]
    lp = nb_logpmf(grid[None, :], mu, alpha)
    lp = np.where(grid[None, :] <= np.asarray(cap)[:, None], lp, -np.inf)
    return lp - logsumexp(lp, axis=-1, keepdims=True)


def clip_coverage(coverage):
    """Keep coverage inside (0, 1) so that log(1 - c) stays finite."""
    return np.clip(np.asarray(coverage, float), COVERAGE_EPS, 1 - COVERAGE_EPS)


COVERAGE_EPS = 1e-9


def log_choose(n, k):
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def count_loglik(grid, visible, coverage, known, a, b):
    """log P(visible_i | C = grid[k]); shape (..., M, K).

    coverage/known: (M,); a, b: (...,) Beta prior of unrecorded coverage."""
    n = grid[None, :]
    y = np.asarray(visible, float)[:, None]
    ok = n >= y
    nn = np.where(ok, n, y)
    c = clip_coverage(coverage)[:, None]
    binom = log_choose(nn, y) + y * np.log(c) + (nn - y) * np.log1p(-c)
    a = np.asarray(a, float)[..., None, None]
    b = np.asarray(b, float)[..., None, None]
    beta_binom = (log_choose(nn, y) + gammaln(y + a) + gammaln(nn - y + b) - gammaln(nn + a + b)
                  + gammaln(a + b) - gammaln(a) - gammaln(b))
    ll = np.where(np.asarray(known, bool)[:, None], binom, beta_binom)
    return np.where(ok, ll, -np.inf)


def group_log_joint(grid, visible, coverage, known, group, n_groups, cap, mu, alpha, a, b):
    """log P(C_g = grid[k], counts of group g); shape (..., G, K)."""
    prior = load_prior_logp(grid, cap, mu, alpha)  # (..., G, K)
    ll = count_loglik(grid, visible, coverage, known, a, b)  # (..., M, K)
    onehot = np.zeros((n_groups, len(visible)))
    onehot[np.asarray(group, int), np.arange(len(visible))] = 1.0
    summed = np.einsum("gm,...mk->...gk", onehot, np.where(np.isfinite(ll), ll, -1e300))
    return np.where(summed < -1e290, -np.inf, prior + summed)


def sample_grid(logp, rng):
    """One draw of the grid index per row of logp (..., K)."""
    p = np.exp(logp - logsumexp(logp, axis=-1, keepdims=True))
    cdf = np.cumsum(p, axis=-1)
    u = rng.random(cdf.shape[:-1] + (1,)) * cdf[..., -1:]
    return (cdf < u).sum(axis=-1)
