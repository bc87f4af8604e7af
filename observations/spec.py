"""case.yaml: the case's name, window, periods, sites and vessels."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import yaml

from .cells import CellError, parse_date
from .problems import Problem
from .schema import CASE_FILE, EXAMPLE, EXAMPLE_HINT

_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Vessel:
    name: str
    capacity_teu: int | None = None


@dataclass(frozen=True)
class CaseSpec:
    name: str
    title: str
    start: date
    end: date
    period_days: int
    origin: tuple[str, ...]
    destination: tuple[str, ...]
    depot: str | None
    vessels: tuple[Vessel, ...]
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def sites(self) -> set[str]:
        return set(self.origin) | set(self.destination) | ({self.depot} if self.depot else set())

    @property
    def vessel_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.vessels)

    def periods(self) -> list[tuple[date, date]]:
        """Inclusive (start, end) of each period; the last may be shorter."""
        out, s = [], self.start
        while s <= self.end:
            e = min(s + timedelta(days=self.period_days - 1), self.end)
            out.append((s, e))
            s = e + timedelta(days=1)
        return out


class _TextLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text, so a bad date is a message, not a crash."""


_TextLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _lines(node, prefix="", budget=None, depth=0) -> dict[str, int]:
    """Map dotted key paths to 1-based line numbers of their values.

    At most 5,000 paths, 20 levels deep: aliases can make a small file describe a
    huge or endless tree."""
    budget = [5000] if budget is None else budget
    out = {}
    budget[0] -= 1
    if budget[0] < 0 or depth > 20:
        return out
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = f"{prefix}{k.value}"
            out[key] = v.start_mark.line + 1
            out.update(_lines(v, key + ".", budget, depth + 1))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            key = f"{prefix[:-1]}[{i}]"
            out[key] = v.start_mark.line + 1
            out.update(_lines(v, key + ".", budget, depth + 1))
    return out


