"""`cargoinfer init`: a case folder to fill in. Every value and row to replace is marked
EXAMPLE, so that `check` names each one until it is replaced (schema.EXAMPLE)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from .schema import TABLE_BY_NAME

CASE_YAML = """\
# case.yaml: what the case is about. Replace every value that starts with EXAMPLE,
# then run `cargoinfer check THIS_FOLDER` until it prints no problem.
#
# name: a short id (lower-case letters, digits, single hyphens); runs record it.
name: example-port-a-to-port-b
# title: one line that heads the brief.
title: "EXAMPLE: Port A to Port B sea shipments, March-April 2024"
# window: the inclusive dates the estimate covers. Voyages, imagery and counts outside
# it are refused; claims may reach past it (the part inside is used).
window: {start: 2024-03-01, end: 2024-04-30}
# period_days: the length of one period of series.csv and of the figures.
period_days: 7
# origin, destination: the sites voyages leave from and arrive at. The tables' `site`
# columns must use these names. Several sites per end are allowed.
origin: [EXAMPLE-Port-A]
destination: [EXAMPLE-Port-B]
# depot (optional): where cargo is stored after landing; depot.csv measures it.
# Delete the line and depot.csv if there is none.
depot: EXAMPLE-Depot
# vessels: every ship the voyages name. capacity_teu (optional) caps a voyage's load;
# leave it out where it is not known rather than guess.
vessels:
  - {name: EXAMPLE-Ship-1, capacity_teu: 300}
  - {name: EXAMPLE-Ship-2}
"""

README = """\
# EXAMPLE case folder (written by `cargoinfer init`)

Replace this line with what the case is about and who assembled it.

Every value and row marked EXAMPLE is made up: replace it with an observation and
its source, or delete it. `cargoinfer check THIS_FOLDER` lists what is left to
replace as `file:row:column` problems; `cargoinfer fit case.path=THIS_FOLDER` then
fits the case. Dates are YYYY-MM-DD; an empty cell is "not known"; every row needs
a `source` (write "reconstructed" in it for a row that is not a reported fact).

| file | what it holds | where its numbers usually come from |
|---|---|---|
| `case.yaml` | the route, the window, the vessels | the question being asked; ship registers for names and capacities |
| `voyages.csv` (required) | one row per laden voyage seen, with the date seen at each end (empty: not seen there) | satellite imagery of the ports; AIS where it was on; reporting |
| `imagery.csv` | every pass over each port in the window, usable or not | the imagery provider's catalogue: dates and cloud cover |
| `containers.csv` | containers counted on a quay or a deck, with the share of the scene the count covers | the same imagery, counted by an analyst |
| `depot.csv` | measurements of the storage site: filled area (m2), railcars or containers, with an sd | imagery of the depot or the rail siding |
| `claims.csv` | figures stated by governments or reporting, with a relation (about, at least, at most) and a confidence | statements, briefings, articles |

One row per distinct voyage: a voyage seen at both ends is one row with both dates.
Which ends a voyage was seen at is what tells the model how often voyages are missed,
so list every pass in imagery.csv, the unusable ones too. Delete an optional table
that you have no rows for.
"""

# (vessel, origin_seen, destination_seen, voyage_id): seen at both ends, at one only
VOYAGES = [("EXAMPLE-Ship-1", "2024-03-04", "2024-03-06", "S1-1"),
           ("EXAMPLE-Ship-2", "2024-03-11", "", "S2-1"),
           ("EXAMPLE-Ship-1", "", "2024-03-20", "S1-2"),
           ("EXAMPLE-Ship-2", "2024-03-28", "2024-03-30", "S2-2"),
           ("EXAMPLE-Ship-1", "2024-04-05", "", "S1-3"),
           ("EXAMPLE-Ship-2", "", "2024-04-16", "S2-3"),
           ("EXAMPLE-Ship-1", "2024-04-22", "2024-04-24", "S1-4")]
CLOUDY = {"2024-03-16", "2024-04-09", "2024-04-27"}  # passes shown as unusable


def tables() -> dict[str, list[list[str]]]:
    """Each table's rows (header first), its columns as the contract lists them (the
    optional ones left out: the template has one site per end)."""
    src = "EXAMPLE: replace with where this row comes from"
    voyages = [[v, o, d, "imagery", vid, f"{src} (an image of the ship at each port)"]
               for v, o, d, vid in VOYAGES]
    seen = {("EXAMPLE-Port-A", o) for _, o, _, _ in VOYAGES if o}
    seen |= {("EXAMPLE-Port-B", d) for _, _, d, _ in VOYAGES if d}
    start = date(2024, 3, 1)
    days = {(site, (start + timedelta(k)).isoformat()) for site, first in
            (("EXAMPLE-Port-A", 0), ("EXAMPLE-Port-B", 1)) for k in range(first, 61, 3)}
    imagery = [[day, site, "false" if day in CLOUDY and (site, day) not in seen else "true",
                f"{src} (the provider's catalogue of passes)"]
               for site, day in sorted(days | seen, key=lambda x: (x[1], x[0]))]
    containers = [["2024-03-04", "EXAMPLE-Port-A", "EXAMPLE-Ship-1", "S1-1", "loading", "180",
                   "0.6", f"{src} (containers counted on the quay; coverage: share of it seen)"],
                  ["2024-03-30", "EXAMPLE-Port-B", "EXAMPLE-Ship-2", "S2-2", "unloading", "150",
                   "", f"{src} (coverage empty: not known)"]]
    depot = [[day, "EXAMPLE-Depot", "filled_area_m2", value, sd,
              f"{src} (filled area of the storage site measured on imagery)"]
             for day, value, sd in (("2024-03-15", "1200", "400"), ("2024-04-10", "3500", "800"),
                                    ("2024-04-28", "5200", "1000"))]
    claims = [["2024-03-01", "2024-04-30", "containers", "at_least", "800", "medium",
               f"{src} (a stated figure: who said it, when, in what words)"]]
    rows = {"voyages": voyages, "imagery": imagery, "containers": containers, "depot": depot,
            "claims": claims}
    return {name: [list(TABLE_BY_NAME[name].required_names), *body] for name, body in rows.items()}


def files() -> dict[str, str]:
    """File name -> text of the template folder."""
    out = {"case.yaml": CASE_YAML, "README.md": README}
    for name, rows in tables().items():
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        out[f"{name}.csv"] = buf.getvalue()
    return out
