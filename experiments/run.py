"""One fit, start to finish: case -> observations -> model -> inference -> run directory."""

from __future__ import annotations

import json
import platform
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from ..inference.fit import fit
from ..inference.status import FAILED
from ..models import registry
from ..observations.aggregate import route_data
from ..observations.case import Case, load_case
from ..observations.cutoff import cut
from ..observations.cells import parse_date
from . import brief, figures, outputs, store
from .config import ConfigError, case_dir, identity

PACKAGES = ("cargoinfer", "pymc", "pytensor", "nutpie", "arviz", "arviz-stats", "arviz-base",
            "numpy", "scipy", "polars", "xarray", "hydra-core", "h5netcdf", "matplotlib")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def family_for(cfg: DictConfig):
    try:
        family = registry.get(cfg.model.name)
    except KeyError as e:
        raise ConfigError(f"model.name: {e.args[0]}") from None
    if cfg.model.version != family.VERSION:
        raise ConfigError(f"model.version: {cfg.model.name} is at version {family.VERSION}, "
                          f"not {cfg.model.version}")
    return family


def plan(cfg: DictConfig) -> tuple[Case, object, Path, str]:
    """Validate everything a run needs before anything is written."""
    family = family_for(cfg)
    case = load_case(case_dir(cfg))  # raises CaseInvalid
    if cfg.case.cutoff is not None:
        try:
            case = cut(case, parse_date(str(cfg.case.cutoff)))
        except ValueError as e:
            raise ConfigError(f"case.cutoff: {e}") from None
    if cfg.horizon is not None and parse_date(str(cfg.horizon)) <= case.spec.end:
        raise ConfigError(f"horizon: {cfg.horizon} is not after the window's end {case.spec.end}")
    config_hash = store.digest(identity(cfg, family.PRIOR_NAMES))
    rid = store.run_id(family.NAME, family.VERSION, case.content_hash, config_hash, cfg.seed)
    run_dir = Path(cfg.store) / cfg.experiment_name / rid
    return case, family, run_dir, config_hash


