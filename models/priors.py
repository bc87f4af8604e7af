"""Prior families named by what they mean; parameters come from configs/priors/."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from omegaconf import MISSING


@dataclass
class LogNormalPrior:
    """A positive quantity: `median` is its prior median, `log_sd` the sd of its log."""

    median: float = MISSING
    log_sd: float = MISSING


@dataclass
class BetaPrior:
    """A probability or share: Beta(alpha, beta)."""

    alpha: float = MISSING
    beta: float = MISSING


@dataclass
class HalfNormalPrior:
    """A non-negative spread: HalfNormal(scale)."""

    scale: float = MISSING


@dataclass
class ClaimWidths:
    """Relative sd of a third-party figure, by its stated confidence."""

    low: float = MISSING
    medium: float = MISSING
    high: float = MISSING


@dataclass
class Priors:
    voyages_per_week: LogNormalPrior = MISSING
    containers_per_voyage: LogNormalPrior = MISSING
    load_cv: HalfNormalPrior = MISSING  # voyage-to-voyage variation of loads
    usable_image_day_origin: BetaPrior = MISSING
    usable_image_day_destination: BetaPrior = MISSING
    port_call_days_origin: LogNormalPrior = MISSING
    port_call_days_destination: LogNormalPrior = MISSING
    identification_origin: BetaPrior = MISSING  # voyage recognised, given a usable image
    identification_destination: BetaPrior = MISSING
    unknown_coverage: BetaPrior = MISSING  # share of a load in view when not recorded
    # joint: the depot and third-party claims
    depot_share: BetaPrior = MISSING  # share of unloaded containers that go to this depot
    rail_delay_days: LogNormalPrior = MISSING  # median days from unloading to the depot
    rail_delay_spread: LogNormalPrior = MISSING  # log-sd of a container's rail delay
    m2_per_container: LogNormalPrior = MISSING  # filled pit area per container
    containers_per_railcar: LogNormalPrior = MISSING
    depot_noise_cv: LogNormalPrior = MISSING  # measurement noise of depot rows without sd
    claim_width: ClaimWidths = MISSING
    # dynamic: rates that change between periods and vessels
    rate_walk_sd: HalfNormalPrior = MISSING
    vessel_rate_sd: HalfNormalPrior = MISSING


# What each prior is about, in words (briefs state the priors with these).
MEANING = {
    "voyages_per_week": "laden departures per week, all vessels together",
    "containers_per_voyage": "mean load of a voyage, in containers",
    "load_cv": "voyage-to-voyage variation of loads (coefficient of variation)",
    "usable_image_day_origin": "chance that a day brings a usable image of the origin's berths",
    "usable_image_day_destination": "chance that a day brings a usable image of the "
                                    "destination's berths",
    "port_call_days_origin": "days a ship spends loading",
    "port_call_days_destination": "days a ship spends unloading",
    "identification_origin": "chance that a ship in a usable image of the origin is recognised",
    "identification_destination": "chance that a ship in a usable image of the destination "
                                  "is recognised",
    "unknown_coverage": "share of a load in view, when a count does not record it",
    "depot_share": "share of the unloaded containers that go to this depot",
    "rail_delay_days": "median days from unloading to the depot",
    "rail_delay_spread": "spread (log-sd) of one container's rail delay",
    "m2_per_container": "filled pit area per container, in m2",
    "containers_per_railcar": "containers per railcar",
    "depot_noise_cv": "relative error of depot measurements that state no sd",
    "claim_width": "relative sd of a third-party figure, by its stated confidence",
    "rate_walk_sd": "week-to-week step of a vessel's log rate",
    "vessel_rate_sd": "spread of the vessels' shares of the route",
}


def flat(priors, names) -> dict[str, float]:
    """`{'containers_per_voyage.median': 150.0, ...}` for the priors in `names`."""
    out = {}
    for name in names:
        for k, v in dict(priors[name]).items():
            out[f"{name}.{k}"] = float(v)
    return out


def log_prior(p: dict, values: dict, names) -> np.ndarray:
    """Log density of each draw under the configured priors of the parameters `names`,
    read by the families' naming rule: NAME__median/log_sd a LogNormal, NAME__alpha/beta a
    Beta, NAME__scale a HalfNormal. Latent standard normals (no hyperparameters) are
    structure, not configured priors, and are left out. p[name] is (S,); returns (S,)."""
    from scipy import stats

    total = 0.0
    for name in names:
        x = np.asarray(p[name], float)
        if f"{name}__median" in values:
            lp = stats.lognorm.logpdf(x, s=float(values[f"{name}__log_sd"]),
                                      scale=float(values[f"{name}__median"]))
        elif f"{name}__alpha" in values:
            lp = stats.beta.logpdf(x, float(values[f"{name}__alpha"]), float(values[f"{name}__beta"]))
        elif f"{name}__scale" in values:
            lp = stats.halfnorm.logpdf(x, scale=float(values[f"{name}__scale"]))
        else:
            continue
        total = total + lp
    return np.asarray(total, float)
