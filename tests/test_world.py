"""The event-level world simulator: valid case folders, truth consistent with them,
the scenarios' properties, and `cargoinfer simulate`'s refusals. All seeded."""

from __future__ import annotations

import json
import re
from datetime import date

import numpy as np
import polars as pl
import pytest
from cargoinfer.experiments.simulate import simulate_command
from cargoinfer.observations.case import load_case
from cargoinfer.observations.world import (SCENARIOS, VESSEL_NAMES, recognition,
                                           simulate_world, write_case)

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
        assert case.claims.height == len(truth["claims"]), where
        assert (case.claims.height > 0) == truth["parameters"]["claims"], where
        assert truth["depot_stock"] >= 0 and case.depot.height > 0, where
        metrics = set(case.depot["metric"])
        counted = truth["parameters"]["depot_metrics"] == "counts"
        assert metrics == ({"filled_area_m2", "containers"} if counted else {"filled_area_m2"}), where
    coverage = pl.concat([worlds[scenario, seed][1].containers["coverage"] for seed in SEEDS])
    assert coverage.is_null().mean() < 0.5  # most coverages recorded (10-50% left empty)


def test_same_seed_same_world(tmp_path):
    a = write_case(simulate_world("steady", 7), tmp_path / "a")
    b = write_case(simulate_world("steady", 7), tmp_path / "b")
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    for path in a.iterdir():
        assert path.read_text() == (b / path.name).read_text(), path.name


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
        last = VESSEL_NAMES[truth["parameters"]["vessels"] - 1]
        assert case.spec.vessel_names[-1] == last
        joined = [v for v in truth["voyage_log"] if v["vessel"] == last]
        assert all(_day(v["load_start"]) >= joins for v in joined), f"seed {seed}"
        sailed += len(joined)
        others = [v for v in truth["voyage_log"] if v["vessel"] != last]
        assert min(_day(v["load_start"]) for v in others) < joins, f"seed {seed}"
    assert sailed >= len(SEEDS)  # it does sail


def test_load_change_moves_each_vessels_loads_by_its_factor(worlds):
    """Per vessel, the mean load after the change over the mean before: on the side of 1
    that the drawn factor is, in at least 8 of 10 worlds (loads are capped at capacity
    and vary voyage to voyage, so a world with few voyages may not show it)."""
    agree = 0
    for seed in SEEDS:
        truth, _ = worlds["load_change", seed]
        change = _day(truth["parameters"]["load_change_from"])
        factor = truth["parameters"]["load_change_factor"]
        logs = []
        for name in {v["vessel"] for v in truth["voyage_log"]}:
            loads = [(v["load"], _day(v["departed"]) >= change) for v in truth["voyage_log"]
                     if v["vessel"] == name]
            after = [x for x, a in loads if a]
            before = [x for x, a in loads if not a]
            if after and before:
                logs.append(np.log(np.mean(after) / np.mean(before)))
        agree += np.sign(np.mean(logs)) == np.sign(np.log(factor))
    assert agree >= 8, agree


