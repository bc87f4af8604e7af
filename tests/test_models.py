"""voyages, joint and dynamic: the PyMC graph and the numpy helpers state the same model."""

import dataclasses

import numpy as np
import pymc as pm
import pytest
from cargoinfer.experiments.config import compose
from cargoinfer.models import dynamic, joint, loads, voyages
from cargoinfer.observations.aggregate import route_data
from cargoinfer.observations.case import load_case
from scipy import stats


@pytest.fixture(scope="module")
def setup(default_case_dir):
    cfg = compose([])
    route = route_data(load_case(default_case_dir), 1, 1000)
    values = voyages.data_values(route, cfg.priors)
    return route, values


@pytest.mark.parametrize("late", [None, np.array([0.5, 0.5])])
def test_misses_per_call_average_to_the_chance_to_miss(late):
    """`detection.misses` splits the chance that a voyage is missed so far by the call's
    length and late start; weighted by their prior it is 1 - `detection.chances`' seen,
    and a short call is missed at least as often as a long one (exact, any record)."""
    from cargoinfer.models import detection, streams

    rng = np.random.default_rng(4)
    passes = (rng.random((40, voyages.CALL_K.size)) < 0.4).astype(float)
    lay = detection.layout(passes, 1.0, np.array([7.0] * 5 + [5.0]), forward=late is not None)
    seen, _ = detection.chances(streams.NUMPY, lay, np.array(1.7), np.array(0.8), np.array(1.0),
                                voyages.CALL_K, late)
    shift, scale, weight = detection.call_combos(late)
    missed = detection.misses(lay, 1.7, 0.8, 1.0, voyages.CALL_K, late)
    np.testing.assert_allclose(weight @ missed, 1.0 - seen, rtol=1e-12)
    short, long = np.argmin(scale[shift == 0]), np.argmax(scale[shift == 0])
    assert (missed[short] >= missed[long] - 1e-12).all() and (missed[short] > missed[long]).any()


def test_count_evidence_matches_scipy():
    grid = np.arange(50.0)
    ev = loads.count_evidence(grid, np.array([7.0, 7.0]), np.array([0.4, 0.5]),
                              np.array([True, False]), np.array([0, 1]), 2, 3.0, 2.0)
    np.testing.assert_allclose(ev[0, 7:], stats.binom.logpmf(7, grid[7:], 0.4), rtol=1e-10)
    np.testing.assert_allclose(ev[1, 7:], stats.betabinom.logpmf(7, grid[7:], 3.0, 2.0), rtol=1e-10)
    assert np.all(np.isneginf(ev[:, :7]))  # fewer containers than were seen is impossible


def test_load_prior_is_truncated_and_normalised():
    grid = np.arange(400.0)
    lp = loads.load_prior_logp(grid, np.array([350.0, 399.0]), np.array([200.0]), np.array([4.0]))
    np.testing.assert_allclose(np.exp(lp).sum(axis=-1), 1.0, rtol=1e-12)
    assert np.all(np.isneginf(lp[0, 0, 351:]))
    expected = stats.nbinom.logpmf(grid[:351], 4.0, 4.0 / 204.0)
    expected -= np.log(np.exp(expected).sum())
    np.testing.assert_allclose(lp[0, 0, :351], expected, rtol=1e-9)


def test_load_prior_stays_normalised_far_above_the_cap():
    # prior draws can put the mean load far above a vessel's capacity, with little spread
    grid = np.arange(1001.0)
    lp = loads.load_prior_logp(grid, np.array([50.0, 350.0, 1000.0]),
                               np.array([5000.0, 200.0, 1.0]), np.array([1e4, 1e6, 0.5]))
    np.testing.assert_allclose(np.exp(lp).sum(axis=-1), 1.0, rtol=1e-9)
    assert np.exp(lp[0, 0, 50]) > 0.95  # nearly all mass at the cap


def test_grid_sampler_frequencies():
    """Chi-square goodness of fit at the 0.1% level: a false failure once in 1000 seeds."""
    rng = np.random.default_rng(7)
    probs = np.array([[0.1, 0.2, 0.7, 0.0], [0.25, 0.25, 0.25, 0.25]])
    with np.errstate(divide="ignore"):
        logp = np.log(np.repeat(probs[None], 20000, axis=0))
    draws = loads.sample_grid(logp, rng)
    for j in range(2):
        observed = np.bincount(draws[:, j], minlength=4)
        nonzero = probs[j] > 0
        assert observed[~nonzero].sum() == 0
        chi2 = stats.chisquare(observed[nonzero], 20000 * probs[j][nonzero])
        assert chi2.pvalue > 1e-3


