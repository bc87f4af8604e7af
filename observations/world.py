"""An event-level world simulator that writes case folders with their truth.

No model shares this code. Ships are simulated voyage by voyage on integer days
counted from the window's start (day 0): loading at the origin, transit,
unloading at the destination, return and idle time. Satellite passes catch some
port calls, some images are counted, a share of unloaded containers goes by rail
to a depot that is measured now and then, and third parties state rounded-down
figures. `write_case` writes the result as a case folder (DESIGN.md's contract)
with `truth.json` beside the contract files.

Scenarios: steady (constant schedule), pause (no vessel loads or sails for 2-3
weeks mid-window), load_change (the mean load changes mid-window), vessel_joins
(a third vessel joins the route mid-window).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field, fields
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from .cells import CellError, parse_date

SCENARIOS = ("steady", "pause", "load_change", "vessel_joins")
ORIGIN, DESTINATION, DEPOT = "PortA", "PortB", "DepotC"
VESSEL_NAMES = ("Alpha", "Bravo", "Charlie")  # Charlie sails only in vessel_joins
SOURCE = "simulated"
BURN_IN_DAYS = (30, 45)  # ships start this many days before the window, so it opens mid-cycle


@dataclass(frozen=True)
class Options:
    """Every number the world is drawn with; (lo, hi) pairs are inclusive ranges."""

    start: date = date(2023, 8, 15)
    end: date = date(2023, 10, 14)
    period_days: int = 7
    # ship cycle, days
    loading_days: tuple[int, int] = (1, 4)
    transit_days: tuple[int, int] = (1, 2)
    unloading_days: tuple[int, int] = (1, 3)
    idle_days: tuple[int, int] = (2, 8)
    # loads: each vessel's mean drawn uniformly, voyage loads gamma-Poisson, capped at capacity
    load_mean: tuple[float, float] = (200.0, 280.0)
    load_cv: float = 0.25
    capacity_teu: tuple[int | None, ...] = (350, None, 300)  # per vessel of VESSEL_NAMES
    # imagery and counts
    revisit_days: tuple[int, int] = (1, 4)
    cloud_prob: float = 0.35  # a pass is cloudy (usable=false)
    recognise_prob: float = 0.85  # a ship in a usable pass is recognised
    count_prob: float = 0.6  # a seen port call gets a container count
    coverage_min: float = 0.3  # coverage = min + (1 - min) * Beta(a, b)
    coverage_beta: tuple[float, float] = (3.0, 1.5)
    unknown_coverage_prob: float = 0.3  # the count's coverage is left empty
    # rail and depot
    depot_share: tuple[float, float] = (0.6, 0.9)
    rail_delay_median: float = 10.0
    rail_delay_log_sd: float = 0.4
    m2_per_container: float = 30.0
    containers_per_railcar: float = 2.0
    depot_dates: int = 5
    depot_noise_cv: float = 0.15
    # scenarios
    event_day: tuple[float, float] = (0.4, 0.6)  # where in the window the event happens (share)
    pause_days: tuple[int, int] = (14, 21)
    load_change_factor: float = 1.4
    # claims
    claim_fraction: tuple[float, float] = (0.7, 0.95)  # a claim states this share of the truth
    voyages_claim_prob: float = 0.5  # a second claim, on voyages, is made


@dataclass
class Voyage:
    vessel: str
    voyage_id: str
    load_start: int  # first day loading at the origin
    depart: int  # day it left the origin (last loading day)
    arrive: int  # first unloading day at the destination
    unload_end: int
    load: int
    origin_seen: int | None = None
    destination_seen: int | None = None


@dataclass
class World:
    scenario: str
    seed: int
    options: Options
    vessels: list[tuple[str, int | None]]  # (name, capacity_teu)
    voyages: list[Voyage]  # every simulated voyage, by load_start
    passes: list[tuple[int, str, bool]]  # (day, site, usable)
    counts: list[dict]  # containers.csv rows
    depot: list[dict]  # depot.csv rows
    claims: list[dict]  # claims.csv rows
    truth: dict = field(default_factory=dict)

    @property
    def days(self) -> int:
        return (self.options.end - self.options.start).days + 1

    def date(self, day: int) -> date:
        return self.options.start + timedelta(days=int(day))


def make_options(**options) -> Options:
    """Options with overrides; dates may be ISO text. Raises ValueError with a message."""
    known = {f.name for f in fields(Options)}
    for key in options:
        if key not in known:
            raise ValueError(f"unknown option '{key}'")
    for key in ("start", "end"):
        if isinstance(options.get(key), str):
            try:
                options[key] = parse_date(options[key])
            except CellError as e:
                raise ValueError(f"{key}: {e}") from None
    o = Options(**options)
    days = (o.end - o.start).days + 1
    if days < 1:
        raise ValueError(f"end {o.end} is before start {o.start}")
    if not 1 <= o.period_days <= days:
        raise ValueError(f"period_days {o.period_days} is not between 1 and the window's {days} days")
    if not 0.0 <= o.cloud_prob <= 1.0:
        raise ValueError(f"cloud_prob {o.cloud_prob} is not in [0, 1]")
    return o


def simulate_world(scenario: str, seed: int, **options) -> World:
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario '{scenario}' (known: {', '.join(SCENARIOS)})")
    o = make_options(**options)
    days = (o.end - o.start).days + 1
    # one random stream per part, so a seed gives the same imagery (and depot noise) in every scenario
    rng_event, rng_imagery, rng_sight, rng_rail, rng_depot, rng_claims, *rng_ships = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6 + len(VESSEL_NAMES)))

    event = int(days * rng_event.uniform(*o.event_day))
    pause = (event, event + _between(rng_event, o.pause_days)) if scenario == "pause" else None
    change = event if scenario == "load_change" else None
    n_vessels = 3 if scenario == "vessel_joins" else 2
    vessels = [(VESSEL_NAMES[i], o.capacity_teu[i]) for i in range(n_vessels)]
    means = [float(rng_event.uniform(*o.load_mean)) for _ in VESSEL_NAMES]

    voyages = []
    for i, (name, cap) in enumerate(vessels):
        rng = rng_ships[i]
        first = event if i == 2 else -_between(rng, BURN_IN_DAYS)
        voyages += _sail(name, cap, means[i], first, days, pause, change, o, rng)
    voyages.sort(key=lambda v: (v.load_start, v.vessel))

    passes = _passes(days, o, rng_imagery)
    _sight(voyages, passes, o.recognise_prob, rng_sight)
    counts = _counts(voyages, o, rng_sight)
    share = float(rng_rail.uniform(*o.depot_share))
    arrivals = _rail(voyages, share, o, rng_rail)
    depot = _depot(arrivals, days, o, rng_depot)
    claims, claim_truth = _claims(voyages, days, o, rng_claims)

    world = World(scenario, seed, o, vessels, voyages, passes, counts, depot, claims)
    parameters = {
        **{k: _jsonable(v) for k, v in asdict(o).items()},
        "vessel_mean_load": {name: round(means[i], 2) for i, (name, _) in enumerate(vessels)},
        "depot_share_drawn": round(share, 4),
        "pause": [world.date(pause[0]).isoformat(), world.date(pause[1] - 1).isoformat()] if pause else None,
        "load_change_from": world.date(change).isoformat() if change is not None else None,
        "vessel_joins": world.date(event).isoformat() if n_vessels == 3 else None,
    }
    world.truth = _truth(world, arrivals, claim_truth, parameters)
    return world


def _between(rng, bounds) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def _sail(name, cap, mean, first, days, pause, change, o: Options, rng) -> list[Voyage]:
    """One vessel's voyages from day `first` until its next loading would start after the window."""
    out, t = [], first
    while t < days:
        n_load = _between(rng, o.loading_days)
        if pause and t < pause[1] and t + n_load - 1 >= pause[0]:
            t = pause[1]  # nothing loads or sails during the pause
            continue
        depart = t + n_load - 1
        arrive = depart + _between(rng, o.transit_days)
        unload_end = arrive + _between(rng, o.unloading_days) - 1
        factor = o.load_change_factor if change is not None and depart >= change else 1.0
        out.append(Voyage(name, f"{name[0]}{len(out) + 1}", t, depart, arrive, unload_end,
                          _load(mean * factor, o.load_cv, cap, rng)))
        t = unload_end + 1 + _between(rng, o.transit_days) + _between(rng, o.idle_days)
    return out


