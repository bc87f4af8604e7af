"""baseline@1: what analysts do by hand, as the reference every model must beat.

Total containers = voyages seen x the mean of the coverage-scaled container counts
(visible / coverage; an unrecorded coverage is taken at the mean of the
`unknown_coverage` prior). The interval is a bootstrap over the counts. Unseen
voyages are not estimated: the hand method has no way to count them."""

from __future__ import annotations

import numpy as np

from ..observations.aggregate import HISTORIES, RouteData
from .priors import flat

NAME = "baseline"
VERSION = 1
ASSUMPTIONS = (
    "Only the voyages seen are counted: voyages nobody saw are left out.",
    "A voyage's load is the mean of the counts scaled up by their coverage.",
    "The interval is a bootstrap over the counts, not a credible interval of a model.",
)
PRIOR_NAMES = ("unknown_coverage",)
HISTORY_LABELS = HISTORIES
LOGLIK_DIMS: dict = {}
PRED_DIMS: dict = {}
SCALARS = ("total_containers", "voyages", "containers_per_voyage")
REFERENCE_REASON = "baseline: a bootstrap reference (seen voyages only), not a model-based estimate"


def data_values(route: RouteData, priors) -> dict[str, np.ndarray]:
    return {k.replace(".", "__"): np.asarray(v, float) for k, v in flat(priors, PRIOR_NAMES).items()}


def observed(route: RouteData) -> dict:
    return {"captures": route.captures}


def scaled_counts(route: RouteData, values: dict) -> np.ndarray:
    a, b = float(values["unknown_coverage__alpha"]), float(values["unknown_coverage__beta"])
    coverage = np.where(route.coverage_known, route.coverage, a / (a + b))
    return route.visible / coverage


def resample(route: RouteData, values: dict, rng: np.random.Generator, n: int) -> dict:
    """n bootstrap replicates of the hand estimate."""
    scaled = scaled_counts(route, values)
    seen = route.captures.sum(axis=1).astype(float)  # (P,)
    if len(scaled):
        picks = rng.integers(0, len(scaled), (n, len(scaled)))
        per_voyage = scaled[picks].mean(axis=1)
    else:
        per_voyage = np.full(n, np.nan)  # no counts: the hand method has no load
    voyages_period = np.broadcast_to(seen, (n, len(seen)))
    containers_period = voyages_period * per_voyage[:, None]
    return {"voyages_period": voyages_period, "containers_period": containers_period,
            "total_containers": containers_period.sum(axis=1), "voyages": voyages_period.sum(axis=1),
            "containers_per_voyage": per_voyage}
