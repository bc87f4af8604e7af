"""Aggregate a validated case to the arrays models consume (numpy only).

Voyages are placed in the period in which they left the origin: the date seen
at the origin, or the date seen at the destination less `transit_days`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from .case import Case

HISTORIES = ("origin_only", "destination_only", "both")
CALL_DAYS_MAX = 10  # a port call is looked for in at most this many days (+1) of imagery
RECORD_FROM = -CALL_DAYS_MAX - 1  # the imagery record's first day, from the window's start


def record_length(days: int, transit_days: float) -> int:
    """Days of the imagery record a model reads: the calls of voyages leaving in the window."""
    return days + int(transit_days) + CALL_DAYS_MAX + 1 - RECORD_FROM
DEPOT_METRICS = ("filled_area_m2", "railcars", "containers")
CLAIM_QUANTITIES = ("containers", "voyages")
CLAIM_RELATIONS = ("about", "at_least", "at_most")
CLAIM_CONFIDENCE = ("low", "medium", "high")


@dataclass
class RouteData:
    periods: list[tuple[date, date]]
    period_days: np.ndarray  # (P,) days in each period
    captures: np.ndarray  # (P, 3) voyages seen by capture history, per period of departure
    captures_vessel: np.ndarray  # (P, n_vessels, 3) the same, per vessel
    voyage_period: np.ndarray  # (V,) period of each observed voyage in the window
    voyage_vessel: np.ndarray  # (V,) index into vessels
    voyage_group: np.ndarray  # (V,) load group with counts, or -1
    vessel_cap: np.ndarray  # (n_vessels,) capacity, or the grid's maximum
    visible: np.ndarray  # (M,) containers counted in one image
    coverage: np.ndarray  # (M,) share in view (0.5 where not recorded)
    coverage_known: np.ndarray  # (M,) bool
    count_group: np.ndarray  # (M,) load group of each count
    group_cap: np.ndarray  # (G,) capacity bound of each load group
    grid: np.ndarray  # (K,) loads 0..K-1
    usable_days: np.ndarray  # (2,) days with a usable image, origin and destination
    imaged_days: np.ndarray  # (2,) days the imagery record covers (0: no record)
    vessel_share: np.ndarray = field(default_factory=lambda: np.ones(1))  # (n_vessels,)
    # depot rows: day since the window's start, metric (DEPOT_METRICS), value, sd (nan: none)
    depot_day: np.ndarray = field(default_factory=lambda: np.zeros(0))
    depot_metric: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    depot_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    depot_sd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # claims: first and last day (since the window's start), quantity, relation, value, confidence
    claim_first: np.ndarray = field(default_factory=lambda: np.zeros(0))
    claim_last: np.ndarray = field(default_factory=lambda: np.zeros(0))
    claim_quantity: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    claim_relation: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    claim_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    claim_confidence: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    # the port each claim names at each end (case.yaml's order), -1 for any port of it
    claim_origin: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    claim_destination: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    transit_days: float = 1.0
    transit_extra_days: int = 1  # a voyage may arrive up to this many days later
    horizon_days: int = 0  # days after the window up to the forecast horizon
    # the imagery record, where the case has one: usable_on[e, i] = 1 when end e had a usable
    # pass (or a sighting) on day i + RECORD_FROM of the window (`passes` lays it out by call)
    usable_on: np.ndarray = field(default_factory=lambda: np.zeros((2, 0)))
    has_record: np.ndarray = field(default_factory=lambda: np.zeros(2))  # (2,) 1: usable_on holds
    # (V,) the day (since the window's start) each observed voyage was first seen at the
    # origin and at the destination; nan where that end did not see it
    voyage_origin_day: np.ndarray = field(default_factory=lambda: np.zeros(0))
    voyage_destination_day: np.ndarray = field(default_factory=lambda: np.zeros(0))
    count_day: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (M,) each count's day
    # per port (case.yaml's origins, then its destinations): each one's own imagery record
    # (as usable_on and has_record per end), usable and imaged days in the window, and the
    # voyages seen per period of departure by cell (`site_cells`)
    site_names: tuple = ()
    site_usable_on: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    site_has_record: np.ndarray = field(default_factory=lambda: np.zeros(0))
    site_usable_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    site_imaged_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    captures_site: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), int))
    n_origin_sites: int = 1

    @property
    def passes(self) -> np.ndarray:
        """(2, D, K+1): 1 when end e had a usable pass on the k-th day of the call of a voyage
        leaving on window day t (origin: day t - k, the loading ends on departure;
        destination: day t + transit + k)."""
        return call_passes(self.usable_on, int(self.period_days.sum()), self.transit_days)
    notes: list[str] = field(default_factory=list)
    # what pooling an end's several ports costs, for the families that pool them
    pooling_notes: list[str] = field(default_factory=list)

    @property
    def n_groups(self) -> int:
        return len(self.group_cap)


def site_cells(n_origins: int, n_destinations: int) -> list[tuple[int, int, int]]:
    """The cells voyages are counted in, as (history, origin port, destination port) with
    -1 for the end not seen: seen at both ends per route (origin x destination,
    row-major), then seen at one origin only, then at one destination only."""
    both = [(2, i, j) for i in range(n_origins) for j in range(n_destinations)]
    return [*both, *((0, i, -1) for i in range(n_origins)),
            *((1, -1, j) for j in range(n_destinations))]


def departure(row: dict, transit_days: int) -> date:
    if row["origin_seen"] is not None:
        return row["origin_seen"]
    return row["destination_seen"] - timedelta(days=transit_days)


def history(row: dict) -> int:
    o, d = row["origin_seen"] is not None, row["destination_seen"] is not None
    return 2 if (o and d) else (0 if o else 1)


def route_data(case: Case, transit_days: int = 1, max_load: int = 1000,
               horizon: date | None = None, transit_extra_days: int = 1) -> RouteData:
    spec = case.spec
    periods = spec.periods()
    starts = [p[0] for p in periods]
    period_days = np.array([(e - s).days + 1 for s, e in periods], float)
    vessel_index = {v.name: i for i, v in enumerate(spec.vessels)}
    biggest = int(case.containers["visible"].max() or 0) if case.containers.height else 0
    max_load = max(max_load, 3 * biggest)  # room for a partly seen load of any count
    caps = [v.capacity_teu or max_load for v in spec.vessels]
    grid = np.arange(max(max_load, *caps) + 1, dtype=float)

    cells = {c: n for n, c in enumerate(site_cells(len(spec.origin), len(spec.destination)))}
    captures_site = np.zeros((len(periods), len(cells)), int)
    captures = np.zeros((len(periods), 3), int)
    captures_vessel = np.zeros((len(periods), len(spec.vessels), 3), int)
    v_period, v_vessel, v_id, v_seen = [], [], [], []
    outside = 0
    for row in case.voyages.iter_rows(named=True):
        dep = departure(row, transit_days)
        if not (spec.start <= dep <= spec.end):
            outside += 1
            continue
        p = int(np.searchsorted(np.array(starts), dep, side="right") - 1)
        captures[p, history(row)] += 1
        captures_site[p, cells[(history(row), *voyage_ports(row, spec))]] += 1
        captures_vessel[p, vessel_index[row["vessel"]], history(row)] += 1
        v_period.append(p)
        v_vessel.append(vessel_index[row["vessel"]])
        v_id.append(row["voyage_id"])
        v_seen.append([np.nan if row[c] is None else float((row[c] - spec.start).days)
                       for c in ("origin_seen", "destination_seen")])

    all_voyage_vessel = {r["voyage_id"]: r["vessel"] for r in case.voyages.iter_rows(named=True)
                         if r["voyage_id"] is not None}
    group_of: dict[str, int] = {}
    group_cap: list[int] = []
    visible, coverage, known, count_group, count_day = [], [], [], [], []
    stacked = 0
    for row in case.containers.iter_rows(named=True):
        if row["stage"] == "stacked":
            stacked += 1
            continue
        vid = row["voyage_id"]
        vessel = row["vessel"] or all_voyage_vessel.get(vid)
        cap = caps[vessel_index[vessel]] if vessel is not None else max_load
        if vid is None:  # an unidentified voyage: its own load group
            g = len(group_cap)
            group_cap.append(cap)
        elif vid not in group_of:
            g = group_of[vid] = len(group_cap)
            group_cap.append(caps[vessel_index[all_voyage_vessel[vid]]])
        else:
            g = group_of[vid]
        visible.append(row["visible"])
        coverage.append(row["coverage"] if row["coverage"] is not None else 0.5)
        known.append(row["coverage"] is not None)
        count_group.append(g)
        count_day.append(float((row["date"] - spec.start).days))

    usable, imaged = np.zeros(2), np.zeros(2)
    for end, sites in enumerate((spec.origin, spec.destination)):
        rows = case.imagery.filter(case.imagery["site"].is_in(list(sites))
                                   & (case.imagery["date"] >= spec.start)
                                   & (case.imagery["date"] <= spec.end))
        if rows.height:
            imaged[end] = spec.days
            usable[end] = rows.filter(rows["usable"])["date"].n_unique()

    usable_on, has_record = imagery_record(case, transit_days)
    site_usable_on, site_has_record, site_usable, site_imaged = site_records(case, transit_days)

    depot = case.depot.filter(case.depot["site"] == spec.depot) if spec.depot else case.depot.clear()
    claims = case.claims
    day = lambda col: np.array([(d - spec.start).days for d in col.to_list()], float)  # noqa: E731
    index = lambda col, names: np.array([names.index(v) for v in col.to_list()], int)  # noqa: E731
    seen_per_vessel = np.bincount(np.array(v_vessel, int), minlength=len(caps))

    notes = []
    if case.depot.height > depot.height:
        notes.append(f"{case.depot.height - depot.height} depot row(s) are not at the case's depot "
                     "and are not used")
    if outside:
        notes.append(f"{outside} voyage(s) left the origin outside the window and are not counted")
    if stacked:
        notes.append(f"{stacked} count(s) of stacked containers are not used by voyage loads")
    pooling = []
    for end, sites in (("origin", spec.origin), ("destination", spec.destination)):
        if len(sites) > 1:
            pooling.append(f"the {end}s {', '.join(sites)} are pooled: a usable pass of any one "
                         f"is taken as a look at all, so a port imaged less often than the "
                         f"others looks better watched than it was and the voyages it missed "
                         f"can be underestimated")
    claim_origin = claim_port(claims, "origin_site", spec.origin)
    claim_destination = claim_port(claims, "destination_site", spec.destination)
    part = on_part(claim_origin, claim_destination, len(spec.origin), len(spec.destination))
    if part.any():
        rows = claims["_row"].to_list() if "_row" in claims.columns else \
            list(range(2, claims.height + 2))
        named = ", ".join(str(r) for r, x in zip(rows, part) if x)
        pooling.append(f"claims row(s) {named} name a port: with the ports pooled, a claim on "
                       f"part of the network is read as a lower bound on the whole ('about' "
                       f"and 'at least') or left out ('at most')")
    return RouteData(
        periods=periods, period_days=period_days, captures=captures,
        captures_vessel=captures_vessel,
        voyage_period=np.array(v_period, int), voyage_vessel=np.array(v_vessel, int),
        voyage_group=np.array([group_of.get(v, -1) if v else -1 for v in v_id], int),
        vessel_cap=np.array(caps, float), visible=np.array(visible, float),
        coverage=np.array(coverage, float), coverage_known=np.array(known, bool),
        count_group=np.array(count_group, int), group_cap=np.array(group_cap, float),
        grid=grid, usable_days=usable, imaged_days=imaged,
        vessel_share=(1 + seen_per_vessel) / (1 + seen_per_vessel).sum(),
        depot_day=day(depot["date"]), depot_metric=index(depot["metric"], DEPOT_METRICS),
        depot_value=depot["value"].to_numpy().astype(float),
        depot_sd=depot["sd"].fill_null(float("nan")).to_numpy().astype(float),
        claim_first=day(claims["start"]), claim_last=day(claims["end"]),
        claim_quantity=index(claims["quantity"], CLAIM_QUANTITIES),
        claim_relation=index(claims["relation"], CLAIM_RELATIONS),
        claim_value=claims["value"].to_numpy().astype(float),
        claim_confidence=index(claims["confidence"], CLAIM_CONFIDENCE),
        claim_origin=claim_origin, claim_destination=claim_destination,
        transit_days=float(transit_days), transit_extra_days=int(transit_extra_days),
        horizon_days=max((horizon - spec.end).days, 0) if horizon else 0, notes=notes,
        pooling_notes=pooling,
        usable_on=usable_on, has_record=has_record,
        voyage_origin_day=np.array([o for o, _ in v_seen], float),
        voyage_destination_day=np.array([d for _, d in v_seen], float),
        count_day=np.array(count_day, float),
        site_names=(*spec.origin, *spec.destination), site_usable_on=site_usable_on,
        site_has_record=site_has_record, site_usable_days=site_usable,
        site_imaged_days=site_imaged, captures_site=captures_site,
        n_origin_sites=len(spec.origin),
    )


def claim_port(claims: pl.DataFrame, column: str, sites: tuple[str, ...]) -> np.ndarray:
    """(C,) each claim's port at one end, by its index in `sites`; -1 where none is named."""
    return np.array([sites.index(v) if v else -1 for v in claims[column].to_list()], int)


