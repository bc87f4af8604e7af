"""Model checks of one fit: posterior predictive checks, LOO per stream, prior sensitivity.

Each returns plain numbers for run.json; `inference.status` turns them into the status.

- Predictive check, per observed stream with a predictive (captures, visible counts,
  depot rows): each observation's randomised PIT among its posterior predictive draws.
  A model that fits a stream puts about 10% of its observations outside their central
  90% predictive intervals, and fewer when the observations were fitted (posterior
  predictive checks are conservative). The stream *fails* when more fall outside than
  the 99th percentile of Binomial(n, 0.1).
- Trend: the loads' one assumption a per-observation check cannot see, that they vary
  around one mean all window long. The statistic is the rank correlation of each count
  (over its recorded coverage) with its day, within the counts of one capacity, averaged
  by their number; its posterior predictive p-value (two-sided) is about uniform when
  the loads do not change, since no parameter of the model moves it.
- LOO: PSIS-LOO of each log-likelihood stream (arviz_stats.loo), with its Pareto k.
- Sensitivity: power-scaling of the configured priors and of the whole likelihood
  (arviz_stats.psense, Kallioinen et al. 2023) for each scalar estimand. Both above 0.05:
  potential prior-data conflict; the prior's alone: the prior dominates.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import xarray as xr
from scipy import stats
from scipy.stats import rankdata

OUTSIDE_PROB = 0.9  # the predictive interval of the check
FAIL_QUANTILE = 0.99  # a stream fails beyond this quantile of Binomial(n, 1 - OUTSIDE_PROB)
PARETO_K_MAX = 0.7
SENSITIVITY_THRESHOLD = 0.05
TREND_MIN_COUNTS = 4  # fewer counts (in strata of at least 3) leave the trend unchecked
PREDICTIVE_STREAM = {"visible": "loads"}  # predictive name -> its log-likelihood stream


def _draws(ds, name) -> np.ndarray:
    x = np.asarray(ds[name], float)
    return x.reshape(x.shape[0] * x.shape[1], -1)  # (S, n)


def outside_probability(draws: np.ndarray, obs: np.ndarray, prob: float = OUTSIDE_PROB):
    """Each observation's chance (n,) to fall outside its central `prob` predictive
    interval under the randomised PIT (`calibration.pits`): with b draws below and t ties
    among S, the PIT is uniform on [b, b + t + 1] / (S + 1). The sum is the expected
    count outside, free of the randomisation's noise."""
    S = len(draws)
    lo = (draws < obs).sum(axis=0) / (S + 1)
    hi = ((draws <= obs).sum(axis=0) + 1) / (S + 1)
    half = (1 - prob) / 2
    width = hi - lo
    below = np.clip((half - lo) / width, 0, 1)
    above = np.clip((hi - (1 - half)) / width, 0, 1)
    return below + above


def predictive(tree, seed: int) -> dict:
    """Per stream: n, how many outside the 90% predictive interval (randomised PITs, as
    before, and the expected count with its Monte Carlo error over chains), the limit,
    the PITs' uniformity p-value (informative only: posterior PITs are not uniform even
    for a right model) and whether it fails (the status rule's verdict, `limits`)."""
    from .calibration import pits, uniformity
    from .limits import FAIL, Figure, chain_se

    if "posterior_predictive" not in tree.children:
        return {}
    rng = np.random.default_rng([seed, 4])
    pred_ds, obs_ds = tree["posterior_predictive"], tree["observed_data"]
    out = {}
    for name in pred_ds.data_vars:
        if name not in obs_ds.data_vars:
            continue
        obs = np.asarray(obs_ds[name], float).ravel()
        if not len(obs):
            continue
        by_chain = np.asarray(pred_ds[name], float)
        by_chain = by_chain.reshape(by_chain.shape[0], by_chain.shape[1], -1)
        _, u = pits(_draws(pred_ds, name), obs, rng)
        half = (1 - OUTSIDE_PROB) / 2
        outside = int(((u < half) | (u > 1 - half)).sum())
        expected = float(outside_probability(_draws(pred_ds, name), obs).sum())
        se = chain_se([outside_probability(c, obs).sum() for c in by_chain])
        limit = int(stats.binom.ppf(FAIL_QUANTILE, len(obs), 1 - OUTSIDE_PROB))
        figure = Figure(f"observations of {name} outside their 90% predictive intervals",
                        expected, se, limit, "above", "predictive")
        out[name] = {"stream": PREDICTIVE_STREAM.get(name, name), "n": int(len(obs)),
                     "outside_90": outside, "outside_90_expected": expected,
                     "outside_90_mcse": se, "outside_limit": limit,
                     "coverage_90": 1 - outside / len(obs),
                     "pit_uniformity_p": uniformity(u) if len(obs) > 1 else None,
                     "figure": figure.record(), "fails": figure.verdict == FAIL}
    return out


