"""The chance that a voyage is seen at each end, and in which period it is recorded, from
the imagery record; for numpy and PyTensor (`ops` as in `streams`).

A voyage leaving the origin on day t loads over the L_o days up to t and unloads over the
L_d days from t + transit (or a day later: `RouteData.transit_extra_days`). A usable pass
on a day the ship is at the berth for a share w of that day (a pass at a uniform time
within the day) shows it with chance w, and each image that shows it is recognised with
`identification_<end>`. With the record's passes u (RouteData.passes: 1 on the call's k-th
day when a usable pass or a sighting fell on it), the call's k-th day misses the ship with

    log(1 - identification x w_k(L)) x u[t, k],   w_k(L) = clip(L - k, 0, 1),

and the voyage is recorded where its first image in time order shows and recognises it:
in period q with chance exp(misses before q) x (1 - exp(misses in q)). An end with no
record has a usable pass each day with chance q (`usable_image_day_<end>`): u is 1 on
every day and the chance to miss is 1 - q x identification x w_k. One voyage's call
length is log-normal around `port_call_days_<end>` (log-sd `CALL_SPREAD`), by Gauss-Hermite
nodes, and its unloading may start late by up to `transit_extra_days`.

The data record a voyage in the period of its sighting (at the origin if it was seen there,
else the destination's less the transit, as `observations.aggregate` places it), not of
its departure, and one period's imagery can differ from the next one's; so the capture
histories' expected counts map the period of departure to the period recorded
(`histories`). A record that ends with the window, or a fixed revisit cycle, thus makes the
two ends' sightings dependent, and the model says so, rather than assuming them
independent.

Everything that depends only on the record is laid out once per case (`layout`): the
model's work per gradient is a few matrix-vector products with the record and one
exponential per reachable (day, period) pair."""

from __future__ import annotations

import numpy as np

FLOOR = 1e-12  # 1 - a is kept above this in the log
CALL_SPREAD = 0.5  # log-sd of one voyage's call length around the median (loading 1-4 days)
# one voyage's call length: 2-point Gauss-Hermite nodes of that log-normal, and weights
NODES, NODE_WEIGHTS = np.polynomial.hermite_e.hermegauss(2)
NODE_WEIGHTS = NODE_WEIGHTS / NODE_WEIGHTS.sum()
LATE_MAX = 1  # an unloading may start up to this many days late (`arrival_weights`)
ENDS = ("origin", "destination")
LAYOUT = ("calls", "before", "inside", "day", "departed", "recorded")


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


def layout(passes: np.ndarray, has_record: float, period_days: np.ndarray,
           forward: bool) -> dict[str, np.ndarray]:
    """One end's record as the model reads it (numpy, once per case).

    passes (D, K+1): usable passes on each call day (origin: day t - k; destination:
    t + transit + k, recorded as t + k). Returns, with R the reachable (departure day,
    recorded period) pairs:
      calls (D, K+1): the days a pass could show the ship (all, without a record);
      before, inside (R, K+1): those days earlier than the pair's period, and in it;
      day (R,): the departure day; departed (P, R): 1 / period days, by departure period;
      recorded (R, P): the recorded period, one-hot."""
    days, width = passes.shape
    calls = passes if has_record > 0.5 else np.ones_like(passes)
    bounds = np.concatenate([[0], np.cumsum(period_days)]).astype(int)
    k = np.arange(width)
    rows = []
    for t in range(days):
        rec = t + k if forward else t - k  # the day each call day is recorded on
        inside = (rec >= 0) & (rec < days)
        period = np.searchsorted(bounds, np.clip(rec, 0, days - 1), side="right") - 1
        for q in np.unique(period[inside & (calls[t] > 0)]):
            earlier = rec < bounds[q]
            rows.append((t, q, calls[t] * earlier, calls[t] * inside * (period == q)))
    dep_period = np.searchsorted(bounds, np.arange(days), side="right") - 1
    P = len(period_days)
    out = {"calls": calls,
           "before": np.array([r[2] for r in rows], float).reshape(-1, width),
           "inside": np.array([r[3] for r in rows], float).reshape(-1, width),
           "day": np.array([r[0] for r in rows], int),
           "departed": np.zeros((P, len(rows))), "recorded": np.zeros((len(rows), P))}
    for i, (t, q, _, _) in enumerate(rows):
        out["departed"][dep_period[t], i] = 1.0 / period_days[dep_period[t]]
        out["recorded"][i, q] = 1.0
    return out


