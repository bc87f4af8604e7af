"""joint@5: the voyages model plus the depot's fill and third-party claims.

The story continues from voyages@2 (steps 1-4):
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
such fits made calibration's tail of slow simulations (README, Calibration).

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
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ..observations.aggregate import (CLAIM_CONFIDENCE, CLAIM_QUANTITIES, CLAIM_RELATIONS,
                                      DEPOT_METRICS, RouteData)
from . import data, loads, streams, voyages
from .priors import flat, share_draws
from .voyages import HISTORY_LABELS  # noqa: F401 (labels of the captures stream)

NAME = "joint"
VERSION = 5
ASSUMPTIONS = (
    *voyages.ASSUMPTIONS[:4],
    "A period's containers leave evenly over its days, the voyages nobody saw shared among "
    "the periods as expected; a share of them reaches the depot after a log-normal rail "
    "delay; the depot is empty when the window starts; unless stated, nothing is known of "
    "the share but that it is at most 1 (log-uniform from 0.01).",
    "A third-party figure is a noisy statement whose width follows its stated confidence; "
    "it never overrides the data.",
    "After the window, voyages go on at the window's rate, at the mean load.",
)
PRIOR_NAMES = (*voyages.PRIOR_NAMES, "depot_share", "rail_delay_days", "rail_delay_spread",
               "m2_per_container", "containers_per_railcar", "depot_noise_cv", "claim_width")
JOINT_PRIORS = PRIOR_NAMES[len(voyages.PRIOR_NAMES):]
# reach the model through derived data (load_evidence, claim_width), not as pm.Data
NOT_IN_GRAPH = (*voyages.NOT_IN_GRAPH, "claim_width__low", "claim_width__medium",
                "claim_width__high")
LOGLIK_DIMS = {**voyages.LOGLIK_DIMS, "depot": ("depot_row",), "claims": ("claim",)}
PRED_DIMS = {**voyages.PRED_DIMS, "depot": ("depot_row",)}
SCALARS = (*voyages.SCALARS, "depot_stock")
PARAMS = (*voyages.PARAMS, "depot_share", "rail_delay_days", "rail_delay_spread",
          "m2_per_container", "containers_per_railcar", "depot_noise_cv", "shipped_z",
          "unseen_z")


def data_values(route: RouteData, priors) -> dict[str, np.ndarray]:
    values = voyages.data_values(route, priors)
    values.update({k.replace(".", "__"): np.asarray(v, float)
                   for k, v in flat(priors, JOINT_PRIORS).items()})
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
        claim_terms=streams.CLAIM_TERMS[route.claim_relation].reshape(-1, 3),
        claim_is_containers=(route.claim_quantity == 0) * 1.0,
        **seen_voyages(route, values["vessel_cap_row"]),
    )
    return values


def seen_voyages(route: RouteData, vessel_cap_row) -> dict[str, np.ndarray]:
    """The voyages seen: their period (P, Vobs), and their load's row in the loads'
    moments [count groups, capacities] (`streams.load_moments`)."""
    periods = np.arange(len(route.period_days))
    return {"voyage_in_period": (route.voyage_period[None, :] == periods[:, None]) * 1.0,
            "moment_row": np.where(route.voyage_group >= 0, route.voyage_group,
                                   route.n_groups + vessel_cap_row[route.voyage_vessel])}


def structure(values) -> tuple[int]:
    """Latent shapes: one shipped total per period."""
    return (len(values["period_days"]),)


def in_graph(values: dict) -> dict:
    return {k: v for k, v in values.items() if k not in NOT_IN_GRAPH}


def graph_data(values: dict) -> dict:
    """The pm.Data containers' values, for `with_data`."""
    return data.pack(in_graph(values))


# each stream's rows among the data (the arrays with one entry per row, first axis)
STREAM_ROWS = {"depot": ("depot_lag_index", "depot_metric", "depot_value", "depot_sd",
                         "depot_has_sd"),
               "claims": ("claim_days", "claim_outside", "claim_value", "claim_width",
                          "claim_terms", "claim_is_containers")}


def without(values: dict, streams) -> dict:
    """The data with the rows of `streams` (depot, claims) dropped: the same model, fitted
    to the other streams only (`inference.conflict`). The shapes are data, so the one
    compiled model takes them."""
    out = dict(values)
    for stream in streams:
        for key in STREAM_ROWS[stream]:
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
    with pm.Model() as model:
        d = data.declare(in_graph(values))
        parts = voyages.route_story(d)
        rate_by_vessel = parts["rate"][:, None] * d["vessel_share"][None, :]
        depot_and_claims_story(d, parts, rate_by_vessel, parts["voyages_per_week"],
                               parts["unseen_prob"], *structure(values))
    return model


def depot_and_claims_story(d, parts, rate_by_vessel, weekly_outside, unseen_prob, n_periods):
    """Steps 5-7, given voyages per period and vessel `rate_by_vessel` (P, V), the weekly
    rate outside the window and the chance (P,) that a voyage is not seen at all."""
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
                              d["voyage_in_period"], d["vessel_cap_row"],
                              rate_by_vessel * unseen_prob[:, None], z, z_unseen)
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
    pm.Potential("claims_loglik", streams.claim_loglik(
        streams.TENSOR, expected, d["claim_value"], d["claim_width"], d["claim_terms"]).sum())


def prior_draws(values, n, rng):
    out = voyages.prior_draws(values, n, rng)
    v = {k: float(np.asarray(x)) for k, x in values.items() if np.ndim(x) == 0}
    for name in ("rail_delay_days", "rail_delay_spread", "m2_per_container", "containers_per_railcar",
                 "depot_noise_cv"):
        out[name] = rng.lognormal(np.log(v[f"{name}__median"]), v[f"{name}__log_sd"], n)
    out["depot_share"] = share_draws(rng, v["depot_share__alpha"], v["depot_share__beta"],
                                     v["depot_share__floor"], n)
    out["shipped_z"] = rng.normal(size=(n, *structure(values)))
    out["unseen_z"] = rng.normal(size=n)
    return out


