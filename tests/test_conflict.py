"""Data-data conflict (inference/conflict.py): the p-values hold their level when a stream
agrees with the rest, fall when it does not, and a fit whose depot contradicts its
voyages is demoted with the conflict named. Seeded; tolerances stated per test."""

import csv
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from cargoinfer.inference.conflict import claim_conflict, depot_conflict
from scipy import stats


def _depot_world(rng, scale=1.0, rows=6, chains=2, draws=500):
    """Predictive draws of cumulative depot rows (a log-normal level times a rising profile,
    with noise) and one observation from the same distribution, times `scale`."""
    profile = np.linspace(0.2, 1.0, rows)

    def draw(n):
        level = rng.lognormal(np.log(3000), 0.6, (n, 1))
        return level * profile * rng.lognormal(0, 0.1, (n, rows))

    return draw(chains * draws).reshape(chains, draws, rows), draw(1)[0] * scale


def test_depot_p_value_holds_its_level_when_the_depot_agrees():
    """300 depots drawn from their own predictive: the share with p < 0.05 is at most 0.05
    plus 3 binomial sds (0.038); chance of failing when the level holds: about 0.1%."""
    rng = np.random.default_rng(21)
    p = np.array([depot_conflict(*_depot_world(rng), 0.01)["p"] for _ in range(300)])
    assert np.mean(p < 0.05) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 300)
    assert stats.kstest(p, "uniform").pvalue > 1e-3  # and it is close to uniform


def test_depot_far_above_its_prediction_conflicts():
    rng = np.random.default_rng(22)
    pred, obs = _depot_world(rng, scale=1.0)
    far = depot_conflict(pred, obs * 20, 0.01)
    assert far["p"] < 0.01 and far["direction"] == "above" and far["figure"]["verdict"] == "fail"
    share = np.full(pred.shape[:2], 0.5)  # the predictions were made at a share of one half
    implied = depot_conflict(pred, np.median(pred.reshape(-1, 6), axis=0) * 4, 0.01, share)
    np.testing.assert_allclose(implied["implied_share"], 2.0, rtol=0.05)  # 4 x median = share 2
    assert "need 2 times every container" in implied["words"]


def _claims(relation: int, value: float):
    route = SimpleNamespace(claim_relation=np.array([relation]), claim_first=np.array([0]),
                            claim_last=np.array([9]), periods=[(np.datetime64("2023-08-15").item(),
                                                                None)])
    values = {"claim_value": np.array([value]), "claim_width": np.array([0.25]),
              "claim_is_containers": np.array([1.0])}
    return route, values


def test_a_claim_far_above_the_voyages_conflicts_and_a_near_one_does_not():
    """An 'at_least' claim (relation 1) of 5,000 containers where the voyages put the figure
    at about 1,000 conflicts; one of 900 does not."""
    rng = np.random.default_rng(23)
    expected = rng.lognormal(np.log(1000), 0.2, (2, 500, 1))
    far = claim_conflict(expected, _claims(1, 5000.0)[1], _claims(1, 5000.0)[0], 0.01)
    near = claim_conflict(expected, _claims(1, 900.0)[1], _claims(1, 900.0)[0], 0.01)
    assert far["figure"]["verdict"] == "fail" and "at_least 5,000 containers" in far["words"]
    assert near["p"] > 0.3 and near["figure"]["verdict"] == "pass"


@pytest.mark.slow
def test_a_depot_that_contradicts_its_voyages_demotes_the_run(tmp_path, capsys):
    """The default case with its depot rows (and their sd) times 60: the filled area then
    needs about six times every container the voyages and counts allow. joint is demoted
    with the conflict named in run.json and in the brief; the unchanged case is not. No
    model= is given: the default fit picks joint, the family that uses the depot and the
    claims, and says so on its first line and in run.json."""
    from cargoinfer.experiments.cli import main
    from importlib import resources

    case = tmp_path / "case"
    shutil.copytree(Path(str(resources.files("cargoinfer.cases") / "rajin_dunai_2023")), case)
    rows = list(csv.DictReader((case / "depot.csv").open()))
    for r in rows:
        r["value"], r["sd"] = str(float(r["value"]) * 60), str(float(r["sd"]) * 60)
    with (case / "depot.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    quick = ["inference.draws=500", "inference.tune=500", f"store={tmp_path / 's'}"]
    records = {}
    for label, extra in (("conflict", [f"case.path={case}"]), ("default", [])):
        assert main(["fit", *quick, *extra]) == 0
        out = capsys.readouterr().out.strip().splitlines()
        assert out[0].startswith("model: joint (20 parameters) is the simplest model that uses "
                                 "every table the case has (claims, containers, depot, imagery, "
                                 "voyages)"), out[0]
        run = Path(out[-1][len("run: "):])
        records[label] = json.loads((run / "run.json").read_text()), (run / "brief.md").read_text()
    record, brief = records["conflict"]
    assert record["model"]["name"] == "joint" and out[0] == f"model: {record['model']['picked']}"
    assert record["status"] == "review"
    named = [r for r in record["reasons"] if r.startswith("depot conflicts with the voyage")]
    assert named and "times every container" in named[0], record["reasons"]
    assert named[0] in brief
    assert not any("conflict" in r for r in records["default"][0]["reasons"])