def test_grid_sampler_unnormalised_rows():
    """Rows of very different mass with empty cells at either end, drawn by row index:
    each row's own distribution (chi-square at the 0.1% level: false failure once in 1000
    seeds), never an empty cell."""
    rng = np.random.default_rng(11)
    probs = np.array([[0.0, 3.0, 0.0, 1.0], [1e-6, 0.0, 2e-6, 0.0], [500.0, 250.0, 250.0, 0.0]])
    sampler = loads.GridSampler(probs)
    rows = np.repeat(np.arange(3)[None], 20000, axis=0)
    draws = sampler.draw(rows, rng)
    for j in range(3):
        observed = np.bincount(draws[:, j], minlength=4)
        nonzero = probs[j] > 0
        assert observed[~nonzero].sum() == 0
        expected = 20000 * probs[j][nonzero] / probs[j].sum()
        assert stats.chisquare(observed[nonzero], expected).pvalue > 1e-3


def without_counts(route):
    """The route with its container counts dropped: no counted load group."""
    return dataclasses.replace(
        route, visible=np.zeros(0), coverage=np.zeros(0), coverage_known=np.zeros(0, bool),
        count_group=np.zeros(0, int), group_cap=np.zeros(0),
        voyage_group=np.full(len(route.voyage_group), -1))


@pytest.mark.parametrize("counts", [True, False], ids=["counted", "no counts"])
@pytest.mark.parametrize("family", [voyages, joint, dynamic])
def test_model_logp_equals_numpy_loglik(default_case_dir, family, counts):
    """The sampled density's likelihood terms equal the pointwise log-likelihood we store
    (the model sums the loads by matrix products, numpy by log-sum-exp)."""
    route = route_data(load_case(default_case_dir), 1, 1000)
    route = route if counts else without_counts(route)
    values = family.data_values(route, compose([]).priors)
    model = family.build(values)
    rng = np.random.default_rng(3)
    p = {k: v[0] for k, v in family.prior_draws(values, 1, rng).items()}
    gen = family.generate({k: np.atleast_1d(v) for k, v in p.items()}, route, values, rng)
    point = model.initial_point()
    for rv in model.free_RVs:
        value_var = model.rvs_to_values[rv]
        transform = model.rvs_to_transforms[rv]
        x = np.asarray(p[rv.name])
        point[value_var.name] = transform.forward(x, *rv.owner.inputs).eval() if transform else x
    streams = list(family.LOGLIK_DIMS)
    terms = model.logp(vars=[model[f"{s}_loglik"] for s in streams], sum=False)
    potentials = model.compile_fn(terms, inputs=model.value_vars,
                                  on_unused_input="ignore")(point)
    for stream, value in zip(streams, potentials):
        np.testing.assert_allclose(value, gen[f"loglik_{stream}"].sum(), rtol=1e-8, err_msg=stream)


@pytest.mark.parametrize("family", [voyages, joint, dynamic])
def test_prior_draws_match_the_model(default_case_dir, family):
    """KS test of numpy prior draws against PyMC's; alpha 1e-3 per parameter (seeded)."""
    route = route_data(load_case(default_case_dir), 1, 1000)
    values = family.data_values(route, compose([]).priors)
    model = family.build(values)
    ours = family.prior_draws(values, 4000, np.random.default_rng(11))
    # the depot share's prior is a Uniform tilted by a Potential, which pm.draw does not
    # see: tested below
    names = [n for n in family.PARAMS if ours[n].ndim == 1 and n != "depot_share"]
    names += ["detection_origin"]
    theirs = pm.draw([model[n] for n in names], draws=4000, random_seed=12)
    for name, draws in zip(names, theirs):
        assert stats.ks_2samp(ours[name], draws).pvalue > 1e-3, name


@pytest.mark.parametrize("a, b, floor", [(0.0, 1.0, 0.01), (9.0, 3.0, 0.0), (48.0, 12.0, 0.01),
                                         (0.0, 3.0, 0.05)])
