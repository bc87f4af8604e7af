"""Fit a model family with nutpie, compiling once per model structure."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cache, partial
from types import ModuleType, SimpleNamespace

import numpy as np
import xarray as xr

from . import checks as model_checks
from .diagnostics import sampling
from .status import assess, borderline, status

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
    checks: dict = field(default_factory=dict)  # predictive, loo, sensitivity, conflict, spread
    notes: list[str] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)  # every figure the rule compared
    rounds: list[dict] = field(default_factory=list)  # the sampling rounds the rule asked for


def adaptation(family: ModuleType, inference) -> str:
    """nutpie's mass-matrix adaptation: `inference.adaptation`, where `auto` is the
    family's own choice (its ADAPTATION, else diag)."""
    chosen = getattr(inference, "adaptation", "diag")
    return getattr(family, "ADAPTATION", "diag") if chosen == "auto" else chosen


def _round_seed(seed: int, k: int) -> int:
    return int(seed) if k == 0 else int(np.random.SeedSequence([int(seed), k]).generate_state(1)[0])


def fit(family: ModuleType, route, values: dict, seed: int, inference, progress: bool = False,
        headline: str = "total_containers") -> Fit:
    """Sample, add the estimands, run the checks and apply the status rule; `progress`:
    nutpie's progress bar. A figure within its Monte Carlo error of a limit, or a sampling
    figure that fails, is drawn again with `inference.borderline_draws` draws per chain at
    `inference.borderline_target_accept` (a second round, replacing the first; 0: never);
    a figure still undecided is then a note."""
    if not hasattr(family, "build"):
        return reference_fit(family, route, values, seed, inference)
    import nutpie

    timings = {"compile_s": 0.0, "with_data_s": 0.0, "sampling_s": 0.0, "generated_s": 0.0,
               "checks_s": 0.0}
    t0 = time.perf_counter()
    model, fresh = compiled(family, values)
    timings["compile_s" if fresh else "with_data_s"] = time.perf_counter() - t0
    budget = [int(inference.draws)]
    extra = int(getattr(inference, "borderline_draws", 0) or 0)
    if extra > inference.draws:
        budget.append(extra)
    rounds, mass, pending = [], adaptation(family, inference), None
    # the conflict check's own fit starts once the first round's draws are in and runs
    # beside the estimands and checks, which leave a core idle (with one core, as a job of
    # a sweep with a worker per core has, it runs after them); its result is its seeds'
    threads = int(inference.cores) > 1
    with (ThreadPoolExecutor(max_workers=1, thread_name_prefix="conflict") if threads
          else nullcontext()) as background:
        submit = background.submit if threads else _later
        for k, draws in enumerate(budget):
            t1 = time.perf_counter()
            accept = inference.target_accept if k == 0 else max(
                inference.target_accept, getattr(inference, "borderline_target_accept", 0.99))
            tree = nutpie.sample(model, draws=draws, tune=inference.tune, chains=inference.chains,
                                 cores=inference.cores, seed=_round_seed(seed, k),
                                 progress_bar=progress, save_warmup=False, target_accept=accept,
                                 adaptation=mass)
            t2 = time.perf_counter()
            diag, figures = sampling(tree, list(family.PARAMS), inference)
            timings["sampling_s"] += t2 - t1
            pending = pending or submit(_timed_conflict, family, route, values, seed, inference,
                                        timings)
            undecided = borderline(figures, {})
            if undecided and k + 1 < len(budget):  # drawn again whatever the checks say: skip them
                rounds.append(_round(draws, inference, seed, k, accept, mass, 1, undecided))
                continue
            step = max(draws // int(inference.draws), 1)
            if step > 1:  # the estimands and checks from as many draws as the first round's
                tree = thin(tree, step)
            tree = add_generated(tree, family, route, values, seed)
            t3 = time.perf_counter()
            found = run_checks(tree, family, values, seed, headline,
                               getattr(inference, "upper_over_median_max", 3.0),
                               getattr(inference, "trend_p", 0.01))
            timings["generated_s"] += t3 - t2
            timings["checks_s"] += time.perf_counter() - t3
            conflict = pending.result()
            if conflict.get("error"):
                found.setdefault("errors", []).append(conflict["error"])
            elif conflict:
                found["conflict"] = conflict
            undecided = borderline(figures, found)
            rounds.append(_round(draws, inference, seed, k, accept, mass, step, undecided))
            if not undecided:
                break
    state, reasons, notes = assess(figures, found, draws * int(inference.chains))
    return Fit(tree, diag, reasons, state, timings, found, notes,
               [f.record() for f in figures], rounds)


def _later(fn, *args):
    """As an executor's `submit`, but `fn` runs in this thread when its result is asked for."""
    return SimpleNamespace(result=cache(partial(fn, *args)))


def _timed_conflict(family, route, values: dict, seed: int, inference, timings: dict) -> dict:
    t = time.perf_counter()
    try:
        return run_conflict(family, route, values, seed, inference)
    finally:
        timings["conflict_s"] = time.perf_counter() - t


def _round(draws: int, inference, seed: int, k: int, accept: float, mass: str, step: int,
           undecided) -> dict:
    return {"draws": draws, "chains": int(inference.chains), "seed": _round_seed(seed, k),
            "target_accept": accept, "adaptation": mass, "thinned_by": step,
            "borderline": [f.name for f in undecided]}


def thin(tree: xr.DataTree, step: int) -> xr.DataTree:
    """Every `step`-th draw of the posterior and the sampler's statistics."""
    out = tree.copy()
    for name in ("posterior", "sample_stats"):
        if name in out.children:
            ds = out[name].to_dataset().isel(draw=slice(None, None, step))
            out[name] = xr.DataTree(ds.assign_coords(draw=np.arange(ds.sizes["draw"])))
    return out


def run_conflict(family, route, values: dict, seed: int, inference) -> dict:
    """The data-data conflict check (`inference.conflict`); {} for a family without
    other streams. A check that cannot run is recorded as an error, not raised."""
    if not hasattr(family, "without") or not getattr(inference, "conflict_draws", 500):
        return {}
    from .conflict import conflicts

    try:
        return conflicts(family, route, values, seed, inference,
                         lambda v: compiled(family, v)[0])
    except Exception as e:  # noqa: BLE001 (named in run.json, the run goes to review)
        return {"error": f"conflict check could not run: {type(e).__name__}: "
                         f"{str(e).strip().splitlines()[0] if str(e).strip() else ''}"}


def run_checks(tree: xr.DataTree, family: ModuleType, values: dict, seed: int,
               headline: str = "total_containers", spread_max: float = 3.0,
               trend_p: float = 0.01) -> dict:
    """Posterior predictive checks, LOO per stream, the headline's spread and prior
    sensitivity of one fit."""
    from ..models.priors import log_prior

    post = tree["posterior"]
    draws = {v: np.asarray(post[v]) for v in post.data_vars}
    steps = {"predictive": lambda: model_checks.predictive(tree, seed),
             "loo": lambda: model_checks.loo(tree),
             "trend": lambda: model_checks.trend(tree, trend_p),
             "spread": lambda: model_checks.spread(tree, headline, spread_max),
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
    for name, group in generated_groups(gen, None, family, route, values, 1).items():
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
    n_prior = min(PRIOR_DRAWS, chains * draws)
    prior = family.generate(family.prior_draws(values, n_prior, rng), route, values, rng)
    for name, group in generated_groups(gen, prior, family, route, values, chains).items():
        tree[name] = xr.DataTree(group)
    return tree


PRIOR_DRAWS = 1000  # prior predictive draws (one chain): the prior figure and posterior.nc


def generated_groups(gen, prior, family, route, values, chains: int) -> dict:
    """DataTree groups from generated draws (S = chains x draws along the first axis; the
    prior's, one chain)."""

    def shaped(x, dims, n_chains=chains):
        x = np.asarray(x, float)
        return (("chain", "draw", *dims), x.reshape(n_chains, len(x) // n_chains, *x.shape[1:]))

    coords = {"period": np.arange(len(route.periods)), "history": list(family.HISTORY_LABELS),
              **(family.coords(route) if hasattr(family, "coords") else {})}
    starts = [str(s) for s, _ in route.periods]
    ends = [str(e) for _, e in route.periods]

    def ds(variables):
        out = xr.Dataset(variables)
        for dim in out.dims:
            if dim in ("chain", "draw"):
                out = out.assign_coords({dim: np.arange(out.sizes[dim])})
            elif dim in coords:
                out = out.assign_coords({dim: coords[dim]})
        if "period" in out.dims:
            out = out.assign_coords(period_start=("period", starts), period_end=("period", ends))
        if "count" in out.dims and len(route.count_day) == out.sizes["count"]:
            out = out.assign_coords(count_day=("count", route.count_day),
                                    count_capacity=("count", route.group_cap[route.count_group]),
                                    count_coverage=("count", route.coverage))
        return out

    observed = family.observed(route)
    groups = {
        "estimands": ds({
            **{k: shaped(gen[k], ()) for k in (*family.SCALARS, "forecast_containers") if k in gen},
            "voyages_cumulative": shaped(np.cumsum(gen["voyages_period"], axis=1), ("period",)),
            "containers_cumulative": shaped(np.cumsum(gen["containers_period"], axis=1),
                                            ("period",)),
            **{k: shaped(gen[k], dims) for k, dims in getattr(family, "ESTIMAND_DIMS", {}).items()
               if k in gen},
        }),
        "log_likelihood": ds({k: shaped(gen[f"loglik_{k}"], dims)
                              for k, dims in family.LOGLIK_DIMS.items()}),
        "posterior_predictive": ds({k: shaped(gen[f"pred_{k}"], dims)
                                    for k, dims in family.PRED_DIMS.items()}),
        "prior_predictive": None if prior is None else ds(
            {**{k: shaped(prior[f"pred_{k}"], dims, 1) for k, dims in family.PRED_DIMS.items()},
             "total_containers": shaped(prior["total_containers"], (), 1)}),
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
