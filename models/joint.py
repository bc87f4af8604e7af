"""joint@6: the fleet's schedule, voyages@2's detection and loads, the depot's fill and
third-party claims.

The story:
1. Each vessel sails the route in cycles (`fleet`): it leaves the origin every
   `vessel_cycle` days on average, the vessels' cycles spread around the fleet's
   `cycle_days`, one cycle's length varying by `cycle_cv`, now and then broken by a pause
   (`break_prob`).
2-4. Each voyage is seen at each end as voyages@2 says for its day (the imagery record,
   call lengths, identification), and carries a load as there. Which ends saw a recorded
   voyage informs detection; the gaps between one vessel's sightings say how many of its
   voyages nobody saw.
5. The containers shipped in a period (the loads of its seen voyages, and its share of the
   window's unseen voyages' loads) leave evenly over its days. At the destination they
   go on by rail; a share `depot_share` of them reaches this depot after a log-normal
   delay (median `rail_delay_days`, log-sd `rail_delay_spread`). The depot starts the
   window empty.
6. Each depot row measures the depot's stock through its own conversion
   (`m2_per_container` for filled_area_m2, `containers_per_railcar` for railcars,
   1 for containers), with the row's sd or a relative error `depot_noise_cv`.
7. A claim is a noisy statement of the containers (or expected voyages) leaving
   in its interval: 'about' a logistic density, 'at_least'/'at_most' soft bounds, all with
   a relative width set by the claim's confidence (`claim_width`). A claim is one
   likelihood term among the others: it never overrides the data.

Version 2 (against 1): the depot and the claims read the containers actually shipped
per period, a latent total (`streams.shipped`, one standard normal per period), not
their expectation rate x mean load; so the depot's rows inform the voyages nobody saw
and their loads, and the estimate's interval narrows where the depot is measured well.
After the window (forecasts, late claims) the expected flow is used, as before.

Version 3 (against 2): the same model, with each period's shipped total sampled on its
log scale (centred) instead of through a standard normal (non-centred). Fitted to data
simulated from the prior, where the depot can pin the totals, the centred form samples
faster (bench/calibrate_speed.py: 7.99 s per simulation against 12.92 s).

Version 4 (against 3): the relative error of a depot row that states no sd,
`depot_noise_cv`, is log-normal (by default median 0.12, 90% within 0.045-0.32), not
half-normal. The half-normal's mode at 0 made an exact measurement the likeliest, so
rows that happened to agree could pin the depot, and through it the shipped totals,
far more tightly than any measurement of pits or railcars on imagery supports, and
such fits made calibration's tail of slow simulations (docs/calibration.md).

Version 5 (against 4): steps 1-4 are voyages@2's (detection from the imagery record's
days). The containers shipped are the seen voyages' loads per period plus the window's
unseen voyages' loads as one total, shared among the periods as their unseen voyages are
expected (`streams.shipped`), both non-centred: a period's own unseen total, with often no
unseen voyage at all, has a log-normal stand-in that spans orders of magnitude, and on
event-level worlds its wall gave tens of divergences (46, 16 and 11 on three of them,
against 1, 0 and 0 pooled). And the depot's share has a `SharePrior`, log-uniform from 0.01 to 1
by default, instead of Beta(2, 2). A depot row measures share x conversion x containers
shipped, and the share is rarely known: Beta(2, 2) said "about half", which set the level
of the total from the depot on an assumption nobody made (on worlds whose share was
0.6-1.0 joint@4 put its median above the truth by up to 81%, docs/validation.md). Flat
on the share's log, the depot's rows move the total only where they need more
containers than the voyages carry (share at most 1) and through their timing; a share
the analyst states (priors.depot_share.alpha/beta, floor 0) narrows it.

Version 6 (against 5): step 1 is the fleet's schedule (`fleet`) instead of one constant
rate of departures (voyages@2's step 1). With a rate, the voyages nobody saw are read from
the overlap of the two ends' sightings alone; where that overlap is small by chance
(11 voyages all seen, only 1 of them at both ends) capture-recapture reads 17. On 64
event-level worlds joint@5 missed the total 14 times, 13 of them above the truth
(docs/validation.md), and every one of those misses was voyages@2's as well. A ship
cannot sail two voyages at once: a vessel seen leaving every 11 days for two months left
no voyage unseen in between, whatever the overlap. The shipped totals' unseen part is
the schedule's: its mean and variance per vessel come from the segments' unseen voyages.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ..observations.aggregate import (CLAIM_CONFIDENCE, CLAIM_QUANTITIES, CLAIM_RELATIONS,
                                      DEPOT_METRICS, RouteData, on_part)
from . import data, detection, fleet, fleet_op, loads, streams, voyages
from .priors import flat, share_draws
from .voyages import HISTORY_LABELS  # noqa: F401 (labels of the captures stream)

NAME = "joint"
VERSION = 6
# nutpie's mass matrix under inference.adaptation=auto: the low-rank one mixes the depot's
# correlated share x area x containers in one round where diag needs two (docs/speed.md)
ADAPTATION = "low_rank"
ASSUMPTIONS = (
    "Every vessel that sails the route is listed; each sails it in cycles of similar length "
    "(its own mean, spread by `cycle_cv`), now and then broken by a pause; a departure day "
    "read off a sighting is off by about `departure_error` days.",
    *voyages.ASSUMPTIONS[1:4],
    "A period's containers leave evenly over its days, the voyages nobody saw shared among "
    "the periods as expected; a share of them reaches the depot after a log-normal rail "
    "delay; the depot is empty when the window starts; unless stated, nothing is known of "
    "the share but that it is at most 1 (log-uniform from 0.01).",
    "A third-party figure is a noisy statement whose width follows its stated confidence; "
    "it never overrides the data.",
    "After the window, voyages go on at the window's rate, at the mean load.",
)
# the depot's and the claims' priors (dynamic reads them too), and the schedule's
STREAM_PRIORS = ("depot_share", "rail_delay_days", "rail_delay_spread", "m2_per_container",
                 "containers_per_railcar", "depot_noise_cv", "claim_width")
FLEET_PRIORS = ("cycle_days", "vessel_cycle_spread", "cycle_cv", "break_prob", "departure_error")
RATE = "voyages_per_week"  # voyages@2's step 1, which the schedule replaces
PRIOR_NAMES = (*(n for n in voyages.PRIOR_NAMES if n != RATE), *FLEET_PRIORS, *STREAM_PRIORS)
JOINT_PRIORS = (*FLEET_PRIORS, *STREAM_PRIORS)
# reach the model through derived data (load_evidence, claim_width), not as pm.Data
NOT_IN_GRAPH = (*voyages.NOT_IN_GRAPH, "claim_width__low", "claim_width__medium",
                "claim_width__high", "fleet_lo", "voyage_inside")
LOGLIK_DIMS = {"captures": ("period",), "loads": voyages.LOGLIK_DIMS["loads"],
               "schedule": ("segment",), "depot": ("depot_row",), "claims": ("claim",)}
PRED_DIMS = {**voyages.PRED_DIMS, "depot": ("depot_row",)}
SCALARS = (*voyages.SCALARS, "depot_stock")
STREAM_PARAMS = ("depot_share", "rail_delay_days", "rail_delay_spread", "m2_per_container",
                 "containers_per_railcar", "depot_noise_cv", "shipped_z", "unseen_z")
FLEET_PARAMS = ("cycle_days", "vessel_cycle", "cycle_cv", "break_prob")
PARAMS = (*(n for n in voyages.PARAMS if n != RATE), *FLEET_PARAMS, *STREAM_PARAMS)


def data_values(route: RouteData, priors) -> dict[str, np.ndarray]:
    values = voyages.data_values(route, priors)
    for key in (f"{RATE}__median", f"{RATE}__log_sd"):
        values.pop(key)
    values.update({k.replace(".", "__"): np.asarray(v, float)
                   for k, v in flat(priors, FLEET_PRIORS).items()})
    values.update(fleet.layout(route))
    values = stream_values(route, priors, values)
    values["voyage_inside"] = inside = fleet.inside_window(
        route, float(priors.port_call_days_origin.median),
        float(priors.port_call_days_destination.median))
    values["voyage_in_period"] = values["voyage_in_period"] * inside[None, :]
    return values


def stream_values(route: RouteData, priors, values: dict,
                  sees_ports: bool = False) -> dict[str, np.ndarray]:
    """`values` with the depot's and the claims' arrays and priors added. A family that
    pools an end's ports (not `sees_ports`) reads a claim naming one of several ports as
    a lower bound on the whole (`pooled_claim_terms`)."""
    values.update({k.replace(".", "__"): np.asarray(v, float)
                   for k, v in flat(priors, STREAM_PRIORS).items()})
    window = int(route.period_days.sum())
    horizon = int(max([window, *(route.depot_day + 1), *(route.claim_last + 1)]))
    day = np.arange(horizon)
    bounds = np.cumsum(route.period_days)
    widths = np.array([float(priors.claim_width[c]) for c in CLAIM_CONFIDENCE])
    first, last = route.claim_first[:, None], route.claim_last[:, None]
    log_lag, positive, lag_index = streams.log_lag(route.depot_day[:, None] - day[None, :]
                                                   - route.transit_days)
    values.update(
        day_period=np.minimum(np.searchsorted(bounds, day, side="right"), len(bounds) - 1),
        day_in_window=(day < window).astype(float),
        vessel_cap=route.vessel_cap, vessel_share=route.vessel_share,
        depot_log_lag=log_lag, depot_lag_positive=positive,
        depot_lag_index=lag_index.astype("int64"),
        depot_metric=route.depot_metric.astype("int64"), depot_value=route.depot_value,
        depot_sd=np.nan_to_num(route.depot_sd), depot_has_sd=np.isfinite(route.depot_sd) * 1.0,
        claim_days=((day[None, :] >= first) & (day[None, :] <= last)).astype(float),
        claim_outside=(np.maximum(last - first + 1, 0)[:, 0]
                       - ((day[None, :] >= first) & (day[None, :] <= last)).sum(axis=1)),
        claim_value=route.claim_value, claim_width=widths[route.claim_confidence],
        claim_terms=(streams.CLAIM_TERMS[route.claim_relation] if sees_ports
                     else pooled_claim_terms(route)).reshape(-1, 3),
        claim_is_containers=(route.claim_quantity == 0) * 1.0,
        **seen_voyages(route, values["vessel_cap_row"]),
    )
    return values


def pooled_claim_terms(route: RouteData) -> np.ndarray:
    """(C, 3) the claims' likelihood terms with the ports pooled: a claim on part of the
    network ('about' or 'at_least' x, naming one of an end's several ports) says the
    whole is at least about x; one 'at_most' on a part says nothing of the whole."""
    terms = streams.CLAIM_TERMS[route.claim_relation].copy()
    n_o = route.n_origin_sites
    part = on_part(route.claim_origin, route.claim_destination, n_o,
                   len(route.site_names) - n_o if route.site_names else 1)
    at_most = route.claim_relation == CLAIM_RELATIONS.index("at_most")
    terms[part] = streams.CLAIM_TERMS[CLAIM_RELATIONS.index("at_least")]
    terms[part & at_most] = 0.0
    return terms


def seen_voyages(route: RouteData, vessel_cap_row) -> dict[str, np.ndarray]:
    """The voyages seen: their period (P, Vobs), and their load's row in the loads'
    moments [count groups, capacities] (`streams.load_moments`)."""
    periods = np.arange(len(route.period_days))
    return {"voyage_in_period": (route.voyage_period[None, :] == periods[:, None]) * 1.0,
            "moment_row": np.where(route.voyage_group >= 0, route.voyage_group,
                                   route.n_groups + vessel_cap_row[route.voyage_vessel])}


def structure(values) -> tuple[int, int]:
    """Latent shapes: one shipped total per period, one cycle per vessel."""
    return len(values["period_days"]), len(values["vessel_cap"])


def in_graph(values: dict) -> dict:
    return {k: v for k, v in values.items() if k not in NOT_IN_GRAPH}


def graph_data(values: dict) -> dict:
    """The pm.Data containers' values, for `with_data`."""
    return data.pack(in_graph(values))


# each stream's rows among the data (the arrays with one entry per row, first axis)
STREAM_ROWS = {"depot": ("depot_lag_index", "depot_metric", "depot_value", "depot_sd",
                         "depot_has_sd"),
               "claims": ("claim_days", "claim_outside", "claim_value", "claim_width",
                          "claim_terms", "claim_is_containers", "claim_routes")}


def without(values: dict, streams) -> dict:
    """The data with the rows of `streams` (depot, claims) dropped: the same model, fitted
    to the other streams only (`inference.conflict`). The shapes are data, so the one
    compiled model takes them."""
    out = dict(values)
    for stream in streams:
        for key in STREAM_ROWS[stream]:
            if key in values:  # claim_routes: model=network's only
                out[key] = np.asarray(values[key])[:0]
    return out


def observed(route: RouteData) -> dict:
    return {**voyages.observed(route), "depot": route.depot_value}


def depot_lags(d) -> tuple:
    """The depot rows' lags as `streams.log_lag` gave them, from the data by name."""
    return d["depot_log_lag"], d["depot_lag_positive"], d["depot_lag_index"]


def _lognormal(name, d):
    return pm.LogNormal(name, mu=pt.log(d[f"{name}__median"]), sigma=d[f"{name}__log_sd"])


def depot_share(d):
    """The depot's share of the unloaded containers, its prior a `priors.SharePrior`:
    uniform on [floor, 1] tilted by x^(alpha - 1) (1 - x)^(beta - 1). By default
    log-uniform (alpha 0, beta 1): no level of the share is assumed, only that it is at
    most 1, so the depot bounds the shipped total from below and dates the shipments,
    and a share the analyst knows (a Beta) narrows the total as much as it should."""
    share = pm.Uniform("depot_share", lower=d["depot_share__floor"], upper=1.0)
    pm.Potential("depot_share_prior", (d["depot_share__alpha"] - 1) * pt.log(share)
                 + (d["depot_share__beta"] - 1) * pt.log1p(-share))
    return share


def build(values: dict[str, np.ndarray]) -> pm.Model:
    n_periods, n_vessels = structure(values)
    with pm.Model() as model:
        d = data.declare(in_graph(values))
        sailed = schedule_story(d, n_vessels)
        parts = voyages.loads_story(d)
        depot_and_claims_story(d, parts, sailed["flow"], sailed["weekly"], sailed["unseen"],
                               n_periods, sailed["unseen_var"])
    return model


def schedule_story(d, n_vessels: int) -> dict:
    """Steps 1-3: detection as voyages@2 has it, which ends saw each recorded voyage, and
    the fleet's schedule read off the gaps between each vessel's sightings (`fleet`).
    Returns the voyages expected per period and vessel (`flow`: seen plus unseen), the
    unseen ones' mean (P, V) and their count's variance per vessel (V,), and the fleet's
    weekly rate over many cycles."""
    ops = streams.TENSOR
    found = voyages.detection_story(d)
    seen = detection.histories(ops, found["origin"], found["destination"],
                               voyages.record_layout(d, "origin"),
                               voyages.record_layout(d, "destination"))
    pm.Potential("captures_loglik", fleet.histories_loglik(
        ops, seen, d["period_days"], d["captures"]).sum())

    cycle_days = _lognormal("cycle_days", d)
    cycle = pm.LogNormal("vessel_cycle", mu=pt.log(cycle_days),
                         sigma=d["vessel_cycle_spread__log_sd"], shape=n_vessels)
    cycle_cv = _lognormal("cycle_cv", d)
    brk = pm.Beta("break_prob", alpha=d["break_prob__alpha"], beta=d["break_prob__beta"])
    window = d["period_days"].sum()
    missed = fleet.missed(ops, d, found["origin"][0], found["destination"][0])
    loglik, mean, var = fleet_op.segments(d, cycle, cycle_cv, brk, d["departure_error__sd_days"],
                                          missed, window)
    pm.Potential("schedule_loglik", loglik.sum())
    unseen = fleet.by_period(ops, d, mean)
    return {"flow": d["seen_by_vessel"] + unseen, "unseen": unseen,
            "unseen_var": pt.dot(var, d["fleet_onehot"]),
            "weekly": (7.0 / (cycle + brk * window / 2.0)).sum()}


def depot_and_claims_story(d, parts, rate_by_vessel, weekly_outside, unseen_by_vessel, n_periods,
                           unseen_var=None, claim_share=None):
    """Steps 5-7, given the voyages expected per period and vessel `rate_by_vessel` (P, V),
    the weekly rate outside the window and the voyages nobody saw (P, V) expected per period
    and vessel (their count's variance per vessel `unseen_var` (V,), else Poisson).
    claim_share (C,): the share of the whole each claim is about (None: all of it)."""
    rate = rate_by_vessel.sum(axis=1)
    mean_rate = weekly_outside / 7.0
    in_window = d["day_in_window"] > 0.5
    daily = pt.switch(in_window, (rate / d["period_days"])[d["day_period"]], mean_rate)
    m1, m2, n_groups = parts["load_m1"], parts["load_m2"], parts["n_groups"]
    mean_load = (d["vessel_share"] * m1[n_groups:][d["vessel_cap_row"]]).sum()

    # 5. the containers shipped per period: the seen voyages' loads per period and the
    # window's unseen voyages' loads, shared among the periods as expected; each a
    # log-normal stand-in for its sum (non-centred: the depot rarely pins them)
    z = pm.Normal("shipped_z", 0.0, 1.0, shape=n_periods)
    z_unseen = pm.Normal("unseen_z", 0.0, 1.0)
    shipped = streams.shipped(streams.TENSOR, m1, m2, n_groups, d["moment_row"],
                              d["voyage_in_period"], d["vessel_cap_row"], unseen_by_vessel,
                              z, z_unseen, unseen_var)
    daily_containers = pt.switch(in_window, (shipped / d["period_days"])[d["day_period"]],
                                 mean_rate * mean_load)

    # 5-6. the depot fills as unloaded containers arrive by rail
    share = depot_share(d)
    delay = _lognormal("rail_delay_days", d)
    spread = _lognormal("rail_delay_spread", d)
    m2 = _lognormal("m2_per_container", d)
    per_railcar = _lognormal("containers_per_railcar", d)
    noise = _lognormal("depot_noise_cv", d)
    stock = share * streams.arrived(streams.TENSOR, daily_containers[None, :],
                                    depot_lags(d), delay, spread)
    factor = pt.stack([m2, 1.0 / per_railcar, pt.constant(1.0)])[d["depot_metric"]]
    pm.Potential("depot_loglik", streams.depot_loglik(
        streams.TENSOR, stock * factor, d["depot_value"], d["depot_sd"], d["depot_has_sd"],
        noise).sum())

    # 7. what third parties stated
    expected_voyages = (d["claim_days"] * daily[None, :]).sum(axis=1) + d["claim_outside"] * mean_rate
    containers = ((d["claim_days"] * daily_containers[None, :]).sum(axis=1)
                  + d["claim_outside"] * mean_rate * mean_load)
    expected = pt.switch(d["claim_is_containers"] > 0.5, containers, expected_voyages)
    if claim_share is not None:
        expected = expected * claim_share
    pm.Potential("claims_loglik", streams.claim_loglik(
        streams.TENSOR, expected, d["claim_value"], d["claim_width"], d["claim_terms"]).sum())


def prior_draws(values, n, rng):
    out = voyages.prior_draws(values, n, rng, [k for k in voyages.PARAMS if k != RATE])
    v = _scalars(values)
    out["cycle_days"] = rng.lognormal(np.log(v["cycle_days__median"]), v["cycle_days__log_sd"], n)
    out["vessel_cycle"] = rng.lognormal(np.log(out["cycle_days"])[:, None],
                                        v["vessel_cycle_spread__log_sd"],
                                        (n, structure(values)[1]))
    out["cycle_cv"] = rng.lognormal(np.log(v["cycle_cv__median"]), v["cycle_cv__log_sd"], n)
    out["break_prob"] = rng.beta(v["break_prob__alpha"], v["break_prob__beta"], n)
    return stream_prior_draws(values, n, rng, out)


def _scalars(values) -> dict[str, float]:
    return {k: float(np.asarray(x)) for k, x in values.items() if np.ndim(x) == 0}


def stream_prior_draws(values, n, rng, out: dict) -> dict:
    """`out` with draws of the depot's priors and the shipped totals' latent normals."""
    v = _scalars(values)
    for name in ("rail_delay_days", "rail_delay_spread", "m2_per_container", "containers_per_railcar",
                 "depot_noise_cv"):
        out[name] = rng.lognormal(np.log(v[f"{name}__median"]), v[f"{name}__log_sd"], n)
    out["depot_share"] = share_draws(rng, v["depot_share__alpha"], v["depot_share__beta"],
                                     v["depot_share__floor"], n)
    out["shipped_z"] = rng.normal(size=(n, len(values["period_days"])))
    out["unseen_z"] = rng.normal(size=n)
    return out


def schedule_weights(p: dict, values: dict, first=None) -> tuple:
    """`fleet.segment_weights` (gaps, edges) for draws p, with the sightings' chances
    `first` (`voyages.first_sightings`)."""
    first = voyages.first_sightings(p, values) if first is None else first
    ops = streams.NUMPY
    missed = fleet.missed(ops, values, first["origin"][0], first["destination"][0])
    return fleet.segment_weights(ops, values, np.asarray(p["vessel_cycle"], float),
                                 np.asarray(p["cycle_cv"], float), np.asarray(p["break_prob"], float),
                                 float(values["departure_error__sd_days"]), missed,
                                 float(values["period_days"].sum()))


def expected_unseen(weights, values: dict) -> tuple[np.ndarray, np.ndarray]:
    """The voyages nobody saw expected per period and vessel (S, P, V), and their count's
    variance per vessel (S, V), from the segments' weights (`schedule_weights`)."""
    _, mean, var = fleet.segments(streams.NUMPY, values, weights)
    return fleet.by_period(streams.NUMPY, values, mean), var @ values["fleet_onehot"]


def generate(p, route: RouteData, values: dict, rng, chunk: int = 250):
    """Estimands, pointwise log-likelihood and predictive draws for draws `p` (S,): the
    voyages nobody saw drawn per segment of each vessel's schedule (`fleet`), each loaded
    from its own vessel's prior; the containers per period shipped as the model has them
    (`streams.shipped` at the sampled latent totals); the depot and claims streams."""
    ops = streams.NUMPY
    first = voyages.first_sightings(p, values)
    seen = voyages.seen_probs(p, values, first)  # (S, 3, P, P)
    captures = route.captures.astype(float)
    out = {"loglik_captures": fleet.histories_loglik(ops, seen, route.period_days, captures),
           "pred_captures": predicted_captures(seen, route, rng)}
    weights = schedule_weights(p, values, first)
    out["loglik_schedule"] = fleet.segments(ops, values, weights)[0]
    n_periods = len(route.period_days)
    unseen = fleet.place(fleet.draw_unseen(weights, rng), values, n_periods, route.period_days)
    # a seen voyage counts where it left inside the window (near its edges, by chance)
    inside = rng.random((len(p["cycle_days"]), len(route.voyage_period))) < values["voyage_inside"]
    seen_period = inside.astype(float) @ (route.voyage_period[:, None] == np.arange(n_periods))
    out["voyages_period"] = seen_period + unseen.sum(axis=2)
    window = float(route.period_days.sum())
    cycle = np.asarray(p["vessel_cycle"], float)
    mean_cycle = cycle + np.asarray(p["break_prob"])[:, None] * window / 2.0
    future = rng.poisson(route.horizon_days / mean_cycle)  # (S, V) after the window
    explicit = voyages.voyage_loads(out, p, route, values, rng,
                                    np.concatenate([unseen, future[:, None, :]], axis=1),
                                    None, chunk, moments=True)
    out.update(voyages=out["voyages_period"].sum(axis=1), unseen_voyages=unseen.sum(axis=(1, 2)))
    out.update(voyages.detections(p, values, first))
    mean, var = expected_unseen(weights, values)
    return streams_generate(out, p, route, values, rng, values["seen_by_vessel"][None] + mean,
                            mean, fleet.weekly_rate(cycle, p["break_prob"], window),
                            explicit[:, -1] if route.horizon_days > 0 else None, var)


def predicted_captures(seen: np.ndarray, route: RouteData, rng) -> np.ndarray:
    """(S, P, 3): replicated capture histories of each period's recorded voyages, given
    how many were recorded (what `fleet.histories_loglik` is the density of)."""
    pi = np.einsum("p,shpq->sqh", route.period_days, seen)
    total = pi.sum(axis=-1, keepdims=True)
    pi = np.where(total > 0, pi / np.where(total > 0, total, 1.0), 1.0 / 3.0)
    return rng.multinomial(route.captures.sum(axis=1), pi / pi.sum(axis=-1, keepdims=True))


def streams_generate(out: dict, p, route: RouteData, values: dict, rng, rate_by_vessel,
                     unseen, weekly, future=None, unseen_var=None, claim_share=None) -> dict:
    """Steps 5-7 after sampling, on `out` (holding the loads' moments load_m1, load_m2): the
    containers shipped per period (the estimands follow them), the depot's and the claims'
    log-likelihood and predictive. rate_by_vessel, unseen (S, P, V): the voyages expected
    per period and vessel, all and unseen; weekly (S,) the rate after the window; future
    (S,) the containers after it (None: no horizon); unseen_var (S, V) as the model's;
    claim_share (S, C) the share of the whole each claim is about (None: all of it)."""
    S = len(weekly)
    m1, m2 = out.pop("load_m1"), out.pop("load_m2")
    mean_load = m1[:, route.n_groups:][:, values["vessel_cap_row"]] @ values["vessel_share"]
    rate = rate_by_vessel.sum(axis=2)
    horizon = len(values["day_period"])
    ops = streams.NUMPY
    daily = _flow(route, rate, weekly, horizon)  # voyages leaving per day (S, D)
    with np.errstate(invalid="ignore"):
        containers = streams.shipped(  # (S, P)
            ops, m1, m2, route.n_groups, values["moment_row"], values["voyage_in_period"],
            values["vessel_cap_row"], unseen, np.asarray(p["shipped_z"]),
            np.asarray(p["unseen_z"]), unseen_var)
    daily_containers = _flow(route, containers, weekly * mean_load, horizon)

    # the estimands follow the shipped totals; voyages after the window ride along
    voyages.set_containers(out, containers, future)

    col = lambda name: p[name][:, None]  # noqa: E731
    stock = col("depot_share") * streams.arrived(
        ops, daily_containers[:, None, :], depot_lags(values), col("rail_delay_days"),
        col("rail_delay_spread"))
    factor = np.stack([p["m2_per_container"], 1.0 / p["containers_per_railcar"], np.ones(S)],
                      axis=1)[:, values["depot_metric"]]
    mean = stock * factor
    out["loglik_depot"] = streams.depot_loglik(ops, mean, values["depot_value"], values["depot_sd"],
                                               values["depot_has_sd"], col("depot_noise_cv"))
    scale = np.where(values["depot_has_sd"] > 0.5, values["depot_sd"],
                     col("depot_noise_cv") * mean + 1e-3 * (1 + values["depot_value"]))
    out["pred_depot"] = rng.normal(mean, scale)
    outside = values["claim_outside"] * weekly[:, None] / 7
    exp_voy = daily @ values["claim_days"].T + outside
    exp_containers = daily_containers @ values["claim_days"].T + outside * mean_load[:, None]
    expected = np.where(values["claim_is_containers"] > 0.5, exp_containers, exp_voy)
    if claim_share is not None:
        expected = expected * claim_share
    out["claims_expected"] = expected  # (S, claims): the figure each claim states
    out["loglik_claims"] = streams.claim_loglik(ops, expected, values["claim_value"],
                                                values["claim_width"], values["claim_terms"])
    window = int(route.period_days.sum())
    end_lag = window - 1 - np.arange(horizon) - route.transit_days
    out["depot_stock"] = p["depot_share"] * streams.arrived(
        ops, daily_containers, streams.log_lag(end_lag), col("rail_delay_days"),
        col("rail_delay_spread"))
    return out


# ---------------------------------------------------------------- simulation (numpy)

def simulate(p: dict, template: RouteData, values: dict, rng: np.random.Generator,
             totals: str = "exact", **kw):
    """Data from this model's own generative process, on the shape of `template`.

    Step 1 sails each vessel on its schedule (`fleet.simulate_schedule`); steps 2-4 are
    voyages@2's for those departures (`voyages.simulate_voyages`); steps 5-7 add depot rows
    and claims on the template's schedule (`simulate_depot_and_claims`), with the voyages
    the model expects per period given the simulated sightings. The containers shipped per
    period are the sum of the simulated voyages' loads (totals="exact"), or the model's
    log-normal stand-in for that sum (totals="model", `model_totals`): the model's own
    prior predictive, which simulation-based calibration needs. Returns (RouteData, truth)."""
    if totals not in ("exact", "model"):
        raise ValueError(f"totals: {totals!r} is not 'exact' or 'model'")
    days = int(template.period_days.sum())
    sailed = fleet.simulate_schedule(p["vessel_cycle"], float(p["cycle_cv"]),
                                     float(p["break_prob"]), days, template.period_days, rng)
    route, truth = voyages.simulate_voyages(p, template, values, rng, None, None,
                                            departures=sailed, **kw)
    n_vessels = len(template.vessel_cap)
    truth["voyages_by_vessel"] = np.bincount([v for row in sailed for _, v in row],
                                             minlength=n_vessels).tolist()
    one = {k: np.asarray(v, float)[None] for k, v in p.items()}
    sim_values = {**values, **voyages.record_values(route), **fleet.layout(route)}
    unseen, var = expected_unseen(schedule_weights(one, sim_values), sim_values)
    flow = sim_values["seen_by_vessel"] + unseen[0]  # (P, V)
    if totals == "model":
        inside = fleet.inside_window(route, float(values["port_call_days_origin__median"]),
                                     float(values["port_call_days_destination__median"]))
        truth = model_totals(p, route, truth, values, unseen[0], var[0], inside)
    weekly = float(fleet.weekly_rate(one["vessel_cycle"], one["break_prob"], days)[0])
    return simulate_depot_and_claims(p, route, truth, template, values, rng, flow.sum(axis=1),
                                     weekly)


def rate_unseen(p: dict, route: RouteData, values: dict, rate_by_vessel) -> np.ndarray:
    """The voyages nobody saw expected per period and vessel (P, V) when voyages leave at
    `rate_by_vessel` (P, V): the rate times the chance to be seen at neither end (dynamic)."""
    one = {k: np.asarray(v, float)[None] for k, v in p.items() if np.ndim(v) == 0}
    seen = voyages.seen_probs(one, {**values, **voyages.record_values(route)})[0]  # (3, P, P)
    return rate_by_vessel * (1 - seen.sum(axis=(0, 2)))[:, None]


def model_totals(p: dict, route: RouteData, truth: dict, values: dict, unseen_by_vessel,
                 unseen_var=None, inside=None) -> dict:
    """truth with the containers shipped per period replaced by the model's: log-normal
    with the moments of the seen voyages' loads (given their counts, at the true
    parameters) plus the window's unseen voyages' (`streams.shipped`: `unseen_by_vessel`
    (P, V) expected, their count's variance per vessel `unseen_var`, else Poisson), at the
    draw's own `shipped_z` and `unseen_z`; `inside` (V,) each seen voyage's chance to have
    left inside the window (default 1). The voyage counts stay as simulated: the model
    draws them independently of the totals given the parameters, and so does this."""
    lv = voyages.load_values(route, float(values["unknown_coverage__alpha"]),
                             float(values["unknown_coverage__beta"]),
                             float(values["coverage_error__log_sd"]))
    alpha = 1.0 / max(float(p["load_cv"]), 1e-3) ** 2
    prior = loads.load_prior_logp(route.grid, lv["load_caps"], float(p["containers_per_voyage"]),
                                  alpha)
    post, _ = loads.normalised(prior[lv["group_cap_row"]] + lv["load_evidence"])
    g1, g2 = streams.load_moments(post, route.grid)  # counted groups, then capacities
    c1, c2 = streams.load_moments(np.exp(prior), route.grid)
    m1, m2 = np.concatenate([g1, c1]), np.concatenate([g2, c2])
    sv = seen_voyages(route, lv["vessel_cap_row"])
    in_period = sv["voyage_in_period"] * (1.0 if inside is None else inside[None, :])
    containers = streams.shipped(streams.NUMPY, m1, m2, route.n_groups, sv["moment_row"],
                                 in_period, lv["vessel_cap_row"], unseen_by_vessel,
                                 np.asarray(p["shipped_z"], float),
                                 np.asarray(p["unseen_z"], float), unseen_var)
    n = np.array([row["voyages"] for row in truth["series"]])
    total, n_total = float(containers.sum()), int(n.sum())
    series = [{**row, "containers": float(c), "containers_cumulative": float(cc)}
              for row, c, cc in zip(truth["series"], containers, np.cumsum(containers))]
    return {**truth, "series": series, "total_containers": total,
            "containers_per_voyage": total / n_total if n_total else None,
            "totals": "model"}


def schedule(template: RouteData) -> dict[str, np.ndarray]:
    """When the depot is measured, by which metric, and which claims are made: the
    template's own rows where it has them, else a default schedule (filled area at the
    end of every period from the second on, railcars mid-window, containers on the
    last day; a containers claim on the middle third of the window at medium
    confidence and a voyages claim on the whole window at high confidence)."""
    window = int(template.period_days.sum())
    ends = np.cumsum(template.period_days) - 1
    out = {}
    if len(template.depot_day):
        out.update(depot_day=template.depot_day.astype(float),
                   depot_metric=template.depot_metric.astype(int))
    else:
        days = [float(d) for d in ends[1:]] or [float(window - 1)]
        out.update(depot_day=np.array([*days, days[len(days) // 2], days[-1]], float),
                   depot_metric=np.array([0] * len(days) + [1, 2], int))
    if len(template.claim_first):
        out.update(claim_first=template.claim_first.astype(float),
                   claim_last=template.claim_last.astype(float),
                   claim_quantity=template.claim_quantity.astype(int),
                   claim_confidence=template.claim_confidence.astype(int))
    else:
        out.update(claim_first=np.array([window // 3, 0], float),
                   claim_last=np.array([max(2 * window // 3 - 1, window // 3), window - 1], float),
                   claim_quantity=np.array([0, 1], int),
                   claim_confidence=np.array([1, 2], int))
    return out


def _flow(route: RouteData, rate, weekly_outside, horizon: int):
    """Expected voyages leaving on each day 0..horizon-1: the period's rate inside the
    window, `weekly_outside` / 7 after it (as `depot_and_claims_story`).

    rate (..., P) and weekly_outside (...) for one draw or many; returns (..., horizon)."""
    day = np.arange(horizon)
    bounds = np.cumsum(route.period_days)
    period = np.minimum(np.searchsorted(bounds, day, side="right"), len(bounds) - 1)
    inside = day < int(route.period_days.sum())
    per_day = (np.asarray(rate) / route.period_days)[..., period]
    return np.where(inside, per_day, np.asarray(weekly_outside)[..., None] / 7.0)


def average_load(p: dict, grid, vessel_cap, vessel_share, chunk: int = 500) -> np.ndarray:
    """Mean containers per voyage over the vessels (weights `vessel_share`), each vessel's
    load truncated at its capacity: the mean load of the depot and claims; (S,) for S draws
    (chunked: the load prior is S x vessels x grid)."""
    mu = np.atleast_1d(np.asarray(p["containers_per_voyage"], float))
    alpha = 1.0 / np.maximum(np.atleast_1d(np.asarray(p["load_cv"], float)), 1e-3) ** 2
    out = np.empty(len(mu))
    for lo in range(0, len(mu), chunk):
        s = slice(lo, lo + chunk)
        probs = np.exp(loads.load_prior_logp(grid, vessel_cap, mu[s], alpha[s]))
        out[s] = (vessel_share * (probs * grid).sum(-1)).sum(-1)
    return out


def expected_claims(daily, daily_containers, weekly_outside, load, first, last, quantity):
    """Voyages (quantity 1) or containers (0) leaving in each claim's days: the daily flows
    inside the horizon, the expected flow (`weekly_outside`, `load`) beyond it."""
    day = np.arange(len(daily))
    inside = (day[None, :] >= first[:, None]) & (day[None, :] <= last[:, None])
    outside = (np.maximum(last - first + 1, 0) - inside.sum(axis=1)) * weekly_outside / 7.0
    return np.where(quantity == 0, inside @ daily_containers + outside * load,
                    inside @ daily + outside)


def simulate_depot_and_claims(p: dict, route: RouteData, truth: dict, template: RouteData,
                              values: dict, rng: np.random.Generator, rate, weekly_outside: float):
    """Steps 5-7 for voyages per period `rate` (P,) and the weekly rate after the window.

    The depot's stock is the flow of the containers shipped (truth's per-period series,
    spread evenly over each period's days; after the window the expected flow at the mean
    load, weighted by the route's `vessel_share` as the model weighs it), a share
    `depot_share` of it arriving after the log-normal rail delay. Each row is
    Normal(stock x conversion, depot_noise_cv x mean) (sd left empty, so the model uses
    depot_noise_cv), clipped at 0 (rare).

    A claim on the template's schedule states a round figure v drawn independently of the
    parameters (the expected figure under a second, independent draw from the prior) and
    says 'at_least v' with probability sigmoid((E - v) / s), else 'at_most v', where E is
    the figure the model reads (containers shipped in the claim's days, or the expected
    voyages) and s = claim_width x v / 1.702: exactly the model's claim likelihood
    (for an 'about' claim the model's term is no proper density of v, so none is drawn)."""
    sched = schedule(template)
    window = int(route.period_days.sum())
    transit = route.transit_days
    horizon = int(max([window, *(sched["depot_day"] + 1), *(sched["claim_last"] + 1)]))
    daily = _flow(route, rate, weekly_outside, horizon)
    load = float(average_load(p, route.grid, route.vessel_cap, route.vessel_share)[0])
    containers = np.array([row["containers"] for row in truth["series"]], float)
    daily_containers = _flow(route, containers, weekly_outside * load, horizon)
    ops = streams.NUMPY
    day = np.arange(horizon)

    # 5-6. the depot
    lag = sched["depot_day"][:, None] - day[None, :] - transit
    stock = p["depot_share"] * streams.arrived(ops, daily_containers[None, :],
                                               streams.log_lag(lag), p["rail_delay_days"],
                                               p["rail_delay_spread"])
    factor = np.array([p["m2_per_container"], 1.0 / p["containers_per_railcar"], 1.0])
    mean = stock * factor[sched["depot_metric"]]
    noisy = rng.normal(mean, p["depot_noise_cv"] * mean + 1e-3 * (1 + mean))
    value = np.maximum(noisy, 0.0)

    # 7. claims
    first, last, quantity = sched["claim_first"], sched["claim_last"], sched["claim_quantity"]
    expected = expected_claims(daily, daily_containers, weekly_outside, load, first, last, quantity)
    ref, ref_weekly = _reference(values, window, rng)
    ref_daily = _flow(route, ref_weekly * route.period_days / 7.0, ref_weekly, horizon)
    ref_load = float(average_load(ref, route.grid, route.vessel_cap, route.vessel_share)[0])
    ref_expected = expected_claims(ref_daily, ref_daily * ref_load, ref_weekly,
                                   ref_load, first, last, quantity)
    claim_value = np.array([_round_figure(x) for x in ref_expected])
    widths = np.array([float(values[f"claim_width__{c}"]) for c in CLAIM_CONFIDENCE])
    scale = widths[sched["claim_confidence"]] * np.maximum(claim_value, 1.0) / streams.LOGISTIC_SCALE
    at_least = rng.random(len(claim_value)) < 1.0 / (1.0 + np.exp(-(expected - claim_value) / scale))
    relation = np.where(at_least, CLAIM_RELATIONS.index("at_least"), CLAIM_RELATIONS.index("at_most"))

    route.depot_day, route.depot_metric = sched["depot_day"], sched["depot_metric"]
    route.depot_value, route.depot_sd = value, np.full(len(value), np.nan)
    route.claim_first, route.claim_last, route.claim_quantity = first, last, quantity
    route.claim_relation, route.claim_value = relation.astype(int), claim_value
    route.claim_confidence = sched["claim_confidence"]
    route.claim_origin = route.claim_destination = np.full(len(first), -1)  # the whole

    end_lag = window - 1 - day - transit
    truth = {**truth,
             "depot_stock": float(p["depot_share"] * streams.arrived(
                 ops, daily_containers, streams.log_lag(end_lag), p["rail_delay_days"],
                 p["rail_delay_spread"])),
             "mean_load": load,
             "depot_rows": [{"day": float(d), "metric": DEPOT_METRICS[m], "stock": float(s),
                             "mean": float(mu), "value": float(v)}
                            for d, m, s, mu, v in zip(sched["depot_day"], sched["depot_metric"],
                                                      stock, mean, value)],
             "depot_rows_clipped": int((noisy < 0).sum()),
             "claims": [{"first_day": float(f), "last_day": float(la),
                         "quantity": CLAIM_QUANTITIES[q], "relation": CLAIM_RELATIONS[r],
                         "value": float(v), "expected": float(e)}
                        for f, la, q, r, v, e in zip(first, last, quantity, relation,
                                                     claim_value, expected)]}
    return route, truth


def _reference(values: dict, window: int, rng) -> tuple[dict, float]:
    """An independent draw from the prior, and its weekly rate of voyages: the reference a
    simulated claim's figure is drawn from (voyages@2's rate where the family has it, else
    the fleet's schedule)."""
    if f"{RATE}__median" in values:
        ref = {k: float(v[0]) for k, v in voyages.prior_draws(values, 1, rng).items()}
        return ref, ref[RATE]
    draws = prior_draws(values, 1, rng)
    weekly = float(fleet.weekly_rate(draws["vessel_cycle"], draws["break_prob"], window)[0])
    return {k: float(v[0]) for k, v in draws.items() if np.ndim(v) == 1}, weekly


def _round_figure(x: float) -> float:
    """A stated figure: two significant digits, at least 1."""
    if not x >= 1:
        return 1.0
    step = 10.0 ** max(int(np.floor(np.log10(x))) - 1, 0)
    return float(max(round(x / step) * step, 1.0))
