"""The menu of `cargoinfer plan`: candidate collections, checked against the run's case.

`read_menu(options, case)` returns one `Option` per menu entry or raises `MenuError`
listing every problem as `plan.options.NAME.KEY: what is wrong`: an unknown site, a date
outside the range a collection can cover, a negative cost, a metric for a case without a
depot, a key that the option's kind does not take. Nothing is fitted or written before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..observations.aggregate import DEPOT_METRICS
from ..observations.case import Case
from ..observations.cells import parse_date

KINDS = ("imagery", "count", "depot", "package")
KEYS = {  # besides kind, cost and label
    "imagery": {"site": True, "start": True, "end": True, "passes": True, "usable": False},
    "count": {"site": True, "voyage": True, "coverage": False},
    "depot": {"metric": True, "date": True, "sd": False},
    "package": {"parts": True},
}
COMMON = ("kind", "cost", "label")
REACH_DAYS = 366  # a collection covers days up to a year after the window's end


class MenuError(ValueError):
    """A menu that cannot be planned: every problem, one per line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Option:
    """A checked menu entry; `parts` holds the single options a package buys (an option
    that is not a package is its own only part)."""

    name: str
    kind: str
    cost: float
    label: str
    site: str | None = None
    start: date | None = None
    end: date | None = None
    passes: int | None = None
    usable: float | None = None
    voyage: str | None = None
    coverage: float | None = None
    metric: str | None = None
    date: date | None = None
    sd: float | None = None
    parts: tuple["Option", ...] = ()

    @property
    def singles(self) -> tuple["Option", ...]:
        return self.parts if self.kind == "package" else (self,)


def read_menu(options: dict, case: Case) -> list[Option]:
    """The menu's options in their order, checked against `case`."""
    problems: list[str] = []
    raw = {str(name): dict(entry or {}) for name, entry in (options or {}).items()}
    if not raw:
        raise MenuError(["plan.options: the menu has no options"])
    singles = {}
    for name, entry in raw.items():
        if entry.get("kind") != "package":
            opt = _single(name, entry, case, problems)
            if opt is not None:
                singles[name] = opt
    out = []
    for name, entry in raw.items():
        if entry.get("kind") == "package":
            opt = _package(name, entry, raw, singles, problems)
        else:
            opt = singles.get(name)
        if opt is not None:
            out.append(opt)
    if problems:
        raise MenuError(problems)
    return out


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _where(name: str, key: str) -> str:
    return f"plan.options.{name}.{key}"


def _common(name: str, entry: dict, problems: list[str]) -> tuple[str, float, str] | None:
    kind = entry.get("kind")
    if kind not in KINDS:
        problems.append(f"{_where(name, 'kind')}: {kind!r} is not one of {', '.join(KINDS)}")
        return None
    n = len(problems)
    allowed = set(KEYS[kind]) | set(COMMON)
    for key, value in entry.items():
        if key not in allowed and value is not None:
            problems.append(f"{_where(name, key)}: {_a(kind)} option takes no {key!r} "
                            f"(it takes {', '.join(sorted(allowed - {'kind'}))})")
    for key, required in KEYS[kind].items():
        if required and entry.get(key) is None:
            problems.append(f"{_where(name, key)}: required for {_a(kind)} option")
    cost = _number(name, "cost", entry.get("cost"), problems, low=0.0)
    if entry.get("cost") is None:
        problems.append(f"{_where(name, 'cost')}: required (in the menu's cost_unit, >= 0)")
    label = str(entry.get("label") or name)
    return (kind, cost, label) if len(problems) == n else None


