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
                        sum=np.sum, maximum=np.maximum, eq=np.equal)
TENSOR = SimpleNamespace(log=pt.log, exp=pt.exp, erfc=pt.erfc, where=pt.switch, sqrt=pt.sqrt,
                         log_sigmoid=lambda x: -pt.softplus(-x), gammaln=pt.gammaln,
                         sum=pt.sum, maximum=pt.maximum, eq=pt.eq)
LOGISTIC_SCALE = 1.702  # logistic scale matched to a normal sd of the claim's width


def delay_cdf(ops, lag, median, spread):
    """P(rail delay <= lag) for a log-normal delay; lag <= 0 gives 0."""
    safe = ops.maximum(lag, 1e-9)
    z = (ops.log(safe) - ops.log(median)) / (spread * np.sqrt(2.0))
    return ops.where(lag > 0, 0.5 * ops.erfc(-z), 0.0)


def arrived(ops, daily_containers, lag, median, spread):
    """Containers at the depot at each row's date: shape (..., n).

    daily_containers (..., 1, D) leaving the origin on each day; lag (n, D) days from
    that day's unloading to the row's date."""
    return ops.sum(daily_containers * delay_cdf(ops, lag, median, spread), axis=-1)


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
