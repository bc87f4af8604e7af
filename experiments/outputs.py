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
    "forecast_containers": "containers",
}
SERIES = {"voyages_cumulative": "voyages", "containers_cumulative": "total_containers"}
LABELLED = {  # a network's estimands per route, port or site -> unit
    "route_containers": "containers",
    "route_voyages": "voyages",
    "destination_containers": "containers",
    "route_forecast_containers": "containers",
    "site_detection": "probability",
}


def _interval(x: np.ndarray, prob: float) -> tuple[float, float]:
    lo, hi = np.nanquantile(x, [(1 - prob) / 2, (1 + prob) / 2])
    return float(lo), float(hi)


def add_derived(tree, derived: dict, seed: int) -> None:
    """Draws of each derived quantity: total_containers x its conversion prior."""
    est = tree["estimands"].to_dataset()
    total = est["total_containers"]
    rng = np.random.default_rng([seed, 2])
    for name, q in derived.items():
        factor = rng.lognormal(np.log(q.per_container.median), q.per_container.log_sd, total.shape)
        est[name] = total * factor
    tree["estimands"] = est


def _row(name, unit, x, ci_prob):
    lo, hi = _interval(x, ci_prob)
    return {"estimand": name, "unit": unit, "mean": float(np.nanmean(x)),
            "median": float(np.nanmedian(x)), "sd": float(np.nanstd(x, ddof=1)),
            "ci_kind": CI_KIND, "ci_prob": ci_prob, "lower": lo, "upper": hi}


def round_figure(x: float) -> float:
    """x rounded to one significant figure (3,140 -> 3,000; 0 stays 0)."""
    if x <= 0 or not np.isfinite(x):
        return 0.0
    return float(np.round(x, -int(np.floor(np.log10(x)))))


def headline_thresholds(x: np.ndarray, configured) -> list[float]:
    """The thresholds x of P(headline > x): the configured ones, else one round figure,
    the headline's 10th percentile to one significant figure (a floor the data make
    very likely, to be stated in words)."""
    if len(configured):
        return [float(t) for t in configured]
    return [round_figure(float(np.nanquantile(x, 0.1)))]


def exceedance_name(estimand: str, t: float) -> str:
    return f"P({estimand} > {t:.15g})"  # reads back as the same float


def estimates(estimands, ci_prob: float, thresholds=(), derived_units=None,
              headline: str = "total_containers") -> pl.DataFrame:
    """One row per scalar estimand. The exceedance probabilities P(headline > x) follow
    the headline (`headline_thresholds`); derived quantities follow total_containers,
    beside the containers they come from."""
    if headline not in estimands:
        headline = "total_containers"
    rows = []
    for name, unit in SCALARS.items():
        if name not in estimands:
            continue
        x = np.asarray(estimands[name]).ravel()
        rows.append(_row(name, unit, x, ci_prob))
        if name == headline:
            for t in headline_thresholds(x, thresholds):
                p = float(np.mean(x > t))
                rows.append({"estimand": exceedance_name(name, t), "unit": "probability",
                             "mean": p, "median": p, "sd": float(np.sqrt(p * (1 - p))),
                             "ci_kind": "none", "ci_prob": None, "lower": p, "upper": p})
        if name == "total_containers":
            for d, unit_d in (derived_units or {}).items():
                rows.append(_row(d, unit_d, np.asarray(estimands[d]).ravel(), ci_prob))
    for name, unit in LABELLED.items():  # a network's routes, ports and sites
        if name in estimands:
            da = estimands[name]
            dim = da.dims[-1]
            for label in da[dim].values:
                rows.append(_row(f"{name}[{label}]", unit,
                                 np.asarray(da.sel({dim: label})).ravel(), ci_prob))
    return pl.DataFrame(rows, schema_overrides={"ci_prob": pl.Float64})


def series(estimands, ci_prob: float) -> pl.DataFrame:
    rows = []
    parts = [(estimands[var], name) for var, name in SERIES.items()]
    if "route_containers_cumulative" in estimands:  # a network's, per route
        da = estimands["route_containers_cumulative"]
        parts += [(da.sel(route=r), f"route_containers[{r}]") for r in da["route"].values]
    for da, name in parts:
        x = np.asarray(da).reshape(-1, da.sizes["period"])
        for p in range(x.shape[1]):
            lo, hi = _interval(x[:, p], ci_prob)
            rows.append({"period_start": str(da["period_start"].values[p]),
                         "period_end": str(da["period_end"].values[p]), "estimand": name,
                         "median": float(np.median(x[:, p])), "lower": lo, "upper": hi,
                         "ci_kind": CI_KIND, "ci_prob": ci_prob})
    return pl.DataFrame(rows)


def exceedances(est: pl.DataFrame, estimand: str) -> list[tuple[float, float]]:
    """(threshold, P(estimand > threshold)) of each exceedance row, in file order."""
    prefix = f"P({estimand} > "
    rows = est.filter(pl.col("estimand").str.starts_with(prefix))
    return [(float(n[len(prefix):-1]), float(p)) for n, p in zip(rows["estimand"], rows["median"])]


def headline(est: pl.DataFrame, estimand: str = "total_containers") -> dict:
    """The headline row: `estimand` where the run has it, else total_containers, with
    the first of its exceedance probabilities (threshold, p_exceeds)."""
    if estimand not in est["estimand"].to_list():
        estimand = "total_containers"
    row = est.filter(pl.col("estimand") == estimand).row(0, named=True)
    out = {k: row[k] for k in ("estimand", "median", "lower", "upper", "ci_kind", "ci_prob")}
    found = exceedances(est, estimand)
    if found:
        out.update(threshold=found[0][0], p_exceeds=found[0][1])
    return out
