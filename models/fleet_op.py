"""The fleet's segments (`fleet.segment_weights` then `fleet.segments`) as one PyTensor Op
with numba kernels: per segment, the log-likelihood with m summed out and the mean and
variance of m, for one draw. The same numbers as composing PyTensor's elementwise ops over
(segments x m), in 0.6 of their time per gradient and 21 graph nodes against 323
(bench/fleet_cost.py).

The gradient is analytic. With w_m the segment's weights normalised, D_m = d log w_m /
d theta and upstream (gL, gM, gV) for (log-likelihood, mean, variance):
d loglik = sum_m w_m D_m, d mean = sum_m w_m (m - mean) D_m and
d var = sum_m w_m ((m - mean)^2 - var) D_m. D_m is written out below, per formula of
`fleet`, in c (the vessel's cycle), the variance terms s2 = (c cv)^2 and tau2 = tau^2,
break_prob b and q; a quantity held at `fleet.FLOOR` has derivative 0, as PyTensor's
`maximum` gives.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import numba_njit, register_funcify_default_op_cache_key

from .fleet import FLOOR, LEAD, LOG_2PI
from .truncated_nb import source_key

SQRT2 = math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
N_PARTS = 5  # d/dc, d/ds2, d/dtau2, d/db, d/dq


@numba.njit(cache=True)
def _pdf(z):
    return math.exp(-0.5 * z * z) * INV_SQRT_2PI


@numba.njit(cache=True)
def _cdf(z):
    return 0.5 * math.erfc(-z / SQRT2)


@numba.njit(cache=True)
def _between(hi, lo):
    """Phi(hi) - Phi(lo), hi >= lo, accurate in both tails (`fleet._cdf_between`)."""
    if lo > 0:
        return 0.5 * (math.erfc(lo / SQRT2) - math.erfc(hi / SQRT2))
    return 0.5 * (math.erfc(-hi / SQRT2) - math.erfc(-lo / SQRT2))


@numba.njit(cache=True)
def _gap(m_grid, g, c, s2, t2, b, q, window, logw, d):
    """A gap's log weights over m (m_grid is 0..M, as `fleet.layout` builds it) and their
    partials (M+1, N_PARTS), each term's two parts (unbroken, with pauses) added in linear
    space where they do not underflow."""
    lb = math.log1p(-b)
    lq, l1q = math.log(q), math.log1p(-q)
    log_window = math.log(window)
    unbroken, omega = 1.0, 0.0  # (1 - b)^k and 1 - (1 - b)^k, by recurrence
    for i in range(m_grid.shape[0]):
        m = m_grid[i]
        k = m + 1.0
        unbroken, omega = unbroken * (1.0 - b), b + (1.0 - b) * omega
        var = k * s2 + 2.0 * t2
        sd = math.sqrt(var)
        e = g - k * c
        z = e / sd
        z2 = z - window / sd
        pz, pz2 = _pdf(z), _pdf(z2)
        gap = _between(z, z2)
        ea = unbroken * pz / sd
        eb = max(omega, FLOOR) * max(gap, FLOOR) / window
        if ea + eb > 1e-280:
            total = math.log(ea + eb)
            wa, wb = ea / (ea + eb), eb / (ea + eb)
        else:  # far in a tail: in logs
            a = k * lb - 0.5 * z * z - math.log(sd) - 0.5 * LOG_2PI
            bb = math.log(max(omega, FLOOR)) + math.log(max(gap, FLOOR)) - log_window
            top = max(a, bb)
            total = top + math.log(math.exp(a - top) + math.exp(bb - top))
            wa, wb = math.exp(a - total), math.exp(bb - total)
        logw[i] = m * lq + l1q + total
        da_c, da_var, da_b = k * e / var, 0.5 * (z * z - 1.0) / var, -k / (1.0 - b)
        db_c = db_var = db_b = 0.0
        if gap > FLOOR:
            db_c = -k * (pz - pz2) / (sd * gap)
            db_var = -0.5 * (pz * z - pz2 * z2) / (var * gap)
        if omega > FLOOR:
            db_b = k * unbroken / (1.0 - b) / omega
        d_var = wa * da_var + wb * db_var
        d[i, 0] = wa * da_c + wb * db_c
        d[i, 1] = k * d_var
        d[i, 2] = 2.0 * d_var
        d[i, 3] = wa * da_b + wb * db_b
        d[i, 4] = m / q - 1.0 / (1.0 - q)


@numba.njit(cache=True)
def _edge(m_grid, g, c, s2, t2, b, q, window, lead, logw, d, f, df):
    """An edge's log weights over m and their partials: P(exactly m departures within g
    days), from the cycles' sums' CDFs F_k (`fleet._cycles_cdf`), F_0 = 1, k = 0..M+1
    (m_grid is 0..M)."""
    n = m_grid.shape[0]
    f[0] = 1.0
    df[0, :] = 0.0
    unbroken = 1.0
    for i in range(1, n + 1):
        k = float(i)
        unbroken *= 1.0 - b
        var = k * s2 + t2
        sd = math.sqrt(var)
        e = g - k * c
        z = e / sd
        z2 = z - window / sd
        pz, pz2 = _pdf(z), _pdf(z2)
        cz, cz2 = _cdf(z), _cdf(z2)
        broken = sd / window * (z * cz + pz - (z2 * cz2 + pz2))
        f[i] = unbroken * cz + (1.0 - unbroken) * broken
        d_e = unbroken * pz / sd + (1.0 - unbroken) * (cz - cz2) / window
        d_sd = -unbroken * pz * z / sd + (1.0 - unbroken) * (pz - pz2) / window
        d_var = d_sd / (2.0 * sd)
        df[i, 0] = -k * d_e
        df[i, 1] = k * d_var
        df[i, 2] = d_var
        df[i, 3] = -k * unbroken / (1.0 - b) * (cz - broken)
    lq = math.log(q)
    first, first_c, first_b, first_q = 0.0, 0.0, 0.0, 0.0
    if lead:
        mean_cycle = c + b * window / 2.0
        first = math.log1p(-q) - math.log(mean_cycle)
        first_c, first_b, first_q = -1.0 / mean_cycle, -0.5 * window / mean_cycle, -1.0 / (1.0 - q)
    for i in range(n):
        m = m_grid[i]
        diff = f[i] - f[i + 1]
        logw[i] = m * lq + math.log(max(diff, FLOOR)) + first
        for p in range(4):
            d[i, p] = (df[i, p] - df[i + 1, p]) / diff if diff > FLOOR else 0.0
        d[i, 0] += first_c
        d[i, 3] += first_b
        d[i, 4] = m / q + first_q


@numba.njit(cache=True)
def segments_kernel(n_gaps, kind, vessel, length, m_gap, m_edge, cycle, cv, brk, tau, q, window):
    """(J,) each segment's log-likelihood, the mean and the variance of its unseen voyages,
    and (J, 3, N_PARTS) their partials in the segment's c, s2, tau2, b and q."""
    n = length.shape[0]
    loglik, mean, var = np.empty(n), np.empty(n), np.empty(n)
    jac = np.zeros((n, 3, N_PARTS))
    size = max(m_gap.shape[0], m_edge.shape[0])
    logw, d = np.empty(size), np.zeros((size, N_PARTS))
    f, df = np.empty(m_edge.shape[0] + 1), np.empty((m_edge.shape[0] + 1, 4))
    t2 = tau * tau
    for j in range(n):
        c = cycle[int(vessel[j])]
        s2 = (cv * c) ** 2
        if j < n_gaps:
            grid = m_gap
            _gap(grid, length[j], c, s2, t2, brk, q[j], window, logw, d)
        else:
            grid = m_edge
            _edge(grid, length[j], c, s2, t2, brk, q[j], window, int(kind[j]) == LEAD,
                  logw, d, f, df)
        size = grid.shape[0]
        top = logw[0]
        for i in range(1, size):
            top = max(top, logw[i])
        total = mu = second = 0.0
        for i in range(size):
            logw[i] = math.exp(logw[i] - top)  # now unnormalised weights
            total += logw[i]
            mu += logw[i] * grid[i]
            second += logw[i] * grid[i] * grid[i]
        mu, second = mu / total, second / total
        sigma2 = max(second - mu * mu, 0.0)
        loglik[j], mean[j], var[j] = top + math.log(total), mu, sigma2
        for i in range(size):
            w, u = logw[i] / total, grid[i] - mu
            for p in range(N_PARTS):
                jac[j, 0, p] += w * d[i, p]
                jac[j, 1, p] += w * u * d[i, p]
                jac[j, 2, p] += w * (u * u - sigma2) * d[i, p]
    return loglik, mean, var, jac


