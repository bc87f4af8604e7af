"""voyages@2: laden voyages per period, detection at each end, containers per voyage.

The generative story, top to bottom:
1. Voyages leave the origin at `voyages_per_week`; period p has N_p ~ Poisson(rate * days_p / 7),
   each on a day of the period drawn uniformly.
2. A voyage leaving on day t loads over the `port_call_days_origin` days up to t and unloads
   over the `port_call_days_destination` days from t + transit. An end catches it when one
   of its usable passes (imagery.csv, and the days of sightings) falls in the call, and
   then recognises it with `identification_<end>` (`detection`). An end with no imagery
   record catches a call with 1 - (1 - q)^L, q the rate of usable image days
   (`usable_image_day_<end>`).
3. Given its day, the ends see a voyage independently; so the voyages seen at the origin
   only, the destination only, and both are independent Poisson counts, with chances that
   average the day's chances over the period: N_p is marginalised exactly and the unseen
   ones are drawn after sampling.
4. A voyage carries C ~ NegBinomial(`containers_per_voyage`, cv `load_cv`) containers,
   truncated at its vessel's capacity; a count of visible containers is C thinned by
   the share in view (recorded coverage, or `unknown_coverage` when not recorded).
   C is summed out on a grid of loads.

Version 2 (against 1): detection from the imagery record's days (step 2) instead of a
constant chance. With one chance for every voyage, the two ends' sightings were taken as
independent; but a voyage leaving in the window's last days cannot be seen unloading in a
record that ends with the window, and one whose arrival falls between the passes of a
fixed revisit cycle is missed at both ends together. On event-level worlds with such
records version 1 counted those sightings as evidence of voyages missed and put the total
too high (docs/validation.md).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy.stats import poisson

from ..observations.aggregate import (CALL_DAYS_MAX, HISTORIES, RECORD_FROM, RouteData,
                                      call_passes, record_length)
from . import data, detection, loads, streams, truncated_nb
from .priors import flat

NAME = "voyages"
VERSION = 2
PRIOR_NAMES = ("voyages_per_week", "containers_per_voyage", "load_cv",
               *(f"{p}_{e}" for e in ("origin", "destination")
                 for p in ("usable_image_day", "port_call_days", "identification")),
               "unknown_coverage", "coverage_error")
# what a reader of an estimate should know the model takes for granted (briefs list them)
ASSUMPTIONS = (
    "Voyages leave at one constant weekly rate across the window.",
    "The imagery record is complete: a usable pass shows a ship at the berth, a day with no "
    "row had none; given the day a voyage leaves, the two ends see it independently.",
    "A voyage seen only at the destination left `model.transit_days` days before its "
    "unloading began, or up to `model.transit_extra_days` more.",
    "Loads vary around one mean (negative binomial), capped by the vessel's capacity; the "
    "counts of one voyage share its load; a recorded coverage is off by about 20%.",
    "Depot rows and third-party claims are not used.",
)
ENDS = ("origin", "destination")
CALL_K = np.arange(CALL_DAYS_MAX + 1, dtype=float)  # the days of a port call
# hyperparameters that reach the model only through the counts' evidence, not as pm.Data;
# the model reads that evidence as `load_weight` (see `load_values`)
NOT_IN_GRAPH = ("unknown_coverage__alpha", "unknown_coverage__beta", "coverage_error__log_sd",
                "load_evidence")


def data_values(route: RouteData, priors) -> dict[str, np.ndarray]:
    """Every array the model reads, by pm.Data name: observations and prior hyperparameters."""
    values = {k.replace(".", "__"): np.asarray(v, float)
              for k, v in flat(priors, PRIOR_NAMES).items()}
    values.update(
        period_days=route.period_days,
        captures=route.captures.astype(float),
        usable_days=route.usable_days,
        imaged_days=route.imaged_days,
        grid=route.grid,
        group_cap=route.group_cap,
        **record_values(route),
        **load_values(route, values["unknown_coverage__alpha"], values["unknown_coverage__beta"],
                      values["coverage_error__log_sd"]),
    )
    return values


def record_values(route: RouteData) -> dict[str, np.ndarray]:
    """The imagery record as the model reads it (`detection.layout` of each end), whether
    each end has one, the call days and the transit's extra days."""
    days = int(route.period_days.sum())
    passes = route.passes if route.passes.shape[1] == days else np.zeros((2, days, CALL_K.size))
    out = {"has_record": np.asarray(route.has_record, float), "call_k": CALL_K,
           "arrival_weights": detection.arrival_weights(int(route.transit_extra_days))}
    for i, end in enumerate(ENDS):
        lay = detection.layout(passes[i], route.has_record[i], route.period_days, forward=i == 1)
        out.update({f"{end}_{k}": v for k, v in lay.items()})
    return out