def test_share_prior_draws_and_model_density_agree(default_case_dir, a, b, floor):
    """The depot share's prior (priors.SharePrior): numpy draws pass a KS test against its
    CDF (by quadrature of `share_logpdf`; alpha 1e-3, seeded), and joint's log density of
    the share (Uniform on [floor, 1] plus its Potential) equals `share_logpdf` up to a
    constant, to 1e-9."""
    import pytensor

    from cargoinfer.models.priors import share_draws, share_logpdf

    x = np.exp(np.linspace(np.log(max(floor, 1e-9)), 0.0, 200001))[:-1]
    w = np.exp(share_logpdf(x, a, b, floor)) * np.gradient(x)
    cdf = np.cumsum(w) / w.sum()
    draws = share_draws(np.random.default_rng(3), a, b, floor, 4000)
    assert draws.min() >= floor and draws.max() <= 1
    assert stats.kstest(draws, lambda q: np.interp(q, x, cdf)).pvalue > 1e-3

    route = route_data(load_case(default_case_dir), 1, 1000)
    values = joint.data_values(route, compose([f"priors.depot_share.alpha={a}",
                                                f"priors.depot_share.beta={b}",
                                                f"priors.depot_share.floor={floor}"]).priors)
    model = joint.build(values)
    share = model["depot_share"]
    density = pytensor.function([share], model["depot_share_prior"]
                                + pm.logp(share, share))
    points = np.array([max(floor, 1e-3) * 1.5, 0.3, 0.7, 0.95])
    got = np.array([density(p) for p in points])
    want = share_logpdf(points, a, b, floor)
    np.testing.assert_allclose(got - got[1], want - want[1], atol=1e-9)


def test_more_voyages_seen_raises_the_estimate(setup):
    """Monotonicity: with the same parameters, an extra voyage seen adds to the total."""
    route, values = setup
    rng = np.random.default_rng(5)
    p = voyages.prior_draws(values, 2000, rng)
    base = voyages.generate(p, route, values, np.random.default_rng(1))["voyages"].mean()
    route.captures[0, 0] += 1
    more = voyages.generate(p, route, values, np.random.default_rng(1))["voyages"].mean()
    route.captures[0, 0] -= 1
    assert more == pytest.approx(base + 1, abs=1e-9)


def test_model_load_prior_equals_numpy(setup):
    """The model's truncated load prior (a recurrence, no log-gamma) equals loads'
    log-gamma form, including a mean far above a small cap and a near-Poisson load; below
    exp(truncated_nb.LOG_FLOOR) of the most likely load (about 2e-300) the model keeps the
    floor. rtol 1e-8: at cv 1e-3 (alpha 1e6) log-gamma's difference itself is only good
    to about 3e-9."""
    route, values = setup
    grid, caps = route.grid, np.array([50.0, 350.0, 1000.0])
    for mu, cv in [(200.0, 0.4), (5000.0, 0.01), (1.0, 1.5), (300.0, 1e-4)]:
        ours = voyages.truncated_probs(grid, caps, mu, cv).eval()
        alpha = 1.0 / max(cv, 1e-3) ** 2
        theirs = np.exp(loads.load_prior_logp(grid, caps, mu, alpha))
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=3e-300, err_msg=f"{mu}, {cv}")


@pytest.mark.parametrize("mode", ["NUMBA", "FAST_COMPILE"])
def test_load_prior_gradient_matches_finite_differences(setup, mode):
    """The load prior's Op has a hand-written gradient: it must match central finite
    differences of a function of all its outputs, in the numba kernel nutpie runs and in
    the Python fallback, including a mean above a cap (the walk starts at the cap) and a
    load with cv above 1 (the pmf falls from 0). rtol 1e-5: central differences at a
    relative step of 1e-6 are good to about 1e-8 here; deterministic, cannot fail by chance."""
    import pytensor
    import pytensor.tensor as pt

    route, _ = setup
    grid, caps = route.grid, np.array([50.0, 350.0, 1000.0])
    weight = np.random.default_rng(0).normal(size=(len(caps), len(grid)))
    mu, cv = pt.dscalar("mu"), pt.dscalar("cv")
    probs = voyages.truncated_probs(grid, caps, mu, cv)
    f = (probs * weight).sum() + pt.log((probs * grid).sum(axis=1)).sum()
    value = pytensor.function([mu, cv], f, mode=mode)
    grad = pytensor.function([mu, cv], pt.grad(f, [mu, cv]), mode=mode)
    for point in [(200.0, 0.4), (600.0, 0.05), (20.0, 1.5), (150.0, 0.8)]:
        numeric = []
        for j in range(2):
            h = 1e-6 * point[j]
            up, down = list(point), list(point)
            up[j] += h
            down[j] -= h
            numeric.append((value(*up) - value(*down)) / (2 * h))
        np.testing.assert_allclose(grad(*point), numeric, rtol=1e-5, err_msg=str(point))


