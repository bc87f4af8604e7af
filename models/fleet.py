"""The fleet's schedule: a vessel sails the route in cycles, so the gaps between one
vessel's sightings tell how many of its voyages nobody saw (joint@6). Written once for
numpy and PyTensor (`ops` as in `streams`).

The story. Vessel v leaves the origin every `vessel_cycle[v]` days on average (the
vessels' cycles spread around the fleet's `cycle_days`); one cycle's length is Normal
with coefficient of variation `cycle_cv`. Now and then a cycle is broken
(chance `break_prob` per cycle): a pause of up to the window's length is added (a lay-up,
a halt of the whole operation, a vessel joining or leaving the route). Each voyage is
seen or not as the detection model says for its day (`detection`), independently.

What the data show of it. The seen departures of one vessel (`departure_days`: the day of
its first image at the origin, or at the destination less the transit) cut the window into
segments: before its first, between two, after its last, or the whole window for a
vessel never seen. A segment is likely with m unseen voyages in it as

    gap of length g:   q^m (1 - q) [(1 - b)^k N(g; k c, k (c cv)^2 + 2 tau^2)
                                    + (1 - (1 - b)^k) Psi_k(g)],          k = m + 1
    before the first:  q^m (1 - q) P_m(h) / (c + b W / 2)
    after the last:    q^m P_m(h)
    a vessel unseen:   q^m P_m(W)

where q is the chance that a voyage leaving in the segment is not seen (its days' average),
tau the error of a departure day read off a sighting (`departure_error`), Psi_k the density
of k cycles plus pauses uniform on (0, W) (W the window's days), and P_m(h) the chance of
exactly m departures within h days of a departure (the cycles' sums' CDFs, with pauses).
The segments' likelihood sums m out (0..M); after sampling, m is drawn from the same
weights, so the voyages nobody saw are counted per vessel and period.

Against a constant rate (voyages@2) this uses what capture-recapture throws away: that a
ship cannot sail two voyages at once. When every gap of a vessel is one cycle long,
no voyage of it was missed, however few voyages were seen at both ends.
"""

from __future__ import annotations

import numpy as np

from . import detection

LEAD, GAP, TRAIL, NONE = range(4)  # segment kinds: before the first, between, after, all
ORIGIN_LAG = 0.5  # days from a first image at the origin to the departure, on average
DESTINATION_LAG = 0.5  # days from the arrival to a first image at the destination
MIN_CYCLE = 3.0  # days: the segments hold at most window / MIN_CYCLE unseen voyages
FLOOR = 1e-300
LOG_2PI = float(np.log(2 * np.pi))


def departure_days(route) -> np.ndarray:
    """(V,) each observed voyage's departure day (since the window's start) as its
    sightings place it: its first image at the origin plus ORIGIN_LAG, or at the
    destination less the transit, half the extra days and DESTINATION_LAG; their mean
    when both ends saw it."""
    extra = float(getattr(route, "transit_extra_days", 0))
    o = np.asarray(route.voyage_origin_day, float) + ORIGIN_LAG
    d = (np.asarray(route.voyage_destination_day, float) - float(route.transit_days)
         - extra / 2 - DESTINATION_LAG)
    both = np.stack([o, d])
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(o), d, np.where(np.isnan(d), o, both.mean(axis=0)))


def _first_image_day(call_days: float, daily: float, forward: bool) -> np.ndarray:
    """The chance that a voyage's first image at an end falls on its call's day 0, 1, ...
    (counted back from the departure at the origin, on from the arrival at the
    destination), given it is seen: a call's length log-normal around `call_days`
    (detection's nodes), the ship there for a share of each day
    (`detection.call_weights`), and an image that shows and recognises it on a day it is
    there with chance `daily`, the first in time order counting."""
    lengths = call_days * np.exp(detection.CALL_SPREAD * detection.NODES)
    k = np.arange(int(np.ceil(lengths.max())) + 1)
    out = np.zeros(len(k))
    for length, weight in zip(lengths, detection.NODE_WEIGHTS):
        a = daily * np.clip(length - k, 0.0, 1.0)
        miss = np.cumprod(1.0 - a)  # missed on days 0..k
        earlier = np.concatenate([[1.0], miss[:-1]]) if forward else (
            np.concatenate([np.cumprod((1.0 - a)[::-1])[::-1][1:], [1.0]]))
        first = a * earlier
        seen = first.sum()
        if seen > 0:
            out += weight * first / seen
        else:  # no image on any day (daily = 0): the voyage is not seen
            out[0] += weight
    return out


