"""Prior families named by what they mean; parameters come from configs/priors/."""

from __future__ import annotations

from dataclasses import dataclass

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
class VoyagesPriors:
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


def flat(priors) -> dict[str, float]:
    """`{'containers_per_voyage.median': 150.0, ...}`: one scalar per hyperparameter."""
    out = {}
    for name, p in dict(priors).items():
        for k, v in dict(p).items():
            out[f"{name}.{k}"] = float(v)
    return out