def execute(cfg: DictConfig, overrides: list[str] = (), t_start: float | None = None,
            command: str = "cargoinfer fit", progress: bool = False) -> tuple[Path, dict, bool]:
    """Fit and write the run directory; returns (run_dir, run.json, reused). A complete
    run is reused, unless it is the record of a failed one."""
    t_start = time.perf_counter() if t_start is None else t_start
    case, family, run_dir, config_hash = plan(cfg)
    if store.is_complete(run_dir) and store.status(run_dir) != FAILED:
        return run_dir, json.loads((run_dir / "run.json").read_text()), True
    horizon = parse_date(str(cfg.horizon)) if cfg.horizon is not None else None
    cut_short = case.full_end is not None and case.spec.end < case.full_end
    if horizon is None and cut_short:
        horizon = case.full_end  # a cut case forecasts to its full window's end: the headline
    route = route_data(case, cfg.model.transit_days, cfg.model.max_containers_per_voyage, horizon,
                       cfg.model.transit_extra_days)
    values = family.data_values(route, cfg.priors)
    t_prepared = time.perf_counter()
    headline = "forecast_containers" if cut_short else "total_containers"
    result = fit(family, route, values, int(cfg.seed), cfg.inference, progress=progress,
                 headline=headline)
    outputs.add_derived(result.tree, cfg.derived, int(cfg.seed))
    est = outputs.estimates(result.tree["estimands"], cfg.ci_prob, list(cfg.thresholds),
                            {k: v.unit for k, v in cfg.derived.items()}, headline)
    ser = outputs.series(result.tree["estimands"], cfg.ci_prob)
    record = {
        **identity_record(cfg, case, family, run_dir, config_hash),
        "status": result.status,
        "reasons": result.reasons,
        "notes": result.notes,
        "headline": outputs.headline(est, headline),
        "horizon": horizon.isoformat() if horizon is not None else None,
        "diagnostics": result.diagnostics,
        "figures": result.figures,
        "checks": result.checks,
        "data_notes": route.notes + ([] if getattr(family, "SEES_PORTS", False)
                                     else route.pooling_notes),
        "provenance": brief.case_provenance(case),
        "sampler": {"name": "nutpie" if hasattr(family, "build") else "bootstrap",
                    **{k: cfg.inference[k] for k in ("draws", "tune", "chains", "cores",
                                                      "target_accept", "adaptation",
                                                      "borderline_draws")},
                    "rounds": result.rounds},
        "versions": versions(),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([command, *overrides]),
    }
    t_write = time.perf_counter()
    with store.staged(run_dir) as tmp:
        (tmp / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        est.write_csv(tmp / "estimates.csv")
        ser.write_csv(tmp / "series.csv")
        write_posterior(result.tree, tmp / "posterior.nc", record)
        figures.write_figures(result.tree, tmp / "figures")
        brief.write_run_brief(brief.View(
            tmp, record, est, result.tree, case=case, route=route, horizon=horizon,
            priors=brief.family_priors(family, OmegaConf.to_container(cfg.priors, resolve=True)),
            family=family, limits=OmegaConf.to_container(cfg.inference, resolve=True)))
        record["timings"] = {"prepare_s": t_prepared - t_start, **result.timings,
                             "write_s": time.perf_counter() - t_write,
                             "total_s": time.perf_counter() - t_start}
        (tmp / "run.json").write_text(json.dumps(record, indent=2, default=_plain) + "\n")
    return run_dir, record, False


def identity_record(cfg: DictConfig, case: Case, family, run_dir: Path, config_hash: str) -> dict:
    """run.json's identity: what the run is of, before any result."""
    return {
        "run_id": run_dir.name,
        "experiment": cfg.experiment_name,
        "model": {"name": family.NAME, "version": family.VERSION,
                  **({"picked": cfg.model.picked} if cfg.model.get("picked") else {})},
        "case": {"name": case.spec.name, "path": str(case.path), "content_hash": case.content_hash,
                 "files": case.files, "cutoff": cfg.case.cutoff,
                 "window": [case.spec.start.isoformat(), case.spec.end.isoformat()]},
        "config_hash": config_hash,
        "seed": int(cfg.seed),
        "tags": list(cfg.tags),
    }


def record_failure(cfg: DictConfig, overrides: list[str], error: BaseException,
                   seconds: float) -> Path:
    """Write the run directory of a run that failed: its config and a run.json with
    status `failed` and the reason (one line). A later run of the same id replaces it."""
    case, family, run_dir, config_hash = plan(cfg)
    text = str(error).strip().splitlines()
    record = {**identity_record(cfg, case, family, run_dir, config_hash),
              "status": FAILED, "reasons": [f"{type(error).__name__}: {text[0] if text else ''}"],
              "notes": [], "versions": versions(),
              "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "command": " ".join(["cargoinfer sweep", *overrides]),
              "timings": {"total_s": seconds}}
    with store.staged(run_dir) as tmp:
        (tmp / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        (tmp / "run.json").write_text(json.dumps(record, indent=2, default=_plain) + "\n")
    return run_dir


def _plain(x):
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(type(x).__name__)


def write_posterior(tree, path: Path, record: dict) -> None:
    tree = tree.copy()
    if "sample_stats" in tree.children:
        stats = tree["sample_stats"].to_dataset()
        drop = [v for v in stats.data_vars if stats[v].dtype == object]
        if drop:
            tree["sample_stats"] = stats.drop_vars(drop)
    tree.attrs.update({
        "run_id": record["run_id"], "model": record["model"]["name"],
        "model_version": record["model"]["version"], "case": record["case"]["name"],
        "case_hash": record["case"]["content_hash"], "config_hash": record["config_hash"],
        "seed": record["seed"],
    })
    tree.to_netcdf(path, engine="h5netcdf")