def test_generated_loads_equal_log_sum_exp(setup):
    """The estimands' loads (the model's floored prior times the scaled evidence) give
    each counted group's log-likelihood and moments as log-sum-exp over loads' log-gamma
    prior does, and a fresh group's replicated load comes from its capacity's prior.
    Deterministic at rtol 1e-8; the draws' means within 4.5 standard errors of their
    expectations (seeded; by chance about once in 100,000 seeds per mean, 10 means)."""
    from scipy.special import logsumexp

    route, values = setup
    mu, cv = np.array([150.0, 260.0, 400.0, 90.0]), np.array([0.2, 0.35, 0.6, 1.2])
    alpha = 1.0 / cv**2
    unseen = np.zeros((len(mu), len(route.period_days) + 1))
    rng = np.random.default_rng(5)
    _, loglik, _, (m1, _) = voyages._loads_chunk(route, values, mu, alpha, 2.0, 2.0, unseen,
                                                 np.full((len(mu), len(route.vessel_cap)), 0.5),
                                                 rng, moments=True)
    prior = loads.load_prior_logp(route.grid, values["load_caps"], mu, alpha)
    joint_lp = prior[:, values["group_cap_row"]] + values["load_evidence"]
    exact = logsumexp(joint_lp, axis=-1)
    np.testing.assert_allclose(loglik, exact, rtol=1e-8)
    post_mean = (np.exp(joint_lp - exact[..., None]) * route.grid).sum(axis=-1)
    np.testing.assert_allclose(m1[:, :route.n_groups], post_mean, rtol=1e-8)

    # draws: each seen voyage's load from its counts' posterior or its vessel's capacity
    # prior, and a fresh load per counted group (thinned by the share in view)
    n, mu1, alpha1 = 4000, 200.0, 4.0
    containers, _, pred, _ = voyages._loads_chunk(
        route, values, np.full(n, mu1), np.full(n, alpha1), 2.0, 2.0,
        np.zeros((n, len(route.period_days) + 1)), np.full((n, len(route.vessel_cap)), 0.5),
        rng)
    lp = loads.load_prior_logp(route.grid, values["load_caps"], np.array([mu1]),
                               np.array([alpha1]))[0]  # (caps, K)
    prior_mean = np.exp(lp) @ route.grid
    joint_lp = lp[values["group_cap_row"]] + values["load_evidence"]
    post_mean = np.exp(joint_lp - logsumexp(joint_lp, axis=-1)[:, None]) @ route.grid
    group = route.voyage_group
    expected = np.where(group >= 0, post_mean[np.maximum(group, 0)],
                        prior_mean[values["vessel_cap_row"][route.voyage_vessel]]).sum()
    total = containers.sum(axis=1)
    assert abs(total.mean() - expected) < 4.5 * total.std() / np.sqrt(n)
    z, w = np.polynomial.hermite_e.hermegauss(40)
    for j in np.flatnonzero(route.coverage_known):  # E[count] = E[load] x E[share in view]
        share = (loads.clip_coverage(route.coverage[j] * np.exp(
            float(values["coverage_error__log_sd"]) * z)) * w).sum() / w.sum()
        mean = prior_mean[values["group_cap_row"][route.count_group[j]]] * share
        assert abs(pred[:, j].mean() - mean) < 4.5 * pred[:, j].std() / np.sqrt(n), j


def test_loads_likelihood_stays_finite_far_in_the_prior_tail(setup):
    """Counts of about 300 containers at a mean load of 1: every load the counts allow is
    far below double precision under the prior. log-sum-exp stays finite there, and so
    must the matrix product (LOG_FLOOR); so must the gradient, or sampling cannot start."""
    route, values = setup
    model = voyages.build(values)
    point = model.initial_point()
    point["containers_per_voyage_log__"] = np.array(0.0)  # mean load 1
    point["load_cv_log__"] = np.array(np.log(0.05))
    logp = model.compile_logp(vars=[model["loads_loglik"]])(point)
    grad = model.compile_dlogp()(point)
    assert np.isfinite(logp) and logp < -500
    assert np.all(np.isfinite(grad))
