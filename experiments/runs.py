"""`cargoinfer runs`: the runs in a store, read from the run directories themselves.

There is no second index to drift: a run is a folder <store>/<experiment>/<run_id>/
with a run.json (written last, so its presence means the folder is complete)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

FILTERS = ("experiment", "model", "case", "status", "tag")


def find_runs(store: Path, pattern: str = "*/*/run.json") -> list[tuple[Path, dict]]:
    """(run dir, run.json) of every complete run under `store` (<experiment>/<run_id>/;
    pattern "*/run.json" for one sweep folder), oldest first. Hidden folders (staging,
    Hydra's) and folders without a readable run.json are skipped."""
    out = []
    for record_path in sorted(Path(store).glob(pattern)):
        run_dir = record_path.parent
        if any(part.startswith(".") for part in run_dir.relative_to(store).parts):
            continue
        try:
            record = json.loads(record_path.read_text())
        except (OSError, ValueError):
            continue
        out.append((run_dir, record))
    return sorted(out, key=lambda r: (r[1].get("created_at", ""), str(r[0])))


def matches(record: dict, filters: dict[str, list[str]]) -> bool:
    model = record.get("model", {})
    have = {
        "experiment": {record.get("experiment")},
        "model": {model.get("name"), f"{model.get('name')}@{model.get('version')}"},
        "case": {record.get("case", {}).get("name")},
        "status": {record.get("status")},
    }
    for key, wanted in filters.items():
        if key == "tag":
            if not set(wanted) <= set(record.get("tags", [])):
                return False
        elif not have[key] & set(wanted):
            return False
    return True


def headline_text(record: dict) -> str:
    from .wording import fmt_count

    h = record.get("headline")
    if not h:
        return "-"
    return (f"{h['estimand']} {fmt_count(h['median'])} "
            f"({h['ci_prob']:.0%} {fmt_count(h['lower'])}-{fmt_count(h['upper'])})")


def parse(args: list[str]) -> tuple[Path, dict[str, list[str]]]:
    """store=DIR and filters KEY=VALUE (a comma list means any of them; tags must all be
    present). Raises ValueError naming a bad argument."""
    store, filters = Path("runs"), {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not value:
            raise ValueError(f"'{arg}' is not KEY=VALUE")
        if key == "store":
            store = Path(value)
        elif key in FILTERS:
            filters.setdefault(key, []).extend(v for v in value.split(",") if v)
        else:
            raise ValueError(f"unknown filter '{key}' (filters: {', '.join(FILTERS)}; store=DIR)")
    return store, filters


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()
             for r in [header, *rows]]
    return "\n".join(lines)


def runs_command(args: list[str]) -> int:
    try:
        store, filters = parse(args)
    except ValueError as e:
        print(f"cargoinfer runs: {e}", file=sys.stderr)
        return 2
    if not store.is_dir():
        print(f"cargoinfer runs: no store at {store}", file=sys.stderr)
        return 2
    found = [(d, r) for d, r in find_runs(store) if matches(r, filters)]
    rows = [[r.get("experiment", "-"), f"{r['model']['name']}@{r['model']['version']}",
             r.get("case", {}).get("name", "-") + (f" (cut {r['case']['cutoff']})"
                                                   if r.get("case", {}).get("cutoff") else ""),
             r.get("status", "-"), headline_text(r), ",".join(r.get("tags", [])) or "-", str(d)]
            for d, r in found]
    if rows:
        print(table(rows, ["experiment", "model", "case", "status", "headline", "tags", "run"]))
    print(f"{len(found)} runs" + (f" matching {' '.join(args)}" if args else "") + f" in {store}")
    return 0
