"""The event-level world simulator: valid case folders, truth consistent with them,
the scenarios' properties, and `cargoinfer simulate`'s refusals. All seeded."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from cargoinfer.experiments.simulate import simulate_command
from cargoinfer.observations.case import load_case
from cargoinfer.observations.world import SCENARIOS, simulate_world, write_case

SEEDS = range(10)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> dict:
    """(scenario, seed) -> (truth, Case) for every scenario and seed, written once."""
    root = tmp_path_factory.mktemp("worlds")
    out = {}
    for scenario in SCENARIOS:
        for seed in SEEDS:
            folder = write_case(simulate_world(scenario, seed), root / f"{scenario}-{seed}")
            truth = json.loads((folder / "truth.json").read_text())
            out[scenario, seed] = truth, load_case(folder)  # raises CaseInvalid if the folder is bad
    return out


def _day(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_truth_is_consistent_with_the_files(worlds, scenario):
    for seed in SEEDS:
        truth, case = worlds[scenario, seed]
        where = f"{scenario} seed {seed}"
        start, end = case.spec.start, case.spec.end
        log = {v["voyage_id"]: v for v in truth["voyage_log"]}
        departed = {vid: _day(v["departed"]) for vid, v in log.items()}
        in_window = [vid for vid in case.voyages["voyage_id"] if start <= departed[vid] <= end]
        assert truth["voyages_seen"] == len(in_window), where

        series = truth["series"]
        assert sum(p["containers"] for p in series) == truth["total_containers"], where
        assert sum(p["voyages"] for p in series) == truth["voyages"], where
        assert series[-1]["cumulative"] == truth["total_containers"], where
        assert [(_day(p["period_start"]), _day(p["period_end"])) for p in series] == case.spec.periods()

        caps = {v.name: v.capacity_teu for v in case.spec.vessels}
        for r in case.containers.iter_rows(named=True):
            assert r["visible"] <= log[r["voyage_id"]]["load"], where
            if caps[r["vessel"]] is not None:
                assert r["visible"] <= caps[r["vessel"]], where
        assert {v["vessel"] for v in log.values()} <= set(caps), where

        for claim in truth["claims"]:  # at_least claims are true statements
            assert claim["value"] <= claim["true_value"], where
        assert case.claims.height == len(truth["claims"]) >= 1, where
        assert truth["depot_stock"] >= 0 and case.depot.height > 0, where
        coverage = case.containers["coverage"]
        assert coverage.is_null().sum() < max(len(coverage), 1), where  # most coverages recorded


def test_same_seed_same_world(tmp_path):
    a = write_case(simulate_world("steady", 7), tmp_path / "a")
    b = write_case(simulate_world("steady", 7), tmp_path / "b")
    for name in ("case.yaml", "voyages.csv", "imagery.csv", "containers.csv", "depot.csv", "claims.csv",
                 "truth.json"):
        assert (a / name).read_text() == (b / name).read_text(), name


@pytest.mark.parametrize("options", [
    {"start": "2023-01-01", "end": "2023-01-03", "period_days": 3},
    {"start": "2024-02-01", "end": "2024-05-31", "period_days": 10},
    {"cloud_prob": 1.0},
    {"cloud_prob": 0.0},
])
def test_other_windows_and_options_give_valid_cases(tmp_path, options):
    for scenario in SCENARIOS:
        for seed in range(3):
            folder = write_case(simulate_world(scenario, seed, **options), tmp_path / f"{scenario}-{seed}")
            load_case(folder)


def test_pause_periods_have_no_voyages(worlds):
    checked = 0
    for seed in SEEDS:
        truth, _ = worlds["pause", seed]
        first, last = map(_day, truth["parameters"]["pause"])
        inside = [p for p in truth["series"]
                  if first <= _day(p["period_start"]) and _day(p["period_end"]) <= last]
        assert inside, f"seed {seed}: no period lies inside the pause"
        assert all(p["voyages"] == 0 for p in inside), f"seed {seed}"
        assert not [v for v in truth["voyage_log"] if first <= _day(v["departed"]) <= last], f"seed {seed}"
        checked += len(inside)
    assert checked >= len(SEEDS)


def test_joining_vessel_sails_only_after_it_joins(worlds):
    sailed = 0
    for seed in SEEDS:
        truth, case = worlds["vessel_joins", seed]
        joins = _day(truth["parameters"]["vessel_joins"])
        assert "Charlie" in case.spec.vessel_names
        charlie = [v for v in truth["voyage_log"] if v["vessel"] == "Charlie"]
        assert all(_day(v["load_start"]) >= joins for v in charlie), f"seed {seed}"
        sailed += len(charlie)
        assert "Charlie" not in worlds["steady", seed][1].spec.vessel_names
    assert sailed >= len(SEEDS)  # it does sail


def test_load_change_raises_the_mean_load(worlds):
    before, after = [], []
    for seed in SEEDS:
        truth, _ = worlds["load_change", seed]
        change = _day(truth["parameters"]["load_change_from"])
        for v in truth["voyage_log"]:
            (after if _day(v["departed"]) >= change else before).append(v["load"])
    assert np.mean(after) > 1.2 * np.mean(before), (np.mean(before), np.mean(after))


# ---- cargoinfer simulate ----

def test_simulate_command_writes_a_case(tmp_path, capsys):
    out = tmp_path / "sim"
    assert simulate_command(["scenario=vessel_joins", "seed=4", f"out={out}"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"case: {out.resolve()}"
    case = load_case(out)
    assert "Charlie" in case.spec.vessel_names
    assert json.loads((out / "truth.json").read_text())["seed"] == 4
    assert [p.name for p in tmp_path.iterdir()] == ["sim"]  # no staging folder left behind
    empty = tmp_path / "empty"
    empty.mkdir()
    assert simulate_command([f"out={empty}", "start=2023-09-01", "end=2023-09-30", "period_days=10"]) == 0
    assert load_case(empty).spec.period_days == 10


@pytest.mark.parametrize("args", [
    [],
    ["scenario=steady"],
    ["scenario=nope", "out={out}"],
    ["seed=x", "out={out}"],
    ["seed=-1", "out={out}"],
    ["seed=1", "seed=2", "out={out}"],
    ["model=voyages", "scenario=steady", "out={out}"],
    ["out={out}", "start=2023-02-30"],
    ["out={out}", "start=2023-10-01", "end=2023-09-01"],
    ["out={out}", "period_days=0"],
    ["out={out}", "period_days=100"],
    ["out={out}", "cloud_prob=1.5"],
    ["out={out}", "--verbose"],
])
def test_simulate_command_refuses_bad_arguments(tmp_path, capsys, args):
    out = tmp_path / "sim"
    assert simulate_command([a.format(out=out) for a in args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_simulate_command_refuses_a_non_empty_out(tmp_path, capsys):
    out = tmp_path / "sim"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert simulate_command([f"out={out}"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["sim"]
    file_out = tmp_path / "file"
    file_out.write_text("x")
    assert simulate_command([f"out={file_out}"]) == 2


def test_depot_rows_measure_the_true_stock():
    """Depot rows are the true stock on their date through the stated conversion, with the row's sd
    (rows far from zero: values are clipped at 0). Own seeds: a seed's depot noise is shared by scenarios."""
    per = {"filled_area_m2": 30.0, "railcars": 0.5, "containers": 1.0}  # Options' m2 and railcar defaults
    z = []
    for seed in range(100, 160):
        world = simulate_world("steady", seed)
        stock = {r["date"]: r["stock"] for r in world.truth["depot_series"]}
        assert stock[max(stock)] <= world.truth["depot_stock"]  # the stock never falls
        for r in world.depot:
            true = r["stock"] * per[r["metric"]]
            if true > 3 * r["sd"]:
                z.append((r["value"] - true) / r["sd"])
    assert len(z) > 200 and abs(np.mean(z)) < 0.25 and 0.8 < np.std(z) < 1.2, (len(z), np.mean(z), np.std(z))
