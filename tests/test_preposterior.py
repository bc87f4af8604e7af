"""The preposterior screen (importance reweighting of a fit's draws) against a normal
model whose answer is exact: theta ~ N(0, 1) as the fit's posterior, a new row
y ~ N(theta, sigma^2); after y the posterior sd is (1 + 1/sigma^2)^(-1/2) whatever y is."""

import numpy as np
import pytest
from cargoinfer.inference.preposterior import K_MAX, reweight, screen, weighted_interval
from scipy import stats

Z90 = stats.norm.ppf(0.95)


def normal_case(sigma: float, n_draws: int = 20000, n_outer: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n_draws)
    outer = rng.choice(n_draws, n_outer, replace=False)
    y = theta[outer] + sigma * rng.normal(size=n_outer)  # the new row, from the model
    base = np.zeros(n_draws)
    lls = [stats.norm.logpdf(yi, theta, sigma) for yi in y]
    return theta, base, lls


@pytest.mark.parametrize("sigma", [0.7, 1.5, 3.0])
def test_expected_width_matches_the_exact_one(sigma):
    """Within 4 Monte Carlo standard errors plus 2% (the 90% interval's quantiles from
    20,000 weighted draws carry about 1% error each; seeded: a false failure well under
    once in 1,000 seeds)."""
    theta, base, lls = normal_case(sigma)
    s = screen(theta, base, lls)
    exact = 2 * Z90 / np.sqrt(1 + 1 / sigma**2)
    assert abs(s.width_now - 2 * Z90) < 0.05 * 2 * Z90
    assert np.all(s.ks <= K_MAX)
    assert abs(s.width_expected - exact) < 4 * s.width_expected_mcse + 0.02 * exact


def test_no_information_no_reduction():
    """A new row whose likelihood is the same under every draw changes nothing: the
    expected width is today's, exactly."""
    theta, base, _ = normal_case(1.0)
    s = screen(theta, base, [np.full(len(theta), -3.2)] * 8)
    assert np.allclose(s.widths, s.width_now)


def test_more_information_never_widens():
    """Smaller sigma (a more precise row) predicts a narrower interval, beyond the
    difference's Monte Carlo error (4 standard errors; common random numbers: the same
    draws and outer draws for both)."""
    wide, narrow = screen(*normal_case(2.0)), screen(*normal_case(0.5))
    se = np.hypot(wide.width_expected_mcse, narrow.width_expected_mcse)
    assert narrow.width_expected < wide.width_expected - 4 * se


def test_law_of_total_variance():
    """The expected posterior variance after y plus the variance of the posterior means
    equals today's variance, within 5% (64 outer draws: the variance of the means carries
    about 18% relative error, so the check is loose but two-sided)."""
    theta, base, lls = normal_case(1.0, n_outer=256)
    means, variances = [], []
    for ll in lls:
        w = np.exp(ll - ll.max())
        w /= w.sum()
        m = (w * theta).sum()
        means.append(m)
        variances.append((w * (theta - m) ** 2).sum())
    total = np.mean(variances) + np.var(means)
    assert abs(total - theta.var()) < 0.1 * theta.var()


def test_weighted_interval_of_flat_weights_is_the_quantiles():
    x = np.random.default_rng(3).normal(size=10001)
    lo, hi = weighted_interval(x, np.full(len(x), 1 / len(x)))
    assert abs(lo - np.quantile(x, 0.05)) < 1e-3 and abs(hi - np.quantile(x, 0.95)) < 1e-3


def test_stratified_expectation_is_unbiased_over_refit_choices():
    """Refitting a subset of the untrusted outer draws: averaged over every subset of that
    size, the stratified estimate equals the mean over all outer draws (exactly, to 1e-12);
    with every untrusted draw refitted it equals that mean outright."""
    from itertools import combinations

    from cargoinfer.inference.preposterior import stratified

    rng = np.random.default_rng(7)
    truth = rng.gamma(5.0, 200.0, 12)  # the width each outer draw would have after a refit
    trusted = np.array([True] * 7 + [False] * 5)
    widths = np.where(trusted, truth, np.nan)  # the screen's: nothing where untrusted
    bad = np.flatnonzero(~trusted)
    assert stratified(widths, trusted, truth[bad])[0] == pytest.approx(truth.mean(), abs=1e-12)
    means = [stratified(widths, trusted, truth[list(c)])[0] for c in combinations(bad, 2)]
    assert np.mean(means) == pytest.approx(truth.mean(), abs=1e-9)
    mean, mcse = stratified(widths, trusted, truth[bad[:3]])
    assert np.isfinite(mcse) and mcse > 0
    with pytest.raises(ValueError):
        stratified(widths, trusted, [])


def test_a_flat_tail_is_not_smoothed():
    """Most draws with the same, largest likelihood ratio (new rows that only rule out a
    few draws): PSIS's tail fit has nothing to fit; the raw weights are used, trusted."""
    log_ratio = np.zeros(1000)
    log_ratio[:10] = -5.0
    w, k = reweight(log_ratio)
    assert k <= K_MAX
    np.testing.assert_allclose(w[10:], w[-1])
    np.testing.assert_allclose(w[0] / w[-1], np.exp(-5.0), rtol=1e-12)
