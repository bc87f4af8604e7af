"""network@1: the voyages of a route network, each port watched at its own cadence.

A case may list several ports per end (case.yaml's origin and destination; voyages.csv's
origin_site and destination_site say where each voyage was seen). The other families
pool an end's ports, as if a pass over one looked at all of them. Here:

1. Each route r (origin port i x destination port j) is sailed at its own weekly rate
   voyages_per_week x share_r, share = softmax(`route_rate_sd` x u): the routes' shares
   pooled hierarchically, constant over the window. Any vessel may sail any route.
2. Each port has its own imagery record (`RouteData.site_usable_on`), so its own chance to
   see a call (`detection.chances`); the ports of an end share the call length, the
   identification and, without a record, the usable-day chance.
3. A voyage on route r is seen at i, at j, at both or at neither as those two ports' records
   say (`detection.histories`). The counts are kept per cell (`aggregate.site_cells`):
   seen at both ends, per route; at one origin only; at one destination only. A voyage
   seen at one end only could have sailed any route from (or to) that port: its cell's
   expected count sums over them, so the model shares it among them.
4-7. Loads, the depot and the claims as dynamic@5 has them (joint's streams), with the
   voyages per period summed over the routes.

The latent shapes follow the ports (origins x destinations), so one compiled model serves
every case with the same numbers of ports and periods.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy.stats import poisson

from dataclasses import replace

from ..observations.aggregate import RECORD_FROM, RouteData, call_passes, record_length, site_cells
from . import data, detection, joint, streams, voyages
from .joint import NOT_IN_GRAPH, STREAM_ROWS, graph_data, in_graph, without  # noqa: F401
from .priors import flat
from .voyages import ENDS, HISTORY_LABELS  # noqa: F401 (a one-ended stream's labels)

NAME = "network"
VERSION = 1
AUTO = False  # model=auto keeps to the one-route families
SEES_PORTS = True  # each port its own record: a run has no note that the ports are pooled
ASSUMPTIONS = (
    "Each route (origin port x destination port) is sailed at its own constant weekly "
    "rate, the routes' shares pooled (`route_rate_sd`); any vessel may sail any route.",
    "Each port's own passes decide how likely a call there is seen; the ports of an end "
    "share the call length and the chance that an image is recognised.",
    *joint.ASSUMPTIONS[1:6],
)
NETWORK_PRIORS = ("route_rate_sd",)
PRIOR_NAMES = (*voyages.PRIOR_NAMES, *joint.STREAM_PRIORS, *NETWORK_PRIORS)
PARAMS = (*voyages.PARAMS, *joint.STREAM_PARAMS, *NETWORK_PRIORS, "route_rate_z")
LOGLIK_DIMS = {**voyages.LOGLIK_DIMS, "captures": ("period", "cell"),
               "depot": ("depot_row",), "claims": ("claim",)}
PRED_DIMS = {**joint.PRED_DIMS, "captures": ("period", "cell")}
SCALARS = joint.SCALARS


def coords(route: RouteData) -> dict[str, list[str]]:
    """Labels of the captures' cells (`site_cells`) and of the routes."""
    names, n_o = route.site_names, route.n_origin_sites
    cells = [f"{names[i]}->{names[n_o + j]}" if h == 2 else
             (f"{names[i]} only" if h == 0 else f"{names[n_o + j]} only")
             for h, i, j in site_cells(n_o, len(names) - n_o)]
    return {"cell": cells, "route": route_names(route), "site": list(names),
            "destination_port": list(names[n_o:])}


def route_names(route: RouteData) -> list[str]:
    names, n_o = route.site_names, route.n_origin_sites
    return [f"{a}->{b}" for a in names[:n_o] for b in names[n_o:]]


def data_values(route: RouteData, priors) -> dict[str, np.ndarray]:
    values = joint.stream_values(route, priors, voyages.data_values(route, priors),
                                 sees_ports=True)
    values.update({k.replace(".", "__"): np.asarray(v, float)
                   for k, v in flat(priors, NETWORK_PRIORS).items()})
    return {**values, **site_values(route), "claim_routes": claim_routes(route)}


