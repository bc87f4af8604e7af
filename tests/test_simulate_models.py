"""`cargoinfer simulate model=NAME`: each family's own generative process written as a case
folder. Reading the folder back (load_case, route_data) gives the arrays that were
simulated; the simulated depot rows are the model's own means; bad arguments are refused.
All seeded."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cargoinfer.experiments.config import compose
from cargoinfer.experiments.simulate import simulate_command
from cargoinfer.experiments.synthetic import write_model_case
from cargoinfer.models import dynamic, joint, voyages
from cargoinfer.observations.aggregate import route_data
from cargoinfer.observations.case import load_case
from scipy import stats

FAMILIES = (voyages, joint, dynamic)


@pytest.fixture(scope="module")
def template(default_case_dir):
    case = load_case(default_case_dir)
    return case, route_data(case, 1, 1000)


def _simulate(family, template_route, seed, priors):
    values = family.data_values(template_route, priors)
    rng = np.random.default_rng(seed)
    p = {k: v[0] for k, v in family.prior_draws(values, 1, rng).items()}
    route, truth = family.simulate(p, template_route, values, rng)
    return p, route, truth


def _voyages(route):
    """Each observed voyage as (period, vessel, its counts), in a canonical order: the
    folder lists voyages by date, the simulation by period."""
    counts = {g: [] for g in range(route.n_groups)}
    for g, v, c, k in zip(route.count_group, route.visible, route.coverage, route.coverage_known):
        counts[int(g)].append((float(v), float(c), bool(k)))
    return sorted((int(p), int(v), float(route.group_cap[g]) if g >= 0 else -1.0,
                   tuple(sorted(counts.get(int(g), []))))
                  for p, v, g in zip(route.voyage_period, route.voyage_vessel, route.voyage_group))


@pytest.mark.parametrize("family", FAMILIES)
def test_folder_reads_back_as_simulated(tmp_path, template, family):
    case, shape = template
    priors = compose([]).priors
    for seed in range(6):
        p, sim, truth = _simulate(family, shape, seed, priors)
        folder = tmp_path / f"{family.NAME}-{seed}"
        folder.mkdir()
        record = write_model_case(sim, truth, case.spec, folder, np.random.default_rng(seed + 100),
                                  model=family.NAME, version=family.VERSION, seed=seed, parameters=p)
        back = route_data(load_case(folder), 1, 1000)
        where = f"{family.NAME} seed {seed}"
        np.testing.assert_array_equal(back.captures, sim.captures, err_msg=where)
        np.testing.assert_array_equal(back.captures_vessel, sim.captures_vessel, err_msg=where)
        np.testing.assert_array_equal(back.usable_days, sim.usable_days, err_msg=where)
        np.testing.assert_array_equal(back.imaged_days, sim.imaged_days, err_msg=where)
        np.testing.assert_array_equal(back.vessel_share, sim.vessel_share, err_msg=where)
        if np.array_equal(back.grid, sim.grid):  # a count above max_load / 3 widens the grid
            assert _voyages(back) == _voyages(sim), where
        else:
            strip = lambda vs: [(p, v, c) for p, v, _, c in vs]  # noqa: E731
            assert strip(_voyages(back)) == strip(_voyages(sim)), where
        assert back.notes == [], where
        for name in ("depot_day", "depot_metric", "depot_value", "depot_sd", "claim_first",
                     "claim_last", "claim_quantity", "claim_relation", "claim_value",
                     "claim_confidence"):
            np.testing.assert_array_equal(getattr(back, name), getattr(sim, name), err_msg=f"{where} {name}")
        if family is not voyages:
            assert len(back.depot_value) > 0 and len(back.claim_value) > 0, where

        # the truth agrees with the rows and with itself
        series = record["series"]
        assert sum(s["voyages"] for s in series) == record["voyages"], where
        assert sum(s["containers"] for s in series) == pytest.approx(record["total_containers"])
        log = record["voyage_log"]
        assert len(log) == record["voyages"] and sum(v["load"] for v in log) == record["total_containers"]
        assert sum(v["voyage_id"] is not None for v in log) == sim.captures.sum() == record["voyages_seen"]
        for s in series:
            inside = [v for v in log if s["period_start"] <= v["departed"] <= s["period_end"]]
            assert len(inside) == s["voyages"], where
        json.dumps(record)  # plain JSON


def test_dynamic_sails_each_vessel_at_its_own_rate(template):
    """captures_vessel is filled and the voyages per vessel follow the drawn weekly rates."""
    _, shape = template
    priors = compose([]).priors
    z = []
    for seed in range(40):
        _, sim, truth = _simulate(dynamic, shape, seed, priors)
        assert sim.captures_vessel.sum(axis=1).tolist() == sim.captures.tolist()
        rate = np.array(truth["weekly_rates"]) * shape.period_days[:, None] / 7.0
        n = np.array(truth["voyages_by_vessel"])
        z.append((n.sum() - rate.sum()) / np.sqrt(rate.sum()))
    assert abs(np.mean(z)) < 4 / np.sqrt(len(z)), np.mean(z)  # Poisson counts: z ~ (0, 1)


@pytest.mark.parametrize("family", [joint, dynamic])
def test_depot_rows_are_the_models_means(template, family):
    """With depot_noise_cv ~ 0 a depot row is the model's depot mean (from `generate`, itself
    checked against `build`'s log density in test_models) plus the model's noise floor
    1e-3 x (1 + value): the row's z = (value - mean) / scale, read off the pointwise
    log-likelihood, is standard normal. A mean off by a day's flow would give |z| in the
    hundreds. Accepted: every |z| < 4.5 and sum z^2 inside the central 99.9% of its
    chi-square distribution."""
    _, shape = template
    priors = compose([]).priors
    values = family.data_values(shape, priors)
    rng = np.random.default_rng(5)
    z2 = []
    for _ in range(5):
        p = {k: v[0] for k, v in family.prior_draws(values, 1, rng).items()}
        p["depot_noise_cv"] = 1e-9
        # the depot reads the containers shipped: the model's own totals at the draw
        sim, truth = family.simulate(p, shape, values, rng, totals="model")
        sim_values = family.data_values(sim, priors)
        shipped = np.array([row["containers"] for row in truth["series"]])
        gen = family.generate({k: np.asarray(v)[None] for k, v in p.items()}, sim, sim_values,
                              np.random.default_rng(0))
        np.testing.assert_allclose(gen["containers_period"][0], shipped, rtol=1e-6, atol=1e-6)
        scale = 1e-9 * sim.depot_value + 1e-3 * (1 + sim.depot_value)
        best = -np.log(scale) - 0.5 * np.log(2 * np.pi)
        z2 += list(2 * (best - gen["loglik_depot"][0]))
    z2 = np.array(z2)
    assert np.all(z2 < 4.5**2), z2.max()
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], len(z2))
    assert lo <= z2.sum() <= hi, (z2.sum(), lo, hi)


@pytest.mark.parametrize("family", [joint, dynamic])
def test_model_totals_are_the_models_own(template, family):
    """With totals="model" (what calibrate simulates) each period's shipped containers are
    the model's latent total at the true parameters and the draw's own shipped_z and
    unseen_z: the
    `generate` of the simulated data at the truth returns them exactly, and the truth's
    total and mean load follow from them. The captures are the exact simulator's."""
    _, shape = template
    priors = compose([]).priors
    values = family.data_values(shape, priors)
    for seed in range(3):
        p = {k: v[0] for k, v in family.prior_draws(values, 1, np.random.default_rng(seed)).items()}
        sim, truth = family.simulate(p, shape, values, np.random.default_rng([seed, 1]),
                                     totals="model")
        exact, _ = family.simulate(p, shape, values, np.random.default_rng([seed, 1]))
        np.testing.assert_array_equal(sim.captures, exact.captures)
        shipped = np.array([row["containers"] for row in truth["series"]])
        gen = family.generate({k: np.asarray(v)[None] for k, v in p.items()}, sim,
                              family.data_values(sim, priors), np.random.default_rng(0))
        np.testing.assert_allclose(gen["containers_period"][0], shipped, rtol=1e-9)
        assert truth["total_containers"] == pytest.approx(shipped.sum())
        if truth["voyages"]:
            assert truth["containers_per_voyage"] == pytest.approx(shipped.sum() / truth["voyages"])