def record_layout(d, end: str) -> dict:
    """One end's `detection.layout` from the data `d` (views or arrays)."""
    return {k: d[f"{end}_{k}"] for k in detection.LAYOUT}


def load_values(route: RouteData, a, b, coverage_sd: float = 0.0) -> dict[str, np.ndarray]:
    """The loads' arrays: the distinct capacities (the load prior is computed once per
    capacity, then indexed), each group's and vessel's row in them, and the counts'
    evidence log P(counts of group g | C = k), with Beta(a, b) for an unrecorded coverage
    and a recorded one's relative error `coverage_sd`:
    as logs for numpy, and for the model as `load_weight` (the evidence over its largest
    value below the group's capacity, times k^0, k^1, k^2, stacked) with that value's log."""
    caps = np.unique(np.concatenate([route.group_cap, route.vessel_cap]))
    evidence = loads.count_evidence(route.grid, route.visible, route.coverage,
                                    route.coverage_known, route.count_group, route.n_groups, a, b,
                                    float(coverage_sd))
    weight, scale = loads.evidence_weights(evidence, route.grid, route.group_cap)
    weight = np.concatenate([weight, weight * route.grid, weight * route.grid**2])
    return {"load_caps": caps,
            "group_cap_row": np.searchsorted(caps, route.group_cap),
            "vessel_cap_row": np.searchsorted(caps, route.vessel_cap),
            "load_evidence": evidence, "load_weight": weight, "load_weight_log_scale": scale}


def in_graph(values: dict) -> dict:
    return {k: v for k, v in values.items() if k not in NOT_IN_GRAPH}


def graph_data(values: dict) -> dict:
    """The pm.Data containers' values, for `with_data`."""
    return data.pack(in_graph(values))


def _lognormal(name, d):
    return pm.LogNormal(name, mu=pt.log(d[f"{name}__median"]), sigma=d[f"{name}__log_sd"])


def _beta(name, d):
    return pm.Beta(name, alpha=d[f"{name}__alpha"], beta=d[f"{name}__beta"])


def build(values: dict[str, np.ndarray]) -> pm.Model:
    with pm.Model() as model:
        d = data.declare(in_graph(values))
        route_story(d)
    return model


def route_story(d) -> dict:
    """Steps 1-4 of the story; returns the quantities later families build on (the
    loads' moments among them, `loads_story`)."""
    # 1. how often the route is sailed
    voyages_per_week = _lognormal("voyages_per_week", d)
    rate = voyages_per_week * d["period_days"] / 7.0

    # 2-3. voyages seen, by capture history (origin only, destination only, both), in the
    # period they are recorded in
    seen = seen_story(d)  # (3, P departed, P recorded)
    pm.Potential("captures_loglik", pm.logp(
        pm.Poisson.dist(mu=pt.einsum("p,hpq->qh", rate, seen)), d["captures"]).sum())

    # 4. containers per voyage, thinned into the counts that were seen
    return {"voyages_per_week": voyages_per_week, "rate": rate,
            "unseen_prob": 1 - seen.sum(axis=(0, 2)), **loads_story(d)}


def seen_story(d):
    """Step 2: each end sees a voyage on the first usable pass in its call on which it is
    recognised (`detection`; without a record, a usable pass each day with chance
    `usable_image_day_<end>`). Returns the expected capture histories (3, P, P) per voyage
    of the period of departure, by the period they are recorded in."""
    found = detection_story(d)
    return detection.histories(streams.TENSOR, found["origin"], found["destination"],
                               record_layout(d, "origin"), record_layout(d, "destination"))


def detection_story(d) -> dict:
    """Step 2's priors and imagery terms; per end, `detection.chances` (seen per departure
    day, recorded per reachable pair)."""
    found = {}
    for i, end in enumerate(ENDS):
        usable = _beta(f"usable_image_day_{end}", d)
        call_days = _lognormal(f"port_call_days_{end}", d)
        recognised = _beta(f"identification_{end}", d)
        pm.Potential(f"imagery_{end}", pm.logp(
            pm.Binomial.dist(n=d["imaged_days"][i], p=usable), d["usable_days"][i]))
        found[end] = sightings(streams.TENSOR, d, i, call_days, usable, recognised)
        pm.Deterministic(f"detection_{end}", found[end][0].mean())
    return found