def test_worlds_span_what_an_analyst_cannot_know():
    """Over 64 seeds the drawn unknowns reach across their ranges, and every slice a bench
    reports by is met at least 8 times (each value has a chance of 1/3 or 1/2 per world:
    fewer than 8 in 64 has a chance below 1e-4)."""
    from collections import Counter

    params, slices = [], Counter()
    for seed in range(64):
        t = simulate_world(SCENARIOS[seed % 4], seed).truth
        params.append(t["parameters"])
        slices.update(f"{k}={v}" for k, v in t["slices"].items())
    share = [p["depot_share"] for p in params]
    m2 = [p["m2_per_container"] for p in params]
    weeks = {(_day(p["end"]) - _day(p["start"])).days // 7 + 1 for p in params}
    assert min(share) < 0.2 and max(share) > 0.9 and min(m2) < 23 and max(m2) > 42
    assert weeks >= {6, 14} and {p["vessels"] for p in params} == {2, 3, 4}
    for key in ("depot_share=low", "depot_share=middle", "depot_share=high",
                "depot_metrics=area", "depot_metrics=counts", "claims=claims", "claims=no claims"):
        assert slices[key] >= 8, (key, slices)


def test_an_override_changes_nothing_else():
    a = simulate_world("steady", 3).truth["parameters"]
    b = simulate_world("steady", 3, depot_share=0.5).truth["parameters"]
    assert b["depot_share"] == 0.5
    assert {k: v for k, v in a.items() if k != "depot_share"} == \
           {k: v for k, v in b.items() if k != "depot_share"}


# ---- cargoinfer simulate ----

def test_simulate_command_writes_a_case(tmp_path, capsys):
    out = tmp_path / "sim"
    assert simulate_command(["scenario=vessel_joins", "seed=4", f"out={out}"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"case: {out.resolve()}"
    case = load_case(out)
    truth = json.loads((out / "truth.json").read_text())
    assert truth["seed"] == 4 and len(case.spec.vessel_names) == truth["parameters"]["vessels"]
    fixed = tmp_path / "fixed"
    assert simulate_command(["seed=4", f"out={fixed}", "depot_share=0.3", "depot_metrics=area",
                             "claims=false", "vessels=3"]) == 0
    p = json.loads((fixed / "truth.json").read_text())["parameters"]
    assert (p["depot_share"], p["depot_metrics"], p["claims"], p["vessels"]) == (0.3, "area", False, 3)
    assert not (fixed / "claims.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fixed", "sim"]  # no staging folder left
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
    ["out={out}", "depot_share=0"],
    ["out={out}", "depot_share=x"],
    ["out={out}", "depot_metrics=railcars"],
    ["out={out}", "claims=maybe"],
    ["out={out}", "vessels=9"],
    ["out={out}", "scenario=vessel_joins", "vessels=1"],
    ["out={out}", "origin_ports=2"],
    ["out={out}", "scenario=network", "destination_ports=0"],
    ["out={out}", "scenario=network", "origin_ports=10"],
    ["out={out}", "scenario=network", "switch_prob=1.5"],
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
    z = []
    for seed in range(100, 160):
        world = simulate_world("steady", seed)
        per = {"filled_area_m2": world.options.m2_per_container, "containers": 1.0}
        stock = {r["date"]: r["stock"] for r in world.truth["depot_series"]}
        assert stock[max(stock)] <= world.truth["depot_stock"]  # the stock never falls
        for r in world.depot:
            true = r["stock"] * per[r["metric"]]
            if true > 3 * r["sd"]:
                z.append((r["value"] - true) / r["sd"])
    assert len(z) > 200 and abs(np.mean(z)) < 0.25 and 0.8 < np.std(z) < 1.2, (len(z), np.mean(z), np.std(z))


# ---- route networks (scenario=network) ----

NETWORK_SEEDS = range(24)


@pytest.fixture(scope="module")
def networks(tmp_path_factory) -> list:
    """(truth, Case) of network worlds 0-23, written and read back (a bad folder raises)."""
    root = tmp_path_factory.mktemp("networks")
    out = []
    for seed in NETWORK_SEEDS:
        folder = write_case(simulate_world("network", seed), root / f"network-{seed}")
        out.append((json.loads((folder / "truth.json").read_text()), load_case(folder)))
    return out


def test_a_network_world_names_each_voyages_ports(networks):
    """Several ports per end in case.yaml; each voyage's site set exactly at the ends it was
    seen at, and the one it called at; counts at their voyage's port; the routes' totals
    add up to the network's."""
    for truth, case in networks:
        log = {v["voyage_id"]: v for v in truth["voyage_log"]}
        assert len(case.spec.origin) >= 2 and len(case.spec.destination) >= 2
        for r in case.voyages.iter_rows(named=True):
            v = log[r["voyage_id"]]
            for end in ("origin", "destination"):
                named = r[f"{end}_site"]
                assert (named is None) == (r[f"{end}_seen"] is None)
                assert named in (None, v[f"{end}_site"])
        for r in case.containers.iter_rows(named=True):
            v = log[r["voyage_id"]]
            assert r["site"] == v["origin_site" if r["stage"] == "loading" else "destination_site"]
        assert sum(r["containers"] for r in truth["routes"]) == truth["total_containers"]
        assert sum(r["voyages"] for r in truth["routes"]) == truth["voyages"]


def test_network_ports_are_imaged_at_their_own_cadences(networks):
    """Each port's passes follow its own usable share: over 24 worlds the share of days with
    a usable pass tracks the drawn one (correlation above 0.9; a port's share is
    Binomial over 42-98 days, sd at most 0.08 against drawn shares spread over 0.05-0.9),
    and most worlds have cadences that differ at least 4-fold (a world of 4 ports drawn
    log-uniformly does with chance 0.72, of 5 with 0.84: fewer than 10 of 24 has a chance
    below 1e-3)."""
    drawn, seen, spread = [], [], 0
    for truth, case in networks:
        p = truth["parameters"]
        sites = [*truth["ports"]["origin"], *truth["ports"]["destination"]]
        days = case.spec.days
        for site, share, cloud in zip(sites, p["usable_share"], p["cloud_prob"]):
            usable = case.imagery.filter((pl.col("site") == site) & pl.col("usable")).height
            drawn.append(min(share, 1 - cloud))  # at most a pass a day
            seen.append(usable / days)
        spread += truth["slices"]["cadence"] == "very different"
    assert np.corrcoef(drawn, seen)[0, 1] > 0.9
    assert spread >= 10, spread


def test_network_calls_last_as_drawn_and_vary_by_world(networks):
    """Every call of a network world lasts within its end's drawn range (loading_days,
    unloading_days; inclusive days), and over 24 worlds the ends' mean calls span the
    range: some at most 1.5 days and some at least 4 (each has chance 1/6 per end, so
    neither is missing from 48 ends but with chance 1.6e-4 each; seeded)."""
    def days(v, first, last):  # inclusive
        return (date.fromisoformat(v[last]) - date.fromisoformat(v[first])).days + 1

    means = []
    for truth, _ in networks:
        p = truth["parameters"]
        for v in truth["voyage_log"]:
            assert p["loading_days"][0] <= days(v, "load_start", "departed") <= p["loading_days"][1]
            assert (p["unloading_days"][0] <= days(v, "arrived", "unload_end")
                    <= p["unloading_days"][1])
        means += [sum(p["loading_days"]) / 2, sum(p["unloading_days"]) / 2]
    assert min(means) <= 1.5 and max(means) >= 4, means
    assert {t["slices"]["calls"] for t, _ in networks} == {"short", "long"}


def test_a_network_port_recognises_ships_at_its_own_rate():
    """A port that recognises nothing sees no call, though its passes are usable; the
    others, on the same passes, see some (seeded world, every route equally sailed)."""
    w = simulate_world("network", 3, origin_ports=2, destination_ports=2, usable_share=0.9,
                       cloud_prob=0.0, route_weights=(0.25,) * 4,
                       recognise_by_port=(0.9, 0.0, 0.9, 0.9))
    calls = [v for v in w.voyages if v.origin_site == "PortA2"]
    assert calls and all(v.origin_seen is None for v in calls)
    assert any(v.origin_seen is not None for v in w.voyages if v.origin_site == "PortA")
    assert w.truth["site_detection"]["PortA2"] == 0.0
    one = simulate_world("steady", 2, recognise_by_port=0.3)  # a number: every port
    assert recognition(one.options) == {"PortA": 0.3, "PortB": 0.3}
    assert recognition(simulate_world("steady", 2).options)["PortB"] == one.options.recognise_prob


@pytest.mark.parametrize("override, message", [
    ({"recognise_by_port": (0.5, 0.5, 0.5)}, "recognise_by_port has 3 values for 4 ports"),
    ({"recognise_by_port": (0.5, 0.5, 1.5, 0.5)}, "recognise_by_port"),
    ({"loading_days": (0, 2)}, "loading_days [0, 2] is not a range of at least 1 day"),
    ({"unloading_days": (3, 2)}, "unloading_days [3, 2] is not a range"),
])
def test_network_call_and_recognition_options_are_checked(override, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        simulate_world("network", 1, origin_ports=2, destination_ports=2, **override)


def test_network_vessels_switch_routes_as_often_as_drawn():
    """switch_prob 0: every vessel keeps one route; 1: each voyage's route is drawn afresh,
    so over 8 worlds some vessel sails at least 3 routes (each of 4+ routes has weight;
    seeded)."""
    def routes_per_vessel(world):
        out = {}
        for v in world.voyages:
            out.setdefault(v.vessel, set()).add((v.origin_site, v.destination_site))
        return out

    for seed in range(8):
        assert all(len(r) == 1 for r in routes_per_vessel(
            simulate_world("network", seed, switch_prob=0.0)).values())
    most = max(len(r) for seed in range(8)
               for r in routes_per_vessel(simulate_world("network", seed, switch_prob=1.0)).values())
    assert most >= 3


def test_network_options_change_nothing_else():
    """Giving the number of ports keeps every other port's drawn values; a one-route
    scenario refuses network options."""
    a = simulate_world("network", 5).truth["parameters"]
    b = simulate_world("network", 5, destination_ports=4).truth["parameters"]
    n_o, n_d = a["origin_ports"], a["destination_ports"]
    assert b["destination_ports"] == 4 and b["usable_share"][:n_o + n_d] == a["usable_share"]
    assert b["recognise_by_port"][:n_o + n_d] == a["recognise_by_port"]
    per_port = ("destination_ports", "usable_share", "cloud_prob", "regular_revisit",
                "route_weights", "recognise_by_port")
    assert {k: v for k, v in a.items() if k not in per_port} == \
           {k: v for k, v in b.items() if k not in per_port}
    with pytest.raises(ValueError, match="scenario=network"):
        simulate_world("steady", 5, origin_ports=2)
