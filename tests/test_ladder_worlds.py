"""A small, seeded version of bench/ladder.py: the families against event-level worlds.

Eight worlds (two per scenario, seeds fixed), 2 chains x 400 draws. Everything is
seeded, so the outcome is fixed for a given code and platform. The bound is that of a
calibrated model: if each 90% interval covered independently with probability 0.9,
at most 4 of 8 would happen with probability 0.5%. The worlds are not drawn from any
model, so this checks robustness to misspecification, not exact calibration."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
from cargoinfer.experiments.config import compose
from cargoinfer.inference.fit import fit
from cargoinfer.models import baseline, joint, voyages
from cargoinfer.observations.aggregate import route_data
from cargoinfer.observations.case import load_case
from cargoinfer.observations.world import SCENARIOS, simulate_world, write_case

SEEDS = (100, 101)


@pytest.mark.slow
def test_models_cover_worlds_the_hand_method_misses(tmp_path):
    cfg = compose([])
    inference = SimpleNamespace(**{**dict(cfg.inference), "draws": 400, "tune": 400, "chains": 2})
    covered = {f.NAME: 0 for f in (baseline, voyages, joint)}
    for scenario in SCENARIOS:
        for seed in SEEDS:
            folder = write_case(simulate_world(scenario, seed), tmp_path / f"{scenario}-{seed}")
            truth = json.loads((folder / "truth.json").read_text())["total_containers"]
            route = route_data(load_case(folder), 1, 1000)
            for family in (baseline, voyages, joint):
                result = fit(family, route, family.data_values(route, cfg.priors), seed, inference)
                x = np.asarray(result.tree["estimands"]["total_containers"]).ravel()
                lo, hi = np.nanquantile(x, [0.05, 0.95])
                covered[family.NAME] += bool(lo <= truth <= hi)
    print(covered)
    assert covered["voyages"] >= 5 and covered["joint"] >= 5, covered
    assert covered["joint"] >= covered["baseline"], covered
