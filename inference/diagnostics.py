"""Sampling diagnostics (the status rule that reads them is `inference.status`)."""

from __future__ import annotations

import arviz as az
import numpy as np

from .limits import Figure, batch_se, ess_se, rhat_se


def _values(tree, fn, var_names) -> np.ndarray:
    """Every value of a per-variable diagnostic, flattened."""
    ds = fn(tree, var_names=var_names)
    ds = ds.to_dataset() if hasattr(ds, "to_dataset") else ds
    vals = [np.asarray(ds[v]).ravel() for v in ds.data_vars]
    vals = np.concatenate(vals) if vals else np.array([np.nan])
    return vals


def _arrays(tree, var_names):
    """Every element's name, R-hat and bulk and tail ESS."""
    bulk_fn = lambda t, var_names: az.ess(t, var_names=var_names, method="bulk")  # noqa: E731
    tail_fn = lambda t, var_names: az.ess(t, var_names=var_names, method="tail")  # noqa: E731
    return (_names(tree, az.rhat, var_names), _values(tree, az.rhat, var_names),
            _values(tree, bulk_fn, var_names), _values(tree, tail_fn, var_names))


def sampling_diagnostics(tree, var_names: list[str], arrays=None) -> dict:
    """R-hat, bulk/tail ESS, divergences and E-BFMI of the sampled parameters."""
    _, rhat, bulk, tail = arrays or _arrays(tree, var_names)
    stats = tree["sample_stats"]
    bfmi = np.asarray(az.bfmi(tree)["energy"]).ravel()
    return {
        "rhat_max": _extreme(np.nanmax, rhat),
        "ess_bulk_min": _extreme(np.nanmin, bulk),
        "ess_tail_min": _extreme(np.nanmin, tail),
        "divergences": int(np.asarray(stats["diverging"]).sum()),
        "ebfmi_min": float(np.nanmin(bfmi)),
        "chains": int(stats.sizes["chain"]),
        "draws": int(stats.sizes["draw"]),
    }


def _extreme(fn, values: np.ndarray) -> float:
    """`fn` over the finite values; NaN when there are none (R-hat of one chain)."""
    finite = values[np.isfinite(values)]
    return float(fn(finite)) if finite.size else float("nan")


def _names(tree, fn, var_names) -> list[str]:
    ds = fn(tree, var_names=var_names)
    ds = ds.to_dataset() if hasattr(ds, "to_dataset") else ds
    return [f"{v}[{i}]" if ds[v].size > 1 else v
            for v in ds.data_vars for i in range(ds[v].size)]


def _worst(scores: np.ndarray) -> int | None:
    """Index of the largest finite score, or None when there is none."""
    scores = np.where(np.isfinite(scores), scores, -np.inf)
    return int(np.argmax(scores)) if scores.size and np.isfinite(scores.max()) else None


def _bfmi(energy: np.ndarray) -> float:
    return float(np.mean(np.diff(energy) ** 2) / np.var(energy))


def sampling(tree, var_names: list[str], limits) -> tuple[dict, list[Figure]]:
    """(`sampling_diagnostics`, `sampling_figures`) from one pass over the draws."""
    arrays = _arrays(tree, var_names)
    return (sampling_diagnostics(tree, var_names, arrays),
            sampling_figures(tree, var_names, limits, arrays))


def sampling_figures(tree, var_names: list[str], limits, arrays=None) -> list[Figure]:
    """The sampling figures with their Monte Carlo errors (`inference.limits`): for R-hat
    and each ESS the parameter nearest to failing, measured in its own standard errors;
    the divergences as a Poisson count; E-BFMI of the worst chain."""
    stats = tree["sample_stats"]
    chains, draws = int(stats.sizes["chain"]), int(stats.sizes["draw"])
    total = chains * draws
    names, rhat, bulk, tail = arrays or _arrays(tree, var_names)
    figures = []
    r_se = rhat_se(np.minimum(bulk, tail), chains, draws)
    i = _worst((rhat - limits.rhat_max) / r_se)
    if i is not None:  # one chain has no R-hat
        figures.append(Figure(f"R-hat of {names[i]}", float(rhat[i]), float(r_se[i]),
                              float(limits.rhat_max), "above", "sampling"))
    for label, ess, limit in (("bulk ESS", bulk, limits.ess_bulk_min),
                              ("tail ESS", tail, limits.ess_tail_min)):
        se = ess_se(ess, total)
        i = _worst((limit - ess) / se)
        if i is None:
            continue
        figures.append(Figure(f"{label} of {names[i]}", float(ess[i]), float(se[i]),
                              float(limit), "below", "sampling"))
    n_div = int(np.asarray(stats["diverging"]).sum())
    figures.append(Figure("divergent transitions", float(n_div), float(np.sqrt(max(n_div, 1))),
                          float(limits.divergences_max), "above", "sampling", count=True))
    energy = np.asarray(stats["energy"], float)
    per_chain = [_bfmi(e) for e in energy]
    c = int(np.argmin(per_chain))
    figures.append(Figure(f"E-BFMI of chain {c}", per_chain[c], batch_se(energy[c], _bfmi),
                          float(limits.ebfmi_min), "below", "sampling"))
    return figures
