"""`cargoinfer simulate`: write a synthetic case folder plus truth.json from the event-level world.

    cargoinfer simulate scenario=pause seed=3 out=DIR [start=YYYY-MM-DD end=YYYY-MM-DD
                        period_days=N cloud_prob=P]

The folder appears whole or not at all: it is written beside `out`, checked with
`load_case`, then renamed into place. Exit 2 (nothing written) for bad arguments,
an unknown scenario or an `out` that exists and is not empty."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from ..observations.case import load_case
from ..observations.world import SCENARIOS, make_options, simulate_world, write_case

USAGE = ("usage: cargoinfer simulate [scenario=NAME] [seed=N] out=DIR "
         "[start=YYYY-MM-DD] [end=YYYY-MM-DD] [period_days=N] [cloud_prob=P]")
KEYS = ("scenario", "seed", "out", "start", "end", "period_days", "cloud_prob")


class Refused(ValueError):
    pass


def parse(args: list[str]) -> dict:
    """key=value arguments to typed values; raises Refused with a one-line reason."""
    given: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or key not in KEYS:
            raise Refused(f"unknown argument '{arg}' (known: {', '.join(f'{k}=' for k in KEYS)})")
        if key in given:
            raise Refused(f"{key}= is given twice")
        given[key] = value
    if not given.get("out"):
        raise Refused("out=DIR is required")
    scenario = given.pop("scenario", "steady")
    if scenario not in SCENARIOS:
        raise Refused(f"unknown scenario '{scenario}' (known: {', '.join(SCENARIOS)})")
    out = {"scenario": scenario, "out": Path(given.pop("out")), "seed": _int(given.pop("seed", "0"), "seed")}
    if out["seed"] < 0:
        raise Refused(f"seed={out['seed']} is negative")
    if "period_days" in given:
        given["period_days"] = _int(given["period_days"], "period_days")
    if "cloud_prob" in given:
        try:
            given["cloud_prob"] = float(given["cloud_prob"])
        except ValueError:
            raise Refused(f"cloud_prob='{given['cloud_prob']}' is not a number") from None
    try:
        make_options(**given)  # start, end, period_days, cloud_prob: checked as the world checks them
    except ValueError as e:
        raise Refused(str(e)) from None
    out["options"] = given
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _int(text: str, key: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise Refused(f"{key}='{text}' is not a whole number") from None


def simulate_command(args: list[str]) -> int:
    try:
        a = parse(args)
        out: Path = a["out"]
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise Refused(f"{out} exists and is not empty")
    except Refused as e:
        print(f"cargoinfer simulate: {e}", file=sys.stderr)
        return 2
    world = simulate_world(a["scenario"], a["seed"], **a["options"])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".simulate-{out.name}-", dir=out.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's folder is private; the case is not
        write_case(world, tmp)
        load_case(tmp)  # a world that breaks the contract is a bug: raises, nothing left behind
        if out.is_dir():
            out.rmdir()  # empty (checked above); fails if something appeared meanwhile
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    t = world.truth
    print(f"simulated {a['scenario']} seed {a['seed']}: {t['total_containers']} containers on {t['voyages']} "
          f"voyages in {t['window']['start']}..{t['window']['end']}, {t['voyages_seen']} seen; "
          f"depot stock {t['depot_stock']}")
    print(f"case: {out.resolve()}")
    return 0
