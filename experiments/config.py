"""Compose the Hydra config and check what the schema cannot."""

from __future__ import annotations

import difflib
import re
from importlib import resources
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ..models.priors import share_check
from ..observations.cells import CellError, parse_date
from .schema import DerivedQuantity, register


class ConfigError(Exception):
    """A config or override the user can fix; exit status 2."""


def compose(overrides: list[str], config_name: str = "config") -> DictConfig:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.errors import HydraException

    register()
    outer = _hydra_state()  # a Hydra app or a sweep in this process may have set one up
    try:
        with initialize_config_module("cargoinfer.configs", version_base="1.3"):
            from hydra.core.global_hydra import GlobalHydra

            try:
                cfg = hydra_compose(config_name, overrides=overrides)
            except (HydraException, OmegaConfBaseException) as e:
                raise ConfigError(unknown_name(e, GlobalHydra.instance().config_loader())
                                  or _first_line(e)) from None
    finally:
        _restore_hydra(outer)
    if cfg.model.name == "auto":
        name, why = pick_model(cfg)
        cfg = compose([*overrides, f"model={name}"], config_name)  # checked there
        cfg.model.picked = why
        return cfg
    check(cfg)
    return cfg


def compose_plain(overrides: list[str], config_name: str) -> DictConfig:
    """A command's config that names no case or model of its own (`plan_run`: the run
    says them), composed and checked against its schema."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.errors import HydraException

    register()
    outer = _hydra_state()
    try:
        with initialize_config_module("cargoinfer.configs", version_base="1.3"):
            from hydra.core.global_hydra import GlobalHydra

            try:
                return hydra_compose(config_name, overrides=overrides)
            except (HydraException, OmegaConfBaseException) as e:
                raise ConfigError(unknown_name(e, GlobalHydra.instance().config_loader())
                                  or _first_line(e)) from None
    finally:
        _restore_hydra(outer)


def pick_model(cfg: DictConfig) -> tuple[str, str]:
    """model=auto: the family for the case's non-empty tables. The whole case, not its
    cut-off: a backtest's cut-offs all use one family."""
    from ..models.registry import pick
    from ..observations.case import load_case

    case = load_case(case_dir(cfg))  # raises CaseInvalid
    return pick({name for name, table in case.tables.items() if table.height})


def _hydra_state():
    """Hydra's global state, set aside and cleared so that `compose` can set up its own
    (Hydra refuses to initialise twice); `_restore_hydra` puts it back."""
    from hydra.core.global_hydra import GlobalHydra
    from hydra.initialize import get_gh_backup

    state = get_gh_backup()
    GlobalHydra.instance().clear()
    return state


def _restore_hydra(state) -> None:
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.singleton import Singleton

    if state is None:
        Singleton._instances.pop(GlobalHydra, None)
    else:
        Singleton._instances[GlobalHydra] = state


_MISSING = re.compile(r"Could not find '(.+)/([^'/]+)'")
_LABELS = {"hydra/launcher": "launcher", "hydra/sweeper": "sweeper"}


def unknown_name(e: BaseException, loader, allowed: dict | None = None) -> str | None:
    """For an override naming a config that is not there (`model=jiont`): the names there
    are (of a group in `allowed`, those it lists), and the closest match; None for any
    other error."""
    found = _MISSING.search(str(e))
    if not found:
        return None
    group, name = found.groups()
    known = sorted((allowed or {}).get(group) or loader.get_group_options(group))
    label = _LABELS.get(group, group)
    text = f"no {label} named '{name}'; the {label}s are {', '.join(known) or '(none)'}"
    return text + did_you_mean(name, known)


def did_you_mean(name: str, known) -> str:
    """"; did you mean 'joint'?" for the closest of `known`, or "" when none is close."""
    known = list(known)
    close = (difflib.get_close_matches(name, known, n=1, cutoff=0.5)
             or [k for k in known if name and k.startswith(name)][:1])
    return f"; did you mean '{close[0]}'?" if close else ""


def _first_line(e: BaseException) -> str:
    """The message, with its cause's first line where Hydra wraps one."""
    text = str(e).strip()
    line = text.splitlines()[0] if text else type(e).__name__
    if e.__cause__ is not None and str(e.__cause__).strip():
        line += f": {str(e.__cause__).strip().splitlines()[0]}"
    return line