def on_part(claim_origin, claim_destination, n_origins: int, n_destinations: int) -> np.ndarray:
    """(C,) True where a claim is about part of the network: it names one of an end's
    several ports (naming an end's only port is the whole)."""
    return (((np.asarray(claim_origin) >= 0) & (n_origins > 1))
            | ((np.asarray(claim_destination) >= 0) & (n_destinations > 1)))


def voyage_ports(row: dict, spec) -> tuple[int, int]:
    """(origin port, destination port) indices of a voyage's row, -1 where not seen (an
    end with one port needs no site column)."""
    out = []
    for end, sites in (("origin", spec.origin), ("destination", spec.destination)):
        if row[f"{end}_seen"] is None:
            out.append(-1)
        else:
            out.append(sites.index(row[f"{end}_site"]) if row.get(f"{end}_site") else 0)
    return out[0], out[1]


def site_records(case: Case, transit_days: int):
    """Per port (origins, then destinations): (usable_on (S, record), has_record (S,),
    usable days in the window (S,), imaged days (S,)), as `imagery_record` and
    `route_data` have them per end, from that port's own rows and sightings."""
    spec = case.spec
    ports = [(s, "origin") for s in spec.origin] + [(s, "destination") for s in spec.destination]
    usable_on = np.zeros((len(ports), record_length(spec.days, transit_days)))
    has_record, usable, imaged = (np.zeros(len(ports)) for _ in range(3))
    for n, (site, end) in enumerate(ports):
        rows = case.imagery.filter(case.imagery["site"] == site)
        if not rows.height:
            continue
        has_record[n] = 1.0
        voyages = case.voyages if len(getattr(spec, end)) == 1 else \
            case.voyages.filter(case.voyages[f"{end}_site"] == site)
        seen = voyages[f"{end}_seen"].drop_nulls().to_list()
        for d in rows.filter(rows["usable"])["date"].to_list() + seen:
            i = (d - spec.start).days - RECORD_FROM
            if 0 <= i < usable_on.shape[1]:
                usable_on[n, i] = 1.0
        inside = rows.filter((rows["date"] >= spec.start) & (rows["date"] <= spec.end))
        if inside.height:
            imaged[n] = spec.days
            usable[n] = inside.filter(inside["usable"])["date"].n_unique()
    return usable_on, has_record, usable, imaged


