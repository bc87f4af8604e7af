"""Sampling diagnostics (the status rule that reads them is `inference.status`)."""

from __future__ import annotations

import arviz as az
import numpy as np



def _values(tree, fn, var_names) -> np.ndarray:
    """Every value of a per-variable diagnostic, flattened."""
    ds = fn(tree, var_names=var_names)
    ds = ds.to_dataset() if hasattr(ds, "to_dataset") else ds
    vals = [np.asarray(ds[v]).ravel() for v in ds.data_vars]
    vals = np.concatenate(vals) if vals else np.array([np.nan])
    return vals


def sampling_diagnostics(tree, var_names: list[str]) -> dict:
    """R-hat, bulk/tail ESS, divergences and E-BFMI of the sampled parameters."""
    rhat = _values(tree, az.rhat, var_names)
    bulk = _values(tree, lambda t, var_names: az.ess(t, var_names=var_names, method="bulk"), var_names)
    tail = _values(tree, lambda t, var_names: az.ess(t, var_names=var_names, method="tail"), var_names)
    stats = tree["sample_stats"]
    bfmi = np.asarray(az.bfmi(tree)["energy"]).ravel()
    return {
        "rhat_max": float(np.nanmax(rhat)),
        "ess_bulk_min": float(np.nanmin(bulk)),
        "ess_tail_min": float(np.nanmin(tail)),
        "divergences": int(np.asarray(stats["diverging"]).sum()),
        "ebfmi_min": float(np.nanmin(bfmi)),
        "chains": int(stats.sizes["chain"]),
        "draws": int(stats.sizes["draw"]),
    }


def sampling_reasons(diag: dict, limits) -> list[str]:
    """Why the sampling falls short of briefing grade; empty when it does not."""
    reasons = []
    if not diag["rhat_max"] <= limits.rhat_max:
        reasons.append(f"R-hat {diag['rhat_max']:.3f} > {limits.rhat_max}")
    if not diag["ess_bulk_min"] >= limits.ess_bulk_min:
        reasons.append(f"bulk ESS {diag['ess_bulk_min']:.0f} < {limits.ess_bulk_min}")
    if not diag["ess_tail_min"] >= limits.ess_tail_min:
        reasons.append(f"tail ESS {diag['ess_tail_min']:.0f} < {limits.ess_tail_min}")
    if diag["divergences"] > limits.divergences_max:
        reasons.append(f"{diag['divergences']} divergent transitions")
    if not diag["ebfmi_min"] >= limits.ebfmi_min:
        reasons.append(f"E-BFMI {diag['ebfmi_min']:.2f} < {limits.ebfmi_min}")
    return reasons