def read_spec(folder: Path, problems: list[Problem]) -> CaseSpec | None:
    path = folder / CASE_FILE
    if not path.is_file():
        problems.append(Problem(CASE_FILE, message="is missing (every case folder needs one)"))
        return None
    try:
        text = path.read_bytes().decode("utf-8-sig")
        if "\x00" in text:
            raise UnicodeDecodeError("utf-8", b"", 0, 1, "NUL byte")
    except UnicodeDecodeError:
        problems.append(Problem(CASE_FILE, message="is not UTF-8 text"))
        return None
    try:
        data = yaml.load(text, Loader=_TextLoader)
        lines = _lines(yaml.compose(text, Loader=_TextLoader))
    except (yaml.YAMLError, RecursionError) as e:  # RecursionError: deep nesting or a self-referring alias
        mark = getattr(e, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        what = getattr(e, "problem", None) or (
            "nested too deeply or refers to itself" if isinstance(e, RecursionError) else "syntax error")
        problems.append(Problem(CASE_FILE, row, message=f"is not valid YAML: {what}"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(CASE_FILE, message="must be a mapping of keys (name, title, window, ...)"))
        return None
    for key, value in _strings(data):
        if value.strip().upper().startswith(EXAMPLE):
            problems.append(Problem(CASE_FILE, lines.get(key), key, f"'{value}' is {EXAMPLE_HINT}"))
    return _SpecReader(data, lines, problems).read()


def _strings(node, prefix="", depth=0):
    """(dotted key path, text) of every string value, as _lines names the paths."""
    if depth > 20:
        return
    items = (node.items() if isinstance(node, dict)
             else enumerate(node) if isinstance(node, list) else ())
    for k, v in items:
        key = f"{prefix}{k}" if isinstance(node, dict) else f"{prefix[:-1]}[{k}]"
        if isinstance(v, str):
            yield key, v
        else:
            yield from _strings(v, key + ".", depth + 1)


class _SpecReader:
    def __init__(self, data: dict, lines: dict[str, int], problems: list[Problem]):
        self.data, self.lines, self.problems = data, lines, problems
        self.ok = True

    def bad(self, key: str, message: str) -> None:
        self.ok = False
        self.problems.append(Problem(CASE_FILE, self.lines.get(key), key, message))

    def need(self, key: str):
        node = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node or node[part] is None:
                self.bad(key, "is required")
                return None
            node = node[part]
        return node

    def text(self, key: str, value) -> str | None:
        if value is None:
            return None
        if isinstance(value, (dict, list)) or str(value).strip() == "":
            self.bad(key, "must be a non-empty text")
            return None
        if not str(value).strip().isprintable():
            self.bad(key, f"{str(value)!r} holds a character that cannot be printed")
            return None
        return str(value).strip()

    def date(self, key: str) -> date | None:
        value = self.need(key)
        if value is None:
            return None
        try:
            return parse_date(str(value).strip())
        except CellError as e:
            self.bad(key, str(e))
            return None

    def names(self, key: str) -> tuple[str, ...]:
        value = self.need(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.bad(key, "must be a non-empty list of site names")
            return ()
        out = [self.text(f"{key}[{i}]", v) for i, v in enumerate(value)]
        return tuple(v for v in out if v)

    def read(self) -> CaseSpec | None:
        d = self.data
        name = self.text("name", self.need("name"))
        if name is not None and not _SLUG.match(name):
            self.bad("name", f"'{name}' is not a slug (lower-case letters, digits and single hyphens)")
        title = self.text("title", self.need("title"))
        start, end = None, None
        if isinstance(d.get("window"), dict) or "window" not in d:
            start, end = self.date("window.start"), self.date("window.end")
        else:
            self.bad("window", "must be a mapping {start: YYYY-MM-DD, end: YYYY-MM-DD}")
        if start and end and start > end:
            self.bad("window.end", f"{end} is before window.start {start}")
            start = end = None
        period = self.need("period_days")
        if period is not None:
            if isinstance(period, bool) or not isinstance(period, int) or period < 1:
                self.bad("period_days", f"'{period}' is not a whole number of days >= 1")
                period = None
            elif start and end and period > (end - start).days + 1:
                self.bad("period_days", f"{period} is longer than the window ({(end - start).days + 1} days)")
        origin = self.names("origin")
        destination = self.names("destination")
        for site in sorted(set(origin) & set(destination)):
            self.bad("destination", f"'{site}' is both an origin and a destination")
        depot = self.text("depot", d.get("depot"))
        vessels = self.vessels()
        if not self.ok:
            return None
        known = {"name", "title", "window", "period_days", "origin", "destination", "depot", "vessels"}
        extra = {k: v for k, v in d.items() if k not in known}
        return CaseSpec(name, title, start, end, period, origin, destination, depot, vessels, extra)

    def vessels(self) -> tuple[Vessel, ...]:
        value = self.need("vessels")
        if value is None:
            return ()
        if not isinstance(value, list) or not value:
            self.bad("vessels", "must be a non-empty list of {name: ..., capacity_teu: ...}")
            return ()
        out, seen = [], set()
        for i, v in enumerate(value):
            key = f"vessels[{i}]"
            if isinstance(v, str):
                v = {"name": v}
            if not isinstance(v, dict):
                self.bad(key, "must be a mapping {name: ..., capacity_teu: ...}")
                continue
            name = self.text(f"{key}.name", v.get("name"))
            if name is None:
                if v.get("name") is None:
                    self.bad(f"{key}.name", "is required")
                continue
            if name in seen:
                self.bad(f"{key}.name", f"vessel '{name}' is listed twice")
            seen.add(name)
            cap = v.get("capacity_teu")
            if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
                self.bad(f"{key}.capacity_teu", f"'{cap}' is not a whole number >= 1")
                cap = None
            out.append(Vessel(name, cap))
        return tuple(out)
