"""A voyage's load prior on the grid of loads, as one PyTensor Op with numba kernels.

P(C = k) for a negative binomial (mean mu, shape alpha) truncated at each capacity,
normalised below it: the same numbers as composing PyTensor's elementwise ops (log1p,
cumsum, max, exp per load and capacity), at a fraction of the cost of a gradient. The
kernel walks the pmf's ratio P(k + 1) / P(k) = q (k + alpha) / (k + 1), q = mu / (alpha + mu),
out from the mode below each capacity: multiplications instead of a log and an exp per
load, and nothing to underflow, since the walk stops at the floor.

The gradient is analytic: with D(k) = d log P(k) / d theta unnormalised,
d P_c(k) / d theta = P_c(k) (D(k) - E_c[D]), where
d log P(k) / d mu = k alpha / (mu (alpha + mu)) and
d log P(k) / d alpha = sum_{i<k} 1 / (i + alpha) - k / (alpha + mu).
A probability held at the floor counts in it as if it were not: its share of any sum
is below double precision's resolution.
"""

from __future__ import annotations

import hashlib
import inspect

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import numba_njit, register_funcify_default_op_cache_key

# a load's probability is kept at least exp(LOG_FLOOR) of the most likely load's (below
# its capacity), so that a group's likelihood never underflows to 0; this moves
# probabilities far below double precision's resolution of any sum they enter
LOG_FLOOR = -690.0
FLOOR = float(np.exp(LOG_FLOOR))


@numba.njit(cache=True)
def probs_kernel(mu, alpha, grid, caps):
    """(len(caps), K) probabilities; grid is 0..K-1, caps ascending or not."""
    n = grid.shape[0]
    q = mu / (alpha + mu)
    ratio = np.empty(max(n - 1, 0))  # P(k + 1) / P(k)
    mode = n - 1
    for k in range(n - 1):
        ratio[k] = q * (grid[k] + alpha) / (grid[k] + 1.0)
        if ratio[k] < 1.0 and mode == n - 1:
            mode = k  # first decrease: the pmf is unimodal
    out = np.zeros((caps.shape[0], n))
    for c in range(caps.shape[0]):
        top = np.searchsorted(grid, caps[c], side="right") - 1
        if top < 0:
            continue
        start = min(mode, top)
        row = out[c]
        row[start] = 1.0
        v = 1.0
        for k in range(start + 1, top + 1):  # up from the mode
            if v > FLOOR:
                v *= ratio[k - 1]
            row[k] = max(v, FLOOR)
        v = 1.0
        for k in range(start - 1, -1, -1):  # down from the mode
            if v > FLOOR:
                v /= ratio[k]
            row[k] = max(v, FLOOR)
        row[: top + 1] /= row[: top + 1].sum()
    return out


@numba.njit(cache=True)
def grad_kernel(mu, alpha, grid, probs, upstream):
    """d/dmu and d/dalpha of sum(upstream * probs)."""
    d_mu_per_k = alpha / (mu * (alpha + mu))
    d_alpha_per_k = -1.0 / (alpha + mu)
    n = grid.shape[0]
    d_alpha = np.empty(n)
    s = 0.0
    for k in range(n):
        d_alpha[k] = s + grid[k] * d_alpha_per_k
        s += 1.0 / (grid[k] + alpha)
    g_mu = 0.0
    g_alpha = 0.0
    for c in range(probs.shape[0]):
        mean_k = mean_alpha = b = a_k = a_alpha = 0.0
        for k in range(n):
            p = probs[c, k]
            gp = upstream[c, k] * p
            mean_k += p * grid[k]
            mean_alpha += p * d_alpha[k]
            b += gp
            a_k += gp * grid[k]
            a_alpha += gp * d_alpha[k]
        g_mu += (a_k - b * mean_k) * d_mu_per_k
        g_alpha += a_alpha - b * mean_alpha
    return g_mu, g_alpha


class TruncatedNBGrad(Op):
    __props__ = ()

    def make_node(self, mu, alpha, grid, probs, upstream):
        inputs = [pt.as_tensor_variable(x) for x in (mu, alpha, grid, probs, upstream)]
        return Apply(self, inputs, [pt.dscalar(), pt.dscalar()])

    def perform(self, node, inputs, outputs):
        mu, alpha, grid, probs, upstream = inputs
        g = grad_kernel(float(mu), float(alpha), grid, probs, upstream)
        outputs[0][0], outputs[1][0] = np.asarray(g[0]), np.asarray(g[1])

    def infer_shape(self, node, shapes):
        return [(), ()]


class TruncatedNB(Op):
    __props__ = ()

    def make_node(self, mu, alpha, grid, caps):
        inputs = [pt.as_tensor_variable(x).astype("float64") for x in (mu, alpha, grid, caps)]
        return Apply(self, inputs, [pt.dmatrix()])

    def perform(self, node, inputs, outputs):
        mu, alpha, grid, caps = inputs
        outputs[0][0] = probs_kernel(float(mu), float(alpha), grid, caps)

    def infer_shape(self, node, shapes):
        return [(shapes[3][0], shapes[2][0])]

    def pullback(self, inputs, outputs, cotangents):
        mu, alpha, grid, caps = inputs
        g_mu, g_alpha = TruncatedNBGrad()(mu, alpha, grid, outputs[0], cotangents[0])
        return [g_mu, g_alpha, pt.zeros_like(grid), pt.zeros_like(caps)]


def source_key(*kernels) -> int:
    """PyTensor caches compiled graphs by Op type and props, not by the kernels' code:
    this salt makes an edited kernel compile again."""
    text = "".join(inspect.getsource(k.py_func) for k in kernels)
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


@register_funcify_default_op_cache_key(TruncatedNB)
def _numba_probs(op, node=None, **kwargs):
    @numba_njit
    def probs(mu, alpha, grid, caps):
        return probs_kernel(mu.item(), alpha.item(), grid, caps)

    return probs, source_key(probs_kernel)


@register_funcify_default_op_cache_key(TruncatedNBGrad)
def _numba_grad(op, node=None, **kwargs):
    @numba_njit
    def grad(mu, alpha, grid, probs, upstream):
        g_mu, g_alpha = grad_kernel(mu.item(), alpha.item(), grid, probs, upstream)
        return np.array(g_mu), np.array(g_alpha)

    return grad, source_key(grad_kernel)


truncated_nb = TruncatedNB()


def probs_draws(mu, alpha, grid, caps) -> np.ndarray:
    """`probs_kernel` for each of the draws mu, alpha (n,): (n, len(caps), K), the numbers
    the model has (its floor included)."""
    grid, caps = np.asarray(grid, float), np.asarray(caps, float)
    out = np.empty((len(mu), len(caps), len(grid)))
    for i, (m, a) in enumerate(zip(np.asarray(mu, float), np.asarray(alpha, float))):
        out[i] = probs_kernel(m, a, grid, caps)
    return out
