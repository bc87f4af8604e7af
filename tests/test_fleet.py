"""The fleet's schedule (models/fleet.py): segments, their density, the unseen voyages."""

from types import SimpleNamespace

import numpy as np
import pytest
from cargoinfer.models import fleet, streams
from scipy import stats

OPS = streams.NUMPY


def route(days: int = 28, sightings=(), vessels: int = 2, period_days: int = 7):
    """A RouteData-like record: `sightings` as (vessel, origin day, destination day)."""
    rows = list(sightings)
    periods = np.full(days // period_days, float(period_days))
    starts = np.cumsum(periods) - periods
    dep = [o if o is not None else d - 1 for _, o, d in rows]
    return SimpleNamespace(
        period_days=periods, vessel_cap=np.full(vessels, 300.0), transit_days=1.0,
        transit_extra_days=1, imaged_days=np.full(2, float(days)),
        usable_days=np.full(2, days / 2.0),
        voyage_vessel=np.array([v for v, _, _ in rows], int),
        voyage_period=np.array([int(np.searchsorted(starts, t, side="right") - 1) for t in dep], int),
        voyage_origin_day=np.array([np.nan if o is None else o for _, o, _ in rows], float),
        voyage_destination_day=np.array([np.nan if d is None else d for _, _, d in rows], float))


def gaps(lengths, m: int):
    """A layout of gaps only, of these lengths, holding up to m unseen voyages."""
    n = len(lengths)
    return {"fleet_m_gap": np.arange(m + 1.0), "fleet_m_edge": np.arange(1.0),
            "fleet_kind": np.full(n, float(fleet.GAP)), "fleet_vessel": np.zeros(n),
            "fleet_length": np.asarray(lengths, float), "fleet_gaps": np.asarray(float(n))}


def one_draw(lay, cycle, cv, brk, q, window):
    """`fleet.segments` (log-likelihood, mean, variance per segment) for one draw."""
    q = np.broadcast_to(np.asarray(q, float), (1, len(lay["fleet_kind"])))
    w = fleet.segment_weights(OPS, lay, np.array([[cycle]]), np.array([cv]), np.array([brk]),
                              1.0, q, window)
    return [x[0] for x in fleet.segments(OPS, lay, w)], w


def test_segments_of_each_vessel():
    lay = fleet.layout(route(sightings=[(0, 3, 5), (0, 13, None), (0, None, 24)]))
    kinds = lay["fleet_kind"].astype(int).tolist()
    assert kinds == [fleet.GAP, fleet.GAP, fleet.LEAD, fleet.TRAIL, fleet.NONE]  # gaps first
    assert lay["fleet_gaps"] == 2 and lay["fleet_vessel"].tolist() == [0, 0, 0, 0, 1]
    # departures: 3.25 (both ends: 3.5, and 5 - 1 - 0.5 - 0.5 = 3; their mean), 13.5, 22
    np.testing.assert_allclose(lay["fleet_length"], [10.25, 8.5, 3.25, 6.0, 28.0])
    np.testing.assert_allclose(lay["fleet_days"].sum(axis=1), 1.0)
    np.testing.assert_allclose(lay["fleet_periods"].sum(axis=1), 1.0)
    # the gap 3.25-13.5 holds the days whose middle is inside it: 3..12
    np.testing.assert_allclose(lay["fleet_days"][0], np.where((np.arange(28) >= 3) & (np.arange(28) <= 12), 0.1, 0.0))
    np.testing.assert_array_equal(lay["seen_by_vessel"][:, 0], [1, 1, 0, 1])


@pytest.mark.parametrize("q", [0.2, 0.6])
@pytest.mark.parametrize("brk", [0.0, 0.1])
def test_a_gap_is_a_density_over_its_length(q, brk):
    """Summed over m, a gap's weights integrate over its length to 1, less the mass the
    normal sums put below 0 and the pauses put beyond the grid (checked to 2e-3)."""
    lengths = np.linspace(0.01, 400.0, 40000)
    (loglik, _, _), _ = one_draw(gaps(lengths, 40), 12.0, 0.2, brk, q, 60.0)
    assert np.trapezoid(np.exp(loglik), lengths) == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize("kind", [fleet.TRAIL, fleet.NONE])
def test_edge_weights_are_a_distribution_of_m(kind):
    """At an edge, P(exactly m departures within h days) sums to 1 over m (to 1e-6): the
    weights less m log q."""
    for h in (0.5, 9.0, 40.0):
        lay = {"fleet_m_gap": np.arange(1.0), "fleet_m_edge": np.arange(60.0),
               "fleet_kind": np.array([float(kind)]), "fleet_vessel": np.zeros(1),
               "fleet_length": np.array([h]), "fleet_gaps": np.asarray(0.0)}
        _, (_, edge) = one_draw(lay, 10.0, 0.2, 0.05, 0.5, 60.0)
        p = np.exp(edge[0, 0] - lay["fleet_m_edge"] * np.log(0.5))
        assert p.sum() == pytest.approx(1.0, abs=1e-6)


def test_longer_gaps_hold_more_unseen_voyages():
    """Monotonicity: E[m] grows with the gap's length; a gap of one cycle holds about
    none, one of two cycles about one (q = 0.5, cycles of 10 +- 1.5 days)."""
    (_, mean, _), _ = one_draw(gaps([10.0, 15.0, 20.0, 30.0, 40.0], 20), 10.0, 0.15, 0.02,
                               0.5, 60.0)
    assert np.all(np.diff(mean) > 0)
    assert mean[0] < 0.05 and abs(mean[2] - 1.0) < 0.05
    assert abs(mean[4] - 3.0) < 0.2  # a pause may stand in for one


def test_more_detection_leaves_fewer_unseen():
    (_, mean, _), _ = one_draw(gaps([25.0] * 3, 20), 10.0, 0.3, 0.05, [0.8, 0.5, 0.2], 60.0)
    assert np.all(np.diff(mean) < 0)


def test_histories_are_multinomial():
    rng = np.random.default_rng(1)
    seen = rng.random((3, 4, 4)) * 0.3
    captures = np.array([[2.0, 1.0, 3.0], [0.0, 0.0, 0.0], [1.0, 4.0, 0.0], [0.0, 2.0, 1.0]])
    days = np.array([7.0, 7.0, 7.0, 5.0])
    got = fleet.histories_loglik(OPS, seen, days, captures)
    pi = np.einsum("p,hpq->qh", days, seen)
    want = [stats.multinomial.logpmf(c, c.sum(), p / p.sum()) if c.sum() else 0.0
            for c, p in zip(captures, pi)]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_unseen_voyages_are_placed_in_their_segment():
    lay = fleet.layout(route(sightings=[(0, 3, None), (0, 20, None), (1, 10, None)]))
    unseen = np.array([[1, 0, 2, 0, 3]])  # the gap; lead, trail of vessel 0; lead, trail of 1
    out = fleet.place(unseen, lay, 4, np.full(4, 7.0))
    np.testing.assert_array_equal(out.sum(axis=(0, 1)), [3, 3])
    # the gap 3.5-20.5 holds one at its middle (day 12: period 1); the trail 20.5-28 two,
    # at 23 and 25.5 (period 3); vessel 1's trail 10.5-28 three (days 14.9, 19.25, 23.6)
    np.testing.assert_array_equal(out[0, :, 0], [0, 1, 0, 2])
    np.testing.assert_array_equal(out[0, :, 1], [0, 0, 2, 1])


def test_draws_follow_the_weights():
    """Chi-square goodness of fit at the 0.1% level (seeded): fails once in 1000 seeds."""
    p = np.array([0.5, 0.3, 0.15, 0.05])
    w = np.log(np.broadcast_to(p, (20000, 1, 4)))
    m = fleet.draw_unseen((w, w[:, :0]), np.random.default_rng(2))[:, 0]
    assert stats.chisquare(np.bincount(m, minlength=4), 20000 * p).pvalue > 1e-3


def test_schedule_sails_at_its_cycle():
    """Without pauses a vessel's departures are Normal(c, c cv) apart, on whole days: the
    mean gap within 3 standard errors of c (plus the days' rounding, at most 0.1 here)
    and their sd within 10% of c cv's (rounding adds 1/12 to the variance)."""
    rng = np.random.default_rng(4)
    gaps = []
    for _ in range(300):
        rows = fleet.simulate_schedule([9.0], 0.2, 0.0, 140, np.full(20, 7.0), rng)
        gaps += list(np.diff(sorted(d for row in rows for d, _ in row)))
    gaps = np.array(gaps, float)
    assert abs(gaps.mean() - 9.0) < 3 * gaps.std() / np.sqrt(len(gaps)) + 0.1
    assert gaps.std() == pytest.approx(np.sqrt(1.8**2 + 1 / 6), rel=0.1)


def test_a_voyage_seen_near_the_edges_may_have_left_outside():
    r = route(sightings=[(0, 0, None), (0, 12, None), (0, 27, None), (1, None, 1),
                         (1, None, 27)])
    inside = fleet.inside_window(r, 2.0, 1.5)
    np.testing.assert_allclose(inside[[0, 1, 4]], 1.0)  # far enough from the edges
    assert 0.0 < inside[2] < 1.0  # seen loading on the last day: may leave the day after
    assert 0.0 < inside[3] < 1.0  # seen unloading on day 1: may have left on day -1


@pytest.fixture(scope="module")
def schedule_op():
    """The fleet's segments as the model computes them (`fleet_op`, PyTensor's numba
    backend), on a layout holding every kind of segment, as a function of cycle (V,), cv,
    brk, tau, q (J,) returning (loglik, mean, var) and the gradient of a random linear
    combination of them."""
    import pytensor
    import pytensor.tensor as pt
    from cargoinfer.models import fleet_op

    lay = fleet.layout(route(days=56, vessels=3, sightings=[
        (0, 3, 5), (0, 13, None), (0, None, 24), (0, 40, 42), (1, 20, None)]))
    args = [pt.dvector("cycle"), pt.dscalar("cv"), pt.dscalar("brk"), pt.dscalar("tau"),
            pt.dvector("q")]
    loglik, mean, var = fleet_op.segments(lay, *args, 56.0)
    n = len(lay["fleet_kind"])
    up = np.random.default_rng(3).normal(size=(3, n))
    total = (up[0] * loglik + up[1] * mean + up[2] * var).sum()
    f = pytensor.function(args, [loglik, mean, var, total, *pytensor.grad(total, args)],
                          mode="NUMBA")
    return lay, f


POINTS = [(np.array([9.0, 14.0, 30.0]), 0.15, 0.05, 1.0, 0.4),
          (np.array([5.0, 22.0, 11.0]), 0.4, 0.3, 2.5, 0.85),
          (np.array([40.0, 4.0, 8.0]), 0.05, 0.001, 0.3, 0.1)]


@pytest.mark.parametrize("point", POINTS)
def test_segments_op_equals_the_formulas(schedule_op, point):
    """The Op gives `fleet.segments` of `fleet.segment_weights` (numpy) to 1e-10."""
    lay, f = schedule_op
    cycle, cv, brk, tau, q = point
    q = np.linspace(q / 2, q, len(lay["fleet_kind"]))
    want = fleet.segments(OPS, lay, fleet.segment_weights(
        OPS, lay, cycle[None], np.array([cv]), np.array([brk]), tau, q[None], 56.0))
    for got, w in zip(f(cycle, cv, brk, tau, q)[:3], want):
        np.testing.assert_allclose(got, w[0], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("point", POINTS)
def test_segments_op_gradient_matches_finite_differences(schedule_op, point):
    """Its analytic gradient against central differences (step 1e-6): within 1e-5 of the
    largest partial, relative (the differences' error is about 1e-9 here)."""
    lay, f = schedule_op
    cycle, cv, brk, tau, q = point
    x = [cycle, cv, brk, tau, np.linspace(q / 2, q, len(lay["fleet_kind"]))]
    grads = f(*x)[4:]
    h = 1e-6
    for i, g in enumerate(grads):
        flat = np.atleast_1d(np.asarray(x[i], float))
        num = np.zeros_like(flat)
        for k in range(len(flat)):
            up, down = flat.copy(), flat.copy()
            up[k] += h
            down[k] -= h
            shape = np.shape(x[i])
            num[k] = (f(*x[:i], up.reshape(shape), *x[i + 1:])[3]
                      - f(*x[:i], down.reshape(shape), *x[i + 1:])[3]) / (2 * h)
        np.testing.assert_allclose(np.atleast_1d(g), num, atol=1e-5 * max(np.abs(num).max(), 1.0))
