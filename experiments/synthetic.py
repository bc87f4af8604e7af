"""A model family's simulated data (RouteData + truth, from `<family>.simulate`) written as a
case folder (DESIGN.md's contract) with truth.json beside it.

The simulated arrays are per period; the rows need dates. A voyage's departure day and the
days it was sighted come from the simulation (`voyages.simulate_voyages`: the usable pass
that caught it), so `route_data` places it where the simulation counted it. Imagery has one
row per day of the window at each end, `usable` where the simulated record has a usable
pass, and a row for each usable pass the record holds beyond the window. Counts are dated on the sighting of their end, with `coverage` blank where
it was not recorded. Depot rows and claims keep their simulated days, values and relations.
Every float is written in full (`repr`), so reading the folder back gives the same arrays.
"""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ..observations.aggregate import (CLAIM_CONFIDENCE, CLAIM_QUANTITIES, CLAIM_RELATIONS,
                                      DEPOT_METRICS, RECORD_FROM, RouteData)
from ..observations.spec import CaseSpec

DEFAULT_DEPOT = "Depot"  # the depot's site name when the template names none
HEADERS = {
    "voyages": ["vessel", "origin_seen", "destination_seen", "evidence", "voyage_id", "source"],
    "imagery": ["date", "site", "usable", "source"],
    "containers": ["date", "site", "vessel", "voyage_id", "stage", "visible", "coverage", "source"],
    "depot": ["date", "site", "metric", "value", "sd", "source"],
    "claims": ["start", "end", "quantity", "relation", "value", "confidence", "source"],
}