def _single(name: str, entry: dict, case: Case, problems: list[str]) -> Option | None:
    head = _common(name, entry, problems)
    if head is None:
        return None
    kind, cost, label = head
    n = len(problems)
    spec = case.spec
    first, last = spec.start, spec.end + timedelta(days=REACH_DAYS)
    fields = {}
    if kind in ("imagery", "count"):
        site = str(entry["site"])
        ends = (*spec.origin, *spec.destination)
        if site not in ends:
            problems.append(f"{_where(name, 'site')}: {site!r} is not a site of the case "
                            f"(origin or destination: {', '.join(ends)})")
        fields["site"] = site
    if kind == "imagery":
        start = _date(name, "start", entry["start"], first, last, problems)
        end = _date(name, "end", entry["end"], first, last, problems)
        if start and end and end < start:
            problems.append(f"{_where(name, 'end')}: {end} is before start {start}")
            start = end = None
        passes = _integer(name, "passes", entry["passes"], problems)
        if start and end and passes is not None and passes > (end - start).days + 1:
            problems.append(f"{_where(name, 'passes')}: {passes} passes on distinct days do not "
                            f"fit in the {(end - start).days + 1} days from {start} to {end}")
        usable = _number(name, "usable", entry.get("usable"), problems, low=0.0, high=1.0)
        fields.update(start=start, end=end, passes=passes, usable=usable)
    elif kind == "count":
        voyage = str(entry["voyage"])
        ids = set(case.voyages["voyage_id"].drop_nulls().to_list())
        if voyage != "next" and voyage not in ids:
            problems.append(f"{_where(name, 'voyage')}: {voyage!r} is neither 'next' nor a "
                            "voyage_id of voyages.csv")
        coverage = _number(name, "coverage", entry.get("coverage"), problems, low=0.0, high=1.0,
                           open_low=True)
        fields.update(voyage=voyage, coverage=coverage)
    elif kind == "depot":
        metric = str(entry["metric"])
        if not spec.depot:
            problems.append(f"{_where(name, 'metric')}: the case has no depot (case.yaml's "
                            "depot is not set)")
        elif metric not in DEPOT_METRICS:
            problems.append(f"{_where(name, 'metric')}: {metric!r} is not one of "
                            f"{', '.join(DEPOT_METRICS)}")
        when = _date(name, "date", entry["date"], first, last, problems)
        sd = _number(name, "sd", entry.get("sd"), problems, low=0.0, open_low=True)
        fields.update(metric=metric, date=when, sd=sd)
    if len(problems) > n:
        return None
    return Option(name, kind, cost, label, **fields)


def _package(name: str, entry: dict, raw: dict, singles: dict, problems: list[str]):
    head = _common(name, entry, problems)
    if head is None:
        return None
    kind, cost, label = head
    parts = entry["parts"]
    if isinstance(parts, str) or not hasattr(parts, "__iter__"):
        problems.append(f"{_where(name, 'parts')}: a list of other options' names")
        return None
    parts, out, n = [str(p) for p in parts], [], len(problems)
    if not parts:
        problems.append(f"{_where(name, 'parts')}: a package needs at least one part")
    for part in parts:
        if part not in raw:
            problems.append(f"{_where(name, 'parts')}: {part!r} is not an option of the menu")
        elif raw[part].get("kind") == "package":
            problems.append(f"{_where(name, 'parts')}: {part!r} is a package; list its parts")
        elif part in singles:
            out.append(singles[part])
    if len(set(parts)) < len(parts):
        problems.append(f"{_where(name, 'parts')}: an option is listed twice")
    if len(problems) > n or len(out) < len(parts):
        return None
    return Option(name, kind, cost, label, parts=tuple(out))


def _date(name: str, key: str, value, first: date, last: date, problems: list[str]):
    try:
        when = value if isinstance(value, date) else parse_date(str(value))
    except ValueError:
        problems.append(f"{_where(name, key)}: {value!r} is not a date (YYYY-MM-DD)")
        return None
    if not first <= when <= last:
        problems.append(f"{_where(name, key)}: {when} is outside {first} to {last} (the "
                        f"window's start to {REACH_DAYS} days after its end)")
        return None
    return when


def _number(name: str, key: str, value, problems: list[str], low: float | None = None,
            high: float | None = None, open_low: bool = False) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        problems.append(f"{_where(name, key)}: {value!r} is not a number")
        return None
    if x != x or x in (float("inf"), float("-inf")):
        problems.append(f"{_where(name, key)}: {value!r} is not a finite number")
        return None
    if low is not None and (x <= low if open_low else x < low):
        problems.append(f"{_where(name, key)}: {value!r} must be "
                        f"{'above' if open_low else 'at least'} {low:g}")
        return None
    if high is not None and x > high:
        problems.append(f"{_where(name, key)}: {value!r} must be at most {high:g}")
        return None
    return x


def _integer(name: str, key: str, value, problems: list[str]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) and not (
            isinstance(value, str) and value.strip().isdigit()):
        problems.append(f"{_where(name, key)}: {value!r} is not a whole number >= 0")
        return None
    x = int(value)
    if x < 0:
        problems.append(f"{_where(name, key)}: {value!r} must be at least 0")
        return None
    return x