def sightings(ops, d, i: int, call_days, usable, recognised):
    """`detection.chances` at end i from the data `d` (views or arrays)."""
    usable = ops.where(d["has_record"][i] > 0.5, 1.0, usable)  # the record has the passes
    return detection.chances(ops, record_layout(d, ENDS[i]), call_days, recognised, usable,
                             d["call_k"], d["arrival_weights"] if i else None)


def misses(p: dict, values: dict, end: str, layout=None, has_record=None) -> np.ndarray:
    """`detection.misses` at `end` for one draw p (scalars): (C, D), the chance that the
    record so far missed a voyage leaving on each day, per (late start, call length) of
    `detection.call_combos`; of the end's record, or of `layout` and `has_record` (one
    port's, network)."""
    i = ENDS.index(end)
    layout = record_layout(values, end) if layout is None else layout
    has_record = values["has_record"][i] if has_record is None else has_record
    usable = 1.0 if float(has_record) > 0.5 else float(p[f"usable_image_day_{end}"])
    return detection.misses(layout, float(p[f"port_call_days_{end}"]),
                            float(p[f"identification_{end}"]), usable, values["call_k"],
                            values["arrival_weights"] if i else None)


def loads_story(d) -> dict:
    """Step 4: the load of a voyage, summed out on the grid against the counts.

    A group's likelihood sum_k P(C = k) P(counts | C = k) is a matrix product of the
    counts' evidence, scaled (`load_weight`, fixed data), with the load prior's
    probabilities: no log-sum-exp over groups x grid at every gradient."""
    mean_load = _lognormal("containers_per_voyage", d)
    load_cv = pm.HalfNormal("load_cv", sigma=d["load_cv__scale"])
    probs = truncated_probs(d["grid"], d["load_caps"], mean_load, load_cv)  # (distinct caps, K)
    # load_weight[j * G + g, k] = k^j P(counts of g | C = k) / its largest value, j = 0, 1, 2
    weight = d["load_weight"]
    n_groups = weight.shape[0] // 3
    n_caps = probs.shape[0]
    rows = pt.eq(d["group_cap_row"][:, None], pt.arange(n_caps)[None, :])  # (G, caps)
    # sum_k weight[., k] P(C = k) under each group's capacity: (3, G)
    sums = (pt.dot(weight, probs.T).reshape((3, n_groups, n_caps)) * rows[None]).sum(axis=2)
    loads_loglik = pt.log(sums[0]) + d["load_weight_log_scale"]
    pm.Potential("loads_loglik", loads_loglik.sum())
    grid = d["grid"][None, :]
    # a counted group's load given its counts, then each capacity's load prior: moments
    m1 = pt.concatenate([sums[1] / sums[0], (probs * grid).sum(axis=1)])
    m2 = pt.concatenate([sums[2] / sums[0], (probs * grid**2).sum(axis=1)])
    return {"load_m1": m1, "load_m2": m2, "n_groups": n_groups}


def truncated_probs(grid, cap, mu, cv):
    """P(C = grid[k]) for each cap, normalised below it; shape (len(cap), K): the negative
    binomial of mean `mu` and cv `cv`, by `truncated_nb` (one Op: a recurrence on the pmf's
    ratio, no log-gamma and no exp per load; probabilities kept at least exp(LOG_FLOOR) of
    the most likely load's below the cap, so a group's likelihood never underflows)."""
    return truncated_nb.truncated_nb(mu, 1.0 / pt.maximum(cv, 1e-3) ** 2, grid, cap)


# ---------------------------------------------------------------- after sampling (numpy)

PARAMS = ("voyages_per_week", "containers_per_voyage", "load_cv",
          *(f"{p}_{e}" for e in ENDS for p in ("usable_image_day", "port_call_days", "identification")))


def prior_draws(values: dict[str, np.ndarray], n: int, rng: np.random.Generator,
                names=PARAMS) -> dict[str, np.ndarray]:
    """Draws of every parameter (of `names`) from its prior, as `build` states them."""
    v = {k: float(np.asarray(x)) for k, x in values.items() if np.ndim(x) == 0}
    out = {}
    for name in names:
        if f"{name}__median" in v:
            out[name] = rng.lognormal(np.log(v[f"{name}__median"]), v[f"{name}__log_sd"], n)
        elif f"{name}__alpha" in v:
            out[name] = rng.beta(v[f"{name}__alpha"], v[f"{name}__beta"], n)
        else:
            out[name] = np.abs(rng.normal(0, v[f"{name}__scale"], n))
    out.update(detections(out, values))
    return out


