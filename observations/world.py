"""An event-level world simulator that writes case folders with their truth.

No model shares this code. Ships are simulated voyage by voyage on integer days
counted from the window's start (day 0): loading at the origin, transit,
unloading at the destination, return and idle time. Satellite passes catch some
port calls, some images are counted, a share of unloaded containers goes by rail
to a depot that is measured now and then, and third parties state rounded-down
figures. `write_case` writes the result as a case folder (DESIGN.md's contract)
with `truth.json` beside the contract files.

Each world first draws what an analyst cannot know from wide ranges (`draw_options`,
from the seed): the window's length, the fleet and its capacities, each vessel's load
factor, how often each port is imaged and how (a daily chance or a fixed revisit), the
depot's share of the containers, the rail delay, the pit area per container, whether the
depot is counted in containers or only measured by area, whether anyone made claims, and
how wrong recorded coverages are. truth.json keeps every drawn value and the world's
slices (`truth["slices"]`). Any drawn value can be fixed by an override.

Scenarios: steady (constant schedule), pause (no vessel loads or sails for 2-3
weeks mid-window), load_change (the loads shift up or down mid-window), vessel_joins
(the fleet's last vessel joins the route mid-window), and network (a steady schedule on
several ports per end, each imaged at its own cadence and recognising ships at its own
rate, calls of varied length, vessels switching routes: `draw_network`). Only network
writes voyages.csv's origin_site and destination_site.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from .cells import CellError, parse_date

SCENARIOS = ("steady", "pause", "load_change", "vessel_joins")  # one route
NETWORK = "network"
ALL_SCENARIOS = (*SCENARIOS, NETWORK)
ORIGIN, DESTINATION, DEPOT = "PortA", "PortB", "DepotC"
SITES = (ORIGIN, DESTINATION)  # of a one-route world; a network's: `ports`
VESSEL_NAMES = ("Alpha", "Bravo", "Charlie", "Delta")  # in vessel_joins the last one joins
SOURCE = "simulated"
BURN_IN_DAYS = (30, 45)  # ships start this many days before the window, so it opens mid-cycle
START = date(2023, 8, 15)
DEPOT_METRICS = ("area", "counts")  # filled area only, or filled area and container counts
SHARE_SLICES = ((0.0, 0.4, "low"), (0.4, 0.7, "middle"), (0.7, 1.0001, "high"))


@dataclass(frozen=True)
class Options:
    """Every number one world is drawn with; (lo, hi) pairs are inclusive ranges drawn from
    voyage by voyage, tuples of two are (origin, destination), longer tuples per vessel."""

    start: date = START
    end: date = date(2023, 10, 14)
    period_days: int = 7
    # the fleet (in vessel_joins the last vessel joins mid-window)
    vessels: int = 2
    capacity: tuple[int, ...] = (350, 300, 300, 300)  # per vessel of VESSEL_NAMES
    capacity_stated: tuple[bool, ...] = (True, False, True, False)  # in case.yaml
    load_factor_a: tuple[float, ...] = (8.0,) * 4  # a voyage loads capacity x Beta(a, 2)
    # ship cycle, days
    loading_days: tuple[int, int] = (1, 4)
    transit_days: tuple[int, int] = (1, 2)
    unloading_days: tuple[int, int] = (1, 3)
    idle_days: tuple[int, int] = (2, 8)
    # the ports (a network: PortA, PortA2, ... and PortB, PortB2, ...), each vessel's home
    # route drawn by the routes' weights (origins x destinations, row-major; empty: equal)
    # and a voyage off it with switch_prob, on a route drawn the same way
    origin_ports: int = 1
    destination_ports: int = 1
    route_weights: tuple[float, ...] = ()
    switch_prob: float = 0.0
    # imagery: per site (origins, then destinations), the share of days with a usable pass,
    # the chance a pass is cloudy, and whether passes come on a fixed revisit cycle (else
    # each day by chance)
    usable_share: tuple[float, ...] = (0.4, 0.4)
    cloud_prob: tuple[float, ...] = (0.35, 0.35)
    regular_revisit: tuple[bool, ...] = (False, False)
    recognise_prob: float = 0.85  # a ship in a usable pass is recognised
    recognise_by_port: tuple[float, ...] = ()  # per site, as usable_share; empty: recognise_prob
    # counts
    count_prob: float = 0.6  # a seen port call gets a container count
    coverage_min: float = 0.3  # coverage = min + (1 - min) * Beta(a, b)
    coverage_beta: tuple[float, float] = (3.0, 1.5)
    coverage_error: float = 0.0  # a recorded coverage is the true one x exp(Normal(0, this))
    unknown_coverage_prob: float = 0.3  # the count's coverage is left empty
    unknown_coverage_factor: float = 1.0  # an unrecorded count's coverage, times this (obscured)
    # rail and depot
    depot_share: float = 0.8  # share of unloaded containers that go to the depot
    rail_delay_median: float = 10.0
    rail_delay_log_sd: float = 0.4
    m2_per_container: float = 30.0
    depot_metrics: str = "counts"  # area: filled area only; counts: also container counts
    depot_dates: int = 5
    depot_noise_cv: float = 0.08  # sd of a depot row, relative to the true value
    # scenarios
    event_day: tuple[float, float] = (0.4, 0.6)  # where in the window the event happens (share)
    pause_days: tuple[int, int] = (14, 21)
    load_change_factor: float = 1.4
    # claims
    claims: bool = True
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
    origin_site: str = ORIGIN
    destination_site: str = DESTINATION


@dataclass
class World:
    scenario: str
    seed: int
    options: Options
    vessels: list[tuple[str, int | None]]  # (name, capacity_teu as case.yaml states it)
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


def draw_options(rng: np.random.Generator) -> dict:
    """What an analyst cannot know, drawn for one world from wide ranges: 6-14 weeks;
    2-4 vessels of 150-450 containers, each loading capacity x Beta(a, 2), a in 4-12;
    a usable pass on 12-90% of days at each port, 20-70% of passes cloudy, half the ports
    on a fixed revisit; 65-95% recognised; the share of a load in view 0.46-0.91 on average,
    recorded with an error of up to 30% (log-sd), and when not recorded (10-50% of counts)
    0.6-1 times that (an obscured quay);
    depot share 0.1-1.0, rail delay median 3-12 days, 20-45 m2 a container, the depot
    counted in containers or measured by area only, claims made or not. Every value is
    drawn whatever is later overridden, so an override changes nothing else."""
    weeks = int(rng.integers(6, 15))
    usable = rng.uniform(0.12, 0.9, 2)
    cloud = rng.uniform(0.2, 0.7, 2)
    idle_lo = int(rng.integers(1, 5))
    cover_min, cover_mean = rng.uniform(0.1, 0.4), rng.uniform(0.4, 0.85)
    up = rng.random() < 0.5
    return {
        "end": START + timedelta(days=7 * weeks - 1),
        "vessels": int(rng.integers(2, 5)),
        "capacity": tuple(int(c) for c in rng.integers(150, 451, len(VESSEL_NAMES))),
        "capacity_stated": tuple(bool(s) for s in rng.random(len(VESSEL_NAMES)) < 0.5),
        "load_factor_a": tuple(float(a) for a in rng.uniform(4.0, 12.0, len(VESSEL_NAMES))),
        "idle_days": (idle_lo, idle_lo + int(rng.integers(3, 11))),
        "usable_share": tuple(float(u) for u in usable),
        "cloud_prob": tuple(float(c) for c in cloud),
        "regular_revisit": tuple(bool(r) for r in rng.random(2) < 0.5),
        "recognise_prob": float(rng.uniform(0.65, 0.95)),
        "count_prob": float(rng.uniform(0.3, 0.8)),
        "coverage_min": float(cover_min),
        "coverage_beta": (5.0 * cover_mean, 5.0 * (1.0 - cover_mean)),
        "coverage_error": float(rng.uniform(0.0, 0.3)),
        "unknown_coverage_prob": float(rng.uniform(0.1, 0.5)),
        "unknown_coverage_factor": float(rng.uniform(0.6, 1.0)),
        "depot_share": float(rng.uniform(0.1, 1.0)),
        "rail_delay_median": float(rng.uniform(3.0, 12.0)),
        "rail_delay_log_sd": float(rng.uniform(0.2, 0.6)),
        "m2_per_container": float(rng.uniform(20.0, 45.0)),
        "depot_metrics": DEPOT_METRICS[int(rng.random() < 0.5)],
        "claims": bool(rng.random() < 0.5),
        "load_change_factor": float(rng.uniform(1.25, 1.5) if up else rng.uniform(0.55, 0.8)),
    }


MAX_PORTS = 9  # per end


def draw_network(rng: np.random.Generator, origin_ports: int | None = None,
                 destination_ports: int | None = None) -> dict:
    """A route network's unknowns: 2 origins and 2-3 destinations (unless given); each
    port's usable share of days drawn log-uniformly in 5-90% (so one world may watch a
    port nearly daily and another every two or three weeks), its cloud 20-70%, half on a
    fixed revisit; the routes' weights Dirichlet(1, ..., 1); 0-40% of voyages off their
    vessel's home route; each end's call lasting lo..hi days, lo 1-3 and hi lo to lo + 3
    (a mean call of 1 to 4.5 days); each port recognising 50-97% of the ships its usable
    passes show (its own imagery's resolution). Every port's values are drawn for
    MAX_PORTS per end, so giving the number of ports changes nothing else; the calls and
    recognition are drawn last, so the draws before them are those of worlds written
    before them (commit 5354d34 and earlier)."""
    drawn_d = int(rng.integers(2, 4))
    n_o, n_d = origin_ports or 2, destination_ports or drawn_d
    if not (1 <= n_o <= MAX_PORTS and 1 <= n_d <= MAX_PORTS):
        raise ValueError(f"origin_ports {n_o} and destination_ports {n_d} must be between 1 "
                         f"and {MAX_PORTS}")
    usable = np.exp(rng.uniform(np.log(0.05), np.log(0.9), (2, MAX_PORTS)))
    cloud = rng.uniform(0.2, 0.7, (2, MAX_PORTS))
    regular = rng.random((2, MAX_PORTS)) < 0.5
    weights = rng.gamma(1.0, size=(MAX_PORTS, MAX_PORTS))[:n_o, :n_d].ravel()

    def per_port(a, kind):
        return tuple(kind(x) for x in (*a[0, :n_o], *a[1, :n_d]))

    switch = float(rng.uniform(0.0, 0.4))
    lo = rng.integers(1, 4, 2)
    hi = lo + rng.integers(0, 4, 2)
    recognise = rng.uniform(0.5, 0.97, (2, MAX_PORTS))
    return {
        "origin_ports": n_o, "destination_ports": n_d,
        "usable_share": per_port(usable, float), "cloud_prob": per_port(cloud, float),
        "regular_revisit": per_port(regular, bool),
        "route_weights": tuple(float(w) for w in weights / weights.sum()),
        "switch_prob": switch,
        "loading_days": (int(lo[0]), int(hi[0])), "unloading_days": (int(lo[1]), int(hi[1])),
        "recognise_by_port": per_port(recognise, float),
    }


def ports(o: Options) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(origins, destinations): PortA, PortA2, ... and PortB, PortB2, ..."""
    def named(first: str, n: int) -> tuple[str, ...]:
        return (first, *(f"{first}{i}" for i in range(2, n + 1)))
    return named(ORIGIN, o.origin_ports), named(DESTINATION, o.destination_ports)


def make_options(drawn: dict | None = None, **overrides) -> Options:
    """Options from drawn values (`draw_options`) with overrides on top; dates may be ISO
    text, and a float for a per-site option applies to every site. Raises ValueError."""
    known = {f.name for f in fields(Options)}
    for key in overrides:
        if key not in known:
            raise ValueError(f"unknown option '{key}'")
    options = {**(drawn or {}), **overrides}
    for key in ("start", "end"):
        if isinstance(options.get(key), str):
            try:
                options[key] = parse_date(options[key])
            except CellError as e:
                raise ValueError(f"{key}: {e}") from None
    n_sites = int(options.get("origin_ports", 1)) + int(options.get("destination_ports", 1))
    for key in ("usable_share", "cloud_prob", "regular_revisit", "recognise_by_port"):
        if key in options and not isinstance(options[key], (tuple, list)):
            options[key] = (options[key],) * n_sites
        elif key not in options and n_sites != 2 and getattr(Options, key):
            options[key] = (getattr(Options, key)[0],) * n_sites
    if "start" in overrides and "end" not in overrides and drawn and "end" in drawn:
        options["end"] = options["start"] + (drawn["end"] - START)  # keep the drawn length
    o = Options(**options)
    days = (o.end - o.start).days + 1
    if days < 1:
        raise ValueError(f"end {o.end} is before start {o.start}")
    if not 1 <= o.period_days <= days:
        raise ValueError(f"period_days {o.period_days} is not between 1 and the window's {days} days")
    if not (1 <= o.origin_ports <= MAX_PORTS and 1 <= o.destination_ports <= MAX_PORTS):
        raise ValueError(f"origin_ports {o.origin_ports} and destination_ports "
                         f"{o.destination_ports} must be between 1 and {MAX_PORTS}")
    n_sites = o.origin_ports + o.destination_ports
    for name in ("usable_share", "cloud_prob", "regular_revisit"):
        if len(getattr(o, name)) != n_sites:
            raise ValueError(f"{name} has {len(getattr(o, name))} values for {n_sites} ports")
    if o.recognise_by_port and len(o.recognise_by_port) != n_sites:
        raise ValueError(f"recognise_by_port has {len(o.recognise_by_port)} values for "
                         f"{n_sites} ports")
    for name in ("cloud_prob", "usable_share", "recognise_by_port"):
        if not all(0.0 <= x <= 1.0 for x in getattr(o, name)):
            raise ValueError(f"{name} {_plain(getattr(o, name))} is not in [0, 1]")
    n_routes = o.origin_ports * o.destination_ports
    if o.route_weights and (len(o.route_weights) != n_routes or min(o.route_weights) < 0
                            or sum(o.route_weights) <= 0):
        raise ValueError(f"route_weights {_plain(o.route_weights)} are not {n_routes} "
                         f"weights (origins x destinations) with a positive sum")
    for name in ("loading_days", "unloading_days"):
        lo, hi = getattr(o, name)
        if not 1 <= lo <= hi:
            raise ValueError(f"{name} {list(getattr(o, name))} is not a range of at least 1 day")
    if not 0.0 <= o.switch_prob <= 1.0:
        raise ValueError(f"switch_prob {o.switch_prob} is not in [0, 1]")
    if not 0.0 < o.depot_share <= 1.0:
        raise ValueError(f"depot_share {o.depot_share} is not in (0, 1]")
    if not o.m2_per_container > 0:
        raise ValueError(f"m2_per_container {o.m2_per_container} is not positive")
    if not o.rail_delay_median > 0:
        raise ValueError(f"rail_delay_median {o.rail_delay_median} is not positive")
    if o.depot_metrics not in DEPOT_METRICS:
        raise ValueError(f"depot_metrics '{o.depot_metrics}' is not one of {', '.join(DEPOT_METRICS)}")
    if not 1 <= o.vessels <= len(VESSEL_NAMES):
        raise ValueError(f"vessels {o.vessels} is not between 1 and {len(VESSEL_NAMES)}")
    return o


def _plain(x):
    return x[0] if isinstance(x, tuple) and len(set(x)) == 1 else x


def simulate_world(scenario: str, seed: int, **overrides) -> World:
    if scenario not in ALL_SCENARIOS:
        raise ValueError(f"unknown scenario '{scenario}' (known: {', '.join(ALL_SCENARIOS)})")
    # one random stream per part, so a seed gives the same design, imagery (and depot
    # noise) in every scenario; the network's own draws come last
    streams = [np.random.default_rng(s)
               for s in np.random.SeedSequence(seed).spawn(8 + len(VESSEL_NAMES))]
    (rng_design, rng_event, rng_imagery, rng_sight, rng_rail, rng_depot, rng_claims) = streams[:7]
    rng_ships, rng_network = streams[7:-1], streams[-1]
    drawn = draw_options(rng_design)
    if scenario == NETWORK:
        drawn |= draw_network(rng_network, overrides.get("origin_ports"),
                              overrides.get("destination_ports"))
    elif {"origin_ports", "destination_ports", "route_weights", "switch_prob"} & set(overrides):
        raise ValueError(f"ports and routes are options of scenario={NETWORK}")
    o = make_options(drawn, **overrides)
    days = (o.end - o.start).days + 1

    event = int(days * rng_event.uniform(*o.event_day))
    pause = (event, event + _between(rng_event, o.pause_days)) if scenario == "pause" else None
    change = event if scenario == "load_change" else None
    n_vessels = o.vessels
    joining = n_vessels - 1 if scenario == "vessel_joins" else None
    if joining == 0:
        raise ValueError("vessel_joins needs vessels >= 2: one sails from the start, the last joins")
    vessels = [(VESSEL_NAMES[i], o.capacity[i] if o.capacity_stated[i] else None)
               for i in range(n_vessels)]

    voyages = []
    for i in range(n_vessels):
        rng = rng_ships[i]
        first = event if i == joining else -_between(rng, BURN_IN_DAYS)
        voyages += _sail(VESSEL_NAMES[i], o.capacity[i], o.load_factor_a[i], first, days,
                         pause, change, o, rng)
    voyages.sort(key=lambda v: (v.load_start, v.vessel))
    if scenario == NETWORK:
        _routes(voyages, [name for name, _ in vessels], o, rng_network)

    passes = _passes(days, o, rng_imagery)
    _sight(voyages, passes, recognition(o), rng_sight)
    counts = _counts(voyages, o, rng_sight)
    arrivals = _rail(voyages, o, rng_rail)
    depot = _depot(arrivals, days, o, rng_depot)
    claims, claim_truth = _claims(voyages, days, o, rng_claims) if o.claims else ([], [])

    world = World(scenario, seed, o, vessels, voyages, passes, counts, depot, claims)
    parameters = {
        **{k: _jsonable(v) for k, v in asdict(o).items()},
        "vessel_capacity": {VESSEL_NAMES[i]: o.capacity[i] for i in range(n_vessels)},
        "vessel_mean_load": {VESSEL_NAMES[i]: round(o.capacity[i] * o.load_factor_a[i]
                                                    / (o.load_factor_a[i] + 2), 2)
                             for i in range(n_vessels)},
        "pause": [world.date(pause[0]).isoformat(), world.date(pause[1] - 1).isoformat()] if pause else None,
        "load_change_from": world.date(change).isoformat() if change is not None else None,
        "vessel_joins": world.date(event).isoformat() if joining is not None else None,
    }
    world.truth = _truth(world, arrivals, claim_truth, parameters)
    return world


def slices(o: Options, scenario: str) -> dict[str, str]:
    """The world's place in the ranges a bench reports by; a network's cadence is how far
    apart its ports' usable shares are (very different: the most watched port has a
    usable pass at least 4 times as often as the least), and its switching."""
    share = next(name for lo, hi, name in SHARE_SLICES if lo <= o.depot_share < hi)
    out = {"scenario": scenario, "depot_share": share, "depot_metrics": o.depot_metrics,
           "claims": "claims" if o.claims else "no claims"}
    if scenario != NETWORK:
        return out | {"cadence": {0: "daily chance", 1: "one regular",
                                  2: "both regular"}[sum(o.regular_revisit)]}
    spread = max(o.usable_share) / max(min(o.usable_share), 1e-9)
    calls = (sum(o.loading_days) + sum(o.unloading_days)) / 4
    return out | {"cadence": "very different" if spread >= 4 else "similar",
                  "switching": "often" if o.switch_prob >= 0.2 else "rarely",
                  "ports": f"{o.origin_ports}x{o.destination_ports}",
                  "calls": "long" if calls > 2.5 else "short"}


def recognition(o: Options) -> dict[str, float]:
    """Each site's chance to recognise a ship its usable pass shows."""
    sites = (*ports(o)[0], *ports(o)[1])
    return dict(zip(sites, o.recognise_by_port or (o.recognise_prob,) * len(sites)))


def _between(rng, bounds) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def _sail(name, cap, a, first, days, pause, change, o: Options, rng) -> list[Voyage]:
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
                          _load(cap, a, factor, rng)))
        t = unload_end + 1 + _between(rng, o.transit_days) + _between(rng, o.idle_days)
    return out


