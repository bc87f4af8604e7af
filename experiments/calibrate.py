"""`cargoinfer calibrate`: simulation-based calibration of a model family, as a run directory.

    <store>/calibration/<run_id>/
      config.yaml       the resolved config
      run.json          identity, settings, verdict and its reasons, timings
      calibration.csv   estimand, ci_prob, coverage, n_sims, rank_uniformity_p (+ covered,
                        accepted_low, accepted_high, pass)
      ranks.csv         sim, estimand, truth, rank, n_draws, pit: one row per simulation
      figures/rank_ecdf.png
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
from omegaconf import DictConfig, OmegaConf

from ..inference import calibration
from ..inference.fit import adaptation
from ..observations.aggregate import route_data
from ..observations.case import load_case
from . import store
from .config import ConfigError, case_dir, identity
from .run import family_for, versions


def plan(cfg: DictConfig):
    family = family_for(cfg)
    if not hasattr(family, "simulate") or not hasattr(family, "build"):
        raise ConfigError(f"model.name: {family.NAME} is not a Bayesian model with its own "
                          "simulator; nothing to calibrate")
    case = load_case(case_dir(cfg))  # raises CaseInvalid
    config_hash = store.digest(identity(cfg, family.PRIOR_NAMES))
    rid = store.run_id(family.NAME, family.VERSION, case.content_hash, config_hash, cfg.seed)
    return family, case, Path(cfg.store) / cfg.experiment_name / rid, config_hash


def settings(cfg: DictConfig, family) -> calibration.Settings:
    c = cfg.calibration
    return calibration.Settings(draws=c.draws, tune=c.tune, chains=c.chains,
                                target_accept=cfg.inference.target_accept,
                                adaptation=adaptation(family, cfg.inference), rank_draws=c.rank_draws,
                                alpha=c.alpha, control=c.control, totals=c.totals,
                                max_depth=c.max_depth)


def execute(cfg: DictConfig, overrides: list[str] = ()) -> tuple[Path, dict, bool]:
    t0 = time.perf_counter()
    family, case, run_dir, config_hash = plan(cfg)
    if store.is_complete(run_dir):
        return run_dir, json.loads((run_dir / "run.json").read_text()), True
    template = route_data(case, cfg.model.transit_days, cfg.model.max_containers_per_voyage,
                          transit_extra_days=cfg.model.transit_extra_days)
    s = settings(cfg, family)
    done = []

    def progress(sim):
        done.append(sim)
        if len(done) % 10 == 0 or len(done) == cfg.n_sims:
            print(f"  {len(done)}/{cfg.n_sims} simulations", file=sys.stderr, flush=True)

    sims = calibration.run(family, template, cfg.priors, cfg.n_sims, int(cfg.seed), s,
                           cfg.workers, progress)
    t_sims = time.perf_counter() - t0
    result = calibration.summarise(family, sims, s.alpha)
    record = {
        "run_id": run_dir.name,
        "kind": "calibration",
        "experiment": cfg.experiment_name,
        "model": {"name": family.NAME, "version": family.VERSION},
        "case": {"name": case.spec.name, "path": str(case.path), "content_hash": case.content_hash},
        "config_hash": config_hash,
        "seed": int(cfg.seed),
        "n_sims": int(cfg.n_sims),
        "settings": {**OmegaConf.to_container(cfg.calibration),
                     "target_accept": s.target_accept, "adaptation": s.adaptation},
        "verdict": result.verdict,
        "reasons": result.reasons,
        "rule": calibration.RULE,
        "alpha": s.alpha,
        "simulations_with_divergences": sum(sim.divergences > 0 for sim in sims),
        # draws (all simulations) whose trajectory stopped at calibration.max_depth
        "draws_at_max_depth": sum(sim.depth_capped for sim in sims),
        "versions": versions(),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["cargoinfer calibrate", *overrides]),
    }
    n_draws = min(s.rank_draws, s.chains * s.draws)
    with store.staged(run_dir) as tmp:
        (tmp / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        pl.DataFrame(result.rows).write_csv(tmp / "calibration.csv")
        pl.DataFrame([{"sim": sim.index, "estimand": name, "truth": sim.truth[name],
                       "rank": sim.rank[name], "n_draws": n_draws, "pit": sim.pit[name]}
                      for sim in sims for name in sim.pit]).write_csv(tmp / "ranks.csv")
        from .figures import rank_ecdf

        rank_ecdf(result, tmp / "figures")
        record["timings"] = {"simulations_s": t_sims,
                             "per_simulation_s": sum(x.seconds for x in sims) / len(sims),
                             "total_s": time.perf_counter() - t0}
        (tmp / "run.json").write_text(json.dumps(record, indent=2) + "\n")
    return run_dir, record, False
