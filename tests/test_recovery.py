"""Recovery: voyages@2 fitted to its own simulations covers the truth at the stated rate.

Parameters are drawn from the prior that the model is given, so a calibrated
posterior's 90% interval covers the realised truth in 90% of replications
exactly (and its 50% interval in 50%). With N = 100 seeded replications the
covered count is Binomial(100, p); the accepted ranges are the central 99.9%
of that distribution, so the test fails by chance about once in 500 seeds.
One compiled model serves every replication (nutpie with_data)."""

from types import SimpleNamespace

import numpy as np
import pytest
from cargoinfer.experiments.config import compose
from cargoinfer.inference.fit import fit
from cargoinfer.models import dynamic, joint, voyages
from cargoinfer.observations.aggregate import route_data
from cargoinfer.observations.case import load_case
from scipy import stats

N_REPS = 100
INFERENCE = SimpleNamespace(draws=400, tune=400, chains=2, cores=2, target_accept=0.9,
                            rhat_max=1.05, ess_bulk_min=100, ess_tail_min=100,
                            divergences_max=10, ebfmi_min=0.2)
# a realistic prior for the simulations (and the fits): weekly voyages around 1, loads around 200
PRIORS = ["priors.voyages_per_week.log_sd=0.4", "priors.containers_per_voyage.median=200",
          "priors.containers_per_voyage.log_sd=0.3"]


def _accept(p):
    return stats.binom.ppf(0.0005, N_REPS, p), stats.binom.ppf(0.9995, N_REPS, p)


@pytest.mark.slow
def test_intervals_cover_the_truth(default_case_dir):
    cfg = compose(PRIORS)
    template = route_data(load_case(default_case_dir), 1, 1000)
    values0 = voyages.data_values(template, cfg.priors)
    rng = np.random.default_rng(20231013)
    covered = {0.5: 0, 0.9: 0}
    for rep in range(N_REPS):
        truth_p = {k: float(v[0]) for k, v in voyages.prior_draws(values0, 1, rng).items()}
        route, truth = voyages.simulate(truth_p, template, values0, rng)
        values = voyages.data_values(route, cfg.priors)
        result = fit(voyages, route, values, seed=rep, inference=INFERENCE)
        total = np.asarray(result.tree["estimands"]["total_containers"]).ravel()
        for prob in covered:
            lo, hi = np.quantile(total, [(1 - prob) / 2, (1 + prob) / 2])
            covered[prob] += lo <= truth["total_containers"] <= hi
    print(", ".join(f"{p:.0%} interval covered {n}/{N_REPS}" for p, n in covered.items()))
    for prob, n in covered.items():
        lo, hi = _accept(prob)
        assert lo <= n <= hi, f"{prob:.0%} interval covered {n}/{N_REPS}, accepted {lo:.0f}-{hi:.0f}"


# ---------------------------------------------------------------- joint and dynamic
#
# The same experiment for the families with a depot and claims, with fewer replications
# (a fit of these takes seconds, not a second) and several quantities checked per
# replication: each family's realised totals and its own parameters. A quantity's covered
# count is Binomial(N, p) for a calibrated model; the quantities of one replication are
# correlated, so each is tested on its own with a Bonferroni bound: with K quantities and
# the two probabilities 50% and 90%, each count is accepted within the central
# 1 - 0.002 / (2K) of Binomial(N, p), and the test as a whole fails by chance at most
# once in 500 seeds. With N = 20 the bounds are wide (90%: 12-20 covered, 50%: 2-18):
# they catch a badly miscalibrated family, not a slightly optimistic one.
#
# Coverage is read from a randomised PIT, u = (#draws < truth + U x #draws == truth) / n,
# covered when (1 - p)/2 <= u <= (1 + p)/2: for continuous quantities this is the
# equal-tailed interval; where draws tie with the truth (a total of 0 when no voyage
# left, an early period of the series) it splits ties at random, so that a
# calibrated posterior covers at exactly the nominal rate rather than above it.

N_FAMILY_REPS = 20
# fewer draws than the voyages test: joint and dynamic sample their simulations slowly
# (latent shipped totals), and the suite must stay under 20 minutes on 2 cores
# no conflict check: its own fit (2 x 1000 draws) took more than the fit under test, and
# it does not change the posterior whose coverage is checked
FAMILY_INFERENCE = SimpleNamespace(**{**vars(INFERENCE), "draws": 300, "tune": 300,
                                      "conflict_draws": 0})


