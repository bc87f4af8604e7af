"""Depot and claims likelihoods, written once for numpy and for PyTensor.

Each function takes `ops` (NUMPY or TENSOR) so the sampled model and the pointwise
log-likelihood stored after sampling are the same formula. Parameters broadcast
against rows: scalars in the model, shape (S, 1) for S posterior draws."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytensor.tensor as pt
from scipy import special

NUMPY = SimpleNamespace(log=np.log, exp=np.exp, erfc=special.erfc, where=np.where,
                        sqrt=np.sqrt, log_sigmoid=special.log_expit, gammaln=special.gammaln,
                        sum=np.sum, maximum=np.maximum, eq=np.equal, take=np.take,
                        log1p=np.log1p, concat=np.concatenate, clip=np.clip,
                        matmul=np.matmul, stack=np.stack, cumsum=np.cumsum, einsum=np.einsum,
                        max=np.max, expm1=np.expm1, logaddexp=np.logaddexp, swapaxes=np.swapaxes,
                        cast_int=lambda x: np.asarray(x).astype(int))
TENSOR = SimpleNamespace(log=pt.log, exp=pt.exp, erfc=pt.erfc, where=pt.switch, sqrt=pt.sqrt,
                         log_sigmoid=lambda x: -pt.softplus(-x), gammaln=pt.gammaln,
                         sum=pt.sum, maximum=pt.maximum, eq=pt.eq, take=pt.take,
                         log1p=pt.log1p, concat=pt.concatenate, clip=pt.clip,
                         matmul=pt.matmul, stack=pt.stack, cumsum=pt.cumsum, einsum=pt.einsum,
                         max=pt.max, expm1=pt.expm1, logaddexp=pt.logaddexp, swapaxes=pt.swapaxes,
                         cast_int=lambda x: pt.cast(x, "int64"))
LOGISTIC_SCALE = 1.702  # logistic scale matched to a normal sd of the claim's width


def log_lag(lag):
    """The lags (days, numpy) as `delay_cdf` reads them: the logs of their distinct values
    (L,), 1 where that value is > 0 else 0 (L,; lags <= 0 share one value, log 0), and each
    lag's index into them (lag's shape). The delay's cdf is then evaluated once per
    distinct lag, not once per row and day. Computed once per case, not at every gradient."""
    lag = np.asarray(lag, float)
    values, index = np.unique(np.where(lag > 0, lag, 0.0), return_inverse=True)
    positive = (values > 0) * 1.0
    return np.log(np.where(positive > 0, values, 1.0)), positive, index.reshape(lag.shape)


def delay_cdf(ops, lags, median, spread):
    """P(rail delay <= lag) for a log-normal delay, lags as `log_lag` gives them; lag <= 0
    gives 0. median and spread broadcast against the distinct lags (L,): scalars, or
    (S, 1) for S draws; the result has shape (S,) + the lags' shape."""
    log_lag, positive, index = lags
    z = (log_lag - ops.log(median)) / (spread * np.sqrt(2.0))
    return ops.take(positive * (0.5 * ops.erfc(-z)), index, -1)


def arrived(ops, daily_containers, lags, median, spread):
    """Containers at the depot at each row's date: shape (..., n).

    daily_containers (..., 1, D) leaving the origin on each day; lags: `log_lag` of the
    (n, D) days from that day's unloading to the row's date (or of D days, for one date)."""
    return ops.sum(daily_containers * delay_cdf(ops, lags, median, spread), axis=-1)


def depot_loglik(ops, mean, value, sd, has_sd, noise_cv):
    """Normal measurement of the depot's stock; rows with an sd use it."""
    scale = ops.where(has_sd > 0.5, sd, noise_cv * mean + 1e-3 * (1 + value))
    z = (value - mean) / scale
    return -0.5 * z * z - ops.log(scale) - 0.5 * np.log(2 * np.pi)


CLAIM_TERMS = np.array([[1.0, 1.0, 1.0],   # about: logistic density
                        [1.0, 0.0, 0.0],   # at_least: logistic CDF
                        [0.0, 1.0, 0.0]])  # at_most: logistic survival


