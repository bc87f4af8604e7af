"""Dataclass schemas for the Hydra configs: a misspelt key fails at start-up, named."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from ..models.priors import LogNormalPrior, Priors


@dataclass
class CaseConfig:
    name: str = MISSING  # an embedded case under cases/, or a label for `path`
    path: Optional[str] = None  # any case folder; overrides `name`
    cutoff: Optional[str] = None  # YYYY-MM-DD: leave out what was observed after it


@dataclass
class ModelConfig:
    name: str = MISSING
    version: int = MISSING
    transit_days: int = 1
    transit_extra_days: int = 1  # a voyage arrives transit_days to this many days later
    max_containers_per_voyage: int = 1000
    picked: Optional[str] = None  # set when model=auto chose the family: which and why


@dataclass
class InferenceConfig:
    sampler: str = "nutpie"
    draws: int = MISSING
    tune: int = MISSING
    chains: int = MISSING
    cores: int = 2
    target_accept: float = 0.95
    adaptation: str = "auto"  # nutpie's mass matrix: auto (the family's), diag, draw_diag, low_rank, flow
    rhat_max: float = 1.01
    ess_bulk_min: float = 400
    ess_tail_min: float = 400
    divergences_max: int = 0
    ebfmi_min: float = 0.3
    upper_over_median_max: float = 3.0  # the headline's 90% upper end / its median
    borderline_draws: int = 3000  # draws per chain of the second round (0: none)
    borderline_target_accept: float = 0.99  # the second round's
    conflict_p: float = 0.01  # a stream conflicts with the voyage data below this p-value
    trend_p: float = 0.01  # the counts' loads trend over the window below this p-value
    conflict_draws: int = 500  # draws per chain of the conflict check's fit (0: no check)
    conflict_chains: int = 2


@dataclass
class DerivedQuantity:
    """A quantity reported beside the containers it comes from, e.g. shells."""

    unit: str = MISSING
    per_container: LogNormalPrior = MISSING  # conversion prior: units per container


@dataclass
class Config:
    case: CaseConfig = MISSING
    model: ModelConfig = MISSING
    priors: Priors = MISSING
    inference: InferenceConfig = MISSING
    experiment_name: str = "default"
    seed: int = MISSING
    store: str = "runs"
    horizon: Optional[str] = None  # YYYY-MM-DD after the window: forecast_containers
    thresholds: list[float] = field(default_factory=list)  # P(headline > x); none: one round figure (outputs.headline_thresholds)
    # name -> DerivedQuantity, checked in config.check (OmegaConf cannot merge a dict
    # override into a dict of dataclasses)
    derived: dict[str, Any] = field(default_factory=dict)
    ci_prob: float = 0.9
    tags: list[str] = field(default_factory=list)


@dataclass
class CalibrationConfig:
    """How `cargoinfer calibrate` fits each simulation (inference.target_accept and
    inference.adaptation apply too) and how strict its verdict is."""

    draws: int = 500
    tune: int = 300
    chains: int = 1
    rank_draws: int = 100  # posterior draws kept (evenly thinned) to rank each truth
    max_depth: int = 10  # NUTS tree depth cap (at most 2^max_depth - 1 leapfrog steps)
    alpha: float = 0.01  # the verdict fails a calibrated model with at most this chance
    control: Optional[str] = None  # dependent_detection: a negative control (docs/calibration.md)
    totals: str = "model"  # model: shipped totals as the model states them; exact: loads' sum


@dataclass
class CalibrateConfig(Config):
    experiment_name: str = "calibration"
    n_sims: int = 200
    workers: int = 0  # processes; 0: one per core
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)


@dataclass
class PlanOption:
    """One candidate collection of `cargoinfer plan` (experiments/plan_menu.py checks which
    keys each kind takes)."""

    kind: str = MISSING  # imagery, count, depot or package
    cost: float = MISSING  # in the menu's cost_unit, >= 0
    label: Optional[str] = None  # plain words for the plan's pages
    site: Optional[str] = None  # imagery, count
    start: Optional[str] = None  # imagery: YYYY-MM-DD
    end: Optional[str] = None  # imagery
    passes: Optional[int] = None  # imagery: passes on distinct days between start and end
    usable: Optional[float] = None  # imagery: share of passes usable (default: the site's so far)
    voyage: Optional[str] = None  # count: next, or a voyage_id of voyages.csv
    coverage: Optional[float] = None  # count: share of the load in view (null: not recorded)
    metric: Optional[str] = None  # depot: filled_area_m2, railcars or containers
    date: Optional[str] = None  # depot: YYYY-MM-DD
    sd: Optional[float] = None  # depot: the measurement's error
    parts: Optional[list[str]] = None  # package: names of other options


@dataclass
class PlanConfig:
    cost_unit: str = "units"
    options: dict[str, PlanOption] = field(default_factory=dict)


@dataclass
class PlanRunConfig:
    """`cargoinfer plan RUN_DIR`'s settings (configs/plan_run.yaml)."""

    plan: PlanConfig = field(default_factory=PlanConfig)
    only: Optional[list[str]] = None  # names of the menu's options to assess (null: all)
    seed: int = 0
    n_outer: int = 32  # outer draws: new rows simulated at this many posterior draws
    max_refits: int = 8  # per option, for outer draws the screen cannot trust
    n_draws: int = 1000  # the run's posterior draws the screen reweights (evenly thinned)


def register() -> None:
    ConfigStore.instance().store(name="cargoinfer_plan_schema", node=PlanRunConfig)
    ConfigStore.instance().store(name="cargoinfer_schema", node=Config)
    ConfigStore.instance().store(name="cargoinfer_calibrate_schema", node=CalibrateConfig)