def call_passes(usable_on: np.ndarray, days: int, transit_days: float) -> np.ndarray:
    """RouteData.passes from a record (2, record_length); zeros for a record of another length."""
    k = np.arange(CALL_DAYS_MAX + 1)
    out = np.zeros((2, days, len(k)))
    if usable_on.shape[1] != record_length(days, transit_days):
        return out
    t = np.arange(days)[:, None]
    for end, day in enumerate((t - k[None, :], t + int(transit_days) + k[None, :])):
        out[end] = usable_on[end][day - RECORD_FROM]
    return out


def imagery_record(case: Case, transit_days: int) -> tuple[np.ndarray, np.ndarray]:
    """(usable_on, has_record) of RouteData: for each end with imagery rows (any date), the
    days with a usable pass or a sighting. An end without imagery rows has no record (the
    model then uses the usable image days' rate). Days with no row had no usable pass: the
    record is taken as complete."""
    spec = case.spec
    usable_on = np.zeros((2, record_length(spec.days, transit_days)))
    has_record = np.zeros(2)
    for end, (sites, col) in enumerate(((spec.origin, "origin_seen"),
                                        (spec.destination, "destination_seen"))):
        rows = case.imagery.filter(case.imagery["site"].is_in(list(sites)))
        if not rows.height:
            continue
        has_record[end] = 1.0
        seen = [d for d in case.voyages[col].to_list() if d is not None]
        for d in rows.filter(rows["usable"])["date"].to_list() + seen:
            i = (d - spec.start).days - RECORD_FROM
            if 0 <= i < usable_on.shape[1]:
                usable_on[end, i] = 1.0
    return usable_on, has_record
