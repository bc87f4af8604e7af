"""Data-data conflict: does each other stream agree with the voyage and container data?

A node split in the sense of Presanis et al. (2013, "Conflict diagnostics in directed
acyclic graphs, with applications in Bayesian evidence synthesis"), cut at the data: the
family is fitted once more to its headline streams alone (capture histories and
container counts: the same compiled model with the depot's and the claims' rows dropped,
`family.without`), and each other stream is compared with what that fit predicts for it,
its own parameters (share, conversions, rail delay, noise) drawn from their priors. That is
a cross-validatory predictive check (Marshall and Spiegelhalter 2007): its p-value is
uniform when the stream and the voyages tell one story, whatever the model does with
them jointly.

- depot: the statistic is the mean over rows of each row's log value standardised by its
  predictive log mean and sd; the p-value is two-sided. With the default log-uniform share
  the depot's predictive spans two orders of magnitude, so only a depot that needs more
  containers than the voyages could carry (or far fewer, when the share is stated) is a
  conflict.
- claims: each claim's chance under that predictive ('at_least' / 'at_most': of the
  stated relation; 'about': two-sided, of a figure as far out), the smallest times the
  number of claims (Bonferroni).

A stream conflicts when its p-value is clearly below `inference.conflict_p` (Monte
Carlo error from the effective number of draws, `limits`); a borderline p-value is
drawn again with three times the draws, once."""

from __future__ import annotations

import warnings
from datetime import timedelta

import numpy as np

from .limits import BORDERLINE, Figure
from .status import HEADLINE_STREAMS

STREAMS = ("depot", "claims")
HEADLINE_DATA = "the voyage and container data"


def _ess(indicator: np.ndarray) -> float:
    import arviz as az

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = float(az.ess(np.asarray(indicator, float)))
    return e if np.isfinite(e) and e > 0 else float(indicator.size)


def _p_and_se(hit: np.ndarray) -> tuple[float, float]:
    """Tail probability from indicator draws (chains, draws), kept off 0, and its error."""
    p = (1.0 + hit.sum()) / (hit.size + 1.0)
    return float(p), float(np.sqrt(p * (1 - p) / _ess(hit)))


def depot_conflict(pred: np.ndarray, obs: np.ndarray, limit: float, share=None) -> dict:
    """pred (chains, draws, rows): the depot's rows predicted from the headline streams;
    share (chains, draws): the depot's share in those draws, if the family has one."""
    y = np.log1p(np.maximum(np.asarray(obs, float), 0.0))
    z = np.log1p(np.maximum(pred, 0.0))
    flat = z.reshape(-1, z.shape[-1])
    mu, sd = flat.mean(axis=0), np.maximum(flat.std(axis=0), 1e-9)
    t_obs = float(np.mean((y - mu) / sd))
    t_rep = np.mean((z - mu) / sd, axis=-1)  # (chains, draws)
    p_hi, se_hi = _p_and_se(t_rep >= t_obs)
    p_lo, se_lo = _p_and_se(t_rep <= t_obs)
    above = p_hi < p_lo
    p, se = (p_hi, se_hi) if above else (p_lo, se_lo)
    p2 = min(2 * p, 1.0)
    out = {"p": p2, "direction": "above" if above else "below", "statistic": t_obs,
           "factor_to_median": float(np.exp(np.mean(y - np.median(flat, axis=0))))}
    share_of = f"{1 - p:.1%}" if 1 - p < 0.999 else "more than 99.9%"
    where = (f"its rows lie {'above' if above else 'below'} {share_of} of what those data "
             f"predict for them (p = {p2:.2g})")
    if share is not None:
        # the share that would put the predicted rows on the observed ones: above 1, the
        # depot holds more than every container the voyages carried
        at_all = np.log(np.maximum(pred, 1e-9)) - np.log(np.asarray(share))[..., None]
        implied = float(np.exp(np.mean(np.log(np.maximum(obs, 1e-9))
                                       - np.median(at_all.reshape(-1, at_all.shape[-1]), axis=0))))
        out["implied_share"] = implied
        if implied > 1:
            where = (f"its rows need {implied:.2g} times every container those data put "
                     f"through (at the median conversion and rail delay); {where}")
        else:
            where += f", at a share of {implied:.2g} of the containers those data put through"
    out["words"] = f"depot conflicts with {HEADLINE_DATA}: {where}"
    out["figure"] = Figure("conflict p-value of depot", p2, 2 * se, limit, "below",
                           "conflict").record()
    return out


