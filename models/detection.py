"""The chance that a voyage is seen at each end, and on which day, from the imagery record;
for numpy and PyTensor (`ops` as in `streams`).

A voyage leaving the origin on day t loads over the L_o days up to t and unloads over the
L_d days from t + transit (or a day or two later: `RouteData.transit_extra_days`). A
usable pass on a day the ship is at the berth for a share w of that day (a pass at a
uniform time within the day) shows it with chance w, and each image that shows it is
recognised with `identification_<end>`. The record's passes (RouteData.passes: 1 on the
call's k-th day when a usable pass or a sighting fell on it) give, per call day k,

    a_k = identification x passes[t, k] x w_k(L),   w_k(L) = clip(L - k, 0, 1),

and the sighting is the first image, in time order, that shows and recognises the ship:
f_k = a_k x prod over earlier days (1 - a). An end with no record has a usable pass on
each day with chance q (`usable_image_day_<end>`) in place of the record. One voyage's
call length is log-normal around `port_call_days_<end>` (log-sd `CALL_SPREAD`), by
Gauss-Hermite nodes.

The data record a voyage in the period of its sighting (at the origin if it was seen there,
else the destination's less the transit, as `observations.aggregate` places it), not of
its departure, and a period's imagery can differ from the next one's; so the capture
histories' expected counts are a map from the period of departure to the period recorded
(`histories`). A record that ends with the window, or a fixed revisit cycle, thus makes the
two ends' sightings dependent, and the model says so, rather than assuming them independent."""

from __future__ import annotations

import numpy as np

FLOOR = 1e-12  # 1 - a is kept above this in the log
CALL_SPREAD = 0.5  # log-sd of one voyage's call length around the median (loading 1-4 days)
# one voyage's call length: 3-point Gauss-Hermite nodes of that log-normal, and weights
NODES, NODE_WEIGHTS = np.polynomial.hermite_e.hermegauss(3)
NODE_WEIGHTS = NODE_WEIGHTS / NODE_WEIGHTS.sum()
LATE_MAX = 2  # an unloading may start up to this many days late (`arrival_weights`)


def arrival_weights(extra_days: int) -> np.ndarray:
    """(LATE_MAX + 1,): the unloading starts 0, 1, ... days late, equally likely up to
    extra_days."""
    if not 0 <= extra_days <= LATE_MAX:
        raise ValueError(f"transit_extra_days {extra_days} is not between 0 and {LATE_MAX}")
    w = np.zeros(LATE_MAX + 1)
    w[:extra_days + 1] = 1.0 / (extra_days + 1)
    return w


def call_weights(ops, call_days, k, late: int = 0):
    """w_k (..., K+1): the share of the k-th day of the record's layout that the ship is at
    the berth, for a call of `call_days` (...) starting `late` days late."""
    return ops.clip(call_days[..., None] - (k - late), 0.0, 1.0) * ops.where(k >= late, 1.0, 0.0)


def first_sighting(ops, passes, call_days, identification, k, forward: bool,
                   late_weights=None):
    """f (..., D, K+1): the chance that a voyage leaving on day t is first seen on the k-th
    day of its call's layout. passes (D, K+1) (or a usable pass's chance, broadcasting);
    call_days and identification (...); `forward`: the layout runs forward in time (the
    destination), else backward (the origin: day t - k); late_weights (LATE_MAX + 1,):
    how late the call starts, else on time."""
    lengths = call_days[..., None] * np.exp(CALL_SPREAD * NODES)  # (..., J)
    total = 0.0
    lates = range(1 if late_weights is None else LATE_MAX + 1)
    for j, node_weight in enumerate(NODE_WEIGHTS):
        for late in lates:
            w = call_weights(ops, lengths[..., j], k, late)  # (..., K+1)
            a = identification[..., None, None] * passes * w[..., None, :]  # (..., D, K+1)
            log_miss = ops.log(ops.maximum(1.0 - a, FLOOR))
            c = ops.cumsum(log_miss, axis=-1)
            before = c - log_miss if forward else c[..., -1][..., None] - c
            weight = node_weight if late_weights is None else node_weight * late_weights[late]
            total = total + weight * a * ops.exp(before)
    return total


def histories(ops, f_origin, f_destination, recorded_origin, recorded_destination, day_weight):
    """Expected capture histories (..., 3, P, P): origin only, destination only and both,
    of a voyage leaving in period p (per voyage of the period's rate), recorded in period q.

    f_* (..., D, K+1) from `first_sighting`; recorded_* (D, K+1, P): 1 where a sighting on
    that call day is recorded in period q (none where it falls outside the window);
    day_weight (P, D): 1 / the period's days on each of its days."""
    seen_o = f_origin.sum(axis=-1)  # (..., D)
    seen_d = f_destination.sum(axis=-1)
    by_o = ops.einsum("...dk,dkp->...dp", f_origin, recorded_origin)  # (..., D, P)
    by_d = ops.einsum("...dk,dkp->...dp", f_destination, recorded_destination)
    per_day = ops.stack([(1.0 - seen_d)[..., None] * by_o, (1.0 - seen_o)[..., None] * by_d,
                         seen_d[..., None] * by_o], axis=-3)  # (..., 3, D, P)
    return ops.matmul(day_weight, per_day)


def day_weights(period_days: np.ndarray) -> np.ndarray:
    """(P, D): 1 / days of the period on each of its days."""
    bounds = np.concatenate([[0], np.cumsum(period_days)]).astype(int)
    out = np.zeros((len(period_days), int(bounds[-1])))
    for p in range(len(period_days)):
        out[p, bounds[p]:bounds[p + 1]] = 1.0 / period_days[p]
    return out


def recorded_periods(period_days: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(origin, destination) (D, K+1, P): the period a sighting on the k-th call day of a
    voyage leaving on day t is recorded in (origin: day t - k; destination: its day less
    the transit, t + k), 0 where that day is outside the window."""
    bounds = np.cumsum(period_days).astype(int)
    days = int(bounds[-1])
    t = np.arange(days)[:, None]
    out = []
    for day in (t - k[None, :].astype(int), t + k[None, :].astype(int)):
        inside = (day >= 0) & (day < days)
        period = np.searchsorted(bounds, np.clip(day, 0, days - 1), side="right")
        out.append((period[..., None] == np.arange(len(period_days))) & inside[..., None])
    return out[0] * 1.0, out[1] * 1.0