def _load(mean, cv, cap, rng) -> int:
    rate = mean * rng.gamma(1 / cv**2, cv**2)  # overdispersed: gamma-Poisson
    load = max(int(rng.poisson(rate)), 1)
    return min(load, cap) if cap else load


def _passes(days, o: Options, rng) -> list[tuple[int, str, bool]]:
    out = []
    for site in (ORIGIN, DESTINATION):
        day = int(rng.integers(0, o.revisit_days[1]))
        while day < days:
            out.append((day, site, bool(rng.random() >= o.cloud_prob)))
            day += _between(rng, o.revisit_days)
    return sorted(out)


def _sight(voyages, passes, recognise_prob, rng) -> None:
    """A port call is seen on the first usable pass during it on which the ship is recognised."""
    usable = {site: [d for d, s, u in passes if s == site and u] for site in (ORIGIN, DESTINATION)}

    def first_seen(site, first, last):
        for d in usable[site]:
            if first <= d <= last and rng.random() < recognise_prob:
                return d
        return None

    for v in voyages:
        v.origin_seen = first_seen(ORIGIN, v.load_start, v.depart)
        v.destination_seen = first_seen(DESTINATION, v.arrive, v.unload_end)


def _counts(voyages, o: Options, rng) -> list[dict]:
    """containers.csv rows (dates as days): visible ~ Binomial(load, coverage)."""
    out = []
    for v in voyages:
        ends = (("loading", ORIGIN, v.origin_seen), ("unloading", DESTINATION, v.destination_seen))
        for stage, site, day in ends:
            if day is None or rng.random() >= o.count_prob:
                continue
            coverage = o.coverage_min + (1 - o.coverage_min) * rng.beta(*o.coverage_beta)
            recorded = None if rng.random() < o.unknown_coverage_prob else max(round(float(coverage), 2), 0.01)
            out.append({"date": day, "site": site, "vessel": v.vessel, "voyage_id": v.voyage_id,
                        "stage": stage, "visible": int(rng.binomial(v.load, coverage)),
                        "coverage": recorded, "source": SOURCE})
    return out