def claim_routes(route: RouteData) -> np.ndarray:
    """(C, R) 1 where claim c is about route r: every route through the ports it names
    (a claim naming none is about the whole network)."""
    n_d = len(route.site_names) - route.n_origin_sites
    r = np.arange(route.n_origin_sites * n_d)
    co, cd = route.claim_origin[:, None], route.claim_destination[:, None]
    return (((co < 0) | (co == r // n_d)) & ((cd < 0) | (cd == r % n_d))) * 1.0


def site_values(route: RouteData) -> dict[str, np.ndarray]:
    """The ports' data: the captures per cell, and each port's record laid out by call."""
    n_sites, n_o = len(route.site_names), route.n_origin_sites
    values = {"captures": route.captures_site.astype(float),  # (P, cells)
              "site_is_origin": (np.arange(n_sites) < n_o).astype(float),
              "site_has_record": np.asarray(route.site_has_record, float),
              "site_usable_days": np.asarray(route.site_usable_days, float),
              "site_imaged_days": np.asarray(route.site_imaged_days, float)}
    days = int(route.period_days.sum())
    for s in range(n_sites):
        end = 0 if s < n_o else 1
        record = np.zeros((2, route.site_usable_on.shape[1]))
        record[end] = route.site_usable_on[s]
        passes = call_passes(record, days, route.transit_days)[end]
        lay = detection.layout(passes, route.site_has_record[s], route.period_days,
                               forward=end == 1)
        values.update({f"site{s}_{k}": v for k, v in lay.items()})
    return values


def structure(values) -> tuple[int, int, int]:
    """Latent shapes: origin ports, destination ports, periods."""
    n_o = int(values["site_is_origin"].sum())
    return n_o, len(values["site_is_origin"]) - n_o, len(values["period_days"])


def observed(route: RouteData) -> dict:
    return {**joint.observed(route), "captures": route.captures_site}


def route_ends(n_o: int, n_d: int) -> tuple[np.ndarray, np.ndarray]:
    """(R, n_o) and (R, n_d): each route's origin and destination port, one-hot."""
    r = np.arange(n_o * n_d)
    return (np.eye(n_o)[r // n_d], np.eye(n_d)[r % n_d])


def cell_means(ops, rate, seen, n_o: int, n_d: int):
    """Expected voyages per recorded period and cell (..., P, cells) (`site_cells`): rate
    (..., P, R) per route, seen (..., R, 3, P, P) each route's capture histories."""
    to_o, to_d = route_ends(n_o, n_d)
    by = [ops.einsum("...pr,...rpq->...qr", rate, seen[..., h, :, :])
          for h in range(3)]  # (..., P recorded, R) per history
    return ops.concat([by[2], ops.matmul(by[0], to_o), ops.matmul(by[1], to_d)], axis=-1)


def site_story(d, n_o: int, n_d: int) -> list:
    """Step 2: each port's `detection.chances`, with its end's priors and its own record."""
    found, params = [], {}
    for i, end in enumerate(ENDS):
        usable = voyages._beta(f"usable_image_day_{end}", d)
        call_days = voyages._lognormal(f"port_call_days_{end}", d)
        recognised = voyages._beta(f"identification_{end}", d)
        params[end] = usable, call_days, recognised
    for s in range(n_o + n_d):
        end = ENDS[0 if s < n_o else 1]
        usable, call_days, recognised = params[end]
        pm.Potential(f"imagery_site{s}", pm.logp(
            pm.Binomial.dist(n=d["site_imaged_days"][s], p=usable), d["site_usable_days"][s]))
        usable = pt.where(d["site_has_record"][s] > 0.5, 1.0, usable)
        found.append(detection.chances(streams.TENSOR, site_layout(d, s), call_days,
                                       recognised, usable, d["call_k"],
                                       d["arrival_weights"] if s >= n_o else None))
    return found


def site_layout(d, s: int) -> dict:
    return {k: d[f"site{s}_{k}"] for k in detection.LAYOUT}


def route_seen(ops, found, d, n_o: int, n_d: int):
    """(..., R, 3, P, P): each route's capture histories from its two ports' chances."""
    return ops.stack([detection.histories(ops, found[i], found[n_o + j], site_layout(d, i),
                                          site_layout(d, n_o + j))
                      for i in range(n_o) for j in range(n_d)], axis=-4)


def build(values: dict[str, np.ndarray]) -> pm.Model:
    n_o, n_d, n_periods = structure(values)
    with pm.Model() as model:
        d = data.declare(in_graph(values))

        # 1. each route's rate, its share pooled across routes
        voyages_per_week = voyages._lognormal("voyages_per_week", d)
        spread = pm.HalfNormal("route_rate_sd", sigma=d["route_rate_sd__scale"])
        u = pm.Normal("route_rate_z", 0.0, 1.0, shape=n_o * n_d)
        share = pt.special.softmax(spread * u)
        rate = voyages_per_week * share[None, :] * d["period_days"][:, None] / 7.0  # (P, R)

        # 2-3. voyages seen, per cell, from each port's record
        found = site_story(d, n_o, n_d)
        seen = route_seen(streams.TENSOR, found, d, n_o, n_d)  # (R, 3, P, P)
        pm.Potential("captures_loglik", pm.logp(
            pm.Poisson.dist(mu=cell_means(streams.TENSOR, rate, seen, n_o, n_d)),
            d["captures"]).sum())
        for end, sites in (("origin", range(n_o)), ("destination", range(n_o, n_o + n_d))):
            pm.Deterministic(f"detection_{end}",
                             pt.stack([found[s][0].mean() for s in sites]).mean())

        # 4-7. loads, depot and claims as in dynamic@5, the routes summed per period
        parts = voyages.loads_story(d)
        total = rate.sum(axis=1)  # (P,)
        unseen = (rate * (1 - seen.sum(axis=(1, 3))).T).sum(axis=1)  # (P,)
        vessels = d["vessel_share"][None, :]
        joint.depot_and_claims_story(d, parts, total[:, None] * vessels, voyages_per_week,
                                     unseen[:, None] * vessels, n_periods,
                                     claim_share=pt.dot(d["claim_routes"], share))
    return model


def route_shares(p: dict) -> np.ndarray:
    """(S, R): each route's share of the voyages at draws p."""
    logits = np.asarray(p["route_rate_sd"])[:, None] * np.asarray(p["route_rate_z"])
    share = np.exp(logits - logits.max(axis=1, keepdims=True))
    return share / share.sum(axis=1, keepdims=True)


def first_sightings(p: dict, values: dict) -> list:
    """Each port's `detection.chances` (seen (S, D), recorded (S, R)) for draws p (S,)."""
    n_o, n_d, _ = structure(values)
    col = lambda name: np.atleast_1d(np.asarray(p[name], float))  # noqa: E731
    out = []
    for s in range(n_o + n_d):
        end = ENDS[0 if s < n_o else 1]
        usable = (np.ones_like(col(f"usable_image_day_{end}"))
                  if values["site_has_record"][s] > 0.5 else col(f"usable_image_day_{end}"))
        out.append(detection.chances(streams.NUMPY, site_layout(values, s),
                                     col(f"port_call_days_{end}"), col(f"identification_{end}"),
                                     usable, values["call_k"],
                                     values["arrival_weights"] if s >= n_o else None))
    return out


def generate(p, route: RouteData, values: dict, rng):
    n_o, n_d, _ = structure(values)
    rate = (np.asarray(p["voyages_per_week"])[:, None, None] * route_shares(p)[:, None, :]
            * route.period_days[None, :, None] / 7.0)  # (S, P, R)
    found = first_sightings(p, values)
    seen = route_seen(streams.NUMPY, found, values, n_o, n_d)  # (S, R, 3, P, P)
    missed = route_missed(rate, seen).sum(axis=2)  # (S, P)
    share = np.broadcast_to(route.vessel_share, (len(rate), len(route.vessel_share)))
    out = voyages.generate(p, route, values, rng, rate=rate.sum(axis=2), share=share,
                           moments=True, missed=missed)
    future = (out["forecast_containers"] - out["total_containers"]
              if "forecast_containers" in out else None)
    weekly = np.asarray(p["voyages_per_week"])
    unseen = missed[:, :, None] * route.vessel_share[None, None, :]
    out = joint.streams_generate(out, p, route, values, rng,
                                 rate.sum(axis=2)[:, :, None] * route.vessel_share[None, None, :],
                                 unseen, weekly, future,
                                 claim_share=route_shares(p) @ values["claim_routes"].T)
    out.update(route_estimands(out, route, rate, seen, n_o, n_d, rng))
    mu = cell_means(streams.NUMPY, rate, seen, n_o, n_d)  # (S, P, cells)
    out["loglik_captures"] = poisson.logpmf(route.captures_site[None], mu)
    out["pred_captures"] = rng.poisson(mu)
    for end, sites in (("origin", range(n_o)), ("destination", range(n_o, n_o + n_d))):
        out[f"detection_{end}"] = np.mean([found[s][0].mean(axis=1) for s in sites], axis=0)
    out["site_detection"] = np.stack([f[0].mean(axis=1) for f in found], axis=1)  # (S, sites)
    return out


ESTIMAND_DIMS = {"route_voyages": ("route",), "route_containers": ("route",),
                 "destination_containers": ("destination_port",),
                 "route_forecast_containers": ("route",), "site_detection": ("site",),
                 "route_containers_cumulative": ("period", "route")}


def route_missed(rate, seen) -> np.ndarray:
    """(S, P, R) voyages expected per period and route that no record holds: rate (S, P, R)
    times each route's chance to be seen at neither port (`route_seen` (S, R, 3, P, P))."""
    return rate * np.moveaxis(1 - seen.sum(axis=(2, 4)), 1, 2)


def route_voyages(route: RouteData, rate, seen, unseen, n_o: int, n_d: int, rng) -> np.ndarray:
    """(S, P, R) voyages per period and route: the voyages seen at both ends on their own
    route; a voyage seen at one port only on one of the routes through it, each as likely
    as the model expects a one-ended sighting there; the `unseen` (S, P) spread over the
    routes as the model expects them missed."""
    to_o, to_d = route_ends(n_o, n_d)
    counts = route.captures_site  # (P recorded, cells)
    out = np.zeros(rate.shape)
    out += counts[None, :, :n_o * n_d]
    for h, ends, first in ((0, to_o, n_o * n_d), (1, to_d, n_o * n_d + n_o)):
        expected = np.einsum("spr,srpq->sqr", rate, seen[:, :, h])  # (S, P recorded, R)
        for k in range(ends.shape[1]):
            n = counts[:, first + k]
            if not n.any():
                continue
            w = expected * ends[:, k] + 1e-300 * ends[:, k]
            out += rng.multinomial(np.broadcast_to(n, w.shape[:2]), w / w.sum(-1, keepdims=True))
    missed = route_missed(rate, seen) + 1e-300  # (S, P, R)
    return out + rng.multinomial(unseen, missed / missed.sum(-1, keepdims=True))


def route_estimands(out: dict, route: RouteData, rate, seen, n_o: int, n_d: int, rng) -> dict:
    """Totals per route and per destination port. A period's containers are shared among
    its routes in proportion to their voyages: any vessel may sail any route, so the
    model's loads do not depend on the route (a count's own route is not kept apart)."""
    observed = route.captures_site.sum(axis=1)[None, :]
    per = route_voyages(route, rate, seen, out["voyages_period"] - observed, n_o, n_d, rng)
    n = per.sum(axis=2, keepdims=True)
    overall = per.sum(axis=1, keepdims=True) / np.maximum(n.sum(axis=1, keepdims=True), 1)
    # a period whose containers came with voyages recorded in another: the window's shares
    share = np.where(n > 0, per / np.maximum(n, 1), overall)
    containers = out["containers_period"][:, :, None] * share  # (S, P, R)
    _, to_d = route_ends(n_o, n_d)
    totals = containers.sum(axis=1)
    res = {"route_voyages": per.sum(axis=1), "route_containers": totals,
           "destination_containers": totals @ to_d,
           "route_containers_cumulative": np.cumsum(containers, axis=1)}
    if "forecast_containers" in out:  # after the window, at each route's share of the rate
        share = rate.sum(axis=1) / rate.sum(axis=(1, 2))[:, None]
        res["route_forecast_containers"] = totals + share * (
            out["forecast_containers"] - out["total_containers"])[:, None]
    return res


def prior_draws(values, n, rng):
    out = joint.stream_prior_draws(values, n, rng, voyages.prior_draws(values, n, rng))
    n_o, n_d, _ = structure(values)
    out["route_rate_sd"] = np.abs(rng.normal(0, float(values["route_rate_sd__scale"]), n))
    out["route_rate_z"] = rng.normal(size=(n, n_o * n_d))
    return out


def simulate(p: dict, template: RouteData, values: dict, rng: np.random.Generator,
             totals: str = "exact", **kw):
    """Data from this model's own generative process, on the ports, periods and vessels
    of `template`: each port's imagery record (a usable pass each day with its end's
    chance), each route's voyages Poisson at its rate (`route_shares`) on vessels drawn by
    a Dirichlet(1, ..., 1) share, each seen at its two ports as voyages@2 has it
    (`voyages.simulate_voyages` on the route's two records), then depot rows and claims
    as joint's (`joint.simulate_depot_and_claims`). `totals` as joint.simulate. Returns
    (RouteData, truth); truth adds each route's voyages and containers."""
    if totals not in ("exact", "model"):
        raise ValueError(f"totals: {totals!r} is not 'exact' or 'model'")
    n_o, n_d, _ = structure(values)
    days = int(template.period_days.sum())
    n_record = record_length(days, template.transit_days)
    records = np.stack([rng.random(n_record) < float(p[f"usable_image_day_{ENDS[s >= n_o]}"])
                        for s in range(n_o + n_d)]).astype(float)
    one = {k: np.asarray(p[k], float)[None] for k in ("route_rate_sd", "route_rate_z")}
    share = route_shares(one)[0]
    vessel_share = rng.dirichlet(np.ones(len(template.vessel_cap)))
    parts = []
    for r in range(n_o * n_d):
        i, j = divmod(r, n_d)
        n_voyages = rng.poisson(float(p["voyages_per_week"]) * share[r]
                                * template.period_days / 7.0)
        parts.append(voyages.simulate_voyages(
            p, template, values, rng, n_voyages,
            lambda period: rng.choice(len(vessel_share), p=vessel_share),
            usable_on=records[[i, n_o + j]], **kw))
    route, truth = merge(template, parts, records, n_o, n_d)
    weekly = float(p["voyages_per_week"])
    rate = weekly * template.period_days / 7.0
    if totals == "model":
        sim = {**values, **site_values(route)}
        p1 = {k: np.asarray(v, float)[None] for k, v in p.items()}
        found = first_sightings(p1, sim)
        seen = route_seen(streams.NUMPY, found, sim, n_o, n_d)[0]  # (R, 3, P, P)
        missed = route_missed((rate[:, None] * share[None, :])[None], seen[None])[0].sum(axis=1)
        truth = joint.model_totals(p, route, truth, values,
                                   missed[:, None] * route.vessel_share[None, :])
    route, truth = joint.simulate_depot_and_claims(p, route, truth, template, values, rng,
                                                   rate, weekly)
    truth["vessel_share"] = vessel_share.tolist()
    return route, truth


def merge(template: RouteData, parts: list, records: np.ndarray, n_o: int, n_d: int):
    """One network's RouteData and truth from its routes' (route r = origin r // n_d,
    destination r % n_d), each simulated on its two ports' records."""
    P = len(template.period_days)
    captures_site = np.zeros((P, n_o * n_d + n_o + n_d), int)
    cat = lambda name, kind=float: np.concatenate(  # noqa: E731
        [np.asarray(getattr(rd, name), kind) for rd, _ in parts])
    groups, offset = [], 0
    count_groups = []
    for rd, _ in parts:
        groups.append(np.where(rd.voyage_group >= 0, rd.voyage_group + offset, -1))
        count_groups.append(rd.count_group + offset)
        offset += len(rd.group_cap)
    for r, (rd, _) in enumerate(parts):
        i, j = divmod(r, n_d)
        captures_site[:, r] += rd.captures[:, 2]
        captures_site[:, n_o * n_d + i] += rd.captures[:, 0]
        captures_site[:, n_o * n_d + n_o + j] += rd.captures[:, 1]
    v_vessel = cat("voyage_vessel", int)
    seen_per_vessel = np.bincount(v_vessel, minlength=len(template.vessel_cap))
    days = int(template.period_days.sum())
    inside = slice(-RECORD_FROM, -RECORD_FROM + days)
    pooled = np.stack([records[:n_o].max(axis=0), records[n_o:].max(axis=0)])
    first = parts[0][0]
    route = replace(
        first, captures=sum(rd.captures for rd, _ in parts),
        captures_vessel=sum(rd.captures_vessel for rd, _ in parts),
        voyage_period=cat("voyage_period", int), voyage_vessel=v_vessel,
        voyage_group=np.concatenate(groups).astype(int), visible=cat("visible"),
        coverage=cat("coverage"), coverage_known=cat("coverage_known", bool),
        count_group=np.concatenate(count_groups).astype(int), group_cap=cat("group_cap"),
        usable_days=pooled[:, inside].sum(axis=1), usable_on=pooled,
        vessel_share=(1 + seen_per_vessel) / (1 + seen_per_vessel).sum(),
        voyage_origin_day=cat("voyage_origin_day"),
        voyage_destination_day=cat("voyage_destination_day"), count_day=cat("count_day"),
        site_names=template.site_names, n_origin_sites=n_o, site_usable_on=records,
        site_has_record=np.ones(n_o + n_d), site_usable_days=records[:, inside].sum(axis=1),
        site_imaged_days=np.full(n_o + n_d, float(days)), captures_site=captures_site)
    truths = [t for _, t in parts]
    n = np.sum([[row["voyages"] for row in t["series"]] for t in truths], axis=0)
    c = np.sum([[row["containers"] for row in t["series"]] for t in truths], axis=0)
    total, n_total = float(c.sum()), int(n.sum())
    truth = {
        "total_containers": total, "voyages": float(n_total),
        "voyages_seen": sum(t["voyages_seen"] for t in truths),
        "containers_per_voyage": total / n_total if n_total else None,
        **{f"detection_{end}": float(np.mean([t[f"detection_{end}"] for t in truths]))
           for end in ENDS},
        "series": [{**row, "voyages": int(v), "containers": float(cc),
                    "voyages_cumulative": int(vc), "containers_cumulative": float(ccc)}
                   for row, v, cc, vc, ccc in zip(truths[0]["series"], n, c, np.cumsum(n),
                                                  np.cumsum(c))],
        "route_voyages": [t["voyages"] for t in truths],
        "route_containers": [t["total_containers"] for t in truths],
        "voyage_log": [dict(e, route=r) for r, t in enumerate(truths) for e in t["voyage_log"]],
    }
    return route, truth
