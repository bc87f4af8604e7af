"""Imagery options of `cargoinfer plan` (work in progress, issue 22): archive passes at a
site on days of the window nobody looked at, and what they would show at one posterior
draw.

At the outer draw s, the voyages a pass could show are those not yet seen at the site's
end: the seen voyages seen only at the other end, and the voyages nobody saw, drawn as
the family has them (joint: per segment of each vessel's schedule, `fleet`), on the
vessel's schedule (`_days`). A usable pass on a day the ship is at the berth for a share w of
the day shows and recognises it with chance identification x w (`detection`). The first
such pass dates the sighting. The call's length and late start are drawn given that the
record so far missed the voyage at that end (`detection.misses`): short calls are missed
more often, and drawing them from their prior made the passes show too much. Joint draws
the voyages nobody saw per segment of each vessel's schedule; voyages and dynamic per
period, on days in proportion to the chance of being missed (`_unseen_by_period`);
network per period and route, and a pass at one port shows only the voyages that called
there, with that port's own record (`_network_candidates`).

Passes after the window (tasked) are simulated the same way: they can only show the
window's voyages still on their way to the destination, which is all a model reads of the
days after the window (`aggregate.record_length`). Voyages leaving after the window are
not data to any family, so tasked passes do not sharpen a forecast beyond those.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np
import polars as pl

from ..models import detection, fleet
from ..observations.aggregate import departure, voyage_ports


class ImageryError(ValueError):
    """An imagery option that cannot be simulated for this run (one line)."""


def pass_days(case, option) -> list[date]:
    """The option's passes: days from start to end with no imagery row at its site yet,
    `passes` of them spread evenly."""
    taken = set(case.tables["imagery"].filter(pl.col("site") == option.site)["date"].to_list())
    days = [option.start + timedelta(days=k) for k in range((option.end - option.start).days + 1)]
    days = [d for d in days if d not in taken]
    if not days or not option.passes:
        return []
    idx = np.unique(np.linspace(0, len(days) - 1, min(option.passes, len(days))).round()
                    .astype(int))
    return [days[i] for i in idx]


def usable_share(case, option, drawn: float | None = None) -> float:
    """The share of the option's passes with a usable image: its own; else the model's
    (`drawn`, the outer draw's `usable_image_day_<end>`, which every family with imagery
    fits to the end's record); else its site's so far, as (usable + 1) / (rows + 2), so a
    site with two unusable rows is not taken never to give a usable image."""
    if option.usable is not None:
        return float(option.usable)
    if drawn is not None:
        return float(drawn)
    rows = case.tables["imagery"].filter(pl.col("site") == option.site)
    return (float(rows["usable"].sum()) + 1.0) / (rows.height + 2.0)


def _end(case, site: str) -> str:
    return "origin" if site in case.spec.origin else "destination"


def _candidates(ctx, s: int, site: str, rng) -> list[tuple[int | None, int, int]]:
    """(row of voyages.csv or None for a voyage nobody saw, vessel index, departure day)
    of the voyages not yet seen at `site`'s end, at draw s (network: that might call at
    `site`)."""
    if ctx.family.NAME == "network":
        return _network_candidates(ctx, s, site, rng)
    if ctx.family.NAME not in ("joint", "voyages", "dynamic"):
        raise ImageryError(f"imagery options need a family that draws the voyages nobody "
                           f"saw (joint, voyages, dynamic, network), not {ctx.family.NAME}")
    end = _end(ctx.case, site)
    out = [(i, vessel, t) for i, _, vessel, t in _seen_elsewhere(ctx, end)]
    p = {k: v[[s]] for k, v in ctx.draws.items()}
    if ctx.family.NAME != "joint":
        return out + _unseen_by_period(ctx, p, rng)
    from ..models import joint

    weights = joint.schedule_weights(p, ctx.values)
    unseen = fleet.draw_unseen(weights, rng)[0]  # (J,)
    cycle = np.asarray(p["vessel_cycle"], float)[0]
    lay, days = ctx.values, int(np.sum(ctx.route.period_days))
    for j, m in enumerate(unseen):
        if m:
            v = int(lay["fleet_vessel"][j])
            out += [(None, v, t) for t in _days(int(lay["fleet_kind"][j]), lay["fleet_lo"][j],
                                                lay["fleet_length"][j], int(m), cycle[v],
                                                days, rng)]
    return out


def _seen_elsewhere(ctx, end: str):
    """(row of voyages.csv, the row, vessel index, departure day) of each voyage seen in
    the window at the other end only."""
    spec, route = ctx.case.spec, ctx.route
    days = int(np.sum(route.period_days))
    dep = fleet.departure_days(route)
    seen_here = route.voyage_origin_day if end == "origin" else route.voyage_destination_day
    names = [v.name for v in spec.vessels]
    transit = int(ctx.cfg.model.transit_days)
    j = -1  # the route's row: voyages.csv's rows whose departure falls in the window
    for i, row in enumerate(ctx.case.voyages.iter_rows(named=True)):
        if not spec.start <= departure(row, transit) <= spec.end:
            continue
        j += 1
        if row[f"{end}_seen"] is None and np.isnan(seen_here[j]) and 0 <= dep[j] < days:
            yield i, row, names.index(row["vessel"]), int(dep[j])


def _network_candidates(ctx, s: int, site: str, rng) -> list[tuple[int | None, int, int]]:
    """network: the voyages not yet seen at `site` that called there, at draw s. A voyage
    seen at the other end only calls at one of this end's ports in proportion to its
    routes' shares times that port's chance to have missed it (`first_sightings`), as
    `network.route_voyages` shares it; the voyages nobody saw (`generate`'s, per period)
    sail a route and day in proportion to the route's share times the chance that both
    its ports missed them that day."""
    from ..models import network

    route, values = ctx.route, ctx.values
    end = _end(ctx.case, site)
    i = detection.ENDS.index(end)
    p = {k: v[[s]] for k, v in ctx.draws.items()}
    n_o, n_d, _ = network.structure(values)
    here = route.site_names.index(site)
    miss = np.stack([1 - f[0][0] for f in network.first_sightings(p, values)])  # (sites, D)
    share = network.route_shares(p)[0]  # (R,)
    r = np.arange(n_o * n_d)
    ports = np.stack([r // n_d, n_o + r % n_d])  # (2, R): each route's ports, as site indices
    out = []
    for row_i, row, vessel, t in _seen_elsewhere(ctx, end):
        o, d = voyage_ports(row, ctx.case.spec)
        known = d + n_o if end == "origin" else o  # the port it was seen at
        w = share * (ports[1 - i] == known) * miss[ports[i], t]
        if w.sum() > 0 and ports[i][rng.choice(len(w), p=w / w.sum())] == here:
            out.append((row_i, vessel, t))
    gen = ctx.family.generate(p, route, values, rng)
    unseen = np.asarray(gen["voyages_period"])[0] - route.captures.sum(axis=1)
    both = share[None, :] * (miss[ports[0]] * miss[ports[1]]).T  # (D, R)
    who = _vessel_weights(ctx, p)
    start = 0
    for period, (m, length) in enumerate(zip(unseen.astype(int), route.period_days.astype(int))):
        w = both[start:start + length]
        if m > 0 and w.sum() > 0:
            day, way = np.divmod(rng.choice(w.size, size=m, p=(w / w.sum()).ravel()), w.shape[1])
            vessels = rng.choice(who.shape[1], size=m, p=who[period] / who[period].sum())
            out += [(None, int(v), start + int(t))
                    for v, t, k in zip(vessels, day, way) if ports[i][k] == here]
        start += length
    return out


def _vessel_weights(ctx, p: dict) -> np.ndarray:
    """(P, V): who sailed the voyages nobody saw, per period: the family's own rates at
    the draw, else the vessels' recorded voyages plus one (the share's posterior mean
    under generate's Dirichlet)."""
    route = ctx.route
    rates = getattr(ctx.family, "vessel_rates", None)
    if rates is not None:
        return np.asarray(rates(p))[0]
    seen = np.bincount(route.voyage_vessel, minlength=len(route.vessel_cap)) + 1.0
    return np.broadcast_to(seen, (len(route.period_days), len(seen)))


def _unseen_by_period(ctx, p: dict, rng) -> list[tuple[None, int, int]]:
    """The voyages nobody saw at one draw p, as voyages and dynamic have them: a count per
    period (`generate`'s voyages_period less the voyages recorded), each on a day of its
    period drawn in proportion to the chance of being missed at both ends that day
    (`voyages.first_sightings`), its vessel as `_vessel_weights` has it."""
    from ..models import voyages

    route = ctx.route
    gen = ctx.family.generate(p, route, ctx.values, rng)
    unseen = np.asarray(gen["voyages_period"])[0] - route.captures.sum(axis=1)
    first = voyages.first_sightings(p, ctx.values)
    miss = (1 - first["origin"][0][0]) * (1 - first["destination"][0][0])  # (days,)
    who = _vessel_weights(ctx, p)
    out, start = [], 0
    for period, (m, length) in enumerate(zip(unseen.astype(int), route.period_days.astype(int))):
        w = miss[start:start + length]
        if m > 0 and w.sum() > 0:
            days = start + rng.choice(length, size=m, p=w / w.sum())
            vessels = rng.choice(who.shape[1], size=m, p=who[period] / who[period].sum())
            out += [(None, int(v), int(t)) for v, t in zip(vessels, days)]
        start += length
    return out


def _days(kind: int, lo: float, length: float, m: int, cycle: float, days: int, rng):
    """The departure days of a segment's m voyages nobody saw, on the vessel's schedule:
    evenly between two sightings (as `fleet.place` has them), a cycle apart before the
    first or after the last, a cycle apart from a random phase for a vessel never seen."""
    i = np.arange(1, m + 1)
    if kind == fleet.GAP:
        t = lo + length * i / (m + 1.0)
    elif kind == fleet.LEAD:
        t = lo + length - cycle * i
    elif kind == fleet.TRAIL:
        t = lo + cycle * i
    else:
        t = rng.uniform(0.0, cycle) + cycle * (i - 1)
    return [int(x) for x in np.clip(np.round(t), 0, days - 1)]


def simulate(ctx, option, s: int, rng) -> dict:
    """What the option's passes would show at outer draw s: {"passes": [(date, usable)],
    "sightings": [(row or None, vessel index, date)]}."""
    case, spec = ctx.case, ctx.case.spec
    end = _end(case, option.site)
    days = pass_days(case, option)
    drawn = ctx.draws.get(f"usable_image_day_{end}")
    share = usable_share(case, option, None if drawn is None else np.asarray(drawn)[s])
    usable = rng.random(len(days)) < share
    good = {(d - spec.start).days for d, u in zip(days, usable) if u}
    if not good:  # no usable pass: nothing to show, whatever the family
        return {"passes": list(zip(days, usable.tolist())), "sightings": []}
    ident = float(np.asarray(ctx.draws[f"identification_{end}"])[s])
    median = float(np.asarray(ctx.draws[f"port_call_days_{end}"])[s])
    transit = int(ctx.cfg.model.transit_days)
    shift, scale, weight, missed = _missed_so_far(ctx, s, option.site)
    sightings = []
    for row, vessel, t in _candidates(ctx, s, option.site, rng):
        # the call as the model has it (a Gauss-Hermite node of its length, a late start),
        # given that the record so far missed it there
        p = weight * missed[:, t]
        c = rng.choice(len(weight), p=p / p.sum() if p.sum() > 0 else weight / weight.sum())
        length = median * scale[c]
        k = np.arange(int(np.ceil(length)) + 1)
        share = np.clip(length - k, 0.0, 1.0)
        if end == "origin":
            call = (t - k)[::-1]  # in time order
            share = share[::-1]
        else:
            call = t + transit + int(shift[c]) + k
        for day, w in zip(call, share):
            if int(day) in good and rng.random() < ident * w:
                sightings.append((row, vessel, spec.start + timedelta(days=int(day))))
                break
    return {"passes": list(zip(days, usable.tolist())), "sightings": sightings}


def _missed_so_far(ctx, s: int, site: str):
    """`detection.call_combos` at `site`'s end and the chance (C, D) that the record so far
    missed a voyage leaving on each day, per combination, at draw s (`voyages.misses`;
    network: that port's own record)."""
    from ..models import network, voyages

    end = _end(ctx.case, site)
    p = {k: np.asarray(v)[s] for k, v in ctx.draws.items() if k.endswith(f"_{end}")}
    late = ctx.values["arrival_weights"] if end == "destination" else None
    if ctx.family.NAME != "network":
        return (*detection.call_combos(late), voyages.misses(p, ctx.values, end))
    k = ctx.route.site_names.index(site)
    return (*detection.call_combos(late),
            voyages.misses(p, ctx.values, end, network.site_layout(ctx.values, k),
                           ctx.values["site_has_record"][k]))


def with_rows(case, option, sim: dict):
    """A copy of `case` with the passes' imagery rows and their sightings: a voyage seen
    before gets its date at this end, a voyage nobody saw a row of its own."""
    spec = case.spec
    end = _end(case, option.site)
    source = f"plan: {option.name}"
    n = len(sim["passes"])
    case = case.with_rows("imagery", {"date": [d for d, _ in sim["passes"]],
                                      "site": [option.site] * n,
                                      "usable": [bool(u) for _, u in sim["passes"]],
                                      "source": [source] * n})
    voy = case.tables["voyages"]
    column = f"{end}_seen"
    named = len(getattr(spec, end)) > 1  # an end of several ports names the port seen
    dates = dict.fromkeys(range(voy.height))
    fresh = []
    for row, vessel, day in sim["sightings"]:
        if row is None:
            fresh.append((spec.vessels[vessel].name, day))
        else:
            dates[row] = day
    if any(v is not None for v in dates.values()):
        voy = voy.with_columns(pl.Series(column, [dates[i] or voy[column][i]
                                                   for i in range(voy.height)], pl.Date))
        if named:
            voy = voy.with_columns(pl.Series(f"{end}_site", [
                option.site if dates[i] else voy[f"{end}_site"][i] for i in range(voy.height)],
                pl.String))
        case = dataclasses.replace(case, tables={**case.tables, "voyages": voy})
    if fresh:
        sites = ({f"{e}_site": [option.site if e == end else None for _ in fresh] for e in detection.ENDS}
                 if named else {})
        case = case.with_rows("voyages", {
            "vessel": [v for v, _ in fresh],
            "origin_seen": [d if end == "origin" else None for _, d in fresh],
            "destination_seen": [d if end == "destination" else None for _, d in fresh],
            "evidence": ["imagery"] * len(fresh),
            "voyage_id": [f"plan-{option.name}-{i}" for i in range(len(fresh))],
            "source": [source] * len(fresh), **sites})
    return case
