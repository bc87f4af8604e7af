"""Read a table file (CSV or Parquet) into text cells, reporting what cannot be read."""

from __future__ import annotations

import csv
import io
import re
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
    import pyarrow.parquet as pq

    name = path.name
    try:  # pyarrow reports most corrupt files as exceptions; polars may panic on the rest
        table = pq.read_table(path)
        table.validate(full=True)
        df = pl.from_arrow(table)
        if isinstance(df, pl.Series):
            df = df.to_frame()
        cols = [_as_text(df[c]) for c in df.columns]
    except (Exception, pl.exceptions.PanicException) as e:
        reason = re.sub(r"^Could not open Parquet input source '.*?': ", "", str(e).strip())
        reason = reason.splitlines()[0][:160] if reason else type(e).__name__
        problems.append(Problem(name, message=f"is not a readable Parquet file ({reason})"))
        return None
    rows = [(i + 2, [col[i] for col in cols]) for i in range(df.height)]
    return RawTable(name, list(df.columns), rows)


def _as_text(s) -> list[str]:
    """A Parquet column as the text a CSV would hold; empty text for null."""
    import polars as pl

    if s.dtype == pl.Date:
        s = s.dt.strftime("%Y-%m-%d")
    elif isinstance(s.dtype, pl.Datetime):
        midnight = (s.dt.time() == pl.time(0)).fill_null(True).all()
        s = s.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%dT%H:%M:%S")
    elif s.dtype == pl.Boolean:
        s = s.map_elements(lambda v: "true" if v else "false", return_dtype=pl.String)
    else:
        try:
            s = s.cast(pl.String)
        except Exception:  # nested or exotic types: their Python text
            return ["" if v is None else str(v) for v in s.to_list()]
    return s.fill_null("").to_list()
