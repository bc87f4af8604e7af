"""`cargoinfer plan`'s menu: the default menu reads; every bad entry is named, option and
key, with what is wrong (deterministic)."""

import copy

import pytest
import yaml
from cargoinfer.experiments.plan_menu import MenuError, read_menu
from cargoinfer.observations.case import load_case

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def case(default_case_dir):
    return load_case(default_case_dir)


@pytest.fixture(scope="module")
def menu():
    return yaml.safe_load((ROOT / "configs/plan/default.yaml").read_text())["options"]


def test_default_menu_reads(case, menu):
    options = read_menu(menu, case)
    assert [o.name for o in options] == list(menu)
    kinds = {o.kind for o in options}
    assert kinds == {"imagery", "count", "depot", "package"}
    package = next(o for o in options if o.kind == "package")
    assert [p.name for p in package.singles] == menu[package.name]["parts"]
    assert all(o.cost >= 0 for o in options)


GOOD = {"kind": "imagery", "site": "Dunai", "start": "2023-09-15", "end": "2023-09-28",
        "passes": 4, "cost": 1}

BAD = [
    ({**GOOD, "site": "Vladivostok"},
     "plan.options.x.site: 'Vladivostok' is not a site of the case (origin or destination: "
     "Rajin, Dunai)"),
    ({**GOOD, "cost": -2},
     "plan.options.x.cost: -2 must be at least 0"),
    ({**GOOD, "cost": None},
     "plan.options.x.cost: required (in the menu's cost_unit, >= 0)"),
    ({**GOOD, "start": "2019-01-01"},
     "plan.options.x.start: 2019-01-01 is outside 2023-08-15 to 2024-10-14 (the window's "
     "start to 366 days after its end)"),
    ({**GOOD, "end": "2023-09-01"},
     "plan.options.x.end: 2023-09-01 is before start 2023-09-15"),
    ({**GOOD, "start": "15/09/2023"},
     "plan.options.x.start: '15/09/2023' is not a date (YYYY-MM-DD)"),
    ({**GOOD, "passes": 20},
     "plan.options.x.passes: 20 passes on distinct days do not fit in the 14 days from "
     "2023-09-15 to 2023-09-28"),
    ({**GOOD, "passes": -1},
     "plan.options.x.passes: -1 must be at least 0"),
    ({**GOOD, "passes": 2.5},
     "plan.options.x.passes: 2.5 is not a whole number >= 0"),
    ({**GOOD, "usable": 1.5},
     "plan.options.x.usable: 1.5 must be at most 1"),
    ({**GOOD, "metric": "railcars"},
     "plan.options.x.metric: an imagery option takes no 'metric' (it takes cost, end, label, "
     "passes, site, start, usable)"),
    ({**GOOD, "kind": "drone"},
     "plan.options.x.kind: 'drone' is not one of imagery, count, depot, package"),
    ({"kind": "imagery", "site": "Dunai", "start": "2023-09-15", "end": "2023-09-28", "cost": 1},
     "plan.options.x.passes: required for an imagery option"),
    ({"kind": "count", "site": "Dunai", "voyage": "Z9", "cost": 1},
     "plan.options.x.voyage: 'Z9' is neither 'next' nor a voyage_id of voyages.csv"),
    ({"kind": "count", "site": "Dunai", "voyage": "next", "coverage": 0, "cost": 1},
     "plan.options.x.coverage: 0 must be above 0"),
    ({"kind": "depot", "metric": "pits", "date": "2023-10-20", "cost": 1},
     "plan.options.x.metric: 'pits' is not one of filled_area_m2, railcars, containers"),
    ({"kind": "depot", "metric": "railcars", "date": "2023-10-20", "sd": -5, "cost": 1},
     "plan.options.x.sd: -5 must be above 0"),
    ({"kind": "depot", "metric": "railcars", "date": "2030-01-01", "cost": 1},
     "plan.options.x.date: 2030-01-01 is outside 2023-08-15 to 2024-10-14 (the window's "
     "start to 366 days after its end)"),
    ({"kind": "package", "parts": ["y", "nothing"], "cost": 1},
     "plan.options.x.parts: 'nothing' is not an option of the menu"),
    ({"kind": "package", "parts": [], "cost": 1},
     "plan.options.x.parts: a package needs at least one part"),
    ({"kind": "package", "parts": "y", "cost": 1},
     "plan.options.x.parts: a list of other options' names"),
    ({"kind": "package", "parts": ["y", "y"], "cost": 1},
     "plan.options.x.parts: an option is listed twice"),
]


