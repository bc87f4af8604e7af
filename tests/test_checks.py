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


def _count_tree(obs, rep, day, cap, coverage=None):
    coverage = np.full(len(obs), 0.6) if coverage is None else coverage
    coords = {"count_day": ("count", day), "count_capacity": ("count", cap),
              "count_coverage": ("count", coverage)}
    return xr.DataTree.from_dict({
        "posterior_predictive": xr.Dataset({"visible": (("chain", "draw", "count"), rep)},
                                           coords=coords),
        "observed_data": xr.Dataset({"visible": ("count", obs)}, coords=coords)})


def test_rank_trend_reads_each_capacity_on_its_own():
    day = np.arange(8.0)
    cap = np.repeat([200.0, 400.0], 4)
    assert checks.rank_trend(day * 10, day, cap) == pytest.approx(1.0)
    # a big vessel joining late raises the counts, but within each capacity nothing moves
    flat = np.where(cap > 300, 300.0, 100.0) + np.array([1, 0, 1, 0, 1, 0, 1, 0])
    assert abs(checks.rank_trend(flat, day, cap)) < 0.5
    assert checks.rank_trend(np.full(8, 5.0), day, cap) == 0.0  # no variation: no trend


@pytest.mark.parametrize("shift, fails", [(1.0, False), (1.6, True)])
def test_trend_check_fails_loads_that_change_mid_window(shift, fails):
    """20 counts over 70 days on two capacities against replicated counts with one mean
    load: counts drawn the same way pass (p below 0.01 by chance 1% of the time; seeded),
    counts whose loads rise by 60% half-way fail."""
    rng = np.random.default_rng(11)
    day = np.sort(rng.uniform(0, 70, 20))
    cap = np.tile([200.0, 400.0], 10)
    mean = 0.6 * 150 * np.where(day > 35, shift, 1.0)
    obs = rng.poisson(mean).astype(float)
    rep = rng.poisson(0.6 * 150 * (1 + shift) / 2, (CHAINS, DRAWS, 20)).astype(float)
    got = checks.trend(_count_tree(obs, rep, day, cap), limit=0.01)["visible"]
    assert got["fails"] is fails and got["stream"] == "loads" and got["n"] == 20
    assert (got["p"] < 0.01) is fails


def test_trend_p_values_are_about_uniform_when_loads_do_not_change():
    """200 worlds of 12 counts whose loads never change, each against 1000 replicates:
    the share of p-values below 0.1 is within Binomial(200, 0.1)'s 99.9% range
    (seeded; fails by chance at most 0.1% of the time for a uniform p)."""
    rng = np.random.default_rng(12)
    small = 0
    for _ in range(200):
        day = rng.uniform(0, 60, 12)
        cov = rng.uniform(0.3, 1.0, 12)
        obs = rng.binomial(rng.poisson(150, 12), cov).astype(float)
        rep = rng.binomial(rng.poisson(150, (1, 1000, 12)), cov).astype(float)
        got = checks.trend(_count_tree(obs, rep, day, np.full(12, 300.0), cov), 0.1)["visible"]
        small += got["p"] < 0.1
    lo, hi = stats.binom.ppf([0.0005, 0.9995], 200, 0.1)
    assert lo <= small <= hi, small


def test_trend_check_needs_enough_counts():
    rng = np.random.default_rng(13)
    tree = _count_tree(np.array([5.0, 9.0, 12.0]), rng.poisson(8, (1, 100, 3)).astype(float),
                       np.array([1.0, 20.0, 40.0]), np.full(3, 300.0))
    assert checks.trend(tree) == {}


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


def _trend(p, mcse=0.0005):
    return {"stream": "loads", "words": "loads: the container counts rise over the window",
            "figure": Figure("trend p", p, mcse, 0.01, "below", "trend", redraw=False).record()}


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
    ({**_checks(), "trend": {"visible": _trend(0.002)}}, REVIEW, 1, 0),
    ({**_checks(), "trend": {"visible": _trend(0.3)}}, BRIEFING, 0, 0),
    ({**_checks(), "trend": {"visible": _trend(0.008, mcse=0.002)}}, BRIEFING, 0, 1),  # undecided
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
