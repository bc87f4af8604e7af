"""Read and validate a case folder into typed polars tables.

`load_case` either returns a `Case` or raises `CaseInvalid` listing every
problem of the folder as `file:row:column: message`.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from .cells import CellError, parse_cell
from .problems import CaseInvalid, Problem
from .read import RawTable, read_table
from .schema import CASE_FILE, EXAMPLE, EXAMPLE_HINT, TABLE_BY_NAME, TABLES, Column, Table
from .spec import CaseSpec, read_spec

_DTYPES = {"str": pl.String, "enum": pl.String, "date": pl.Date, "bool": pl.Boolean,
           "int": pl.Int64, "float": pl.Float64}


@dataclass
class Case:
    """A validated case: its spec, one typed table per file, and a content hash."""

    path: Path
    spec: CaseSpec
    tables: dict[str, pl.DataFrame]  # every table of the contract; absent ones are empty
    content_hash: str
    files: dict[str, str]  # table name -> file name it was read from
    full_end: date | None = None  # set by cutoff.cut: the window's end before the cut

    def __getattr__(self, name):
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def with_rows(self, name: str, columns: dict[str, list]) -> "Case":
        """A copy with rows appended to table `name`: `columns` maps a column to its values
        (cast to the table's types); `_row` is numbered on, other columns are null."""
        old = self.tables[name]
        n = len(next(iter(columns.values())))
        cols = []
        for c in old.columns:
            if c in columns:
                cols.append(pl.Series(c, columns[c]).cast(old.schema[c]))
            elif c == "_row":
                cols.append(pl.Series(c, np.arange(n) + old.height + 2).cast(old.schema[c]))
            else:
                cols.append(pl.Series(c, [None] * n, old.schema[c]))
        tables = {**self.tables, name: pl.concat([old, pl.DataFrame(cols)])}
        return dataclasses.replace(self, tables=tables)


def empty_table(table: Table) -> pl.DataFrame:
    return pl.DataFrame(schema={c.name: _DTYPES[c.kind] for c in table.columns})


def load_case(folder: str | Path) -> Case:
    folder = Path(folder)
    if not folder.is_dir():
        raise CaseInvalid(str(folder), [Problem(str(folder), message="is not a folder")])
    problems: list[Problem] = []
    spec = read_spec(folder, problems)
    tables: dict[str, pl.DataFrame] = {}
    files: dict[str, str] = {}
    headers: dict[str, list[str]] = {}
    for table in TABLES:
        path = _find(folder, table, problems)
        if path is None:
            tables[table.name] = empty_table(table)
            continue
        files[table.name] = path.name
        raw = read_table(path, problems)
        headers[table.name] = raw.header if raw is not None else []
        df = _typed(raw, table, problems) if raw is not None else None
        tables[table.name] = df if df is not None else empty_table(table)
    if spec is not None:
        _cross_check(spec, tables, files, problems)
        if "_row" in tables["voyages"].columns:  # read and typed
            _voyage_sites(spec, tables["voyages"], files["voyages"], headers["voyages"], problems)
        if "_row" in tables["claims"].columns:
            _claim_sites(spec, tables["claims"], files["claims"], problems)
    if problems:
        raise CaseInvalid(str(folder), _ordered(problems))
    return Case(folder, spec, tables, _hash(folder, files), files)


def _find(folder: Path, table: Table, problems: list[Problem]) -> Path | None:
    found = [folder / f"{table.name}{ext}" for ext in (".csv", ".parquet")]
    found = [p for p in found if p.exists()]
    if len(found) == 2:
        problems.append(Problem(found[0].name, message=f"and {found[1].name} both exist: keep one"))
        return None
    if not found:
        if table.required:
            problems.append(Problem(f"{table.name}.csv", message="is missing (required)"))
        return None
    if not found[0].is_file():
        problems.append(Problem(found[0].name, message="is not a file"))
        return None
    return found[0]


def _typed(raw: RawTable, table: Table, problems: list[Problem]) -> pl.DataFrame | None:
    header = raw.header
    dupes = sorted({h for h in header if header.count(h) > 1})
    for h in dupes:
        problems.append(Problem(raw.file, 1, h, "column appears more than once"))
    missing = [c for c in table.required_names if c not in header]
    for c in missing:
        problems.append(Problem(raw.file, 1, c, f"required column is missing{_misspelt(c, header, table)}"))
    if dupes or missing:
        return None
    index = {h: i for i, h in enumerate(header)}
    values: dict[str, list] = {h: [] for h in [*header, *table.column_names]}
    rows: list[int] = []
    before = len(problems)
    for row, cells in raw.rows:
        if len(cells) != len(header):
            problems.append(Problem(raw.file, row, None,
                                    f"has {len(cells)} fields but the header has {len(header)}"))
            continue
        rows.append(row)
        if "source" in index and cells[index["source"]].startswith(EXAMPLE):
            problems.append(Problem(raw.file, row, "source",
                                    f"this row is {EXAMPLE_HINT} with an observation and its "
                                    "source, or delete the row"))
        for col in table.columns:
            text = cells[index[col.name]] if col.name in index else ""  # absent: optional
            values[col.name].append(_cell(raw.file, row, col, text, problems))
        for h in header:
            if h not in table.column_names:
                values[h].append(cells[index[h]] or None)
    if len(problems) > before:
        return None
    data = {c.name: pl.Series(c.name, values[c.name], dtype=_DTYPES[c.kind]) for c in table.columns}
    extra = {h: pl.Series(h, values[h], dtype=pl.String) for h in header if h not in data}
    return pl.DataFrame({**data, **extra, "_row": pl.Series(rows, dtype=pl.Int64)})


def _misspelt(column: str, header: list[str], table: Table) -> str:
    near = difflib.get_close_matches(column, [h for h in header if h not in table.column_names], n=1)
    return f" (is '{near[0]}' a misspelling?)" if near else ""


def _cell(file: str, row: int, col: Column, text: str, problems: list[Problem]):
    if text == "":
        if not col.nullable:
            problems.append(Problem(file, row, col.name, "is empty but required"))
        return None
    try:
        return parse_cell(text, col)
    except CellError as e:
        problems.append(Problem(file, row, col.name, str(e)))
        return None


def _cross_check(spec: CaseSpec, t: dict[str, pl.DataFrame], files: dict[str, str],
                 problems: list[Problem]) -> None:
    vessels = set(spec.vessel_names)
    sites = spec.sites

    def bad(table, row, col, msg):
        problems.append(Problem(files[table], row, col, msg))

    voyage_vessel: dict[str, str] = {}
    voyage_site: dict[str, dict[str, str]] = {"origin": {}, "destination": {}}
    if "voyages" in files:
        for r in t["voyages"].iter_rows(named=True):
            # a voyage's known sites (one not of its end is named by _voyage_sites)
            for end, known in (("origin", spec.origin), ("destination", spec.destination)):
                if r["voyage_id"] is not None and r[f"{end}_site"] in known:
                    voyage_site[end][r["voyage_id"]] = r[f"{end}_site"]
            if r["vessel"] not in vessels:
                bad("voyages", r["_row"], "vessel", f"'{r['vessel']}' is not a vessel in case.yaml")
            o, d = r["origin_seen"], r["destination_seen"]
            if o is None and d is None:
                bad("voyages", r["_row"], "origin_seen", "and destination_seen are both empty: set at least one")
            if o is not None and d is not None and o > d:
                bad("voyages", r["_row"], "destination_seen", f"{d} is before origin_seen {o}")
            vid = r["voyage_id"]
            if vid is not None:
                if vid in voyage_vessel:
                    bad("voyages", r["_row"], "voyage_id", f"'{vid}' is used by more than one voyage")
                voyage_vessel[vid] = r["vessel"]
    for table in ("imagery", "containers", "depot"):
        if table not in files:
            continue
        for r in t[table].iter_rows(named=True):
            if r["site"] not in sites:
                bad(table, r["_row"], "site", f"'{r['site']}' is not a site in case.yaml "
                    f"(known: {', '.join(sorted(sites))})")
    capacity = {v.name: v.capacity_teu for v in spec.vessels}
    if "containers" in files:
        for r in t["containers"].iter_rows(named=True):
            if r["vessel"] is not None and r["vessel"] not in vessels:
                bad("containers", r["_row"], "vessel", f"'{r['vessel']}' is not a vessel in case.yaml")
            vessel = r["vessel"] or voyage_vessel.get(r["voyage_id"])
            cap = capacity.get(vessel)
            if cap is not None and r["stage"] != "stacked" and r["visible"] > cap:
                bad("containers", r["_row"], "visible",
                    f"{r['visible']} is more than {vessel}'s capacity_teu {cap} in case.yaml")
            vid = r["voyage_id"]
            if vid is None or "_row" not in t["voyages"].columns:  # voyages unread: ids uncheckable
                continue
            if vid not in voyage_vessel:
                bad("containers", r["_row"], "voyage_id", f"'{vid}' is not a voyage_id in voyages")
                continue
            if r["vessel"] is not None and r["vessel"] != voyage_vessel[vid]:
                bad("containers", r["_row"], "vessel",
                    f"'{r['vessel']}' but voyage {vid} is by {voyage_vessel[vid]}")
            if r["stage"] == "loading" and r["site"] not in spec.origin:
                bad("containers", r["_row"], "site", f"loading for voyage {vid} at '{r['site']}', not an origin")
            elif r["stage"] == "unloading" and r["site"] not in spec.destination:
                bad("containers", r["_row"], "site",
                    f"unloading for voyage {vid} at '{r['site']}', not a destination")
            elif r["stage"] in ("loading", "unloading"):
                end = "origin" if r["stage"] == "loading" else "destination"
                named = voyage_site[end].get(vid)
                if named is not None and r["site"] != named:
                    bad("containers", r["_row"], "site",
                        f"{r['stage']} for voyage {vid} at '{r['site']}', but voyages has its "
                        f"{end}_site '{named}'")
    if "claims" in files:
        for r in t["claims"].iter_rows(named=True):
            if r["start"] > r["end"]:
                bad("claims", r["_row"], "end", f"{r['end']} is before start {r['start']}")


def _voyage_sites(spec: CaseSpec, voyages: pl.DataFrame, file: str, header: list[str],
                  problems: list[Problem]) -> None:
    """origin_site and destination_site: a site of their end in case.yaml, set only where
    the voyage was seen at that end, and required there when the end has several sites."""
    for end, sites in (("origin", spec.origin), ("destination", spec.destination)):
        column, seen, plural = f"{end}_site", f"{end}_seen", f"{len(sites)} {end}s"
        several = len(sites) > 1
        if column not in header:
            if several:
                near = _misspelt(column, header, TABLE_BY_NAME["voyages"])
                problems.append(Problem(file, 1, column, f"required column is missing{near}: "
                                        f"case.yaml lists {plural} ({', '.join(sites)})"))
            continue
        for r in voyages.iter_rows(named=True):
            site, row = r[column], r["_row"]
            if site is None:
                if several and r[seen] is not None:
                    problems.append(Problem(file, row, column, f"is empty but case.yaml lists "
                                            f"{plural} ({', '.join(sites)}): name the one the "
                                            f"voyage was seen at on {r[seen]}"))
            elif r[seen] is None:
                problems.append(Problem(file, row, column, f"'{site}' is set but {seen} is "
                                        f"empty: name a site only where the voyage was seen"))
            elif (wrong := _not_of_end(spec, end, site)) is not None:
                problems.append(Problem(file, row, column, wrong))


def _claim_sites(spec: CaseSpec, claims: pl.DataFrame, file: str,
                 problems: list[Problem]) -> None:
    """A claim's origin_site and destination_site, where set: a site of their end."""
    for end in ("origin", "destination"):
        column = f"{end}_site"
        for r in claims.iter_rows(named=True):
            site = r[column]
            if site is not None and (wrong := _not_of_end(spec, end, site)) is not None:
                problems.append(Problem(file, r["_row"], column, wrong))


def _not_of_end(spec: CaseSpec, end: str, site: str) -> str | None:
    """What is wrong with naming `site` as a port of `end`, or None."""
    sites = spec.origin if end == "origin" else spec.destination
    other = spec.destination if end == "origin" else spec.origin
    if site in sites:
        return None
    if site in other:
        return f"'{site}' is {_AN[_OTHER[end]]} in case.yaml, not {_AN[end]}"
    return f"'{site}' is not {_AN[end]} in case.yaml (known: {', '.join(sites)})"


_AN = {"origin": "an origin", "destination": "a destination"}
_OTHER = {"origin": "destination", "destination": "origin"}


_FILE_ORDER = {CASE_FILE: 0, **{t.name: i + 1 for i, t in enumerate(TABLES)}}


def _ordered(problems: list[Problem]) -> list[Problem]:
    def key(p: Problem):
        stem = p.file.rsplit(".", 1)[0] if p.file != CASE_FILE else CASE_FILE
        return (_FILE_ORDER.get(stem, 99), p.file, p.row or 0)

    return sorted(problems, key=key)  # stable: same-row problems keep column order


def _hash(folder: Path, files: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted([CASE_FILE, *files.values()]):
        h.update(name.encode() + b"\0")
        h.update((folder / name).read_bytes())
        h.update(b"\0")
    return h.hexdigest()