@pytest.mark.parametrize("entry, message", BAD, ids=[m.split(": ")[0].split(".")[-1] + f"-{i}"
                                                     for i, (_, m) in enumerate(BAD)])
def test_bad_menu_entry_is_named(case, entry, message):
    with pytest.raises(MenuError) as e:
        read_menu({"x": entry, "y": GOOD}, case)
    assert e.value.problems == [message]


def test_depot_option_needs_a_depot(case):
    no_depot = copy.copy(case)
    no_depot.spec = __import__("dataclasses").replace(case.spec, depot=None)
    with pytest.raises(MenuError) as e:
        read_menu({"x": {"kind": "depot", "metric": "railcars", "date": "2023-10-20",
                         "cost": 1}}, no_depot)
    assert e.value.problems == ["plan.options.x.metric: the case has no depot (case.yaml's "
                                "depot is not set)"]


def test_every_problem_is_listed(case):
    with pytest.raises(MenuError) as e:
        read_menu({"a": {**GOOD, "site": "Nowhere"}, "b": {**GOOD, "cost": -1},
                   "c": {"kind": "package", "parts": ["a"], "cost": 1}}, case)
    assert len(e.value.problems) == 2  # c's part is bad, not c: named once, at a
    assert read_menu({"y": GOOD}, case)[0].passes == 4


def test_empty_menu(case):
    with pytest.raises(MenuError, match="the menu has no options"):
        read_menu({}, case)


def test_prior_worlds_leave_days_to_archive(tmp_path, case):
    """A world drawn from joint's prior (bench/plan_realised.py) keeps its imagery rows on
    the days the embedded case looked and its usable passes, no other, and its voyages as
    simulated; so the check's menu has archive passes of both ends, at the world's own
    usable share when given (deterministic)."""
    import polars as pl
    from cargoinfer.experiments.config import compose
    from cargoinfer.experiments.plan_truth import check_menu, world_case
    from cargoinfer.experiments.simulate import simulate_model
    from cargoinfer.models import registry

    folder, _ = world_case("prior", 1, tmp_path / "kept")
    full = tmp_path / "full"
    full.mkdir()
    simulate_model(registry.get("joint"), compose(["model=joint"]), case, 1, full)
    rows = pl.read_csv(full / "imagery.csv", infer_schema_length=0)
    imagery = case.tables["imagery"]
    looked = set(zip(imagery["date"].cast(pl.String), imagery["site"]))
    want = rows.filter([(d, s) in looked or u == "true" for d, s, u in
                        rows.select("date", "site", "usable").iter_rows()])
    kept = pl.read_csv(folder / "imagery.csv", infer_schema_length=0)
    assert kept.equals(want) and kept.height < rows.height
    assert (folder / "voyages.csv").read_text() == (full / "voyages.csv").read_text()
    names = {o.name for o in check_menu(load_case(folder))}
    assert {"archive_origin", "archive_destination"} <= names, names
    # the rows kept overstate the usable share, so the check can give the world's own
    given = {"origin": 0.25, "destination": 0.5}
    share = {o.name: o.usable for o in check_menu(load_case(folder), usable=given)}
    assert share["archive_origin"] == 0.25 and share["archive_destination"] == 0.5
    assert kept["usable"].eq("true").mean() >= rows["usable"].eq("true").mean()