def _routes(voyages, vessels: list[str], o: Options, rng) -> None:
    """Each vessel's home route, drawn by the routes' weights; each voyage sails it, or
    with switch_prob a route drawn the same way."""
    origins, destinations = ports(o)
    n = len(origins) * len(destinations)
    weights = np.asarray(o.route_weights or (1.0,) * n, float)
    weights = weights / weights.sum()
    home = {name: int(rng.choice(n, p=weights)) for name in vessels}
    for v in voyages:
        route = int(rng.choice(n, p=weights)) if rng.random() < o.switch_prob else home[v.vessel]
        v.origin_site, v.destination_site = (origins[route // len(destinations)],
                                             destinations[route % len(destinations)])


def _load(cap, a, factor, rng) -> int:
    """capacity x Beta(a, 2), scaled by the scenario's factor, at least 1 and at most capacity."""
    return int(min(max(round(cap * rng.beta(a, 2.0) * factor), 1), cap))


def _passes(days, o: Options, rng) -> list[tuple[int, str, bool]]:
    """Passes over each site: on a fixed revisit cycle or each day by chance, as often as
    that site's usable share needs given its cloud (a pass a day at most)."""
    out = []
    for i, site in enumerate((*ports(o)[0], *ports(o)[1])):
        # at most a pass a day: a usable share above 1 - cloud_prob is not reached
        rate = min(o.usable_share[i] / max(1.0 - o.cloud_prob[i], 1e-9), 1.0)
        if rate <= 0:
            continue
        if o.regular_revisit[i]:
            step = 1.0 / rate
            days_seen = np.unique(np.floor(rng.uniform(0, step) + step * np.arange(days * rate + 1)))
            days_seen = days_seen[days_seen < days].astype(int)
        else:
            days_seen = np.flatnonzero(rng.random(days) < rate)
        out += [(int(d), site, bool(rng.random() >= o.cloud_prob[i])) for d in days_seen]
    return sorted(out)


def _sight(voyages, passes, recognise: dict[str, float], rng) -> None:
    """A port call is seen on the first usable pass during it on which the ship is
    recognised (with its site's chance, `recognition`)."""
    usable = {site: [d for d, s, u in passes if s == site and u]
              for site in {s for _, s, _ in passes}}

    def first_seen(site, first, last):
        for d in usable.get(site, ()):
            if first <= d <= last and rng.random() < recognise[site]:
                return d
        return None

    for v in voyages:
        v.origin_seen = first_seen(v.origin_site, v.load_start, v.depart)
        v.destination_seen = first_seen(v.destination_site, v.arrive, v.unload_end)


def _counts(voyages, o: Options, rng) -> list[dict]:
    """containers.csv rows (dates as days): visible ~ Binomial(load, coverage); a recorded
    coverage is the true one with a log-normal error, capped at 1; an unrecorded one is
    `unknown_coverage_factor` times a draw of the same population."""
    out = []
    for v in voyages:
        ends = (("loading", v.origin_site, v.origin_seen),
                ("unloading", v.destination_site, v.destination_seen))
        for stage, site, day in ends:
            if day is None or rng.random() >= o.count_prob:
                continue
            coverage = o.coverage_min + (1 - o.coverage_min) * rng.beta(*o.coverage_beta)
            stated = min(coverage * math.exp(rng.normal(0.0, o.coverage_error)), 1.0)
            unrecorded = rng.random() < o.unknown_coverage_prob
            if unrecorded:
                coverage *= o.unknown_coverage_factor
            recorded = None if unrecorded else max(round(stated, 2), 0.01)
            out.append({"date": day, "site": site, "vessel": v.vessel, "voyage_id": v.voyage_id,
                        "stage": stage, "visible": int(rng.binomial(v.load, coverage)),
                        "coverage": recorded, "true_coverage": round(float(coverage), 4),
                        "source": SOURCE})
    return out


def _rail(voyages, o: Options, rng) -> np.ndarray:
    """Sorted days on which containers reach the depot. The depot starts the window empty:
    only voyages that left the origin on or after day 0 feed it."""
    times = [np.zeros(0)]
    for v in voyages:
        if v.depart >= 0:
            n = int(rng.binomial(v.load, o.depot_share))
            times.append(v.arrive + rng.lognormal(math.log(o.rail_delay_median), o.rail_delay_log_sd, n))
    return np.sort(np.concatenate(times))


def _stock(arrivals, day) -> int:
    return int(np.searchsorted(arrivals, day, side="right"))


def _depot(arrivals, days, o: Options, rng) -> list[dict]:
    """depot.csv rows: filled area on every date; with depot_metrics 'counts', the containers
    on the last two dates too. Each row's sd is `depot_noise_cv` of the true value plus a floor."""
    first = days // 3
    n = min(o.depot_dates, days - first)
    dates = sorted(int(d) for d in rng.choice(np.arange(first, days), size=n, replace=False))
    out = []
    for i, day in enumerate(dates):
        stock = _stock(arrivals, day)
        metrics = [("filled_area_m2", stock * o.m2_per_container, 50.0)]
        if o.depot_metrics == "counts" and i >= n - 2:
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

    origins, destinations = ports(world.options)
    routes = []
    for o in origins:
        for d in destinations:
            these = [v for v in inside if (v.origin_site, v.destination_site) == (o, d)]
            routes.append({"origin": o, "destination": d, "voyages": len(these),
                           "containers": sum(v.load for v in these)})

    def seen_at(site: str) -> float | None:  # of the voyages that called there
        calls = [v.origin_seen if v.origin_site == site else v.destination_seen
                 for v in inside if site in (v.origin_site, v.destination_site)]
        return round(sum(c is not None for c in calls) / len(calls), 4) if calls else None

    claims = [{"start": iso(c["start"]), "end": iso(c["end"]), "quantity": c["quantity"],
               "relation": c["relation"], "value": c["value"], "true_value": t["true_value"]}
              for c, t in zip(world.claims, claim_truth)]
    return {
        "scenario": world.scenario,
        "seed": world.seed,
        "slices": slices(world.options, world.scenario),
        "window": {"start": iso(0), "end": iso(days - 1)},
        "total_containers": total,
        "voyages": len(inside),
        "containers_per_voyage": round(total / len(inside), 2) if inside else None,
        "voyages_seen": sum(v.origin_seen is not None or v.destination_seen is not None for v in inside),
        "series": series,
        "detection": {"origin": share(sum(v.origin_seen is not None for v in inside)),
                      "destination": share(sum(v.destination_seen is not None for v in inside))},
        "ports": {"origin": list(origins), "destination": list(destinations)},
        "routes": routes,  # the voyages that left inside the window, per route
        "site_detection": {site: seen_at(site) for site in (*origins, *destinations)},
        "depot_stock": _stock(arrivals, days - 1),
        "depot_series": [{"date": iso(d), "stock": s}
                         for d, s in sorted({(r["date"], r["stock"]) for r in world.depot})],
        "claims": claims,
        "voyage_log": [{"voyage_id": v.voyage_id, "vessel": v.vessel, "load_start": iso(v.load_start),
                        "departed": iso(v.depart), "arrived": iso(v.arrive),
                        "unload_end": iso(v.unload_end), "load": v.load,
                        "origin_seen": iso(v.origin_seen) if v.origin_seen is not None else None,
                        "destination_seen": iso(v.destination_seen) if v.destination_seen is not None else None,
                        "origin_site": v.origin_site, "destination_site": v.destination_site}
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
    header = ["vessel", "origin_seen", "destination_seen", "evidence", "voyage_id", "source"]
    rows = [[v.vessel, iso(v.origin_seen), iso(v.destination_seen), "imagery", v.voyage_id, SOURCE]
            for v in seen]
    if world.scenario == NETWORK:  # each end's site where the voyage was seen there
        header += ["origin_site", "destination_site"]
        rows = [[*row, v.origin_site if v.origin_seen is not None else None,
                 v.destination_site if v.destination_seen is not None else None]
                for row, v in zip(rows, seen)]
    _write_csv(out / "voyages.csv", header, rows)
    _write_csv(out / "imagery.csv", ["date", "site", "usable", "source"],
               [[iso(d), site, "true" if usable else "false", SOURCE] for d, site, usable in world.passes])
    _write_csv(out / "containers.csv",
               ["date", "site", "vessel", "voyage_id", "stage", "visible", "coverage", "source"],
               [[iso(r["date"]), r["site"], r["vessel"], r["voyage_id"], r["stage"], r["visible"],
                 r["coverage"], r["source"]] for r in sorted(world.counts, key=lambda r: r["date"])])
    _write_csv(out / "depot.csv", ["date", "site", "metric", "value", "sd", "source"],
               [[iso(r["date"]), r["site"], r["metric"], r["value"], r["sd"], r["source"]]
                for r in world.depot])
    if world.claims:
        _write_csv(out / "claims.csv",
                   ["start", "end", "quantity", "relation", "value", "confidence", "source"],
                   [[iso(r["start"]), iso(r["end"]), r["quantity"], r["relation"], r["value"],
                     r["confidence"], r["source"]] for r in world.claims])
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
            f"origin: [{', '.join(ports(o)[0])}]\n"
            f"destination: [{', '.join(ports(o)[1])}]\n"
            f"depot: {DEPOT}\n"
            f"vessels:\n{vessels}\n")