@pytest.mark.parametrize("family", [joint, dynamic])
def test_claim_relations_follow_the_models_likelihood(template, family):
    """A simulated claim says 'at_least v' with the probability that the model's claim term
    gives it (exp of `generate`'s pointwise log-likelihood of the relation drawn), else
    'at_most v'. Over 300 claims the number of at_least is within 3.29 sd of its expected
    count (a chance failure once in 1000 seeds). The shipped totals are the model's
    (totals="model"): a containers claim's figure is then the one the model's term reads;
    with exact sums it is not, and seed 9 strayed 3.6 sd."""
    _, shape = template
    priors = compose(["priors.voyages_per_week.log_sd=0.4", "priors.containers_per_voyage.median=200",
                      "priors.containers_per_voyage.log_sd=0.3"]).priors
    values = family.data_values(shape, priors)
    rng = np.random.default_rng(9)
    observed, expected, variance = 0, 0.0, 0.0
    for _ in range(150):
        p = {k: v[0] for k, v in family.prior_draws(values, 1, rng).items()}
        sim, _ = family.simulate(p, shape, values, rng, totals="model")
        gen = family.generate({k: np.asarray(v)[None] for k, v in p.items()}, sim,
                              family.data_values(sim, priors), np.random.default_rng(0))
        at_least = sim.claim_relation == 1
        chance = np.exp(gen["loglik_claims"][0])  # of the relation drawn
        q = np.where(at_least, chance, 1 - chance)
        observed += at_least.sum()
        expected += q.sum()
        variance += (q * (1 - q)).sum()
    assert variance > 5  # the thresholds are not all far from the expected figures
    assert abs(observed - expected) <= 3.29 * np.sqrt(variance), (observed, expected, variance)