def _rail(voyages, share, o: Options, rng) -> np.ndarray:
    """Sorted days on which containers reach the depot. The depot starts the window empty:
    only voyages that left the origin on or after day 0 feed it."""
    times = [np.zeros(0)]
    for v in voyages:
        if v.depart >= 0:
            n = int(rng.binomial(v.load, share))
            times.append(v.arrive + rng.lognormal(math.log(o.rail_delay_median), o.rail_delay_log_sd, n))
    return np.sort(np.concatenate(times))


def _stock(arrivals, day) -> int:
    return int(np.searchsorted(arrivals, day, side="right"))


def _depot(arrivals, days, o: Options, rng) -> list[dict]:
    """depot.csv rows: filled area on every date, railcars on one, containers on the last two."""
    first = days // 3
    n = min(o.depot_dates, days - first)
    dates = sorted(int(d) for d in rng.choice(np.arange(first, days), size=n, replace=False))
    out = []
    for i, day in enumerate(dates):
        stock = _stock(arrivals, day)
        metrics = [("filled_area_m2", stock * o.m2_per_container, 50.0)]
        if i == n // 2:
            metrics.append(("railcars", stock / o.containers_per_railcar, 2.0))
        if i >= n - 2:
            metrics.append(("containers", float(stock), 5.0))
        for metric, true, floor in metrics:
            sd = o.depot_noise_cv * true + floor
            value = max(round(float(rng.normal(true, sd))), 0)
            out.append({"date": day, "site": DEPOT, "metric": metric, "value": value,
                        "sd": round(sd, 1), "source": SOURCE, "stock": stock})
    return out


