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
class SharePrior:
    """A share in [floor, 1]: density proportional to x^(alpha - 1) (1 - x)^(beta - 1).

    With alpha > 0 and floor 0 it is Beta(alpha, beta). alpha = 0, beta = 1 is
    log-uniform from `floor` to 1: the share's order of magnitude unknown, all that is
    known is that it is at most 1. A stream read through such a share bounds what it
    measures from below and dates it, without setting its level (models/joint.py)."""

    alpha: float = MISSING
    beta: float = MISSING
    floor: float = 0.0


@dataclass
class HalfNormalPrior:
    """A non-negative spread: HalfNormal(scale)."""

    scale: float = MISSING


@dataclass
class RelativeError:
    """A fixed relative error of what an analyst records: the sd of its log (not sampled)."""

    log_sd: float = MISSING


@dataclass
class DayError:
    """A fixed error, in days, of a date read off the data (not sampled)."""

    sd_days: float = MISSING


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
    coverage_error: RelativeError = MISSING  # of a recorded share in view
    # joint: the depot and third-party claims
    depot_share: SharePrior = MISSING  # share of unloaded containers that go to this depot
    rail_delay_days: LogNormalPrior = MISSING  # median days from unloading to the depot
    rail_delay_spread: LogNormalPrior = MISSING  # log-sd of a container's rail delay
    m2_per_container: LogNormalPrior = MISSING  # filled pit area per container
    containers_per_railcar: LogNormalPrior = MISSING
    depot_noise_cv: LogNormalPrior = MISSING  # measurement noise of depot rows without sd
    claim_width: ClaimWidths = MISSING
    # dynamic: rates that change between periods and vessels
    rate_walk_sd: HalfNormalPrior = MISSING
    vessel_rate_sd: HalfNormalPrior = MISSING
    # network: routes between several ports per end
    route_rate_sd: HalfNormalPrior = MISSING
    # joint: the fleet's schedule
    cycle_days: LogNormalPrior = MISSING  # days between one vessel's departures, fleet median
    vessel_cycle_spread: RelativeError = MISSING  # vessels' own cycles around it (fixed)
    cycle_cv: LogNormalPrior = MISSING  # variation of one cycle's length
    break_prob: BetaPrior = MISSING  # a cycle broken by a pause
    departure_error: DayError = MISSING  # a departure day read off a sighting


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
    "coverage_error": "relative error of a recorded share of a load in view",
    "depot_share": "share of the unloaded containers that go to this depot",
    "rail_delay_days": "median days from unloading to the depot",
    "rail_delay_spread": "spread (log-sd) of one container's rail delay",
    "m2_per_container": "filled pit area per container, in m2",
    "containers_per_railcar": "containers per railcar",
    "depot_noise_cv": "relative error of depot measurements that state no sd",
    "claim_width": "relative sd of a third-party figure, by its stated confidence",
    "rate_walk_sd": "week-to-week step of a vessel's log rate",
    "vessel_rate_sd": "spread of the vessels' shares of the route",
    "route_rate_sd": "spread of the routes' shares of the voyages (a route network)",
    "cycle_days": "days between one vessel's departures (the fleet's median)",
    "vessel_cycle_spread": "spread (log-sd) of the vessels' own cycles around the fleet's",
    "cycle_cv": "variation of one cycle's length (coefficient of variation)",
    "break_prob": "chance that a cycle is broken by a pause (a lay-up, a halt, a vessel "
                  "joining or leaving)",
    "departure_error": "error, in days, of a departure day read off a sighting",
}


def flat(priors, names) -> dict[str, float]:
    """`{'containers_per_voyage.median': 150.0, ...}` for the priors in `names`."""
    out = {}
    for name in names:
        for k, v in dict(priors[name]).items():
            out[f"{name}.{k}"] = float(v)
    return out


def share_check(name: str, node) -> list[str]:
    """What is wrong with a SharePrior's numbers (config.check: the others need > 0)."""
    a, b, f = (node.get(k) for k in ("alpha", "beta", "floor"))
    nums = [x for x in (a, b, f) if isinstance(x, (int, float)) and not isinstance(x, bool)]
    if len(nums) < 3:
        return [f"priors.{name}: alpha, beta and floor must be numbers"]
    out = []
    if not a >= 0:
        out.append(f"priors.{name}.alpha: {a} must be >= 0")
    if not b > 0:
        out.append(f"priors.{name}.beta: {b} must be > 0")
    if not 0 <= f < 1:
        out.append(f"priors.{name}.floor: {f} must be in [0, 1)")
    if a == 0 and not (f > 0 and b >= 1):
        out.append(f"priors.{name}: alpha 0 needs floor > 0 and beta >= 1 (a log-uniform "
                   "share from floor to 1 is alpha 0, beta 1)")
    return out


def share_logpdf(x, a: float, b: float, floor: float):
    """Unnormalised log density of a SharePrior (-inf outside [floor, 1])."""
    x = np.asarray(x, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x)
    return np.where((x >= floor) & (x <= 1), lp, -np.inf)


def share_draws(rng: np.random.Generator, a: float, b: float, floor: float, n: int) -> np.ndarray:
    """n draws of a SharePrior: Beta truncated below at floor (alpha > 0), or for alpha 0
    log-uniform on [floor, 1] thinned by (1 - x)^(beta - 1) (beta >= 1)."""
    from scipy import stats

    if a > 0:
        lo = stats.beta.cdf(floor, a, b)
        return stats.beta.ppf(rng.uniform(lo, 1.0, n), a, b)
    out = np.empty(0)
    while len(out) < n:
        x = floor ** rng.random(2 * n)
        out = np.concatenate([out, x[rng.random(2 * n) < (1 - x) ** (b - 1)]])
    return out[:n]


def share_quantiles(q, a: float, b: float, floor: float) -> np.ndarray:
    """Quantiles of a SharePrior, on a grid of its log (for words in briefs)."""
    t = np.linspace(np.log(max(floor, 1e-12)), 0.0, 20001)[:-1]
    x = np.exp(t)
    w = np.exp(share_logpdf(x, a, b, floor) + t)  # density of log x
    cdf = np.cumsum(w) / w.sum()
    return np.interp(q, cdf, x)


def log_prior(p: dict, values: dict, names) -> np.ndarray:
    """Log density of each draw under the configured priors of the parameters `names`,
    read by the families' naming rule: NAME__median/log_sd a LogNormal, NAME__floor (with
    alpha, beta) a SharePrior, NAME__alpha/beta a Beta, NAME__scale a HalfNormal. Latent standard normals (no hyperparameters) are
    structure, not configured priors, and are left out. p[name] is (S,); returns (S,)."""
    from scipy import stats

    total = 0.0
    for name in names:
        x = np.asarray(p[name], float)
        if f"{name}__median" in values:
            lp = stats.lognorm.logpdf(x, s=float(values[f"{name}__log_sd"]),
                                      scale=float(values[f"{name}__median"]))
        elif f"{name}__floor" in values:
            lp = share_logpdf(x, *(float(values[f"{name}__{k}"]) for k in ("alpha", "beta", "floor")))
        elif f"{name}__alpha" in values:
            lp = stats.beta.logpdf(x, float(values[f"{name}__alpha"]), float(values[f"{name}__beta"]))
        elif f"{name}__scale" in values:
            lp = stats.halfnorm.logpdf(x, scale=float(values[f"{name}__scale"]))
        else:
            continue
        total = total + lp
    return np.asarray(total, float)
