"""dynamic@5: the joint model with voyage rates that change between periods and vessels.

Replaces step 1 of the story: each vessel v sails at a weekly rate
    voyages_per_week x share_v x exp(walk[p, v]),
where share_v = softmax(`vessel_rate_sd` x u_v) pools the vessels hierarchically and
walk[., v] is a non-centred random walk over periods with step `rate_walk_sd`,
starting at 0 in the first period. A pause,
or a vessel joining or leaving the route, shows as the walk falling or rising instead
of being averaged away. Capture histories are counted per vessel. Steps 2-7 are those
of joint@5 (version 3: joint's centred shipped totals; version 4: joint's log-normal
`depot_noise_cv`; version 5: joint@5's log-uniform `depot_share` and voyages@2's
detection from the imagery record). Its latent shapes follow the periods and vessels, so one compiled
model serves every case with the same number of each.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy.stats import poisson

from ..observations.aggregate import RouteData
from . import data, joint, voyages
from .joint import NOT_IN_GRAPH, STREAM_ROWS, graph_data, in_graph, without  # noqa: F401 (the family's data rules)
from .priors import flat
from .voyages import HISTORY_LABELS  # noqa: F401

NAME = "dynamic"
VERSION = 5
ASSUMPTIONS = (
    "Each vessel's weekly rate drifts between periods (a random walk), its share of the "
    "route pooled across vessels; after the window, the last period's rate goes on.",
    *joint.ASSUMPTIONS[1:4],
    *joint.ASSUMPTIONS[4:6],
)
DYNAMIC_PRIORS = ("rate_walk_sd", "vessel_rate_sd")
PRIOR_NAMES = (*voyages.PRIOR_NAMES, *joint.STREAM_PRIORS, *DYNAMIC_PRIORS)
PARAMS = (*voyages.PARAMS, *joint.STREAM_PARAMS, *DYNAMIC_PRIORS, "rate_walk_z", "vessel_rate_z")
LOGLIK_DIMS = {**voyages.LOGLIK_DIMS, "captures": ("period", "vessel", "history"),
               "depot": ("depot_row",), "claims": ("claim",)}
PRED_DIMS = {**joint.PRED_DIMS, "captures": ("period", "vessel", "history")}
SCALARS = joint.SCALARS


def data_values(route: RouteData, priors) -> dict[str, np.ndarray]:
    values = joint.stream_values(route, priors, voyages.data_values(route, priors))
    values.update({k.replace(".", "__"): np.asarray(v, float)
                   for k, v in flat(priors, DYNAMIC_PRIORS).items()})
    values["captures"] = route.captures_vessel.astype(float)  # (P, V, 3)
    return values


def structure(values) -> tuple[int, int]:
    """Latent shapes: periods x vessels."""
    return tuple(values["captures"].shape[:2])


def observed(route: RouteData) -> dict:
    return {**joint.observed(route), "captures": route.captures_vessel}


def build(values: dict[str, np.ndarray]) -> pm.Model:
    n_periods, n_vessels = structure(values)
    with pm.Model() as model:
        d = data.declare(in_graph(values))

        # 1'. each vessel's rate, pooled across vessels, drifting between periods
        voyages_per_week = voyages._lognormal("voyages_per_week", d)
        step = pm.HalfNormal("rate_walk_sd", sigma=d["rate_walk_sd__scale"])
        spread = pm.HalfNormal("vessel_rate_sd", sigma=d["vessel_rate_sd__scale"])
        z = pm.Normal("rate_walk_z", 0.0, 1.0, shape=(n_periods - 1, n_vessels))
        u = pm.Normal("vessel_rate_z", 0.0, 1.0, shape=n_vessels)
        weekly = weekly_rates(voyages_per_week, step, spread, z, u, pt)  # (P, V)
        rate = weekly * d["period_days"][:, None] / 7.0

        # 2-3. voyages seen per vessel, by capture history
        seen = voyages.seen_story(d)  # (3, P departed, P recorded)
        pm.Potential("captures_loglik", pm.logp(
            pm.Poisson.dist(mu=pt.einsum("pv,hpq->qvh", rate, seen)), d["captures"]).sum())

        # 4-7. loads, depot and claims as in joint@5; after the window, the last period's rate
        parts = voyages.loads_story(d)
        joint.depot_and_claims_story(d, parts, rate, weekly[-1].sum(),
                                     rate * (1 - seen.sum(axis=(0, 2)))[:, None], n_periods)
    return model


def weekly_rates(level, step, spread, z, u, xp):
    """Weekly voyages per period and vessel, for one draw (xp=pt) or many (xp=np).

    The walk starts at 0 in the first period; z holds its P - 1 steps per vessel."""
    if xp is np:
        walk = np.cumsum(step[:, None, None] * z, axis=1)
        walk = np.concatenate([np.zeros_like(walk[:, :1]), walk], axis=1)
    else:
        walk = pt.concatenate([pt.zeros_like(z[:1]), pt.cumsum(step * z, axis=0)], axis=0)
    logits = spread[..., None] * u
    share = xp.exp(logits - logits.max(axis=-1, keepdims=True))
    share = share / share.sum(axis=-1, keepdims=True)
    if xp is np:
        return level[:, None, None] * share[:, None, :] * np.exp(walk)
    return level * share[None, :] * pt.exp(walk)


def prior_draws(values, n, rng):
    out = joint.stream_prior_draws(values, n, rng, voyages.prior_draws(values, n, rng))
    n_periods, n_vessels = structure(values)
    out["rate_walk_sd"] = np.abs(rng.normal(0, float(values["rate_walk_sd__scale"]), n))
    out["vessel_rate_sd"] = np.abs(rng.normal(0, float(values["vessel_rate_sd__scale"]), n))
    out["rate_walk_z"] = rng.normal(size=(n, n_periods - 1, n_vessels))
    out["vessel_rate_z"] = rng.normal(size=(n, n_vessels))
    return out


def generate(p, route: RouteData, values: dict, rng):
    weekly = weekly_rates(p["voyages_per_week"], p["rate_walk_sd"], p["vessel_rate_sd"],
                          p["rate_walk_z"], p["vessel_rate_z"], np)  # (S, P, V)
    rate_pv = weekly * route.period_days[None, :, None] / 7.0
    by_vessel = rate_pv.sum(axis=1)
    out = voyages.generate(p, route, values, rng, rate=rate_pv.sum(axis=2),
                           share=by_vessel / by_vessel.sum(axis=1, keepdims=True),
                           future_weekly=weekly[:, -1].sum(axis=1), moments=True)
    seen = voyages.seen_probs(p, values)  # (S, 3, P departed, P recorded)
    future = (out["forecast_containers"] - out["total_containers"]
              if "forecast_containers" in out else None)
    unseen = rate_pv * (1 - seen.sum(axis=(1, 3)))[:, :, None]
    out = joint.streams_generate(out, p, route, values, rng, rate_pv, unseen,
                                 weekly[:, -1].sum(axis=1), future)
    mu = np.einsum("spv,shpq->sqvh", rate_pv, seen)
    out["loglik_captures"] = poisson.logpmf(route.captures_vessel[None], mu)
    out["pred_captures"] = rng.poisson(mu)
    return out


def vessel_rates(p: dict) -> np.ndarray:
    """Weekly voyages per period and vessel (S, P, V) at draws p: who sailed the voyages
    nobody saw, in proportion (`plan_imagery`)."""
    return weekly_rates(np.asarray(p["voyages_per_week"]), np.asarray(p["rate_walk_sd"]),
                        np.asarray(p["vessel_rate_sd"]), np.asarray(p["rate_walk_z"]),
                        np.asarray(p["vessel_rate_z"]), np)


def simulate(p: dict, template: RouteData, values: dict, rng: np.random.Generator,
             totals: str = "exact", **kw):
    """Data from this model's own generative process, on the shape of `template`.

    Vessel v sails N[p, v] ~ Poisson(weekly[p, v] x days_p / 7) voyages in period p (step 1');
    steps 2-4 are voyages@2's (`voyages.simulate_voyages`), with capture histories per
    vessel; steps 5-7 are joint@5's, with the last period's rate after the window;
    `totals` as joint.simulate. `p` holds one draw (as `prior_draws(...)[k][0]`).
    Returns (RouteData, truth)."""
    one = {k: np.asarray(p[k], float)[None] for k in
           ("voyages_per_week", "rate_walk_sd", "vessel_rate_sd", "rate_walk_z", "vessel_rate_z")}
    weekly = weekly_rates(one["voyages_per_week"], one["rate_walk_sd"], one["vessel_rate_sd"],
                          one["rate_walk_z"], one["vessel_rate_z"], np)[0]  # (P, V)
    rate_pv = weekly * template.period_days[:, None] / 7.0
    n_pv = rng.poisson(rate_pv)
    queue = [list(np.repeat(np.arange(n_pv.shape[1]), n_pv[i])) for i in range(len(n_pv))]
    route, truth = voyages.simulate_voyages(p, template, values, rng, n_pv.sum(axis=1),
                                            lambda period: queue[period].pop(), **kw)
    if totals == "model":
        truth = joint.model_totals(p, route, truth, values,
                                   joint.rate_unseen(p, route, values, rate_pv))
    route, truth = joint.simulate_depot_and_claims(p, route, truth, template, values, rng,
                                                   rate_pv.sum(axis=1), float(weekly[-1].sum()))
    truth["weekly_rates"] = weekly.tolist()  # (P, V): voyages per week by period and vessel
    truth["voyages_by_vessel"] = n_pv.tolist()
    return route, truth