def first_sightings(p: dict, values: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per end, `detection.chances` (seen (S, D), recorded (S, R)) for draws p (S,)."""
    col = lambda name: np.atleast_1d(np.asarray(p[name], float))  # noqa: E731
    return {end: sightings(streams.NUMPY, values, i, col(f"port_call_days_{end}"),
                           col(f"usable_image_day_{end}"), col(f"identification_{end}"))
            for i, end in enumerate(ENDS)}


def detections(p: dict, values: dict, first=None) -> dict[str, np.ndarray]:
    """detection_<end> (S,): the chance of being seen there, over the window's days."""
    first = first_sightings(p, values) if first is None else first
    return {f"detection_{end}": f[0].mean(axis=-1) for end, f in first.items()}


def seen_probs(p: dict, values: dict, first=None) -> np.ndarray:
    """(S, 3, P, P): expected capture histories per voyage of the period of departure, by
    the period recorded in (`detection.histories`)."""
    first = first_sightings(p, values) if first is None else first
    return detection.histories(streams.NUMPY, first["origin"], first["destination"],
                               record_layout(values, "origin"),
                               record_layout(values, "destination"))


def generate(p: dict[str, np.ndarray], route: RouteData, values: dict, rng: np.random.Generator,
             chunk: int = 250, rate=None, share=None, future_weekly=None,
             moments: bool = False, missed=None) -> dict[str, np.ndarray]:
    """Estimands, pointwise log-likelihood and predictive draws for parameter draws `p` (S,).

    Later families pass their own voyages per period `rate` (S, P), vessel `share` (S, V),
    weekly rate after the window `future_weekly` (S,) and voyages expected per period but
    not recorded in the window `missed` (S, P); with `moments`, the loads' moments
    (`streams.load_moments`) come back too, as load_m1 and load_m2 (S, G + caps)."""
    S = len(p["voyages_per_week"])
    if rate is None:
        rate = p["voyages_per_week"][:, None] * route.period_days[None, :] / 7.0  # (S, P)
    first = first_sightings(p, values)
    seen = seen_probs(p, values, first)  # (S, 3, P, P)
    mu_seen = np.einsum("sp,shpq->sqh", rate, seen)  # (S, P recorded, 3)
    out = {
        "loglik_captures": poisson.logpmf(route.captures[None], mu_seen),
        "pred_captures": rng.poisson(mu_seen),
    }
    # voyages not recorded in the window: nobody saw them, or their sighting fell outside
    unseen = rng.poisson(rate * (1 - seen.sum(axis=(1, 3))) if missed is None else missed)
    observed = route.captures.sum(axis=1)[None, :]  # (1, P)
    out["voyages_period"] = observed + unseen

    if share is None:
        seen_per_vessel = np.bincount(route.voyage_vessel, minlength=len(route.vessel_cap))
        share = rng.dirichlet(1 + seen_per_vessel, S)
    # voyages after the window up to the forecast horizon ride along as one more column
    weekly = p["voyages_per_week"] if future_weekly is None else future_weekly
    future = rng.poisson(weekly * route.horizon_days / 7.0)
    unseen_and_future = np.concatenate([unseen, future[:, None]], axis=1)
    containers = voyage_loads(out, p, route, values, rng, unseen_and_future, share, chunk, moments)
    out.update(voyages=out["voyages_period"].sum(axis=1), unseen_voyages=unseen.sum(axis=1))
    set_containers(out, containers[:, :-1],
                   containers[:, -1] if route.horizon_days > 0 else None)
    out.update(detections(p, values, first))
    return out


def voyage_loads(out: dict, p: dict, route: RouteData, values: dict, rng, unseen, share,
                 chunk: int = 250, moments: bool = False) -> np.ndarray:
    """Containers per period (S, P + 1) of the seen and the `unseen` voyages (S, P + 1), or
    (S, P + 1, V) per vessel, the last column after the window; adds the loads'
    log-likelihood and replicated counts (and with `moments` their moments) to `out`."""
    S = len(p["containers_per_voyage"])
    alpha = 1.0 / np.maximum(p["load_cv"], 1e-3) ** 2
    a, b = float(values["unknown_coverage__alpha"]), float(values["unknown_coverage__beta"])
    containers = np.zeros((S, len(route.period_days) + 1))
    loglik_loads = np.zeros((S, route.n_groups))
    pred_visible = np.zeros((S, len(route.visible)))
    m1 = np.zeros((S, route.n_groups + len(values["load_caps"])))
    m2 = np.zeros_like(m1)
    for lo in range(0, S, chunk):
        s = slice(lo, min(S, lo + chunk))
        containers[s], loglik_loads[s], pred_visible[s], load_m = _loads_chunk(
            route, values, p["containers_per_voyage"][s], alpha[s], a, b,
            unseen[s], None if share is None else share[s], rng, moments)
        if moments:
            m1[s], m2[s] = load_m
    if moments:
        out.update(load_m1=m1, load_m2=m2)
    out.update(loglik_loads=loglik_loads, pred_visible=pred_visible)
    return containers


def set_containers(out: dict, containers, future=None) -> None:
    """The container estimands from containers per period (S, P): the series, the total,
    the forecast (with `future`, the containers after the window) and the mean load
    total / voyages (needs out["voyages"])."""
    out["containers_period"] = containers
    out["total_containers"] = containers.sum(axis=1)
    if future is not None:
        out["forecast_containers"] = out["total_containers"] + future
    with np.errstate(invalid="ignore", divide="ignore"):
        out["containers_per_voyage"] = np.where(
            out["voyages"] > 0, out["total_containers"] / np.maximum(out["voyages"], 1), np.nan)


def _loads_chunk(route: RouteData, values, mu, alpha, a, b, unseen, share, rng, moments=False):
    """Containers per period (n, P) of the seen voyages (their counts' loads, else their
    vessel's prior) and of the `unseen` ones, the loads' log-likelihood and replicated
    counts, and with `moments` the loads' moments."""
    grid, n = route.grid, len(mu)
    # each distinct capacity's load prior (the model's numbers), and a counted group's load
    # given its counts: prior x the counts' evidence (scaled as the model scales it)
    by_cap, group_prior, cap_m = _load_priors(mu, alpha, grid, values["load_caps"],
                                              values["group_cap_row"])
    n_groups, n_caps = route.n_groups, len(values["load_caps"])
    post = group_prior * values["load_weight"][:n_groups]
    total = post.sum(axis=-1)  # > 0: the weight is 1 somewhere below the cap, the prior floored
    loglik = np.log(total) + values["load_weight_log_scale"]
    post /= total[..., None]
    group_load = (grid[loads.GridSampler(post).draw_each(rng).reshape(n, n_groups)]
                  if n_groups else np.zeros((n, 0)))
    # one sampler of the capacities' priors (by_cap) serves every voyage's and group's load
    cap_row = np.arange(n)[:, None] * n_caps  # row of (draw, capacity 0)
    vessel_row, n_vessels = values["vessel_cap_row"], len(route.vessel_cap)

    # loads of observed voyages: from their counts where counted, else from the prior
    containers = np.zeros((n, unseen.shape[1]))
    if len(route.voyage_period):
        free = grid[by_cap.draw(cap_row + vessel_row[route.voyage_vessel][None, :], rng)]
        v_load = free
        if route.n_groups:
            counted = route.voyage_group >= 0
            v_load = np.where(counted[None], group_load[:, np.maximum(route.voyage_group, 0)], free)
        np.add.at(containers.T, route.voyage_period, v_load.T)

    # loads of the voyages nobody saw, each on a vessel drawn by the route's shares, or
    # on their own vessel when `unseen` counts them per period and vessel (n, P, V)
    per_vessel = unseen.ndim == 3
    counts = unseen.reshape(n, -1) if per_vessel else unseen
    u_max = int(counts.sum(axis=1).max()) if counts.size else 0
    if u_max:
        slot = np.arange(u_max)
        bounds = np.cumsum(counts, axis=1)  # (n, P) or (n, P x V)
        slot_period = (slot[None, :, None] >= bounds[:, None, :]).sum(axis=2)  # (n, U)
        live = slot[None, :] < bounds[:, -1:]
        if per_vessel:
            slot_period, vessel = np.divmod(np.minimum(slot_period, counts.shape[1] - 1),
                                            n_vessels)
        else:
            vessel = (rng.random((n, u_max, 1)) > np.cumsum(share, axis=1)[:, None, :]).sum(axis=2)
            vessel = np.minimum(vessel, n_vessels - 1)
        u_load = np.where(live, grid[by_cap.draw(cap_row + vessel_row[vessel], rng)], 0.0)
        rows = np.repeat(np.arange(n), u_max)
        np.add.at(containers, (rows, np.minimum(slot_period, containers.shape[1] - 1).ravel()),
                  u_load.ravel())

    # replicated counts: a fresh load per group, thinned by the share in view
    pred = np.zeros((n, len(route.visible)))
    if route.n_groups:
        fresh = grid[by_cap.draw(cap_row + values["group_cap_row"][None, :], rng)]
        error = np.exp(float(values["coverage_error__log_sd"]) * rng.normal(size=(n, len(route.visible))))
        cov = np.where(route.coverage_known[None], loads.clip_coverage(route.coverage[None] * error),
                       rng.beta(a, b, (n, len(route.visible))))
        pred = rng.binomial(fresh[:, route.count_group].astype(int), cov)
    load_m = None
    if moments:
        group_m = streams.load_moments(post, grid)
        load_m = tuple(np.concatenate([g, c], axis=-1) for g, c in zip(group_m, cap_m))
    return containers, loglik, pred, load_m


_PRIORS: OrderedDict = OrderedDict()  # the last few draws' load priors, newest last
_PRIORS_LOCK = threading.Lock()
_PRIORS_KEPT = 8  # a screen's 1,000 draws are 4 chunks (about 20 MB each)


def _load_priors(mu, alpha, grid, caps, group_cap_row):
    """What the loads need of the draws alone, for draws mu, alpha (n,): a sampler of each
    capacity's load prior (n, caps, K), the counted groups' copy of the prior (n, G, K) and
    the capacities' moments. A plan's screen generates many cases on the same draws, so the
    last few are kept (`_PRIORS_KEPT`)."""
    parts = [np.ascontiguousarray(x, float) for x in (mu, alpha, grid, caps, group_cap_row)]
    key = hashlib.blake2b(repr([x.shape for x in parts]).encode()
                          + b"".join(x.tobytes() for x in parts)).digest()
    with _PRIORS_LOCK:
        if key in _PRIORS:
            _PRIORS.move_to_end(key)
            return _PRIORS[key]
    prior_probs = truncated_nb.probs_draws(mu, alpha, grid, caps)
    out = (loads.GridSampler(prior_probs),
           np.take(prior_probs, group_cap_row, axis=1), streams.load_moments(prior_probs, grid))
    with _PRIORS_LOCK:
        _PRIORS[key] = out
        while len(_PRIORS) > _PRIORS_KEPT:
            _PRIORS.popitem(last=False)
    return out


HISTORY_LABELS = HISTORIES
LOGLIK_DIMS = {"captures": ("period", "history"), "loads": ("load_group",)}
PRED_DIMS = {"captures": ("period", "history"), "visible": ("count",)}
SCALARS = ("total_containers", "voyages", "unseen_voyages", "containers_per_voyage",
           "detection_origin", "detection_destination")


def observed(route: RouteData) -> dict:
    return {"captures": route.captures, "visible": route.visible}


def simulate(p: dict[str, float], template: RouteData, values: dict, rng: np.random.Generator,
             count_share: float = 0.7, known_coverage_share: float = 0.7,
             follow_up: float = 1.0, totals: str = "exact"):
    """Data from this model's own generative process, on the periods and vessels of `template`.

    `p` holds one value per parameter (as PARAMS); `values` the hyperparameters. Each voyage
    sails on a vessel drawn by a share of the route that is Dirichlet(1, ..., 1) (the model's
    implicit prior on the vessels' shares). Returns (RouteData, truth) where truth holds the
    realised totals the estimands aim at (see `simulate_voyages`). `totals` is accepted
    for the families' common signature: this model sums the loads exactly, so its "model"
    and "exact" totals are the same."""
    n_vessels = len(template.vessel_cap)
    share = rng.dirichlet(np.ones(n_vessels))
    n_voyages = rng.poisson(p["voyages_per_week"] * template.period_days / 7.0)
    route, truth = simulate_voyages(p, template, values, rng, n_voyages,
                                    lambda period: rng.choice(n_vessels, p=share),
                                    count_share, known_coverage_share, follow_up)
    truth["vessel_share"] = share.tolist()
    return route, truth


def simulated_record(p: dict, template: RouteData, rng) -> np.ndarray:
    """The imagery record of a simulation: a usable pass on each day with chance
    `usable_image_day_<end>`, as the model's imagery term has it (a template's own record
    is not kept: its count of usable days would then not follow the drawn chance)."""
    n = record_length(int(template.period_days.sum()), template.transit_days)
    return np.stack([rng.random(n) < float(p[f"usable_image_day_{end}"]) for end in ENDS]
                    ).astype(float)


def _sighting(passes_k, call_days: float, identification: float, forward: bool, late_weights,
              rng):
    """The call day k (of the record's layout) on which one voyage is first seen, as
    `detection.first_sighting` has it: its call's length drawn around `call_days`, a usable
    pass showing it for the share of that day it is there, each image recognising it with
    `identification`; None if it is not seen."""
    length = call_days * np.exp(detection.CALL_SPREAD * rng.normal())
    late = 0 if late_weights is None else int(rng.choice(len(late_weights), p=late_weights))
    w = detection.call_weights(streams.NUMPY, np.asarray(length), CALL_K, late)
    for k in (range(len(w)) if forward else reversed(range(len(w)))):
        if passes_k[k] > 0 and rng.random() < w[k] and rng.random() < identification:
            return int(k)
    return None


def simulate_voyages(p: dict, template: RouteData, values: dict, rng: np.random.Generator,
                     n_voyages: np.ndarray, next_vessel, count_share: float = 0.7,
                     known_coverage_share: float = 0.7, follow_up: float = 1.0,
                     departures=None, usable_on=None):
    """Steps 2-4 of the story for `n_voyages` (P,) voyages leaving in each period, the vessel
    of each given by `next_vessel(period)`; the imagery record is drawn first
    (`simulated_record`). With `departures`, a list per period of (day, vessel) pairs
    (a schedule, `fleet.simulate_schedule`), those voyages instead. With `usable_on`
    (2, record), that imagery record instead of one drawn (a network's route: its ports').

    A voyage leaves on a day drawn uniformly in its period and each end sees it on its first
    image that shows and recognises it (`_sighting`, on that record), independently
    given the day, as the model assumes, and it is recorded in the period of its sighting;
    `follow_up` != 1 breaks that on purpose (a negative control for calibration):
    a voyage seen at the origin is then seen at the destination with its odds of detection
    multiplied by `follow_up`, as when analysts look for a ship they saw leave. A seen end is
    counted with probability `count_share`; a count's coverage is recorded with probability
    `known_coverage_share` (uniform on 0.3-1; the true share is that times the log-normal
    `coverage_error`, below 1), else it is drawn from `unknown_coverage`, and the count is
    Binomial(load, true share). The counts of one voyage share its load.

    Returns (RouteData, truth); truth holds the realised `total_containers`, `voyages`,
    `voyages_seen`, `containers_per_voyage`, the per-period `series` and a `voyage_log`
    (period, vessel, load, ends seen and counts of every voyage, seen or not)."""
    P, n_vessels = len(template.period_days), len(template.vessel_cap)
    grid = template.grid
    alpha = 1.0 / max(p["load_cv"], 1e-3) ** 2
    days = int(template.period_days.sum())
    transit = int(template.transit_days)
    usable_on = simulated_record(p, template, rng) if usable_on is None else usable_on
    passes = call_passes(usable_on, days, transit)
    sim_values = {**values, "has_record": np.ones(2)}
    for i, end in enumerate(ENDS):
        lay = detection.layout(passes[i], 1.0, template.period_days, forward=i == 1)
        sim_values.update({f"{end}_{k}": v for k, v in lay.items()})
    one = {k: np.asarray(v, float)[None] for k, v in p.items() if np.ndim(v) == 0}
    first = {end: f[0][0] for end, f in first_sightings(one, sim_values).items()}  # seen (D,)
    det = {end: float(f.mean()) for end, f in first.items()}
    late = values["arrival_weights"]
    first_day = np.concatenate([[0], np.cumsum(template.period_days)[:-1]]).astype(int)
    starts = np.array(first_day)
    captures = np.zeros((P, 3), int)
    captures_vessel = np.zeros((P, n_vessels, 3), int)
    v_period, v_vessel, v_group = [], [], []
    visible, coverage, known, count_group, group_cap, count_day = [], [], [], [], [], []
    load_logp = loads.load_prior_logp(grid, template.vessel_cap, p["containers_per_voyage"], alpha)
    containers_period = np.zeros(P)
    log = []
    if departures is not None:
        n_voyages = [len(d) for d in departures]
    v_seen = []
    for period, n in enumerate(n_voyages):
        for i in range(n):
            vessel = (int(departures[period][i][1]) if departures is not None
                      else int(next_vessel(period)))
            load = grid[loads.sample_grid(load_logp[vessel], rng)]
            containers_period[period] += load
            day = (int(departures[period][i][0]) if departures is not None
                   else first_day[period] + int(rng.integers(int(template.period_days[period]))))
            k_seen = [_sighting(passes[e, day], float(p[f"port_call_days_{end}"]),
                                float(p[f"identification_{end}"]), e == 1,
                                late if e == 1 else None, rng) for e, end in enumerate(ENDS)]
            if k_seen[0] is not None and follow_up != 1.0:  # seen at the origin: looked for
                c_d = float(first["destination"][day])
                odds = follow_up * c_d / max(1.0 - c_d, 1e-12)
                k_seen[1] = None
                if c_d > 0 and rng.random() < odds / (1.0 + odds):
                    while k_seen[1] is None:  # a sighting day as the model has them, given one
                        k_seen[1] = _sighting(passes[1, day], float(p["port_call_days_destination"]),
                                              float(p["identification_destination"]), True, late, rng)
            seen = [k is not None for k in k_seen]
            sighted = [day - k_seen[0] if seen[0] else None,
                       day + transit + k_seen[1] if seen[1] else None]
            # the period the voyage is recorded in, as route_data places it
            recorded = sighted[0] if seen[0] else (sighted[1] - transit if seen[1] else None)
            if recorded is not None and not 0 <= recorded < days:
                seen, sighted, recorded = [False, False], [None, None], None
            entry = {"period": period, "vessel": vessel, "load": float(load), "seen": seen,
                     "day": day, "sighted": sighted, "counts": []}
            log.append(entry)
            if not any(seen):
                continue
            history = 2 if all(seen) else (0 if seen[0] else 1)
            rec_period = int(np.searchsorted(starts, recorded, side="right") - 1)
            captures[rec_period, history] += 1
            captures_vessel[rec_period, vessel, history] += 1
            v_period.append(rec_period)
            v_vessel.append(vessel)
            v_seen.append([np.nan if x is None else float(x) for x in sighted])
            group = -1
            for end in (i for i, s in enumerate(seen) if s):
                if rng.random() >= count_share:
                    continue
                if group < 0:
                    group = len(group_cap)
                    group_cap.append(template.vessel_cap[vessel])
                c = rng.uniform(0.3, 1.0)  # as recorded; the true share is off by its error
                is_known = rng.random() < known_coverage_share
                if is_known:
                    true = float(loads.clip_coverage(
                        c * np.exp(float(values["coverage_error__log_sd"]) * rng.normal())))
                else:
                    true = c = rng.beta(values["unknown_coverage__alpha"],
                                        values["unknown_coverage__beta"])
                visible.append(rng.binomial(int(load), true))
                coverage.append(c if is_known else 0.5)
                known.append(is_known)
                count_group.append(group)
                count_day.append(float(sighted[end]))
                entry["counts"].append({"end": end, "visible": int(visible[-1]),
                                        "coverage": float(c) if is_known else None})
            v_group.append(group)
    inside = slice(-RECORD_FROM, -RECORD_FROM + days)
    usable = usable_on[:, inside].sum(axis=1)
    seen_per_vessel = np.bincount(np.array(v_vessel, int), minlength=n_vessels)
    route = RouteData(
        periods=template.periods, period_days=template.period_days, captures=captures,
        captures_vessel=captures_vessel,
        voyage_period=np.array(v_period, int), voyage_vessel=np.array(v_vessel, int),
        voyage_group=np.array(v_group, int), vessel_cap=template.vessel_cap,
        visible=np.array(visible, float), coverage=np.array(coverage, float),
        coverage_known=np.array(known, bool), count_group=np.array(count_group, int),
        group_cap=np.array(group_cap, float), grid=grid, usable_days=usable.astype(float),
        imaged_days=np.full(2, float(days)),
        vessel_share=(1 + seen_per_vessel) / (1 + seen_per_vessel).sum(),
        transit_days=template.transit_days, usable_on=usable_on, has_record=np.ones(2),
        transit_extra_days=template.transit_extra_days,
        voyage_origin_day=np.array([o for o, _ in v_seen], float),
        voyage_destination_day=np.array([d for _, d in v_seen], float),
        count_day=np.array(count_day, float))
    voyages_period = np.asarray(n_voyages, int)
    total, n_total = float(containers_period.sum()), int(voyages_period.sum())
    truth = {
        "total_containers": total, "voyages": float(n_total),
        "voyages_seen": len(v_period),
        "containers_per_voyage": total / n_total if n_total else None,
        **{f"detection_{end}": det[end] for end in ENDS},
        "series": [{"period_start": str(s), "period_end": str(e), "voyages": int(v),
                    "containers": float(c), "voyages_cumulative": int(vc),
                    "containers_cumulative": float(cc)}
                   for (s, e), v, c, vc, cc in zip(
                       template.periods, voyages_period, containers_period,
                       np.cumsum(voyages_period), np.cumsum(containers_period))],
        "voyage_log": log,
    }
    return route, truth