def inside_window(route, call_days_origin: float, call_days_destination: float,
                  identification: tuple[float, float] = (0.8, 0.8)) -> np.ndarray:
    """(V,) the chance that each observed voyage left the origin inside the window. Its
    first image at the origin is on one of the call's days up to the departure, and at the
    destination on one of the days from the arrival (transit, then 0 to
    `transit_extra_days` late): near the window's edges a voyage whose sighting falls
    inside may have left outside it. The image's day within the call is as likely as
    `_first_image_day` says, at the calls' median lengths `call_days_<end>`, each end's
    share of days with a usable pass (a half without a record) and `identification`."""
    days = float(np.sum(route.period_days))
    extra = int(getattr(route, "transit_extra_days", 0))
    o, d = (np.asarray(x, float) for x in (route.voyage_origin_day, route.voyage_destination_day))
    imaged = np.asarray(route.imaged_days, float)
    usable = np.where(imaged > 0, np.asarray(route.usable_days, float) / np.maximum(imaged, 1), 0.5)
    w_o = _first_image_day(call_days_origin, min(usable[0], 1.0) * identification[0], False)
    w_d = _first_image_day(call_days_destination, min(usable[1], 1.0) * identification[1], True)
    late = np.arange(extra + 1)
    # days from the first image at the origin to the departure; from the departure to the
    # first image at the destination
    after_o = np.arange(len(w_o))
    ahead_d = (float(route.transit_days) + late[:, None] + np.arange(len(w_d))[None, :]).ravel()
    p_d = (np.full(extra + 1, 1.0 / (extra + 1))[:, None] * w_d[None, :]).ravel()

    def inside(dep, w):
        return ((dep >= 0) & (dep <= days - 1)) @ w

    out = np.ones(len(o))
    for i in range(len(o)):
        if not np.isnan(o[i]):
            out[i] = inside(o[i] + after_o, w_o)
        elif not np.isnan(d[i]):
            out[i] = inside(d[i] - ahead_d, p_d)
    return out