def claim_conflict(expected: np.ndarray, values: dict, route, limit: float) -> dict:
    """expected (chains, draws, claims): each claim's figure predicted from the headline
    streams; the claims' rows from the model's data `values`."""
    from ..observations.aggregate import CLAIM_RELATIONS
    from ..models.streams import LOGISTIC_SCALE

    v = np.asarray(values["claim_value"], float)
    scale = np.asarray(values["claim_width"], float) * np.maximum(v, 1.0) / LOGISTIC_SCALE
    z = (expected - v) / scale
    sig = 1.0 / (1.0 + np.exp(-z))  # P(at_least | E), chains x draws x claims
    relation = np.asarray(route.claim_relation, int)
    rows = []
    for i, rel in enumerate(relation):
        name = CLAIM_RELATIONS[rel]
        if name == "at_least":
            p, series = float(sig[..., i].mean()), sig[..., i]
        elif name == "at_most":
            p, series = float(1 - sig[..., i].mean()), 1 - sig[..., i]
        else:
            u = float((1 - sig[..., i]).mean())
            p, series = 2 * min(u, 1 - u), (1 - sig[..., i])
        se = float(np.std(series) / np.sqrt(_ess(series)))
        rows.append((max(p, 1.0 / (series.size + 1)), se * (2 if name == "about" else 1)))
    n = len(rows)
    i = int(np.argmin([p for p, _ in rows]))
    p, se = min(rows[i][0] * n, 1.0), rows[i][1] * n
    start = route.periods[0][0]
    first = start + timedelta(days=int(route.claim_first[i]))
    last = start + timedelta(days=int(route.claim_last[i]))
    unit = "containers" if values["claim_is_containers"][i] > 0.5 else "voyages"
    lo, med, hi = np.quantile(expected[..., i], [0.05, 0.5, 0.95])
    words = (f"claims conflict with {HEADLINE_DATA}: the claim '{CLAIM_RELATIONS[relation[i]]} "
             f"{v[i]:,.0f} {unit}' ({first} to {last}) meets a figure those data put at "
             f"{med:,.0f} (90% {lo:,.0f}-{hi:,.0f}); a claim like it has a chance of "
             f"{rows[i][0]:.2%} (p = {p:.3g} over {n} claim{'s' * (n > 1)})")
    figure = Figure("conflict p-value of claims", p, se, limit, "below", "conflict")
    return {"p": p, "claim": i, "per_claim_p": [q for q, _ in rows],
            "predicted": {"median": med, "lower": lo, "upper": hi}, "words": words,
            "figure": figure.record()}


def conflicts(family, route, values: dict, seed: int, inference, model_for) -> dict:
    """The conflict check of every non-headline stream with rows; {} when there is none.

    model_for(values) gives the compiled model with those data."""
    import nutpie

    streams = [s for s in STREAMS if s in family.LOGLIK_DIMS
               and np.size(values[family.STREAM_ROWS[s][2]])]
    if not streams:
        return {}
    limit = float(getattr(inference, "conflict_p", 0.01))
    draws = int(getattr(inference, "conflict_draws", 500))
    chains = int(getattr(inference, "conflict_chains", 2))
    rounds = []
    for attempt in range(2):
        split = family.without(values, streams)
        tree = nutpie.sample(model_for(split), draws=draws, tune=max(draws // 2, 200),
                             chains=chains, cores=inference.cores, seed=int(seed) + 7 + attempt,
                             progress_bar=False, target_accept=inference.target_accept)
        post = tree["posterior"]
        flat = {v: np.asarray(post[v]).reshape(chains * draws, *post[v].shape[2:])
                for v in post.data_vars}
        gen = family.generate(flat, route, values, np.random.default_rng([seed, 8, attempt]))
        shape = (chains, draws)
        found = {}
        if "depot" in streams:
            share = flat["depot_share"].reshape(shape) if "depot_share" in flat else None
            found["depot"] = depot_conflict(gen["pred_depot"].reshape(*shape, -1),
                                            values["depot_value"], limit, share)
        if "claims" in streams:
            found["claims"] = claim_conflict(gen["claims_expected"].reshape(*shape, -1),
                                             values, route, limit)
        rounds.append({"draws": draws, "chains": chains,
                       "divergences": int(np.asarray(tree["sample_stats"]["diverging"]).sum())})
        if not any(Figure(**{k: x for k, x in c["figure"].items() if k != "verdict"}).verdict
                   == BORDERLINE for c in found.values()):
            break
        draws *= 3
    return {"against": list(HEADLINE_STREAMS), "rounds": rounds, "streams": found}
