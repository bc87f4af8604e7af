"""A small, seeded version of bench/ladder.py: voyages and joint against event-level worlds
whose unknowns (depot share, pit area per container, cadences, fleet, loads, coverage
errors) are drawn from wide ranges, not from the models' priors.

Eight worlds (two per scenario, seeds fixed), 2 chains x 500 draws. Everything is seeded,
so the outcome is fixed for a given code and platform. The coverage bound is that of a
calibrated model: if each 90% interval covered independently with probability 0.9, at
most 4 of 8 would happen with probability 0.5%. The worlds are not drawn from any model,
so this checks robustness to misspecification, not exact calibration."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
from cargoinfer.experiments.config import compose
from cargoinfer.inference.fit import fit
from cargoinfer.models import joint, voyages
from cargoinfer.observations.aggregate import route_data
from cargoinfer.observations.case import load_case
from cargoinfer.observations.world import SCENARIOS, simulate_world, write_case

SEEDS = (100, 101)


@pytest.mark.slow
def test_joint_is_not_pulled_off_by_a_depot_it_cannot_scale(tmp_path):
    """Both families cover at least 5 of 8 worlds; and joint, reading depots whose share
    (0.1-1) and area per container (20-45 m2) nobody knows, is not further from the truth
    than voyages: its error relative to the truth exceeds voyages' by at most 0.05 in the
    median over the worlds (issue 19 measured joint@4, whose depot share was "about half",
    at a median error of 0.21 against voyages@1's 0.11 on 24 such worlds;
    docs/validation.md)."""
    cfg = compose([])
    inference = SimpleNamespace(**{**dict(cfg.inference), "draws": 500, "tune": 500, "chains": 2,
                                   "borderline_draws": 0, "conflict_draws": 0})
    covered = {"voyages": 0, "joint": 0}
    errors = {"voyages": [], "joint": []}
    for scenario in SCENARIOS:
        for seed in SEEDS:
            folder = write_case(simulate_world(scenario, seed), tmp_path / f"{scenario}-{seed}")
            truth = json.loads((folder / "truth.json").read_text())["total_containers"]
            route = route_data(load_case(folder), 1, 1000)
            for family in (voyages, joint):
                result = fit(family, route, family.data_values(route, cfg.priors), seed, inference)
                x = np.asarray(result.tree["estimands"]["total_containers"]).ravel()
                lo, med, hi = np.nanquantile(x, [0.05, 0.5, 0.95])
                covered[family.NAME] += bool(lo <= truth <= hi)
                errors[family.NAME].append(abs(med - truth) / truth)
    print(covered, {k: np.round(v, 3).tolist() for k, v in errors.items()})
    assert covered["voyages"] >= 5 and covered["joint"] >= 5, covered
    excess = np.median(np.array(errors["joint"]) - np.array(errors["voyages"]))
    assert excess <= 0.05, excess