def layout(route) -> dict[str, np.ndarray]:
    """The segments of every vessel's seen departures, as the model reads them (numpy,
    once per case), the gaps between sightings first (`fleet_gaps` of them), then each
    vessel's edges: kind (J,), vessel (J,), length (J,), fleet_days (J, D) each segment's
    days as weights summing to 1 (the days strictly inside it, else the day of its middle),
    fleet_periods (J, P) the share of those days in each period, fleet_onehot (J, V) its
    vessel, fleet_m_gap and fleet_m_edge the unseen voyages a gap or an edge may hold
    (0..M: its days / MIN_CYCLE, + 1, for the longest of each), fleet_lo (J,) where it
    starts, and seen_by_vessel (P, V) the voyages seen."""
    period_days = np.asarray(route.period_days, float)
    days = int(period_days.sum())
    n_vessels = len(route.vessel_cap)
    t = np.clip(departure_days(route), 0.0, float(days))
    vessel = np.asarray(route.voyage_vessel, int)
    gaps, edges = [], []  # (kind, vessel, lo, hi)
    for v in range(n_vessels):
        ts = np.sort(t[vessel == v])
        if not len(ts):
            edges.append((NONE, v, 0.0, float(days)))
            continue
        edges += [(LEAD, v, 0.0, float(ts[0])), (TRAIL, v, float(ts[-1]), float(days))]
        gaps += [(GAP, v, float(a), float(b)) for a, b in zip(ts[:-1], ts[1:])]
    rows = gaps + edges
    centre = np.arange(days) + 0.5
    weights = np.zeros((len(rows), days))
    for j, (_, _, lo, hi) in enumerate(rows):
        inside = (centre > lo) & (centre < hi)
        if not inside.any():
            inside = np.arange(days) == min(int((lo + hi) / 2), days - 1)
        weights[j] = inside / inside.sum()
    bounds = np.concatenate([[0], np.cumsum(period_days)]).astype(int)
    day_period = np.searchsorted(bounds, np.arange(days), side="right") - 1
    def most(rows):  # unseen voyages a segment of these may hold: its days / MIN_CYCLE, + 1
        longest = max((hi - lo for _, _, lo, hi in rows), default=0.0)
        return np.arange(int(np.ceil(longest / MIN_CYCLE)) + 2, dtype=float)

    seen = np.zeros((len(period_days), n_vessels))
    np.add.at(seen, (np.asarray(route.voyage_period, int), vessel), 1.0)
    return {
        "fleet_m_gap": most(gaps),
        "fleet_m_edge": most(edges),
        "fleet_gaps": np.asarray(float(len(gaps))),
        "fleet_kind": np.array([r[0] for r in rows], float),
        "fleet_vessel": np.array([r[1] for r in rows], float),
        "fleet_length": np.array([r[3] - r[2] for r in rows], float),
        "fleet_lo": np.array([r[2] for r in rows], float),
        "fleet_days": weights,
        "fleet_periods": weights @ np.eye(len(period_days))[day_period],
        "fleet_onehot": np.eye(n_vessels)[[r[1] for r in rows]],
        "seen_by_vessel": seen,
    }


# ---------------------------------------------------------------- the density (ops)

def _cdf(ops, z):
    return 0.5 * ops.erfc(-z / np.sqrt(2.0))


def _cdf_between(ops, hi, lo):
    """Phi(hi) - Phi(lo) for hi >= lo, accurate in both tails: as 1 - Phi(lo) - (1 - Phi(hi))
    where lo > 0, else as Phi(hi) - Phi(lo) (two erfc either way)."""
    upper = lo > 0
    a, b = ops.where(upper, lo, -hi), ops.where(upper, hi, -lo)
    return 0.5 * (ops.erfc(a / np.sqrt(2.0)) - ops.erfc(b / np.sqrt(2.0)))


def _partial(ops, z):
    """Integral of Phi up to z: z Phi(z) + phi(z)."""
    return z * _cdf(ops, z) + ops.exp(-0.5 * z * z - 0.5 * LOG_2PI)


def _cycles_cdf(ops, k, h, c, s2, tau2, brk, window):
    """P(k cycles, with their pauses, last at most h days), k >= 1 (..., J, M+1): unbroken
    with chance (1 - b)^k, else the pauses add a length uniform on (0, W)."""
    sd = ops.sqrt(k * s2 + tau2)
    z = (h - k * c) / sd
    broken = sd / window * (_partial(ops, z) - _partial(ops, z - window / sd))
    whole = ops.exp(k * ops.log1p(-brk))
    return whole * _cdf(ops, z) + (1.0 - whole) * broken