def claim_loglik(ops, expected, value, width, terms):
    """A stated figure, by relation (rows of CLAIM_TERMS): 'about' a logistic density,
    'at_least' / 'at_most' soft bounds (logistic CDF). The logistic's tails are heavier
    than the normal's, so a figure far from the rest of the data costs it little."""
    scale = width * ops.maximum(value, 1.0) / LOGISTIC_SCALE
    z = (expected - value) / scale
    return (terms[..., 0] * ops.log_sigmoid(z) + terms[..., 1] * ops.log_sigmoid(-z)
            - terms[..., 2] * ops.log(scale))


def load_moments(probs, grid):
    """First and second moments of loads with probabilities `probs` (..., K) on the grid of
    loads, (...) each. (The model gets the same moments by matrix products,
    `voyages.loads_story`.)"""
    grid = np.asarray(grid, float)
    return probs @ grid, probs @ grid**2


def shipped(ops, m1, m2, n_groups, moment_row, in_period, vessel_cap_row, unseen_rate, z, z_unseen,
            count_var=None):
    """Containers shipped in each period, (..., P): the seen voyages' loads,
    exp(location + scale x z) of `seen_lognormal` at standard normal z (..., P), plus the
    window's unseen total exp(location + scale x z_unseen) of `unseen_lognormal` (...),
    shared among the periods as their unseen voyages are expected."""
    loc, scale = seen_lognormal(ops, m1, m2, moment_row, in_period)
    u_loc, u_scale, share = unseen_lognormal(ops, m1, m2, n_groups, vessel_cap_row, unseen_rate,
                                             count_var)
    return (ops.exp(loc + scale * z)
            + ops.exp(u_loc + u_scale * z_unseen)[..., None] * share)


def _lognormal(ops, mean, var):
    """Location and scale (of the log) of the log-normal with this mean and variance."""
    mean = ops.maximum(mean, 1e-6)
    s2 = ops.maximum(ops.log1p(ops.maximum(var, 0.0) / (mean * mean)), 1e-12)  # sqrt's slope
    return ops.log(mean) - 0.5 * s2, ops.sqrt(s2)


def seen_lognormal(ops, m1, m2, moment_row, in_period):
    """The seen voyages' containers in each period, (..., P), as a log-normal's location
    and scale: their exact mean and variance given the parameters (each voyage's load
    known through its counts, or from its vessel's load prior when uncounted). A period
    with no voyage seen has a total of about 1e-6.

    m1, m2 are the loads' moments (`load_moments`); moment_row (Vobs,) picks a seen
    voyage's row in them; in_period (P, Vobs) places the seen voyages, each with the chance
    that it counts (1, or less for one that may have left outside the window)."""
    v1, v2 = ops.take(m1, moment_row, -1), ops.take(m2, moment_row, -1)  # (..., Vobs)
    mean = ops.sum(v1[..., None, :] * in_period, axis=-1)
    var = ops.sum(v2[..., None, :] * in_period - (v1 * v1)[..., None, :] * in_period ** 2, axis=-1)
    return _lognormal(ops, mean, var)


def unseen_lognormal(ops, m1, m2, n_groups, vessel_cap_row, unseen_rate, count_var=None):
    """The containers of the voyages nobody saw in the window, (...), as a log-normal's
    location and scale, and each period's expected share of them (..., P).

    `unseen_rate` (..., P, V) voyages per period and vessel are expected, each loaded from
    its vessel's prior; their count is Poisson (a compound Poisson total), or has variance
    `count_var` (..., V) per vessel. Pooled over the window its log-normal
    stand-in is close (a period's own, with often no unseen voyage at all, spans orders
    of magnitude and gave the sampler a wall to run into); the depot and the claims then
    read the total's level through the pooled draw and its timing through the shares."""
    u1 = ops.take(m1[..., n_groups:], vessel_cap_row, -1)[..., None, :]  # (..., 1, V)
    u2 = ops.take(m2[..., n_groups:], vessel_cap_row, -1)[..., None, :]
    per_period = ops.sum(unseen_rate * u1, axis=-1)  # (..., P) expected containers
    total = ops.sum(per_period, axis=-1)
    if count_var is None:
        var = ops.sum(ops.sum(unseen_rate * u2, axis=-1), axis=-1)
    else:  # E[N] Var(C) + Var(N) E[C]^2, per vessel
        var = (ops.sum(ops.sum(unseen_rate * (u2 - u1 * u1), axis=-1), axis=-1)
               + ops.sum(count_var * u1[..., 0, :] ** 2, axis=-1))
    loc, scale = _lognormal(ops, total, var)
    return loc, scale, per_period / ops.maximum(total, 1e-6)[..., None]
