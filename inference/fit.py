"""Fit a model family with nutpie, compiling once per model structure."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np
import xarray as xr

from .diagnostics import sampling_diagnostics, sampling_reasons, status

_COMPILED: dict[tuple, object] = {}


def compiled(family: ModuleType, values: dict[str, np.ndarray]):
    """The family's compiled model with `values` as its data; compiles on first use only.

    All observations and hyperparameters are pm.Data, so one compiled model serves
    every case and every prior of the same family."""
    import nutpie

    key = (family.NAME, family.VERSION)
    if key not in _COMPILED:
        _COMPILED[key] = nutpie.compile_pymc_model(family.build(values))
        return _COMPILED[key], True
    return _COMPILED[key].with_data(**family.graph_data(values)), False


@dataclass
class Fit:
    tree: xr.DataTree
    diagnostics: dict
    reasons: list[str]
    status: str
    timings: dict = field(default_factory=dict)
    generated: dict = field(default_factory=dict)


def fit(family: ModuleType, route, values: dict, seed: int, inference) -> Fit:
    import nutpie

    t0 = time.perf_counter()
    model, fresh = compiled(family, values)
    t1 = time.perf_counter()
    tree = nutpie.sample(model, draws=inference.draws, tune=inference.tune, chains=inference.chains,
                         cores=inference.cores, seed=seed, progress_bar=False, save_warmup=False,
                         target_accept=inference.target_accept)
    t2 = time.perf_counter()
    tree, generated = add_generated(tree, family, route, values, seed)
    diag = sampling_diagnostics(tree, list(family.PARAMS))
    reasons = sampling_reasons(diag, inference)
    t3 = time.perf_counter()
    timings = {"compile_s": t1 - t0 if fresh else 0.0, "with_data_s": 0.0 if fresh else t1 - t0,
               "sampling_s": t2 - t1, "generated_s": t3 - t2}
    return Fit(tree, diag, reasons, status(reasons), timings, generated)


def add_generated(tree: xr.DataTree, family: ModuleType, route, values: dict, seed: int):
    """Add estimands, log-likelihood, predictive and observed-data groups to `tree`."""
    post = tree["posterior"]
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    flat = {v: np.asarray(post[v]).reshape(chains * draws) for v in post.data_vars
            if post[v].ndim == 2}
    rng = np.random.default_rng([seed, 1])
    gen = family.generate(flat, route, values, rng)
    prior = family.generate(family.prior_draws(values, chains * draws, rng), route, values, rng)

    def shaped(x, dims):
        x = np.asarray(x, float)
        return (("chain", "draw", *dims), x.reshape(chains, draws, *x.shape[1:]))

    coords = {"chain": post["chain"].values, "draw": post["draw"].values,
              "period": np.arange(len(route.periods)), "history": list(family.HISTORY_LABELS),
              "load_group": np.arange(route.n_groups), "count": np.arange(len(route.visible))}
    starts = [str(s) for s, _ in route.periods]
    ends = [str(e) for _, e in route.periods]

    def ds(variables):
        used = {d for _, (dims, _) in variables.items() for d in dims}
        c = {k: v for k, v in coords.items() if k in used}
        out = xr.Dataset(variables, coords=c)
        if "period" in used:
            out = out.assign_coords(period_start=("period", starts), period_end=("period", ends))
        return out

    estimands = ds({
        **{k: shaped(gen[k], ()) for k in ("total_containers", "voyages", "unseen_voyages",
                                           "containers_per_voyage", "detection_origin",
                                           "detection_destination")},
        "voyages_cumulative": shaped(np.cumsum(gen["voyages_period"], axis=1), ("period",)),
        "containers_cumulative": shaped(np.cumsum(gen["containers_period"], axis=1), ("period",)),
    })
    groups = {
        "estimands": estimands,
        "log_likelihood": ds({"captures": shaped(gen["loglik_captures"], ("period", "history")),
                              "loads": shaped(gen["loglik_loads"], ("load_group",))}),
        "posterior_predictive": ds({"captures": shaped(gen["pred_captures"], ("period", "history")),
                                    "visible": shaped(gen["pred_visible"], ("count",))}),
        "prior_predictive": ds({"captures": shaped(prior["pred_captures"], ("period", "history")),
                                "visible": shaped(prior["pred_visible"], ("count",)),
                                "total_containers": shaped(prior["total_containers"], ())}),
        "observed_data": xr.Dataset(
            {"captures": (("period", "history"), route.captures),
             "visible": (("count",), route.visible)},
            coords={"period": coords["period"], "history": coords["history"],
                    "count": coords["count"]}),
        "constant_data": xr.Dataset(
            {k: ((f"{k}_dim",) if np.ndim(v) == 1 else (), np.asarray(v))
             for k, v in values.items() if np.ndim(v) <= 1}),
    }
    for name, group in groups.items():
        tree[name] = xr.DataTree(group)
    return tree, gen