def segment_weights(ops, lay, cycle, cv, brk, tau, q, window):
    """log P(segment j as seen, and m unseen voyages in it): the module's formulas, for
    the gaps (..., Jg, Mg+1) and the edges (..., Je, Me+1) (the layout puts the gaps
    first, `fleet_gaps` of them; m runs over `fleet_m_gap`, `fleet_m_edge`).
    cycle (..., V) each vessel's mean cycle; cv, brk (...); tau, window floats or (...);
    q (..., J) each segment's chance that a voyage in it is missed."""
    n_gaps = ops.cast_int(lay["fleet_gaps"])
    c = ops.take(cycle, ops.cast_int(lay["fleet_vessel"]), -1)[..., :, None]  # (..., J, 1)
    cv, brk = cv[..., None, None], brk[..., None, None]
    s2 = (cv * c) ** 2
    g = lay["fleet_length"][:, None]
    q = q[..., :, None]
    tau2 = tau * tau

    # between two sightings: m + 1 cycles, unbroken or with pauses
    m = lay["fleet_m_gap"]
    cg, s2g, gg, qg = c[..., :n_gaps, :], s2[..., :n_gaps, :], g[:n_gaps], q[..., :n_gaps, :]
    k = m + 1.0
    var = k * s2g + 2.0 * tau2
    whole = k * ops.log1p(-brk)
    normal = -0.5 * (gg - k * cg) ** 2 / var - 0.5 * ops.log(var) - 0.5 * LOG_2PI
    z = (gg - k * cg) / ops.sqrt(var)
    paused = (ops.log(ops.maximum(_cdf_between(ops, z, z - window / ops.sqrt(var)), FLOOR))
              - ops.log(window))
    broken = ops.log(ops.maximum(-ops.expm1(whole), FLOOR))
    gap = m * ops.log(qg) + ops.log1p(-qg) + ops.logaddexp(whole + normal, broken + paused)

    # at the window's edges: exactly m departures within g days of a seen one
    m = lay["fleet_m_edge"]
    ce, s2e, ge, qe = c[..., n_gaps:, :], s2[..., n_gaps:, :], g[n_gaps:], q[..., n_gaps:, :]
    ks = ops.concat([m, m[-1:] + 1.0])  # 0..M+1
    below = ops.where(ks > 0, _cycles_cdf(ops, ops.maximum(ks, 1.0), ge, ce, s2e, tau2, brk,
                                          window), 1.0)
    exactly = ops.log(ops.maximum(below[..., :-1] - below[..., 1:], FLOOR))
    lead = ops.eq(lay["fleet_kind"][n_gaps:, None], LEAD)
    first = ops.where(lead, ops.log1p(-qe) - ops.log(ce + brk * window / 2.0), 0.0)
    return gap, m * ops.log(qe) + exactly + first


def logsumexp(ops, x):
    top = ops.max(x, axis=-1, keepdims=True)
    return ops.log(ops.sum(ops.exp(x - top), axis=-1)) + top[..., 0]


def _moments(ops, weights, m):
    w = ops.exp(weights - ops.max(weights, axis=-1, keepdims=True))
    w = w / ops.sum(w, axis=-1, keepdims=True)
    mean = ops.sum(w * m, axis=-1)
    return mean, ops.maximum(ops.sum(w * m * m, axis=-1) - mean * mean, 0.0)


def segments(ops, lay, weights) -> tuple:
    """Per segment (..., J), from `segment_weights`: the log-likelihood (m summed out), and
    the mean and variance of the unseen voyages in it."""
    gap, edge = weights
    (g1, g2), (e1, e2) = _moments(ops, gap, lay["fleet_m_gap"]), _moments(ops, edge, lay["fleet_m_edge"])
    join = lambda a, b: ops.concat([a, b], axis=-1)  # noqa: E731
    return (join(logsumexp(ops, gap), logsumexp(ops, edge)), join(g1, e1), join(g2, e2))


def missed(ops, lay, seen_origin, seen_destination):
    """(..., J) the chance that a voyage leaving in each segment is seen at neither end,
    from each end's chance per departure day (..., D) (`detection.chances`)."""
    miss = (1.0 - seen_origin) * (1.0 - seen_destination)
    return ops.clip(ops.matmul(miss, lay["fleet_days"].T), 1e-9, 1.0 - 1e-9)


def by_period(ops, lay, per_segment):
    """(..., P, V): a per-segment quantity (..., J) spread over the segment's periods and
    put on its vessel."""
    spread = per_segment[..., :, None] * lay["fleet_periods"]  # (..., J, P)
    return ops.matmul(ops.swapaxes(spread, -1, -2), lay["fleet_onehot"])