def test_simulate_command_writes_a_model_case(tmp_path, capsys):
    out = tmp_path / "sim"
    assert simulate_command(["model=dynamic", "seed=5", f"out={out}"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"case: {out.resolve()}"
    assert lines[0].startswith("simulated dynamic@5 seed 5 on rajin-dunai-2023: ")
    case = load_case(out)
    truth = json.loads((out / "truth.json").read_text())
    assert truth["model"] == "dynamic" and truth["seed"] == 5
    assert np.shape(truth["parameters"]["rate_walk_z"]) == (len(case.spec.periods()) - 1, 2)
    assert truth["depot_stock"] > 0 and len(truth["series"]) == len(case.spec.periods())
    assert case.spec.depot == "Tikhoretsk" and case.depot.height > 0
    assert [p.name for p in tmp_path.iterdir()] == ["sim"]  # no staging folder left behind
    again = tmp_path / "again"
    assert simulate_command(["model=dynamic", "seed=5", f"out={again}"]) == 0
    for name in ("case.yaml", "voyages.csv", "imagery.csv", "containers.csv", "depot.csv",
                 "claims.csv"):
        assert (out / name).read_text() == (again / name).read_text(), name
    # a prior override reaches the draws; another template is taken by path
    other = tmp_path / "other"
    assert simulate_command(["model=joint", "seed=1", f"out={other}", f"case.path={out}",
                             "priors.containers_per_voyage.median=400"]) == 0
    truth = json.loads((other / "truth.json").read_text())
    assert truth["template"] == "sim-dynamic-5"
    assert truth["priors"]["containers_per_voyage.median"] == 400


@pytest.mark.parametrize("args", [
    ["model=nope", "out={out}"],
    ["model=baseline", "out={out}"],
    ["model=joint", "scenario=steady", "out={out}"],
    ["model=joint", "start=2023-01-01", "out={out}"],
    ["model=joint", "period_days=3", "out={out}"],
    ["case=rajin_dunai_2023", "out={out}"],
    ["priors.load_cv.scale=0.3", "out={out}"],
    ["model=joint", "case=nope", "out={out}"],
    ["model=joint", "case=rajin_dunai_2023", "case.path=/tmp", "out={out}"],
    ["model=joint", "case.path={out}-missing", "out={out}"],
    ["model=joint", "priors.nope.median=3", "out={out}"],
    ["model=joint", "priors.load_cv.scale=-1", "out={out}"],
    ["model=joint", "seed=-2", "out={out}"],
    ["model=joint", "model=voyages", "out={out}"],
    ["model=voyages"],
])
def test_simulate_model_refuses_bad_arguments(tmp_path, capsys, args):
    out = tmp_path / "sim"
    assert simulate_command([a.format(out=out) for a in args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("cargoinfer simulate: ")
    assert list(tmp_path.iterdir()) == []


def test_simulate_model_refuses_an_invalid_template(tmp_path, capsys, case_copy):
    (case_copy / "voyages.csv").write_text("vessel,origin_seen\nNobody,2023-13-01\n")
    out = tmp_path / "sim"
    assert simulate_command(["model=joint", f"case.path={case_copy}", f"out={out}"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "refused" in err
    assert not out.exists()