def generate(p, route: RouteData, values: dict, rng, chunk: int = 250, rate=None, share=None,
             future_weekly=None, rate_by_vessel=None):
    """As voyages.generate, with the containers per period shipped as the model has them
    (`streams.shipped` at the sampled latent totals) and the depot and claims streams.

    Later families pass `rate_by_vessel` (S, P, V) with their `rate` (S, P)."""
    out = voyages.generate(p, route, values, rng, rate=rate, share=share,
                           future_weekly=future_weekly, chunk=chunk, moments=True)
    S = len(p["voyages_per_week"])
    m1, m2 = out.pop("load_m1"), out.pop("load_m2")
    mean_load = m1[:, route.n_groups:][:, values["vessel_cap_row"]] @ values["vessel_share"]
    if rate is None:
        rate = p["voyages_per_week"][:, None] * route.period_days[None, :] / 7.0
    if rate_by_vessel is None:
        rate_by_vessel = rate[:, :, None] * values["vessel_share"][None, None, :]
    weekly = p["voyages_per_week"] if future_weekly is None else future_weekly
    horizon = len(values["day_period"])
    ops = streams.NUMPY
    daily = _flow(route, rate, weekly, horizon)  # voyages leaving per day (S, D)
    unseen = rate_by_vessel * (1 - voyages.seen_probs(p, values).sum(axis=(1, 3)))[:, :, None]
    with np.errstate(invalid="ignore"):
        containers = streams.shipped(  # (S, P)
            ops, m1, m2, route.n_groups, values["moment_row"], values["voyage_in_period"],
            values["vessel_cap_row"], unseen, np.asarray(p["shipped_z"]),
            np.asarray(p["unseen_z"]))
    daily_containers = _flow(route, containers, weekly * mean_load, horizon)

    # the estimands follow the shipped totals; voyages after the window ride along
    future = (out["forecast_containers"] - out["total_containers"]
              if "forecast_containers" in out else None)
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

    Steps 1-4 are voyages@2's (`voyages.simulate`); steps 5-7 add depot rows and claims
    on the template's schedule (`simulate_depot_and_claims`). The containers shipped per
    period are the sum of the simulated voyages' loads (totals="exact"), or the model's
    log-normal stand-in for that sum (totals="model", `model_totals`): the model's own
    prior predictive, which simulation-based calibration needs. Returns (RouteData, truth)."""
    if totals not in ("exact", "model"):
        raise ValueError(f"totals: {totals!r} is not 'exact' or 'model'")
    route, truth = voyages.simulate(p, template, values, rng, **kw)
    rate = p["voyages_per_week"] * route.period_days / 7.0
    if totals == "model":
        truth = model_totals(p, route, truth, values, rate[:, None] * route.vessel_share[None, :])
    return simulate_depot_and_claims(p, route, truth, template, values, rng, rate,
                                     float(p["voyages_per_week"]))


def model_totals(p: dict, route: RouteData, truth: dict, values: dict, rate_by_vessel) -> dict:
    """truth with the containers shipped per period replaced by the model's: log-normal
    with the moments of the seen voyages' loads (given their counts, at the true
    parameters) plus the window's unseen voyages' (`streams.shipped`), at the draw's own
    `shipped_z` and `unseen_z`. The voyage counts stay as simulated: the model draws them
    independently of the totals given the parameters, and so does this."""
    lv = voyages.load_values(route, float(values["unknown_coverage__alpha"]),
                             float(values["unknown_coverage__beta"]),
                             float(values["coverage_error__log_sd"]))
    alpha = 1.0 / max(float(p["load_cv"]), 1e-3) ** 2
    prior = loads.load_prior_logp(route.grid, lv["load_caps"], float(p["containers_per_voyage"]),
                                  alpha)
    post, _ = loads.normalised(prior[lv["group_cap_row"]] + lv["load_evidence"])
    m1, m2 = streams.load_moments(streams.NUMPY, np.exp(prior), post, route.grid)
    one = {k: np.asarray(v, float)[None] for k, v in p.items() if np.ndim(v) == 0}
    seen = voyages.seen_probs(one, {**values, **voyages.record_values(route)})[0]  # (3, P, P)
    sv = seen_voyages(route, lv["vessel_cap_row"])
    containers = streams.shipped(streams.NUMPY, m1, m2, route.n_groups, sv["moment_row"],
                                 sv["voyage_in_period"], lv["vessel_cap_row"],
                                 rate_by_vessel * (1 - seen.sum(axis=(0, 2)))[:, None],
                                 np.asarray(p["shipped_z"], float),
                                 np.asarray(p["unseen_z"], float))
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
    ref = {k: float(v[0]) for k, v in voyages.prior_draws(values, 1, rng).items()}
    ref_daily = _flow(route, ref["voyages_per_week"] * route.period_days / 7.0,
                      ref["voyages_per_week"], horizon)
    ref_load = float(average_load(ref, route.grid, route.vessel_cap, route.vessel_share)[0])
    ref_expected = expected_claims(ref_daily, ref_daily * ref_load, ref["voyages_per_week"],
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


def _round_figure(x: float) -> float:
    """A stated figure: two significant digits, at least 1."""
    if not x >= 1:
        return 1.0
    step = 10.0 ** max(int(np.floor(np.log10(x))) - 1, 0)
    return float(max(round(x / step) * step, 1.0))