def _family_checks(family):
    """(label, where the draws are, how to read the truth) of each quantity checked."""
    rate = "cycle_days" if family is joint else "voyages_per_week"  # joint@6 sails on schedules
    checks = [
        ("total_containers", ("estimands", "total_containers"), lambda p, t: t["total_containers"]),
        (rate, ("posterior", rate), lambda p, t: p[rate]),
        ("containers_per_voyage (mean load)", ("posterior", "containers_per_voyage"),
         lambda p, t: p["containers_per_voyage"]),
        ("depot_share", ("posterior", "depot_share"), lambda p, t: p["depot_share"]),
        ("rail_delay_days", ("posterior", "rail_delay_days"), lambda p, t: p["rail_delay_days"]),
        ("depot_stock", ("estimands", "depot_stock"), lambda p, t: t["depot_stock"]),
    ]
    if family is dynamic:
        def last_weekly(tree):
            post = tree["posterior"]
            flat = {k: np.asarray(post[k]).reshape(-1, *post[k].shape[2:])
                    for k in ("voyages_per_week", "rate_walk_sd", "vessel_rate_sd",
                              "rate_walk_z", "vessel_rate_z")}
            w = dynamic.weekly_rates(flat["voyages_per_week"], flat["rate_walk_sd"],
                                     flat["vessel_rate_sd"], flat["rate_walk_z"],
                                     flat["vessel_rate_z"], np)
            return w[:, -1].sum(axis=1)

        checks = [c for c in checks if c[0] not in ("rail_delay_days", "depot_stock")] + [
            ("weekly rate in the last period", last_weekly,
             lambda p, t: float(np.sum(t["weekly_rates"][-1]))),
            ("containers to the middle period (series)",
             lambda tree: np.asarray(tree["estimands"]["containers_cumulative"])[
                 ..., tree["estimands"].sizes["period"] // 2].ravel(),
             lambda p, t: t["series"][len(t["series"]) // 2]["containers_cumulative"]),
        ]
    return checks


def _draws(tree, where):
    if callable(where):
        return np.asarray(where(tree), float).ravel()
    group, name = where
    return np.asarray(tree[group][name], float).ravel()


def _pit(draws, truth, rng):
    draws = draws[np.isfinite(draws)]
    return ((draws < truth).sum() + rng.random() * (draws == truth).sum()) / len(draws)


def _recovery(family, template, priors, n_reps, seed, inference=FAMILY_INFERENCE,
              totals="exact", each=None):
    """Covered counts per quantity and probability, over `n_reps` seeded replications;
    `each(rep, truth_p, result, pits)` is called after each (bench/recovery.py prints)."""
    values0 = family.data_values(template, priors)
    checks = _family_checks(family)
    rng = np.random.default_rng(seed)
    covered = {(label, prob): 0 for label, _, _ in checks for prob in (0.5, 0.9)}
    for rep in range(n_reps):
        truth_p = {k: v[0] for k, v in family.prior_draws(values0, 1, rng).items()}
        route, truth = family.simulate(truth_p, template, values0, rng, totals=totals)
        result = fit(family, route, family.data_values(route, priors), seed=rep,
                     inference=inference)
        pits = {}
        for label, where, read in checks:
            pits[label] = u = _pit(_draws(result.tree, where), read(truth_p, truth), rng)
            for prob in (0.5, 0.9):
                covered[label, prob] += (1 - prob) / 2 <= u <= (1 + prob) / 2
        if each is not None:
            each(rep, truth_p, result, pits)
    return covered


def _assert_covered(covered, n_reps):
    labels = sorted({label for label, _ in covered})
    alpha = 0.002 / len(covered)  # Bonferroni over quantities and probabilities
    lines, failed = [], []
    for label in labels:
        parts = []
        for prob in (0.5, 0.9):
            n = covered[label, prob]
            lo, hi = stats.binom.ppf(alpha / 2, n_reps, prob), stats.binom.ppf(1 - alpha / 2, n_reps, prob)
            parts.append(f"{prob:.0%} {n}/{n_reps} (accepted {lo:.0f}-{hi:.0f})")
            if not lo <= n <= hi:
                failed.append(f"{label}: {prob:.0%} interval covered {n}/{n_reps}")
        lines.append(f"  {label}: {', '.join(parts)}")
    print("\n" + "\n".join(lines))
    assert not failed, "; ".join(failed)


@pytest.mark.slow
@pytest.mark.parametrize("family", [joint, dynamic], ids=lambda f: f.NAME)
def test_family_intervals_cover_the_truth(default_case_dir, family):
    """joint and dynamic against their own simulations (`<family>.simulate`): parameters
    from the prior the fits are given (PRIORS, with the default depot and dynamic priors),
    data on the default case's window, periods, vessels, depot rows and claims."""
    cfg = compose(PRIORS)
    template = route_data(load_case(default_case_dir), 1, 1000)
    covered = _recovery(family, template, cfg.priors, N_FAMILY_REPS, 20231014)
    print(f"{family.NAME}@{family.VERSION}, {N_FAMILY_REPS} replications:", end="")
    _assert_covered(covered, N_FAMILY_REPS)