def histories_loglik(ops, seen, period_days, captures):
    """log P(captures of each recorded period | how many were recorded in it), (..., P):
    which ends saw a recorded voyage is multinomial with the detection model's chances
    (`detection.histories`, seen (..., 3, P departed, P recorded)) for voyages leaving
    evenly over the window. Informs detection; how many voyages there were is the
    schedule's to say."""
    pi = ops.sum(period_days[:, None, None] * ops.swapaxes(seen, -3, -2), axis=-3)  # (..., 3, P)
    pi = ops.swapaxes(pi, -1, -2)  # (..., P, 3)
    log_share = ops.log(pi + FLOOR) - ops.log(ops.sum(pi, axis=-1, keepdims=True) + FLOOR)
    n = ops.sum(captures, axis=-1)
    const = ops.gammaln(n + 1.0) - ops.sum(ops.gammaln(captures + 1.0), axis=-1)
    return ops.sum(captures * log_share, axis=-1) + const


# ---------------------------------------------------------------- after sampling (numpy)

def draw_unseen(weights, rng: np.random.Generator) -> np.ndarray:
    """(S, J) unseen voyages per segment, drawn from `segment_weights` (gaps, edges)."""
    out = []
    for w in weights:
        w = np.exp(w - w.max(axis=-1, keepdims=True))
        cum = np.cumsum(w, axis=-1)
        u = rng.random(w.shape[:-1])[..., None] * cum[..., -1:]
        out.append((cum < u).sum(axis=-1))
    return np.concatenate(out, axis=-1)


def place(unseen: np.ndarray, lay: dict, n_periods: int, period_days) -> np.ndarray:
    """(S, P, V) the unseen voyages per period and vessel: a segment's m spaced evenly
    inside it."""
    S, J = unseen.shape
    n_vessels = lay["seen_by_vessel"].shape[-1]
    out = np.zeros((S, n_periods, n_vessels))
    top = int(unseen.max()) if unseen.size else 0
    if not top:
        return out
    bounds = np.cumsum(np.asarray(period_days, float))
    i = np.arange(1, top + 1)  # (I,)
    lo, length = lay["fleet_lo"], lay["fleet_length"]
    day = lo[None, :, None] + length[None, :, None] * i / (unseen[..., None] + 1.0)  # (S, J, I)
    period = np.minimum(np.searchsorted(bounds, day, side="right"), n_periods - 1)
    live = i[None, None, :] <= unseen[..., None]
    vessel = np.broadcast_to(lay["fleet_vessel"].astype(int)[None, :, None], day.shape)
    draw = np.broadcast_to(np.arange(S)[:, None, None], day.shape)
    np.add.at(out, (draw[live], period[live], vessel[live]), 1.0)
    return out


def weekly_rate(cycle, brk, window) -> np.ndarray:
    """Voyages per week of the whole fleet, over many cycles (pauses included)."""
    return (7.0 / (np.asarray(cycle) + np.asarray(brk)[..., None] * window / 2.0)).sum(axis=-1)


# ---------------------------------------------------------------- simulation (numpy)

def simulate_schedule(cycle, cv: float, brk: float, days: int, period_days,
                      rng: np.random.Generator) -> list[list[tuple[int, int]]]:
    """Departures of each vessel as the story has them, per period of the window: a list
    per period of (day, vessel). Each vessel starts long before the window (so the window
    opens mid-cycle), one cycle Normal(c, c cv), at least half a day, plus with chance
    `brk` a pause uniform on (0, days)."""
    bounds = np.cumsum(np.asarray(period_days, float))
    out = [[] for _ in bounds]
    for v, c in enumerate(np.asarray(cycle, float)):
        t = -float(days) - 10.0 * c * rng.random() - 5.0 * c
        while t < days:
            t += max(rng.normal(c, c * cv), 0.5)
            if rng.random() < brk:
                t += rng.uniform(0.0, days)
            if 0.0 <= t < days:
                day = int(t)
                out[int(np.searchsorted(bounds, day, side="right"))].append((day, v))
    for row in out:
        row.sort()
    return out