def case_tables(route: RouteData, truth: dict, spec: CaseSpec, rng: np.random.Generator,
                source: str) -> tuple[dict[str, list[list]], dict]:
    """The five tables' rows, and the truth with dates, names and voyage ids filled in."""
    start, days = spec.start, spec.days
    transit = int(round(route.transit_days))
    origin, destination = spec.origin[0], spec.destination[0]
    names = spec.vessel_names

    def iso(day) -> str | None:
        return None if day is None else (start + timedelta(days=int(day))).isoformat()

    # the departure day and the sighting days the simulation drew (a day inside its
    # period, when the log has none)
    first_day = [(s - start).days for s, _ in route.periods]
    log = []
    for v in truth["voyage_log"]:
        dep = v.get("day")
        if dep is None:
            dep = first_day[v["period"]] + int(rng.integers(int(route.period_days[v["period"]])))
        sighted = v.get("sighted") or [dep if v["seen"][0] else None,
                                       dep + transit if v["seen"][1] else None]
        log.append({**v, "departed": dep, "origin_seen": sighted[0],
                    "destination_seen": sighted[1]})
    seen = sorted((v for v in log if any(v["seen"])), key=lambda v: (v["departed"], v["vessel"]))
    for i, v in enumerate(seen):
        v["voyage_id"] = f"S{i + 1}"

    # a network (model=network's simulate): each voyage's ports from its route
    n_o, sited = route.n_origin_sites, len(route.site_names) > 2
    n_d = len(route.site_names) - n_o
    ports = lambda v: ((origin, destination) if not sited else  # noqa: E731
                       (route.site_names[v["route"] // n_d], route.site_names[n_o + v["route"] % n_d]))
    voyages = [[names[v["vessel"]], iso(v["origin_seen"]), iso(v["destination_seen"]), "imagery",
                v["voyage_id"], source] for v in seen]
    if sited:
        voyages = [[*row, ports(v)[0] if v["seen"][0] else None,
                    ports(v)[1] if v["seen"][1] else None] for row, v in zip(voyages, seen)]
    counts = sorted(((v["origin_seen"] if c["end"] == 0 else v["destination_seen"], i, c)
                     for i, v in enumerate(seen) for c in v["counts"]), key=lambda t: t[:2])
    containers = [[iso(day), ports(seen[i])[c["end"]], names[seen[i]["vessel"]],
                   seen[i]["voyage_id"], "loading" if c["end"] == 0 else "unloading", c["visible"],
                   None if c["coverage"] is None else repr(float(c["coverage"])), source]
                  for day, i, c in counts]

    # the imagery record: a row for every window day at each end (each port of a network),
    # and the usable passes the record holds beyond the window
    imagery = []
    records = (zip(route.site_names, route.site_usable_on) if sited
               else zip((origin, destination), route.usable_on))
    for end, (site, record) in enumerate(records):
        if route.usable_on.shape[1]:
            on = {int(i) + RECORD_FROM for i in np.flatnonzero(record)}
        else:  # no record: as many usable days as drawn, sighting days first
            n = int(route.usable_days[end])
            key = ("origin_seen", "destination_seen")[end]
            sighted = sorted({v[key] for v in seen if v[key] is not None and v[key] < days})
            first = list(rng.permutation(np.array(sighted, int)))[:n]
            rest = np.setdiff1d(np.arange(days), first)
            on = {int(d) for d in (*first, *rng.choice(rest, n - len(first), replace=False))}
        imagery += [[iso(d), site, "true" if d in on else "false", source]
                    for d in sorted(set(range(days)) | on)]
    order = {site: k for k, site in enumerate(route.site_names if sited else (origin, destination))}
    imagery.sort(key=lambda row: (row[0], order[row[1]]))

    depot_site = spec.depot or DEFAULT_DEPOT
    depot = [[iso(d), depot_site, DEPOT_METRICS[m], repr(float(v)),
              None if not np.isfinite(sd) else repr(float(sd)), source]
             for d, m, v, sd in zip(route.depot_day, route.depot_metric, route.depot_value,
                                    route.depot_sd)]
    claims = [[iso(f), iso(last), CLAIM_QUANTITIES[q], CLAIM_RELATIONS[r], repr(float(v)),
               CLAIM_CONFIDENCE[c], source]
              for f, last, q, r, v, c in zip(route.claim_first, route.claim_last,
                                             route.claim_quantity, route.claim_relation,
                                             route.claim_value, route.claim_confidence)]

    dated = dict(truth)
    dated["voyage_log"] = [
        {"voyage_id": v.get("voyage_id"), "vessel": names[v["vessel"]], "departed": iso(v["departed"]),
         "load": v["load"], "origin_seen": iso(v["origin_seen"]),
         "destination_seen": iso(v["destination_seen"]), "counts": len(v["counts"]),
         **(dict(zip(("origin_port", "destination_port"), ports(v))) if sited else {})}
        for v in sorted(log, key=lambda v: (v["departed"], v["vessel"]))]
    if "depot_rows" in truth:
        dated["depot_rows"] = [{"date": iso(r.pop("day")), **r} for r in map(dict, truth["depot_rows"])]
    if "claims" in truth:
        dated["claims"] = [{"start": iso(c.pop("first_day")), "end": iso(c.pop("last_day")), **c}
                           for c in map(dict, truth["claims"])]
    tables = {"voyages": voyages, "imagery": imagery, "containers": containers}
    if route.depot_day.size:
        tables["depot"] = depot
    if route.claim_first.size:
        tables["claims"] = claims
    return tables, dated


def case_yaml(spec: CaseSpec, name: str, title: str, depot: bool, comment: str) -> str:
    def q(text) -> str:
        return json.dumps(str(text))  # a JSON string is a YAML flow scalar

    vessels = "\n".join(f"  - {{name: {q(v.name)}, capacity_teu: {v.capacity_teu}}}"
                        if v.capacity_teu else f"  - {{name: {q(v.name)}}}" for v in spec.vessels)
    return (f"# {comment}\n# The truth is in truth.json beside this file.\n"
            f"name: {name}\ntitle: {q(title)}\n"
            f"window: {{start: {spec.start.isoformat()}, end: {spec.end.isoformat()}}}\n"
            f"period_days: {spec.period_days}\n"
            f"origin: [{', '.join(q(s) for s in spec.origin)}]\n"
            f"destination: [{', '.join(q(s) for s in spec.destination)}]\n"
            + (f"depot: {q(spec.depot or DEFAULT_DEPOT)}\n" if depot else "")
            + f"vessels:\n{vessels}\n")


def write_model_case(route: RouteData, truth: dict, spec: CaseSpec, folder: str | Path,
                     rng: np.random.Generator, *, model: str, version: int, seed: int,
                     parameters: dict, extra: dict | None = None) -> dict:
    """Write case.yaml, the tables and truth.json into `folder` (which must exist);
    returns what truth.json holds."""
    folder = Path(folder)
    source = f"simulated: {model}@{version} seed {seed}"
    tables, dated = case_tables(route, truth, spec, rng, source)
    name = f"sim-{model}-{seed}"
    (folder / "case.yaml").write_text(case_yaml(
        spec, name, f"Simulated from {model}@{version}, seed {seed}, on the shape of {spec.name}",
        "depot" in tables, f"Simulated by `cargoinfer simulate model={model} seed={seed}` from the "
        f"model's own generative process, on the window, periods and vessels of {spec.name}."),
        encoding="utf-8")
    for table, rows in tables.items():
        with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            sited = table == "voyages" and len(route.site_names) > 2
            w.writerow(HEADERS[table] + (["origin_site", "destination_site"] if sited else []))
            w.writerows([["" if c is None else c for c in row] for row in rows])
    record = {"model": model, "version": version, "seed": seed, "case": name,
              "window": {"start": spec.start.isoformat(), "end": spec.end.isoformat()},
              **(extra or {}), "parameters": parameters, **dated}
    text = json.dumps(record, indent=2, default=_plain) + "\n"
    (folder / "truth.json").write_text(text, encoding="utf-8")
    return json.loads(text)


def _plain(x):
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, date):
        return x.isoformat()
    raise TypeError(type(x).__name__)
