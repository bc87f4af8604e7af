"""Recovery: voyages@1 fitted to its own simulations covers the truth at the stated rate.

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
from cargoinfer.models import voyages
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
