"""Model checks of a fit (predictive, LOO, prior sensitivity) and the status rule reading them."""

from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
from cargoinfer.inference import calibration, checks
from cargoinfer.inference.limits import Figure
from cargoinfer.inference.status import BRIEFING, REVIEW, assess
from scipy import stats

CHAINS, DRAWS = 4, 1000


def _ds(**arrays):
    return xr.Dataset({k: (("chain", "draw", *(f"{k}_{i}" for i in range(v.ndim - 2))), v)
                       for k, v in arrays.items()})


def test_pits_are_uniform_for_counts_of_the_same_distribution():
    """Observations and predictive draws from one Poisson: the randomised PITs pass a KS
    test (seeded; fails by chance once in 1000 seeds)."""
    rng = np.random.default_rng(5)
    pred = rng.poisson(2.0, (500, 3000)).astype(float)
    obs = rng.poisson(2.0, 3000).astype(float)
    assert stats.kstest(calibration.pits(pred, obs, rng)[1], "uniform").pvalue > 0.001


@pytest.mark.parametrize("obs_mean, fails", [(3.0, False), (12.0, True)])
def test_predictive_check_fails_a_stream_the_model_misses(obs_mean, fails):
    """40 counts against Poisson(3) predictive draws: counts drawn from Poisson(3) stay
    within the check (Binomial(40, 0.1) exceeds its 99th percentile by chance 1% of the
    time, at most; seeded), counts around 12 fall far outside."""
    rng = np.random.default_rng(6)
    tree = xr.DataTree.from_dict({
        "posterior_predictive": _ds(captures=rng.poisson(3.0, (CHAINS, DRAWS, 40)).astype(float)),
        "observed_data": xr.Dataset({"captures": ("n", rng.poisson(obs_mean, 40).astype(float))}),
    })
    got = checks.predictive(tree, seed=1)["captures"]
    assert got["n"] == 40 and got["fails"] is fails
    assert (got["outside_90"] > got["outside_limit"]) is fails


def _normal_tree(prior_sd, data_mean, n_obs, seed=7):
    """Exact posterior draws of a normal mean (known sd 1) under a N(0, prior_sd) prior."""
    rng = np.random.default_rng(seed)
    y = rng.normal(data_mean, 1.0, n_obs)
    precision = 1 / prior_sd**2 + n_obs
    mean, sd = y.sum() / precision, precision**-0.5
    theta = rng.normal(mean, sd, (CHAINS, DRAWS))
    tree = xr.DataTree.from_dict({
        "posterior": xr.Dataset({"mean": (("chain", "draw"), theta)}),
        "estimands": xr.Dataset({"total_containers": (("chain", "draw"), theta)}),
        "log_likelihood": _ds(loads=stats.norm.logpdf(y[None, None, :], theta[..., None], 1.0)),
    })
    return tree, stats.norm.logpdf(theta, 0.0, prior_sd)


def test_sensitivity_flags_a_prior_that_contradicts_the_data():
    tree, log_prior = _normal_tree(prior_sd=0.3, data_mean=3.0, n_obs=10)
    got = checks.sensitivity(tree, log_prior)["total_containers"]
    assert got["diagnosis"] == "prior-data conflict", got


def test_sensitivity_passes_a_vague_prior_and_informative_data():
    tree, log_prior = _normal_tree(prior_sd=100.0, data_mean=3.0, n_obs=50)
    got = checks.sensitivity(tree, log_prior)["total_containers"]
    assert got["diagnosis"] == "ok" and got["prior"] < 0.01 < got["likelihood"], got


def test_loo_reports_each_stream_and_its_pareto_k():
    tree, _ = _normal_tree(prior_sd=10.0, data_mean=1.0, n_obs=30)
    got = checks.loo(tree)["loads"]
    assert got["n"] == 30 and got["n_pareto_k_above"] == 0 and got["pareto_k_max"] < 0.7
    assert got["elpd_loo"] < 0 and got["se"] > 0


def test_loo_skips_a_stream_with_no_observations():
    """A case with no container counts has an empty loads stream: LOO leaves it out."""
    tree, _ = _normal_tree(prior_sd=10.0, data_mean=1.0, n_obs=30)
    tree["log_likelihood"] = tree["log_likelihood"].to_dataset().assign(
        depot=(("chain", "draw", "row"), np.zeros((CHAINS, DRAWS, 0))))
    assert set(checks.loo(tree)) == {"loads"}


def test_compare_uses_only_the_streams_both_models_have():
    """Two fits of the same 30 observations: the one whose posterior sits on the data
    comes first; a stream of another shape (dynamic's per-vessel captures) is left out."""
    good, _ = _normal_tree(prior_sd=10.0, data_mean=2.0, n_obs=30)
    bad, _ = _normal_tree(prior_sd=0.05, data_mean=2.0, n_obs=30)
    rng = np.random.default_rng(8)
    good["log_likelihood"] = good["log_likelihood"].to_dataset().assign(
        captures=(("chain", "draw", "a", "b"), rng.normal(-1, 0.1, (CHAINS, DRAWS, 9, 3))))
    bad["log_likelihood"] = bad["log_likelihood"].to_dataset().assign(
        captures=(("chain", "draw", "a", "b", "c"), rng.normal(-1, 0.1, (CHAINS, DRAWS, 9, 2, 3))))
    got = checks.compare_loo({"good": good, "bad": bad})
    assert got["streams"] == ["loads"]
    first, second = got["models"]
    assert first["model"] == "good" and first["elpd_diff"] == 0
    assert second["elpd_diff"] > 2 * second["se_diff"] > 0 and second["n"] == 30