@numba.njit(cache=True)
def grad_kernel(vessel, cycle, cv, tau, jac, g_loglik, g_mean, g_var):
    """The gradient of sum(g_loglik * loglik + g_mean * mean + g_var * var) in cycle (V,),
    cv, brk, tau and q (J,), from `segments_kernel`'s partials."""
    g_cycle, g_q = np.zeros(cycle.shape[0]), np.zeros(jac.shape[0])
    g_cv = g_brk = g_tau = 0.0
    for j in range(jac.shape[0]):
        parts = g_loglik[j] * jac[j, 0] + g_mean[j] * jac[j, 1] + g_var[j] * jac[j, 2]
        v = int(vessel[j])
        c = cycle[v]
        g_cycle[v] += parts[0] + parts[1] * 2.0 * cv * cv * c
        g_cv += parts[1] * 2.0 * cv * c * c
        g_tau += parts[2] * 2.0 * tau
        g_brk += parts[3]
        g_q[j] += parts[4]
    return g_cycle, g_cv, g_brk, g_tau, g_q


# the layout's inputs (no gradient), then the parameters
LAYOUT = ("fleet_gaps", "fleet_kind", "fleet_vessel", "fleet_length", "fleet_m_gap",
          "fleet_m_edge")


def _inputs(args):
    return [pt.as_tensor_variable(x).astype("float64") for x in args]