def check(cfg: DictConfig) -> None:
    problems = [f"{key}: only cargoinfer's own classes may be named by _target_, not '{value}'"
                for key, value in targets(cfg) if not str(value).startswith("cargoinfer.")]
    for name, prior in cfg.priors.items():
        if OmegaConf.is_dict(prior) and "floor" in prior:
            problems += share_check(name, prior)
            continue
        for key, value in (prior.items() if OmegaConf.is_dict(prior) else [("", prior)]):
            if key == "_target_":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                problems.append(f"priors.{name}{'.' + key if key else ''}: {value} must be a number > 0")
    for name in list(cfg.derived):
        try:
            q = OmegaConf.merge(OmegaConf.structured(DerivedQuantity), cfg.derived[name])
            OmegaConf.to_container(q, throw_on_missing=True)
        except OmegaConfBaseException as e:
            problems.append(f"derived.{name}: {_first_line(e)}")
            continue
        cfg.derived[name] = q
        for key, value in q.per_container.items():
            if not value > 0:
                problems.append(f"derived.{name}.per_container.{key}: {value} must be > 0")
    for key, value in (("horizon", cfg.horizon), ("case.cutoff", cfg.case.cutoff)):
        if value is not None:
            try:
                parse_date(str(value))
            except CellError as e:
                problems.append(f"{key}: {e}")
    if not 0 < cfg.ci_prob < 1:
        problems.append(f"ci_prob: {cfg.ci_prob} must be in (0, 1)")
    inf = cfg.inference
    for key in ("draws", "tune", "chains", "cores"):
        if inf[key] < (0 if key == "tune" else 1):
            problems.append(f"inference.{key}: {inf[key]} is too small")
    for key in ("borderline_draws", "conflict_draws"):
        if inf[key] < 0:
            problems.append(f"inference.{key}: {inf[key]} must be >= 0 (0: none)")
    if inf.conflict_chains < 1:
        problems.append(f"inference.conflict_chains: {inf.conflict_chains} must be >= 1")
    if not 0 < inf.borderline_target_accept < 1:
        problems.append(f"inference.borderline_target_accept: {inf.borderline_target_accept} "
                        "must be in (0, 1)")
    for key in ("conflict_p", "trend_p"):
        if not 0 < inf[key] < 1:
            problems.append(f"inference.{key}: {inf[key]} must be in (0, 1)")
    if not inf.upper_over_median_max > 1:
        problems.append(f"inference.upper_over_median_max: {inf.upper_over_median_max} must be > 1")
    if cfg.model.transit_days < 0:
        problems.append(f"model.transit_days: {cfg.model.transit_days} must be >= 0")
    if not 0 <= cfg.model.transit_extra_days <= 2:
        problems.append(f"model.transit_extra_days: {cfg.model.transit_extra_days} must be 0, 1 or 2")
    if cfg.model.max_containers_per_voyage < 1:
        problems.append("model.max_containers_per_voyage: must be >= 1")
    if "calibration" in cfg:
        problems += _check_calibration(cfg)
    if problems:
        raise ConfigError("; ".join(problems))


def targets(node, prefix: str = ""):
    """(key, value) of every `_target_` in a config: Hydra would instantiate it."""
    if OmegaConf.is_config(node):
        node = OmegaConf.to_container(node, resolve=False)
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        path = f"{prefix}.{key}" if prefix else str(key)
        if key == "_target_":
            yield path, value
        else:
            yield from targets(value, path)


CONTROLS = ("dependent_detection",)
TOTALS = ("model", "exact")


def _check_calibration(cfg: DictConfig) -> list[str]:
    c, problems = cfg.calibration, []
    if cfg.n_sims < 2:
        problems.append(f"n_sims: {cfg.n_sims} must be >= 2")
    if cfg.workers < 0:
        problems.append(f"workers: {cfg.workers} must be >= 0 (0: one per core)")
    for key in ("draws", "chains", "rank_draws", "max_depth"):
        if c[key] < 1:
            problems.append(f"calibration.{key}: {c[key]} must be >= 1")
    if c.tune < 0:
        problems.append(f"calibration.tune: {c.tune} must be >= 0")
    if not 0 < c.alpha < 1:
        problems.append(f"calibration.alpha: {c.alpha} must be in (0, 1)")
    if c.control is not None and c.control not in CONTROLS:
        problems.append(f"calibration.control: '{c.control}' is not one of {', '.join(CONTROLS)}")
    if c.totals not in TOTALS:
        problems.append(f"calibration.totals: '{c.totals}' is not one of {', '.join(TOTALS)}")
    return problems


def case_dir(cfg: DictConfig) -> Path:
    if cfg.case.path:
        return Path(cfg.case.path).expanduser()
    folder = resources.files("cargoinfer.cases") / cfg.case.name
    if not folder.is_dir():
        raise ConfigError(f"case.name: no embedded case '{cfg.case.name}' (use case.path=DIR)")
    return Path(str(folder))


def identity(cfg: DictConfig, prior_names) -> dict:
    """The part of the config that changes results: no paths, store names or tags, and
    only the priors the model reads."""
    data = OmegaConf.to_container(cfg, resolve=True)
    for key in ("store", "experiment_name", "tags", "seed", "case"):
        data.pop(key, None)
    data["model"].pop("picked", None)  # how the family was chosen does not change its results
    data["priors"] = {k: v for k, v in data["priors"].items() if k in prior_names}
    data["inference"].pop("cores", None)  # nutpie's draws do not depend on its threads
    return data