def chances(ops, lay: dict, call_days, identification, usable, k, late_weights=None):
    """(seen (..., D), recorded (..., R)): the chance that a voyage leaving on each day is
    seen at this end, and that its first sighting is recorded in each reachable pair's
    period. call_days, identification, usable (...): per draw; usable counts only
    without a record (its layout's `calls` are then all days), so pass 1 with a record.
    The call lengths' nodes and the late starts are stacked (axis -2) into one product."""
    shift, scale, weight = call_combos(late_weights)
    m = _log_miss(ops, call_days, identification, usable, k, shift, scale)
    seen = ops.matmul(weight, 1.0 - ops.exp(ops.matmul(m, lay["calls"].T)))
    recorded = ops.matmul(weight, ops.exp(ops.matmul(m, lay["before"].T))
                          * (1.0 - ops.exp(ops.matmul(m, lay["inside"].T))))
    return seen, recorded


def call_combos(late_weights=None):
    """The (late start, call length) combinations `chances` sums over: shift (late days),
    scale (of the median call length) and weight, each (C,)."""
    lates = np.arange(1 if late_weights is None else LATE_MAX + 1)
    shift = np.repeat(lates, len(NODES))
    scale = np.tile(np.exp(CALL_SPREAD * NODES), len(lates))
    weight = np.tile(NODE_WEIGHTS, len(lates))
    if late_weights is not None:
        weight = weight * late_weights[shift]
    return shift, scale, weight


def _log_miss(ops, call_days, identification, usable, k, shift, scale):
    """(..., C, K+1): each call day's log chance to miss the ship, per combination."""
    lengths = call_days[..., None] * scale  # (..., C)
    w = ops.clip(lengths[..., None] - (k - shift[:, None]), 0.0, 1.0) * (k >= shift[:, None])
    a = (identification * usable)[..., None, None] * w
    return ops.log(ops.maximum(1.0 - a, FLOOR))


def misses(lay: dict, call_days: float, identification: float, usable: float, k,
           late_weights=None) -> np.ndarray:
    """(C, D), numpy, one draw: the chance that a voyage leaving on each day is missed at
    this end for each combination of `call_combos` (its `chances` weighted by `weight` is
    1 - seen). What a new pass could show of a voyage missed so far depends on which
    combination missed it: short calls are missed more often."""
    shift, scale, _ = call_combos(late_weights)
    m = _log_miss(np, np.asarray(call_days, float), np.asarray(identification, float), usable,
                  k, shift, scale)
    return np.exp(m @ lay["calls"].T)


def histories(ops, origin, destination, lay_o: dict, lay_d: dict):
    """Expected capture histories (..., 3, P, P): origin only, destination only and both,
    per voyage of the period of departure (its rate), by the period recorded in.
    origin, destination: `chances` of each end; lay_*: their `layout`s."""
    (seen_o, rec_o), (seen_d, rec_d) = origin, destination
    miss_d = ops.take(1.0 - seen_d, lay_o["day"], -1)  # (..., R_o)
    miss_o = ops.take(1.0 - seen_o, lay_d["day"], -1)  # (..., R_d)
    o_only = ops.matmul(lay_o["departed"] * (miss_d * rec_o)[..., None, :], lay_o["recorded"])
    both = ops.matmul(lay_o["departed"] * ((1.0 - miss_d) * rec_o)[..., None, :],
                      lay_o["recorded"])
    d_only = ops.matmul(lay_d["departed"] * (miss_o * rec_d)[..., None, :], lay_d["recorded"])
    return ops.stack([o_only, d_only, both], axis=-3)