def _run(n_gaps, kind, vessel, length, m_gap, m_edge, cycle, cv, brk, tau, q, window):
    return segments_kernel(int(n_gaps), kind, vessel, length, m_gap, m_edge, cycle, float(cv),
                           float(brk), float(tau), q, float(window))


class SegmentsGrad(Op):
    """(vessel, cycle, cv, tau, jac, g_loglik, g_mean, g_var) -> the gradient in cycle, cv,
    brk, tau, q."""

    __props__ = ()

    def make_node(self, *args):
        return Apply(self, _inputs(args), [pt.dvector(), pt.dscalar(), pt.dscalar(),
                                           pt.dscalar(), pt.dvector()])

    def perform(self, node, inputs, outputs):
        vessel, cycle, cv, tau, *rest = inputs
        out = grad_kernel(vessel, cycle, float(cv), float(tau), *rest)
        for o, x in zip(outputs, out):
            o[0] = np.asarray(x)

    def infer_shape(self, node, shapes):
        return [shapes[1], (), (), (), shapes[5]]


class Segments(Op):
    """segments(n_gaps, kind, vessel, length, m_gap, m_edge, cycle, cv, brk, tau, q, window)
    -> loglik, mean, var (J,), and their partials (J, 3, N_PARTS) for the gradient (not
    differentiable itself). Value and partials come from one pass: a sampler asks for both."""

    __props__ = ()

    def make_node(self, *args):
        return Apply(self, _inputs(args), [pt.dvector(), pt.dvector(), pt.dvector(),
                                           pt.dtensor3()])

    def perform(self, node, inputs, outputs):
        for o, x in zip(outputs, _run(*inputs)):
            o[0] = x

    def infer_shape(self, node, shapes):
        return [shapes[3]] * 3 + [(shapes[3][0], 3, N_PARTS)]

    def connection_pattern(self, node):
        return [[False] * 4] * len(LAYOUT) + [[True] * 4] * 5 + [[False] * 4]

    def pullback(self, inputs, outputs, cotangents):
        if not isinstance(cotangents[3].type, DisconnectedType):
            raise NotImplementedError("the partials of fleet_op.Segments have no gradient")
        ups = [pt.zeros_like(o) if isinstance(g.type, DisconnectedType) else g
               for o, g in zip(outputs[:3], cotangents[:3])]
        vessel, cycle, cv, tau = inputs[2], inputs[6], inputs[7], inputs[9]
        grads = SegmentsGrad()(vessel, cycle, cv, tau, outputs[3], *ups)
        return [disconnected_type() for _ in LAYOUT] + list(grads) + [disconnected_type()]


@register_funcify_default_op_cache_key(Segments)
def _numba_segments(op, node=None, **kwargs):
    @numba_njit
    def run(n_gaps, kind, vessel, length, m_gap, m_edge, cycle, cv, brk, tau, q, window):
        return segments_kernel(int(n_gaps.item()), kind, vessel, length, m_gap, m_edge, cycle,
                               cv.item(), brk.item(), tau.item(), q, window.item())

    return run, source_key(segments_kernel, _gap, _edge, _pdf, _cdf, _between)


@register_funcify_default_op_cache_key(SegmentsGrad)
def _numba_grad(op, node=None, **kwargs):
    @numba_njit
    def run(vessel, cycle, cv, tau, jac, g_loglik, g_mean, g_var):
        g_cycle, g_cv, g_brk, g_tau, g_q = grad_kernel(vessel, cycle, cv.item(), tau.item(),
                                                       jac, g_loglik, g_mean, g_var)
        return g_cycle, np.array(g_cv), np.array(g_brk), np.array(g_tau), g_q

    return run, source_key(grad_kernel)


segments_op = Segments()


def segments(lay, cycle, cv, brk, tau, q, window):
    """`fleet.segments(fleet.segment_weights(...))` for one draw, as the Op: (loglik, mean,
    var) per segment."""
    return segments_op(*(lay[k] for k in LAYOUT), cycle, cv, brk, tau, q, window)[:3]
