"""`cargoinfer simulate`: write a synthetic case folder plus truth.json.

Two sources of synthetic data:

    cargoinfer simulate model=NAME [seed=N] out=DIR [case=NAME | case.path=DIR] [priors.X.Y=V ...]
        a model family's own generative process (voyages, joint, dynamic; `<family>.simulate`):
        parameters drawn from the family's prior (configs/priors/default.yaml, with any
        `priors.` overrides), data on the window, periods, vessels and depot and claims
        schedule of a template case (default: the embedded rajin_dunai_2023); truth.json
        holds the drawn parameters and the realised totals, series and depot stock.
    cargoinfer simulate [scenario=NAME] [seed=N] out=DIR [start=YYYY-MM-DD] [end=YYYY-MM-DD]
                        [period_days=N] [cloud_prob=P] [usable_share=P] [vessels=N]
                        [depot_share=S] [m2_per_container=A] [rail_delay_median=D]
                        [depot_metrics=area|counts] [claims=true|false]
                        [origin_ports=N] [destination_ports=N] [switch_prob=P]
        an event-level world that no model shares (observations/world.py): what an analyst
        cannot know is drawn from wide ranges by the seed; these keys fix one of them
        (the last three: scenario=network only, several ports per end).

The folder appears whole or not at all: it is written beside `out`, checked with
`load_case`, then renamed into place. Exit 2 (one line, nothing written) for bad arguments,
an unknown scenario or model, model= with scenario= or a world option, a template case
that breaks the contract, or an `out` that exists and is not empty."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from ..observations.case import load_case
from ..observations.world import (ALL_SCENARIOS, NETWORK, make_options, simulate_world,
                                  write_case)
from . import store
from .config import did_you_mean

USAGE = ("usage: cargoinfer simulate model=NAME [seed=N] out=DIR [case=NAME | case.path=DIR] "
         "[priors.X.Y=V ...] | [scenario=NAME] [seed=N] out=DIR [start=YYYY-MM-DD] "
         "[end=YYYY-MM-DD] [period_days=N] [cloud_prob=P] [usable_share=P] [vessels=N] "
         "[depot_share=S] [m2_per_container=A] [rail_delay_median=D] "
         "[depot_metrics=area|counts] [claims=true|false] [origin_ports=N] "
         "[destination_ports=N] [switch_prob=P]")
# world options a user may fix (every other is drawn from the world's ranges, by seed)
WORLD_TYPES = {"period_days": int, "cloud_prob": float, "usable_share": float, "vessels": int,
               "depot_share": float, "m2_per_container": float, "rail_delay_median": float,
               "depot_metrics": str, "claims": bool, "origin_ports": int,
               "destination_ports": int, "switch_prob": float}
WORLD_KEYS = ("scenario", "start", "end", *WORLD_TYPES)
MODEL_KEYS = ("model", "case", "case.path")  # and priors.* / model.* overrides
KEYS = ("seed", "out", *WORLD_KEYS, *MODEL_KEYS)


class Refused(ValueError):
    pass


def _is_override(key: str) -> bool:
    return key.startswith(("priors.", "model."))


def parse(args: list[str]) -> dict:
    """key=value arguments to typed values; raises Refused with a one-line reason."""
    given: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not (key in KEYS or (_is_override(key) and key != "model.name")):
            raise Refused(f"unknown argument '{arg}' (known: {', '.join(f'{k}=' for k in KEYS)}, "
                          f"priors.X.Y=){did_you_mean(key, KEYS)}")
        if key in given:
            raise Refused(f"{key}= is given twice")
        given[key] = value
    if not given.get("out"):
        raise Refused("out=DIR is required")
    out = {"out": Path(given.pop("out")), "seed": _int(given.pop("seed", "0"), "seed")}
    if out["seed"] < 0:
        raise Refused(f"seed={out['seed']} is negative")
    model_args = [k for k in given if k in MODEL_KEYS or _is_override(k)]
    if "model" in given:
        if "scenario" in given:
            raise Refused("model= and scenario= exclude each other: model= draws from a model "
                          "family's own generative process, scenario= from the event-level world")
        world = [k for k in given if k in WORLD_KEYS]
        if world:
            raise Refused(f"{world[0]}= is an option of scenario= worlds, not of model=: a model's "
                          "data take their window and periods from the template case (case=)")
        if "case" in given and "case.path" in given:
            raise Refused("case= and case.path= both name the template case: give one")
        out["model"] = given.pop("model")
        out["overrides"] = [f"{k}={v}" for k, v in given.items()]
        return out
    if model_args:
        raise Refused(f"{model_args[0]}= needs model=NAME (voyages, joint, dynamic)")
    scenario = given.pop("scenario", "steady")
    if scenario not in ALL_SCENARIOS:
        raise Refused(f"unknown scenario '{scenario}' (known: {', '.join(ALL_SCENARIOS)})"
                      + did_you_mean(scenario, ALL_SCENARIOS))
    out["scenario"] = scenario
    for key, kind in WORLD_TYPES.items():
        if key in given:
            given[key] = _typed(given[key], key, kind)
    network = {"origin_ports", "destination_ports", "switch_prob"} & set(given)
    if network and scenario != NETWORK:
        raise Refused(f"{sorted(network)[0]}= is an option of scenario={NETWORK}")
    try:
        make_options(**given)  # checked as the world checks them
    except ValueError as e:
        raise Refused(str(e)) from None
    if scenario == "vessel_joins" and given.get("vessels", 2) < 2:
        raise Refused("vessel_joins needs vessels >= 2: one sails from the start, the last joins")
    out["options"] = given
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _typed(text: str, key: str, kind):
    if kind is int:
        return _int(text, key)
    if kind is bool:
        if text.lower() not in ("true", "false"):
            raise Refused(f"{key}='{text}' is not true or false")
        return text.lower() == "true"
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise Refused(f"{key}='{text}' is not a number") from None
    return text


def _int(text: str, key: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise Refused(f"{key}='{text}' is not a whole number") from None


def model_plan(name: str, overrides: list[str]):
    """The family, config and template case of a model= simulation; raises Refused."""
    from ..models import registry
    from ..observations.problems import CaseInvalid
    from .config import ConfigError, case_dir, compose

    known = sorted(n for n, f in registry.families().items() if hasattr(f, "simulate"))
    if name not in known:
        what = "has no generative process to simulate from" if name in registry.families() else "is unknown"
        raise Refused(f"model '{name}' {what} (known: {', '.join(known)})"
                      + did_you_mean(name, known))
    family = registry.get(name)
    try:
        cfg = compose([f"model={name}", *overrides])
        folder = case_dir(cfg)
    except ConfigError as e:
        raise Refused(f"config refused: {e}") from None
    try:
        template = load_case(folder)
    except CaseInvalid as e:
        raise Refused(f"template case {folder} is refused ({len(e.problems)} problem(s); "
                      f"see cargoinfer check {folder})") from None
    return family, cfg, template


def simulate_model(family, cfg, template, seed: int, folder: Path) -> dict:
    """Draw parameters from the family's prior, data from its own process on the template's
    shape, and write the case folder and truth.json into `folder`; returns truth.json."""
    from ..models.priors import flat
    from ..observations.aggregate import route_data
    from .synthetic import write_model_case

    shape = route_data(template, cfg.model.transit_days, cfg.model.max_containers_per_voyage,
                       transit_extra_days=cfg.model.transit_extra_days)
    values = family.data_values(shape, cfg.priors)
    rng_params, rng_data, rng_rows = (np.random.default_rng(s)
                                      for s in np.random.SeedSequence(seed).spawn(3))
    p = {k: v[0] for k, v in family.prior_draws(values, 1, rng_params).items()}
    route, truth = family.simulate(p, shape, values, rng_data)
    priors = flat(cfg.priors, family.PRIOR_NAMES)
    return write_model_case(route, truth, template.spec, folder, rng_rows, model=family.NAME,
                            version=family.VERSION, seed=seed, parameters=p,
                            extra={"template": template.spec.name, "priors": priors})


def simulate_command(args: list[str]) -> int:
    try:
        a = parse(args)
        out: Path = a["out"]
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise Refused(f"{out} exists and is not empty")
        if "model" in a:
            plan = model_plan(a["model"], a["overrides"])
    except Refused as e:
        print(f"cargoinfer simulate: {e}", file=sys.stderr)
        return 2
    if "model" in a:
        truth = _staged(out, lambda tmp: simulate_model(*plan, a["seed"], tmp))
        depot = (f"; depot stock {truth['depot_stock']:.0f} (expected)"
                 if "depot_stock" in truth else "")
        print(f"simulated {truth['model']}@{truth['version']} seed {a['seed']} on {truth['template']}: "
              f"{truth['total_containers']:.0f} containers on {truth['voyages']:.0f} voyages in "
              f"{truth['window']['start']}..{truth['window']['end']}, {truth['voyages_seen']} seen"
              f"{depot}")
    else:
        world = simulate_world(a["scenario"], a["seed"], **a["options"])
        _staged(out, lambda tmp: write_case(world, tmp))
        t = world.truth
        print(f"simulated {a['scenario']} seed {a['seed']}: {t['total_containers']} containers on "
              f"{t['voyages']} voyages in {t['window']['start']}..{t['window']['end']}, "
              f"{t['voyages_seen']} seen; depot stock {t['depot_stock']}")
    print(f"case: {out.resolve()}")
    return 0


def _staged(out: Path, write):
    """Run `write(tmp)` in the store's staging folder beside `out`, check the case, and let
    the store rename it into place (an empty `out` is replaced; nothing half-written stays)."""
    with store.staged(out) as tmp:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's folder is private; the case is not
        result = write(tmp)
        load_case(tmp)  # a case that breaks the contract is a bug: raises, nothing left behind
    return result
