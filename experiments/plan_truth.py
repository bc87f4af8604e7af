"""What a plan's options would really show in a simulated world, for checking
`cargoinfer plan`'s predictions against realised refits (bench/plan_realised.py).

`check_menu(case)` builds the options the check assesses from a world's case: a count of
a voyage seen at the destination and never counted, a depot reading of the filled area
on the window's last day, archive passes of each end over half of the window.

Two kinds of world show them differently:
- a world drawn from a family's prior (`cargoinfer simulate model=...`) shows an option's
  rows as the family's own process draws them at the world's parameters (`prior_rows`):
  the hidden voyages are drawn given the data and those parameters, which in a world the
  model made is the distribution the world's own hidden voyages come from;
- an event-level world (`observations.world`, a process no model shares) shows them from
  its own voyages, loads, clouds and depot stock (`world_rows`).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from ..observations import world as worlds
from . import plan_imagery
from .plan import Context, screen_cases, simulate_rows
from .plan_menu import Option, read_menu


def check_menu(case, passes: int = 10, usable: dict | None = None) -> list[Option]:
    """The check's options for `case` (those the case allows); `usable`, per end, the
    archive passes' share of usable images when the world's own is to be used."""
    spec = case.spec
    half = spec.start + timedelta(days=spec.days // 2)
    menu = {}
    counted = set(case.tables["containers"]["voyage_id"].drop_nulls().to_list())
    seen = case.voyages.filter(pl.col("destination_seen").is_not_null()
                               & pl.col("voyage_id").is_not_null()
                               & ~pl.col("voyage_id").is_in(list(counted)))
    if seen.height:
        menu["count_voyage"] = {"kind": "count", "site": spec.destination[0], "cost": 1,
                                "voyage": seen["voyage_id"][seen.height // 2], "coverage": 0.6}
    area = case.tables["depot"].filter(pl.col("metric") == "filled_area_m2")
    if spec.depot and area.height:
        sd = 0.08 * float(area["value"][-1]) + 50.0
        menu["depot_area_end"] = {"kind": "depot", "metric": "filled_area_m2", "cost": 1,
                                  "date": spec.end.isoformat(), "sd": round(sd, 1)}
    menu["archive_destination"] = {"kind": "imagery", "site": spec.destination[0], "cost": 1,
                                   "start": half.isoformat(), "end": spec.end.isoformat(),
                                   "passes": passes}
    menu["archive_origin"] = {"kind": "imagery", "site": spec.origin[0], "cost": 1,
                              "start": spec.start.isoformat(), "end": half.isoformat(),
                              "passes": passes}
    for end in usable or {}:
        menu[f"archive_{end}"]["usable"] = float(usable[end])
    options = read_menu(menu, case)
    # imagery of a world whose record has every day already carries nothing: left out
    return [o for o in options if o.kind != "imagery" or plan_imagery.pass_days(case, o)]


def world_case(kind: str, seed: int, folder: Path):
    """(case folder, truth) of world `seed`: `prior`, joint's own (`cargoinfer simulate
    model=joint` on the embedded case's shape, its imagery rows on the days the case
    looked and its usable passes; truth.json's record), or `event`, the event-level
    scenarios in turn (the World)."""
    from ..models import registry
    from ..observations.case import load_case
    from .config import case_dir, compose
    from .simulate import simulate_model

    folder.mkdir(parents=True)
    if kind == "event":
        world = worlds.simulate_world(worlds.SCENARIOS[seed % len(worlds.SCENARIOS)], seed)
        return worlds.write_case(world, folder), world
    cfg = compose(["model=joint"])
    template = load_case(case_dir(cfg))
    truth = simulate_model(registry.get("joint"), cfg, template, seed, folder)
    _looked_as(template, folder / "imagery.csv")
    return folder, truth


def _looked_as(template, path: Path) -> None:
    """Keep a prior world's imagery rows on the days its template looked, and its usable
    passes. The simulated record has a row for every window day, so archive passes would
    have no day left to take; a day the template never looked at had no usable pass in the
    world either, so dropping its row changes no sighting, only what is left to image. The
    rows kept overstate the share of usable passes (every usable one is kept), so the
    check gives the archive passes the world's own share (`check_menu`'s `usable`)."""
    rows = pl.read_csv(path, infer_schema_length=0)
    looked = (template.tables["imagery"].select(pl.col("date").cast(pl.String), "site")
              .unique().with_columns(looked=pl.lit(True)))
    rows = rows.join(looked, on=["date", "site"], how="left", maintain_order="left")
    rows.filter(pl.col("looked").fill_null(False) | (pl.col("usable") == "true")) \
        .drop("looked").write_csv(path)


def fitted(folder: Path, seed: int, overrides: tuple[str, ...] = ()):
    """(Context, Fit): the case at `folder` fitted with joint's defaults (and overrides)
    in this process, as a plan's context (1000 draws, thinned evenly)."""
    from types import SimpleNamespace

    from ..inference.fit import fit
    from ..models import registry
    from ..observations.aggregate import route_data
    from ..observations.case import load_case
    from .config import compose

    cfg = compose(["model=joint", *overrides])
    family = registry.get("joint")
    case = load_case(folder)
    m = cfg.model
    route = route_data(case, m.transit_days, m.max_containers_per_voyage,
                       transit_extra_days=m.transit_extra_days)
    values = family.data_values(route, cfg.priors)
    result = fit(family, route, values, seed, SimpleNamespace(**dict(cfg.inference)))
    post = result.tree["posterior"]
    total = post.sizes["chain"] * post.sizes["draw"]
    keep = np.unique(np.linspace(0, total - 1, min(1000, total)).astype(int))
    draws = {v: np.asarray(post[v]).reshape(total, *post[v].shape[2:])[keep]
             for v in post.data_vars}
    return Context(folder, case, family, cfg, route, values, draws, "total_containers"), result


def prior_rows(ctx: Context, option: Option, parameters: dict, seed: int) -> list:
    """Each single option's reading in a world of the run's family whose parameters are
    `parameters` (one value or array per variable, as the family's prior_draws gives)."""
    truth = dataclasses.replace(ctx, draws={k: np.asarray(v)[None] for k, v in
                                            parameters.items()})
    return [simulate_rows(truth, o, np.array([0]), seed)[0] for o in option.singles]


def world_rows(world: worlds.World, case, option: Option, rng) -> list:
    """Each single option's reading in an event-level world: its own voyages and loads,
    its clouds at the site, its depot stock; the world's recognition chance."""
    return [_world_single(world, case, o, rng) for o in option.singles]


def _world_single(world, case, option: Option, rng):
    o = world.options
    if option.kind == "depot":
        truth = world.truth["depot_stock"] * o.m2_per_container  # on the window's last day
        if option.date != case.spec.end or option.metric != "filled_area_m2":
            raise ValueError(f"{option.name}: a world knows its filled area on the last day")
        return max(round(float(rng.normal(truth, option.sd))), 0)
    if option.kind == "count":
        voyage = next(v for v in world.voyages if v.voyage_id == option.voyage)
        coverage = min(option.coverage * math.exp(-rng.normal(0.0, o.coverage_error)), 1.0)
        return int(rng.binomial(voyage.load, coverage))
    return _world_imagery(world, case, option, rng)


def _world_imagery(world, case, option: Option, rng) -> dict:
    """The option's passes over the world's site: usable when not cloudy; a voyage not yet
    seen at that end is seen on the first usable pass during its call, if recognised."""
    spec = case.spec
    site = worlds.SITES.index(option.site)
    days = plan_imagery.pass_days(case, option)
    usable = [bool(rng.random() >= o) for o in [world.options.cloud_prob[site]] * len(days)]
    good = sorted((d - spec.start).days for d, u in zip(days, usable) if u)
    column = "origin_seen" if site == 0 else "destination_seen"
    rows = {vid: i for i, vid in enumerate(case.voyages["voyage_id"].to_list())}
    names = [v.name for v in spec.vessels]
    recognise = worlds.recognition(world.options)[option.site]
    sightings = []
    for v in world.voyages:
        if (v.origin_seen if site == 0 else v.destination_seen) is not None:
            continue
        first, last = (v.load_start, v.depart) if site == 0 else (v.arrive, v.unload_end)
        for d in good:
            if first <= d <= last and rng.random() < recognise:
                row = rows.get(v.voyage_id)
                if row is not None and case.voyages[column][row] is not None:
                    break
                sightings.append((row, names.index(v.vessel), spec.start + timedelta(days=d)))
                break
    return {"passes": list(zip(days, usable)), "sightings": sightings}


def screened_width(ctx: Context, case, seed: int, prob: float = 0.9) -> tuple[float, float]:
    """(width, Pareto k): the headline's interval width after `case` (the run's case with
    new rows) by reweighting the run's own draws, as the plan's screen does. Measured on
    the same draws as the plan's width now, a realised reduction carries no refit noise;
    trust it where k is at most 0.7."""
    s = screen_cases(ctx, [case], seed, prob)
    return float(s.widths[0]), float(s.ks[0])
