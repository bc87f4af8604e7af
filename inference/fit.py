"""Fit a model family with nutpie, compiling once per model structure."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np
import xarray as xr

from . import checks as model_checks
from .diagnostics import sampling_diagnostics
from .status import assess, status

_COMPILED: dict[tuple, object] = {}


def compiled(family: ModuleType, values: dict[str, np.ndarray]):
    """The family's compiled model with `values` as its data; compiles on first use only.

    All observations and hyperparameters are pm.Data, so one compiled model serves
    every case and every prior of the same family."""
    import nutpie

    key = (family.NAME, family.VERSION, *getattr(family, "structure", lambda v: ())(values))
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
    checks: dict = field(default_factory=dict)  # predictive, loo, sensitivity
    notes: list[str] = field(default_factory=list)


def fit(family: ModuleType, route, values: dict, seed: int, inference, progress: bool = False) -> Fit:
    """Sample, add the estimands, run the checks; `progress`: nutpie's progress bar."""
    if not hasattr(family, "build"):
        return reference_fit(family, route, values, seed, inference)
    import nutpie

    t0 = time.perf_counter()
    model, fresh = compiled(family, values)
    t1 = time.perf_counter()
    tree = nutpie.sample(model, draws=inference.draws, tune=inference.tune, chains=inference.chains,
                         cores=inference.cores, seed=seed, progress_bar=progress, save_warmup=False,
                         target_accept=inference.target_accept,
                         adaptation=getattr(inference, "adaptation", "diag"))
    t2 = time.perf_counter()
    tree = add_generated(tree, family, route, values, seed)
    diag = sampling_diagnostics(tree, list(family.PARAMS))
    t3 = time.perf_counter()
    found = run_checks(tree, family, values, seed)
    state, reasons, notes = assess(diag, found, inference)
    timings = {"compile_s": t1 - t0 if fresh else 0.0, "with_data_s": 0.0 if fresh else t1 - t0,
               "sampling_s": t2 - t1, "generated_s": t3 - t2,
               "checks_s": time.perf_counter() - t3}
    return Fit(tree, diag, reasons, state, timings, found, notes)


def run_checks(tree: xr.DataTree, family: ModuleType, values: dict, seed: int) -> dict:
    """Posterior predictive checks, LOO per stream and prior sensitivity of one fit."""
    from ..models.priors import log_prior

    post = tree["posterior"]
    draws = {v: np.asarray(post[v]) for v in post.data_vars}
    steps = {"predictive": lambda: model_checks.predictive(tree, seed),
             "loo": lambda: model_checks.loo(tree),
             "sensitivity": lambda: model_checks.sensitivity(
                 tree, log_prior(draws, values, family.PARAMS))}
    out, errors = {}, []
    for name, step in steps.items():
        try:
            out[name] = step()
        except Exception as e:  # a check that cannot run leaves the run in review, named
            out[name] = {}
            errors.append(f"{name} check could not run: {type(e).__name__}: "
                          f"{str(e).strip().splitlines()[0] if str(e).strip() else ''}")
    if errors:
        out["errors"] = errors
    return out


def reference_fit(family: ModuleType, route, values: dict, seed: int, inference) -> Fit:
    """A family that is not a Bayesian model (the hand method): its own resampling."""
    t0 = time.perf_counter()
    n = inference.draws * inference.chains
    gen = family.resample(route, values, np.random.default_rng([seed, 1]), n)
    tree = xr.DataTree()
    for name, group in generated_groups(gen, None, family, route, values, 1, n).items():
        tree[name] = xr.DataTree(group)
    reasons = [family.REFERENCE_REASON]
    return Fit(tree, {}, reasons, status(reasons), {"resampling_s": time.perf_counter() - t0})


def add_generated(tree: xr.DataTree, family: ModuleType, route, values: dict, seed: int):
    """Add estimands, log-likelihood, predictive and observed-data groups to `tree`."""
    post = tree["posterior"]
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    flat = {v: np.asarray(post[v]).reshape(chains * draws, *post[v].shape[2:])
            for v in post.data_vars}
    rng = np.random.default_rng([seed, 1])
    gen = family.generate(flat, route, values, rng)
    prior = family.generate(family.prior_draws(values, chains * draws, rng), route, values, rng)
    for name, group in generated_groups(gen, prior, family, route, values, chains, draws).items():
        tree[name] = xr.DataTree(group)
    return tree


def generated_groups(gen, prior, family, route, values, chains: int, draws: int) -> dict:
    """DataTree groups from generated draws (S = chains * draws along the first axis)."""

    def shaped(x, dims):
        x = np.asarray(x, float)
        return (("chain", "draw", *dims), x.reshape(chains, draws, *x.shape[1:]))

    coords = {"chain": np.arange(chains), "draw": np.arange(draws),
              "period": np.arange(len(route.periods)), "history": list(family.HISTORY_LABELS)}
    starts = [str(s) for s, _ in route.periods]
    ends = [str(e) for _, e in route.periods]

    def ds(variables):
        out = xr.Dataset(variables)
        for dim in out.dims:
            if dim in coords:
                out = out.assign_coords({dim: coords[dim]})
        if "period" in out.dims:
            out = out.assign_coords(period_start=("period", starts), period_end=("period", ends))
        return out

    observed = family.observed(route)
    groups = {
        "estimands": ds({
            **{k: shaped(gen[k], ()) for k in (*family.SCALARS, "forecast_containers") if k in gen},
            "voyages_cumulative": shaped(np.cumsum(gen["voyages_period"], axis=1), ("period",)),
            "containers_cumulative": shaped(np.cumsum(gen["containers_period"], axis=1),
                                            ("period",)),
        }),
        "log_likelihood": ds({k: shaped(gen[f"loglik_{k}"], dims)
                              for k, dims in family.LOGLIK_DIMS.items()}),
        "posterior_predictive": ds({k: shaped(gen[f"pred_{k}"], dims)
                                    for k, dims in family.PRED_DIMS.items()}),
        "prior_predictive": None if prior is None else ds(
            {**{k: shaped(prior[f"pred_{k}"], dims) for k, dims in family.PRED_DIMS.items()},
             "total_containers": shaped(prior["total_containers"], ())}),
        "observed_data": ds({k: (dims, np.asarray(observed[k]))
                             for k, dims in family.PRED_DIMS.items()}),
        "constant_data": xr.Dataset(
            {k: ((f"{k}_dim",) if np.ndim(v) == 1 else (), np.asarray(v))
             for k, v in values.items() if np.ndim(v) <= 1}),
    }
    if not family.PRED_DIMS:  # a reference method: no likelihood, no predictive
        groups.update(log_likelihood=None, posterior_predictive=None, prior_predictive=None,
                      observed_data=ds({"captures": (("period", "history"), route.captures)}))
    return {k: v for k, v in groups.items() if v is not None}
