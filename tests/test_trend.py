"""The loads' trend check on a real fit: a world whose loads fall by about 40% half-way
through (ladder world 42) is demoted with the trend named; the same world with loads that never change is
not. One `voyages` fit each (about 10 s); seeded."""

import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from cargoinfer.experiments.config import compose
from cargoinfer.inference.fit import fit
from cargoinfer.models import registry
from cargoinfer.observations.aggregate import route_data
from cargoinfer.observations.case import load_case
from cargoinfer.observations.world import simulate_world, write_case

SEED = 42  # a ladder world: 23 counts, loads x 0.57 from mid-window


def _fit(**overrides):
    world = simulate_world("load_change", SEED, **overrides)
    cfg = compose(["model=voyages"])
    with tempfile.TemporaryDirectory() as tmp:
        case = load_case(write_case(world, Path(tmp) / "case"))
    route = route_data(case, cfg.model.transit_days, cfg.model.max_containers_per_voyage,
                       transit_extra_days=cfg.model.transit_extra_days)
    family = registry.get("voyages")
    return fit(family, route, family.data_values(route, cfg.priors), 1,
               SimpleNamespace(**dict(cfg.inference)))


@pytest.mark.slow
def test_loads_that_change_mid_window_demote_the_run_with_the_trend_named():
    changed = _fit()
    trend = changed.checks["trend"]["visible"]
    assert trend["p"] < 0.01 and trend["statistic"] < 0
    assert any(r.startswith("loads: the container counts fall") for r in changed.reasons)
    steady = _fit(load_change_factor=1.0)  # the same world, the loads never change
    trend = steady.checks["trend"]["visible"]
    assert trend["figure"]["verdict"] == "pass", trend  # p about uniform: below 0.01 1% of seeds
    assert not any(r.startswith("loads:") for r in steady.reasons)