def _round_down(x: float) -> int:
    step = 100 if x >= 500 else 10 if x >= 50 else 1
    return int(x // step * step)


def _claims(voyages, days, o: Options, rng) -> tuple[list[dict], list[dict]]:
    """At least a rounded-down share of the containers in a sub-interval (medium confidence);
    sometimes at least a share of the window's voyages (high confidence)."""
    first = int(rng.integers(0, max(days // 3, 1)))
    last = min(first + _between(rng, (days // 3, 2 * days // 3)), days - 1)
    true_c = sum(v.load for v in voyages if first <= v.depart <= last)
    rows = [{"start": first, "end": last, "quantity": "containers", "relation": "at_least",
             "value": _round_down(true_c * rng.uniform(*o.claim_fraction)), "confidence": "medium",
             "source": f"{SOURCE} third-party claim"}]
    truth = [{"quantity": "containers", "true_value": true_c}]
    if rng.random() < o.voyages_claim_prob:
        true_v = sum(0 <= v.depart < days for v in voyages)
        rows.append({"start": 0, "end": days - 1, "quantity": "voyages", "relation": "at_least",
                     "value": int(true_v * rng.uniform(*o.claim_fraction)), "confidence": "high",
                     "source": f"{SOURCE} third-party claim"})
        truth.append({"quantity": "voyages", "true_value": true_v})
    return rows, truth


def _periods(days, period_days) -> list[tuple[int, int]]:
    """Inclusive (first, last) day of each period; the last may be shorter (as CaseSpec.periods)."""
    return [(s, min(s + period_days - 1, days - 1)) for s in range(0, days, period_days)]


def _truth(world: World, arrivals, claim_truth, parameters) -> dict:
    days = world.days

    def iso(day: int) -> str:
        return world.date(day).isoformat()

    inside = [v for v in world.voyages if 0 <= v.depart < days]
    total = sum(v.load for v in inside)
    series, cumulative = [], 0
    for first, last in _periods(days, world.options.period_days):
        these = [v for v in inside if first <= v.depart <= last]
        cumulative += sum(v.load for v in these)
        series.append({"period_start": iso(first), "period_end": iso(last), "voyages": len(these),
                       "containers": sum(v.load for v in these), "cumulative": cumulative})

    def share(seen: int) -> float | None:
        return round(seen / len(inside), 4) if inside else None

    claims = [{"start": iso(c["start"]), "end": iso(c["end"]), "quantity": c["quantity"],
               "relation": c["relation"], "value": c["value"], "true_value": t["true_value"]}
              for c, t in zip(world.claims, claim_truth)]
    return {
        "scenario": world.scenario,
        "seed": world.seed,
        "window": {"start": iso(0), "end": iso(days - 1)},
        "total_containers": total,
        "voyages": len(inside),
        "containers_per_voyage": round(total / len(inside), 2) if inside else None,
        "voyages_seen": sum(v.origin_seen is not None or v.destination_seen is not None for v in inside),
        "series": series,
        "detection": {"origin": share(sum(v.origin_seen is not None for v in inside)),
                      "destination": share(sum(v.destination_seen is not None for v in inside))},
        "depot_stock": _stock(arrivals, days - 1),
        "depot_series": [{"date": iso(d), "stock": s}
                         for d, s in sorted({(r["date"], r["stock"]) for r in world.depot})],
        "claims": claims,
        "voyage_log": [{"voyage_id": v.voyage_id, "vessel": v.vessel, "load_start": iso(v.load_start),
                        "departed": iso(v.depart), "arrived": iso(v.arrive),
                        "unload_end": iso(v.unload_end), "load": v.load,
                        "origin_seen": iso(v.origin_seen) if v.origin_seen is not None else None,
                        "destination_seen": iso(v.destination_seen) if v.destination_seen is not None else None}
                       for v in world.voyages],
        "parameters": parameters,
    }


def _jsonable(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


# ---- writing the case folder ----

def write_case(world: World, out_dir: str | Path) -> Path:
    """Write case.yaml, the five tables (CSV) and truth.json into out_dir (created if missing)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "case.yaml").write_text(_case_yaml(world), encoding="utf-8")

    def iso(day: int | None) -> str | None:
        return world.date(day).isoformat() if day is not None else None

    seen = [v for v in world.voyages if v.origin_seen is not None or v.destination_seen is not None]
    seen.sort(key=lambda v: (min(d for d in (v.origin_seen, v.destination_seen) if d is not None), v.vessel))
    _write_csv(out / "voyages.csv",
               ["vessel", "origin_seen", "destination_seen", "evidence", "voyage_id", "source"],
               [[v.vessel, iso(v.origin_seen), iso(v.destination_seen), "imagery", v.voyage_id, SOURCE]
                for v in seen])
    _write_csv(out / "imagery.csv", ["date", "site", "usable", "source"],
               [[iso(d), site, "true" if usable else "false", SOURCE] for d, site, usable in world.passes])
    _write_csv(out / "containers.csv",
               ["date", "site", "vessel", "voyage_id", "stage", "visible", "coverage", "source"],
               [[iso(r["date"]), r["site"], r["vessel"], r["voyage_id"], r["stage"], r["visible"],
                 r["coverage"], r["source"]] for r in sorted(world.counts, key=lambda r: r["date"])])
    _write_csv(out / "depot.csv", ["date", "site", "metric", "value", "sd", "source"],
               [[iso(r["date"]), r["site"], r["metric"], r["value"], r["sd"], r["source"]]
                for r in world.depot])
    _write_csv(out / "claims.csv", ["start", "end", "quantity", "relation", "value", "confidence", "source"],
               [[iso(r["start"]), iso(r["end"]), r["quantity"], r["relation"], r["value"], r["confidence"],
                 r["source"]] for r in world.claims])
    (out / "truth.json").write_text(json.dumps(world.truth, indent=2) + "\n", encoding="utf-8")
    return out


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows([["" if c is None else c for c in row] for row in rows])


def _case_yaml(world: World) -> str:
    o = world.options
    vessels = "\n".join(f"  - {{name: {name}, capacity_teu: {cap}}}" if cap else f"  - {{name: {name}}}"
                        for name, cap in world.vessels)
    return (f"# Simulated by cargoinfer.observations.world: scenario {world.scenario}, seed {world.seed}.\n"
            f"# The truth is in truth.json beside this file.\n"
            f"name: sim-{world.scenario.replace('_', '-')}-{world.seed}\n"
            f"title: Simulated world, scenario {world.scenario}, seed {world.seed}\n"
            f"window: {{start: {o.start.isoformat()}, end: {o.end.isoformat()}}}\n"
            f"period_days: {o.period_days}\n"
            f"origin: [{ORIGIN}]\n"
            f"destination: [{DESTINATION}]\n"
            f"depot: {DEPOT}\n"
            f"vessels:\n{vessels}\n")
