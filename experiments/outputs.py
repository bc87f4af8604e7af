"""Tables of a run directory: estimates.csv and series.csv (full precision)."""

from __future__ import annotations

import numpy as np
import polars as pl

CI_KIND = "eti"

SCALARS = {  # estimand -> unit
    "total_containers": "containers",
    "voyages": "voyages",
    "containers_per_voyage": "containers",
    "unseen_voyages": "voyages",
    "detection_origin": "probability",
    "detection_destination": "probability",
    "depot_stock": "containers",
}
SERIES = {"voyages_cumulative": "voyages", "containers_cumulative": "total_containers"}


def _interval(x: np.ndarray, prob: float) -> tuple[float, float]:
    lo, hi = np.nanquantile(x, [(1 - prob) / 2, (1 + prob) / 2])
    return float(lo), float(hi)


def estimates(estimands, ci_prob: float) -> pl.DataFrame:
    rows = []
    for name, unit in SCALARS.items():
        if name not in estimands:
            continue
        x = np.asarray(estimands[name]).ravel()
        lo, hi = _interval(x, ci_prob)
        rows.append({"estimand": name, "unit": unit, "mean": float(np.nanmean(x)),
                     "median": float(np.nanmedian(x)), "sd": float(np.nanstd(x, ddof=1)),
                     "ci_kind": CI_KIND, "ci_prob": ci_prob, "lower": lo, "upper": hi})
    return pl.DataFrame(rows)


def series(estimands, ci_prob: float) -> pl.DataFrame:
    rows = []
    for var, name in SERIES.items():
        da = estimands[var]
        x = np.asarray(da).reshape(-1, da.sizes["period"])
        for p in range(x.shape[1]):
            lo, hi = _interval(x[:, p], ci_prob)
            rows.append({"period_start": str(da["period_start"].values[p]),
                         "period_end": str(da["period_end"].values[p]), "estimand": name,
                         "median": float(np.median(x[:, p])), "lower": lo, "upper": hi,
                         "ci_kind": CI_KIND, "ci_prob": ci_prob})
    return pl.DataFrame(rows)


def headline(est: pl.DataFrame) -> dict:
    row = est.filter(pl.col("estimand") == "total_containers").row(0, named=True)
    return {k: row[k] for k in ("estimand", "median", "lower", "upper", "ci_kind", "ci_prob")}