def _fig(value, limit, bad="above", mcse=0.01):
    return Figure("x", value, mcse, limit, bad).record()


def _checks(pred=None, loo=None, sens=None, conflict=None, spread=None):
    out = {"predictive": pred or {}, "loo": loo or {}, "sensitivity": sens or {}}
    if conflict:
        out["conflict"] = {"streams": conflict}
    if spread:
        out["spread"] = spread
    return out


def _pred(stream, fails, mcse=0.3):
    n = 9.0 if fails else 1.0
    return {"stream": stream, "n": 20, "outside_90": int(n), "outside_90_expected": n,
            "outside_limit": 5, "figure": _fig(n, 5, mcse=mcse)}


def _loo(n_above, k=None, mcse=0.05):
    k = k if k is not None else (0.95 if n_above else 0.3)
    return {"n": 7, "n_pareto_k_above": n_above, "pareto_k_max": k,
            "pareto_k_nearest": _fig(k, 0.7, mcse=mcse)}


def _sens(prior):
    return {"prior": prior, "likelihood": 0.07, "diagnosis": "x"}


def _conflict(p):
    return {"p": p, "words": "depot conflicts with the voyage and container data",
            "figure": _fig(p, 0.01, "below", mcse=0.001)}


GOOD = [Figure("R-hat of a", 1.001, 0.001, 1.01, "above", "sampling"),
        Figure("bulk ESS of a", 2000, 100, 400, "below", "sampling"),
        Figure("divergent transitions", 0, 1, 0, "above", "sampling", count=True)]


@pytest.mark.parametrize("found, status, n_reasons, n_notes", [
    (_checks(), BRIEFING, 0, 0),
    (_checks(pred={"captures": _pred("captures", True)}), REVIEW, 1, 0),
    (_checks(pred={"visible": _pred("loads", True)}), REVIEW, 1, 0),
    (_checks(pred={"visible": _pred("loads", True, mcse=2.0)}), BRIEFING, 0, 1),  # undecided
    (_checks(pred={"depot": _pred("depot", True)}), BRIEFING, 0, 1),
    (_checks(loo={"loads": _loo(2)}), REVIEW, 1, 0),
    (_checks(loo={"loads": _loo(1, k=0.8, mcse=0.12)}), BRIEFING, 0, 1),  # within its error
    (_checks(loo={"depot": _loo(3), "claims": _loo(1)}), BRIEFING, 0, 2),
    (_checks(sens={"total_containers": _sens(0.08)}), BRIEFING, 0, 1),  # a note, not a reason
    (_checks(sens={"total_containers": _sens(0.01)}), BRIEFING, 0, 0),
    (_checks(sens={"detection_origin": _sens(0.3)}), BRIEFING, 0, 0),
    (_checks(conflict={"depot": _conflict(0.0005)}), REVIEW, 1, 0),
    (_checks(conflict={"depot": _conflict(0.4)}), BRIEFING, 0, 0),
    (_checks(spread={"estimand": "total_containers", "figure": _fig(18.5, 3.0, mcse=1.0)}),
     REVIEW, 1, 0),
])
def test_status_rule(found, status, n_reasons, n_notes):
    got, reasons, notes = assess(GOOD, found, 4000)
    assert (got, len(reasons), len(notes)) == (status, n_reasons, n_notes), (reasons, notes)


def test_a_conflict_is_named_in_the_reasons():
    _, reasons, _ = assess(GOOD, _checks(conflict={"depot": _conflict(0.0005)}), 4000)
    assert reasons == ["depot conflicts with the voyage and container data"]


def test_a_check_that_cannot_run_is_a_reason():
    found = {**_checks(), "errors": ["loo check could not run: ValueError: boom"]}
    got, reasons, _ = assess(GOOD, found, 4000)
    assert got == REVIEW and reasons == found["errors"]


def test_status_rule_keeps_sampling_reasons():
    bad = [Figure("R-hat of a", 1.2, 0.001, 1.01, "above", "sampling"),
           Figure("divergent transitions", 30, np.sqrt(30), 0, "above", "sampling", count=True)]
    got, reasons, _ = assess(bad, _checks(loo={"captures": _loo(1)}), 4000)
    assert got == REVIEW and len(reasons) == 3
    assert reasons[0] == "R-hat of a 1.200 > 1.01" and reasons[1] == "30 divergent transitions"
    assert "captures" in reasons[2]


def test_fit_records_a_check_that_raises(monkeypatch):
    from cargoinfer.inference import fit

    def boom(tree):
        raise ValueError("no luck\nmore lines")

    monkeypatch.setattr(checks, "loo", boom)
    tree, _ = _normal_tree(prior_sd=10.0, data_mean=1.0, n_obs=30)
    found = fit.run_checks(tree, SimpleNamespace(PARAMS=("mean",)), {"mean__scale": 10.0}, seed=1)
    assert found["loo"] == {} and found["errors"] == ["loo check could not run: ValueError: no luck"]
    assert "total_containers" in found["sensitivity"]
