"""Parse one text cell into a typed value, or say in words what is wrong."""

from __future__ import annotations

import math
import re
from datetime import date

from .schema import Column

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT = re.compile(r"^[+-]?\d+$")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


class CellError(ValueError):
    pass


def parse_date(text: str) -> date:
    if not _DATE.match(text):
        raise CellError(f"'{text}' is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CellError(f"'{text}' is not a real date") from None


def parse_cell(text: str, col: Column):
    """Typed value of a non-empty cell; raises CellError with a message."""
    if col.kind == "str":
        return text
    if col.kind == "date":
        return parse_date(text)
    if col.kind == "enum":
        if text not in col.choices:
            raise CellError(f"'{text}' is not one of {', '.join(col.choices)}")
        return text
    if col.kind == "bool":
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise CellError(f"'{text}' is not true or false")
    if col.kind == "int":
        if not _INT.match(text):
            raise CellError(f"'{text}' is not a whole number")
        value = int(text)
    else:  # float
        try:
            value = float(text)
        except ValueError:
            raise CellError(f"'{text}' is not a number") from None
        if not math.isfinite(value):
            raise CellError(f"'{text}' is not a finite number")
    _check_bounds(text, value, col)
    if col.kind == "int" and abs(value) >= 2**63:  # beyond Int64: would crash polars
        raise CellError(f"{text} is too large")
    return value


def _check_bounds(text: str, value: float, col: Column) -> None:
    if col.min is not None and value < col.min:
        raise CellError(f"{text} is below {_fmt(col.min)}")
    if col.above is not None and value <= col.above:
        upper = f", {_fmt(col.max)}]" if col.max is not None else ""
        where = f"in ({_fmt(col.above)}{upper}" if upper else f"above {_fmt(col.above)}"
        raise CellError(f"{text} is not {where}")
    if col.max is not None and value > col.max:
        lower = f"({_fmt(col.above)}, " if col.above is not None else "at most "
        where = f"in {lower}{_fmt(col.max)}]" if col.above is not None else f"{lower}{_fmt(col.max)}"
        raise CellError(f"{text} is not {where}")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
