"""One paragraph describing a validated case, for `cargoinfer check`."""

from __future__ import annotations

from .aggregate import history
from .case import Case


def summary(case: Case) -> str:
    s = case.spec
    hist = [0, 0, 0]
    for row in case.voyages.iter_rows(named=True):
        hist[history(row)] += 1
    dates = []
    for name in case.files:
        for col in ("origin_seen", "destination_seen", "date", "start", "end"):
            if col in case.tables[name].columns:
                dates += [d for d in case.tables[name][col].to_list() if d is not None]
    span = f"{min(dates)} to {max(dates)}" if dates else "no dated rows"
    vessels = ", ".join(f"{v.name} ({v.capacity_teu} TEU)" if v.capacity_teu else v.name
                        for v in s.vessels)
    counts = ", ".join(f"{case.tables[n].height} {n}" for n in case.files if n != "voyages")
    ports = ", ".join(f"{site} {n}" for col in ("origin_site", "destination_site")
                      for site, n in _seen_at(case, col))
    ports = f" Voyages seen per port: {ports}." if ports else ""
    return (f"{s.name}: {s.title}. Window {s.start} to {s.end} ({s.days} days, "
            f"{len(s.periods())} periods of {s.period_days} days), {' / '.join(s.origin)} -> "
            f"{' / '.join(s.destination)}. Vessels: {vessels}. Voyages: {case.voyages.height} "
            f"({hist[2]} seen at both ends, {hist[0]} at the origin only, {hist[1]} at the "
            f"destination only).{ports} Other rows: {counts or 'none'}. Dates span {span}. OK.")


def _seen_at(case: Case, column: str) -> list[tuple[str, int]]:
    """(site, voyages seen there) for each site of that end, where the column names any."""
    named = case.voyages[column].drop_nulls().to_list()
    sites = case.spec.origin if column == "origin_site" else case.spec.destination
    return [(site, named.count(site)) for site in sites] if named else []
