"""Read a table file (CSV or Parquet) into text cells, reporting what cannot be read."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .problems import Problem


@dataclass
class RawTable:
    file: str  # file name as shown in messages
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number, cells); the header is row 1


def read_table(path: Path, problems: list[Problem]) -> RawTable | None:
    """Text cells of a CSV or Parquet file; None (with a problem) if unreadable."""
    if path.suffix == ".parquet":
        return _read_parquet(path, problems)
    return _read_csv(path, problems)


def _read_csv(path: Path, problems: list[Problem]) -> RawTable | None:
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as e:
        problems.append(Problem(name, message=f"cannot be read: {e.strerror or e}"))
        return None
    if b"\x00" in data:
        problems.append(Problem(name, message="is a binary file, not CSV text"))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        problems.append(Problem(name, line, message="is not UTF-8 text"))
        return None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue  # blank line
            cells = [c.strip() for c in cells]
            if header is None:
                header = cells
                continue
            rows.append((reader.line_num, cells))
    except csv.Error as e:
        problems.append(Problem(name, reader.line_num, message=f"is not valid CSV: {e}"))
        return None
    if header is None:
        problems.append(Problem(name, message="is empty: a header line is required"))
        return None
    return RawTable(name, header, rows)


def _read_parquet(path: Path, problems: list[Problem]) -> RawTable | None:
    import polars as pl

    name = path.name
    try:
        df = pl.read_parquet(path)
    except (Exception, pl.exceptions.PanicException) as e:  # polars raises several types, or panics
        reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        problems.append(Problem(name, message=f"is not a readable Parquet file ({reason})"))
        return None
    cols = []
    for c in df.columns:
        s = df[c]
        if s.dtype == pl.Date:
            s = s.dt.strftime("%Y-%m-%d")
        elif s.dtype == pl.Datetime:
            s = s.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif s.dtype == pl.Boolean:
            s = s.map_elements(lambda v: "true" if v else "false", return_dtype=pl.String)
        else:
            try:
                s = s.cast(pl.String)
            except Exception:
                problems.append(Problem(name, column=c, message=f"has unsupported type {s.dtype}"))
                return None
        cols.append(s.fill_null("").to_list())
    rows = [(i + 2, [col[i] for col in cols]) for i in range(df.height)]
    return RawTable(name, list(df.columns), rows)