def trend_strata(strata: np.ndarray) -> list[np.ndarray]:
    """Masks of the capacities with at least 3 counts: the trend is read within each."""
    return [m for m in (strata == s for s in np.unique(strata)) if m.sum() >= 3]


def rank_trend(x: np.ndarray, day: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Spearman correlation of x (..., n) with `day` (n,) within each stratum of at least
    3 rows, averaged weighted by their rows; 0 where x or the days do not vary."""
    total, rows = np.zeros(x.shape[:-1]), 0
    for m in trend_strata(strata):
        rx = rankdata(x[..., m], axis=-1)
        rt = rankdata(day[m])
        rx, rt = rx - rx.mean(axis=-1, keepdims=True), rt - rt.mean()
        den = np.sqrt((rx * rx).sum(axis=-1) * (rt * rt).sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            total = total + m.sum() * np.where(den > 0, (rx * rt).sum(axis=-1) / den, 0.0)
        rows += int(m.sum())
    return total / max(rows, 1)


def trend(tree, limit: float = 0.01) -> dict:
    """The loads' trend over the window (module docstring): per counted stream, the
    statistic, its two-sided predictive p-value (mid-p for ties) with its Monte Carlo error
    (binomial over the draws: replicated counts are drawn afresh at each draw) and the
    figure the status rule compares with `limit`; {} when there are too few counts."""
    from .limits import FAIL, Figure

    if "posterior_predictive" not in tree.children:
        return {}
    pred_ds, obs_ds = tree["posterior_predictive"], tree["observed_data"]
    if "visible" not in pred_ds.data_vars or "count_day" not in obs_ds.coords:
        return {}
    day = np.asarray(obs_ds["count_day"], float)
    strata = np.asarray(obs_ds["count_capacity"], float)
    cover = np.asarray(obs_ds["count_coverage"], float)
    used = sum(int(m.sum()) for m in trend_strata(strata))
    if used < TREND_MIN_COUNTS:
        return {}
    t_obs = float(rank_trend(np.asarray(obs_ds["visible"], float) / cover, day, strata))
    t_rep = rank_trend(_draws(pred_ds, "visible") / cover, day, strata)
    above = (t_rep > t_obs).mean() + 0.5 * (t_rep == t_obs).mean()
    tail = min(above, 1.0 - above)
    p = float(min(1.0, 2.0 * tail))
    se = float(2.0 * np.sqrt(max(tail, 1.0 / t_rep.size) * (1.0 - tail) / t_rep.size))
    figure = Figure("predictive p-value of the loads' trend over the window", p, se, limit,
                    "below", "trend", redraw=False)
    way = "rise" if t_obs > np.median(t_rep) else "fall"
    words = (f"loads: the container counts {way} over the window (rank correlation with the "
             f"day {t_obs:+.2f} within a capacity, over {used} counts) where the model has one "
             f"mean load all window long; a trend like it has p = {p:.2g}")
    return {"visible": {"stream": PREDICTIVE_STREAM["visible"], "n": used, "statistic": t_obs,
                        "replicated_median": float(np.median(t_rep)), "p": p, "mcse": se,
                        "words": words, "figure": figure.record(),
                        "fails": figure.verdict == FAIL}}


def loo(tree) -> dict:
    """PSIS-LOO per log-likelihood stream, with the Pareto k nearest to failing measured
    in its Monte Carlo error (`limits.pareto_k_se`)."""
    import arviz_stats as azs

    from .limits import Figure, pareto_k_se

    if "log_likelihood" not in tree.children:
        return {}
    out = {}
    for name in tree["log_likelihood"].data_vars:
        if tree["log_likelihood"][name].size == 0:  # a stream with no observations
            continue
        ll = tree["log_likelihood"][name]
        r, k = _loo_varying(azs, ll, tree["posterior"].to_dataset())
        se = pareto_k_se(k, int(ll.sizes["chain"] * ll.sizes["draw"]))
        i = int(np.nanargmax((k - PARETO_K_MAX) / se))
        figure = Figure(f"Pareto k of {name}[{i}]", float(k[i]), float(se[i]), PARETO_K_MAX,
                        "above", "loo", redraw=False)
        out[name] = {"elpd_loo": float(r.elpd), "se": float(r.se), "p_loo": float(r.p),
                     "n": int(r.n_data_points), "pareto_k_max": float(np.nanmax(k)),
                     "n_pareto_k_above": int((k > PARETO_K_MAX).sum()),
                     "pareto_k_nearest": figure.record()}
    return out


def _loo_varying(azs, ll: xr.DataArray, posterior: xr.Dataset):
    """PSIS-LOO of one stream whose observations may include some with the same
    log-likelihood in every draw (a capture cell no voyage can fall in: its expected count
    is 0): those add their value to elpd with nothing to smooth (Pareto k -inf); PSIS runs
    on the others."""
    x = np.asarray(ll, float)
    x = x.reshape(x.shape[0], x.shape[1], -1)
    varying = x.std(axis=(0, 1)) > 0
    sub = xr.DataTree.from_dict({"posterior": posterior, "log_likelihood": xr.Dataset(
        {"ll": (("chain", "draw", "obs"), x[:, :, varying])},
        coords={"chain": posterior["chain"], "draw": posterior["draw"]})})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = azs.loo(sub, var_name="ll", pointwise=True)
    k = np.full(varying.shape, -np.inf)
    k[varying] = np.asarray(r.pareto_k, float).ravel()
    elpd_i = x[0, 0].copy()
    elpd_i[varying] = np.asarray(r.elpd_i, float).ravel()
    return SimpleNamespace(elpd=float(elpd_i.sum()), se=float(r.se), p=float(r.p),
                           n_data_points=int(varying.size), elpd_i=elpd_i), k


def spread(tree, estimand: str, limit: float) -> dict:
    """How far the 90% interval reaches above the median: upper end / median, with its
    Monte Carlo error over chains. Far above (`inference.upper_over_median_max`) the
    data do not bound the estimand from above, whatever the sampler says."""
    from .limits import Figure, chain_se

    if "estimands" not in tree.children or estimand not in tree["estimands"].data_vars:
        return {}
    x = np.asarray(tree["estimands"][estimand], float)
    x = x.reshape(x.shape[0], -1)

    def ratio(a):
        med = np.nanmedian(a)
        return float(np.nanquantile(a, 0.95) / med) if med > 0 else np.inf

    figure = Figure(f"upper end / median of {estimand}", ratio(x.ravel()),
                    chain_se([ratio(c) for c in x]), float(limit), "above", "spread")
    return {"estimand": estimand, "figure": figure.record()}


def sensitivity(tree, log_prior: np.ndarray) -> dict:
    """Power-scaling sensitivity of each scalar estimand to the prior and the likelihood.

    log_prior (chains, draws) is the configured priors' log density of each draw."""
    import arviz_stats as azs

    est = tree["estimands"]
    names = [v for v in est.data_vars if est[v].dims == ("chain", "draw")]
    if not names or "log_likelihood" not in tree.children:
        return {}
    chains, draws = est.sizes["chain"], est.sizes["draw"]
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    dims = ("chain", "draw")
    loglik = sum(np.asarray(v, float).reshape(chains, draws, -1).sum(axis=-1)
                 for v in tree["log_likelihood"].to_dataset().data_vars.values())
    data = xr.DataTree.from_dict({
        "posterior": xr.Dataset({k: (dims, np.asarray(est[k], float)) for k in names}, coords=coords),
        "log_likelihood": xr.Dataset({"all": (dims, loglik)}, coords=coords),
        "log_prior": xr.Dataset({"configured": (dims, np.asarray(log_prior, float))}, coords=coords),
    })
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prior = azs.psense(data, group="prior")
        like = azs.psense(data, group="likelihood")
    out = {}
    for name in names:
        p, lk = float(prior[name]), float(like[name])
        if p > SENSITIVITY_THRESHOLD and lk > SENSITIVITY_THRESHOLD:
            diagnosis = "prior-data conflict"
        elif p > SENSITIVITY_THRESHOLD:
            diagnosis = "prior dominates"
        else:
            diagnosis = "ok"
        out[name] = {"prior": p, "likelihood": lk, "diagnosis": diagnosis}
    return out


def shared_streams(trees: dict) -> list[str]:
    """Log-likelihood streams every tree has, over the same observations (same shape):
    voyages counts captures per period and history, dynamic per vessel too, and joint@6
    reads them given how many each period recorded (one term per period), so they share
    loads (and joint and dynamic the depot and claims) but not captures."""
    sets = []
    for tree in trees.values():
        ll = tree["log_likelihood"]
        sets.append({(v, ll[v].shape[2:]) for v in ll.data_vars if ll[v].size})
    common = set.intersection(*sets) if sets else set()
    return sorted(name for name, _ in common)


def compare_loo(trees: dict) -> dict:
    """PSIS-LOO of several fits of the same case on the streams they share: per model its
    elpd on those streams and the difference to the best, with the standard error of the
    pointwise differences (n x var), best first."""
    import arviz_stats as azs

    streams = shared_streams(trees)
    if not streams:
        return {"streams": [], "models": []}
    pointwise = {}
    for label, tree in trees.items():
        parts = []
        for s in streams:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parts.append(_loo_varying(azs, tree["log_likelihood"][s],
                                          tree["posterior"].to_dataset())[0].elpd_i)
        pointwise[label] = np.concatenate(parts)
    best = max(pointwise, key=lambda k: pointwise[k].sum())
    rows = []
    for label in sorted(pointwise, key=lambda k: -pointwise[k].sum()):
        diff = pointwise[best] - pointwise[label]
        rows.append({"model": label, "elpd_loo": float(pointwise[label].sum()),
                     "elpd_diff": float(diff.sum()),
                     "se_diff": float(np.sqrt(len(diff) * diff.var(ddof=1))) if label != best else 0.0,
                     "n": int(len(diff))})
    return {"streams": streams, "models": rows}
