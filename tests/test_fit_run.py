"""`cargoinfer fit` end to end: the run-directory contract, identity, refusals."""

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import xarray as xr
from cargoinfer.experiments.cli import main

QUICK = ["model=voyages", "inference.draws=300", "inference.tune=300", "inference.chains=2"]
ESTIMATES_COLUMNS = ["estimand", "unit", "mean", "median", "sd", "ci_kind", "ci_prob", "lower", "upper"]


def fit(capsys, *args):
    code = main(["fit", *QUICK, *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_dir_of(out: str) -> Path:
    last = out.strip().splitlines()[-1]
    assert last.startswith("run: ")
    return Path(last[len("run: "):])


def test_run_directory_contract(first_run, store):
    code, out, err = first_run
    assert code == 0, err
    run = run_dir_of(out)
    assert run.parent == store / "default"
    for name in ("config.yaml", "run.json", "estimates.csv", "series.csv", "posterior.nc",
                 "brief.md", "brief.html"):
        assert (run / name).is_file(), name
    assert sorted(p.name for p in (run / "figures").iterdir()) == [  # voyages@2: no depot figure
        "claims.png", "cumulative_containers.png", "prior_predictive.png",
        "rootogram_captures.png", "voyages_per_period.png"]
    est = pl.read_csv(run / "estimates.csv")
    assert est.columns == ESTIMATES_COLUMNS
    assert set(est["estimand"]) >= {"total_containers", "voyages", "containers_per_voyage",
                                    "detection_origin", "detection_destination"}
    assert (est["lower"] <= est["median"]).all() and (est["median"] <= est["upper"]).all()
    intervals = est.filter(pl.col("ci_kind") != "none")
    assert set(intervals["ci_kind"]) == {"eti"} and set(intervals["ci_prob"]) == {0.9}
    exceed = est.filter(pl.col("ci_kind") == "none")  # the brief's P(total > a round figure)
    assert exceed["estimand"].to_list()[0].startswith("P(total_containers > ")
    assert exceed["unit"].to_list() == ["probability"] and exceed["ci_prob"].is_null().all()
    ser = pl.read_csv(run / "series.csv")
    assert ser.columns[:6] == ["period_start", "period_end", "estimand", "median", "lower", "upper"]
    for name in ("voyages", "total_containers"):  # cumulative: never decreases
        med = ser.filter(pl.col("estimand") == name)["median"].to_numpy()
        assert len(med) == 9 and (med[1:] >= med[:-1]).all()


def test_run_json_identity(first_run):
    run = run_dir_of(first_run[1])
    record = json.loads((run / "run.json").read_text())
    assert record["run_id"] == run.name
    assert record["model"] == {"name": "voyages", "version": 2}
    assert record["case"]["name"] == "rajin-dunai-2023" and len(record["case"]["content_hash"]) == 64
    assert record["seed"] == 1 and record["status"] in ("briefing-grade", "review")
    assert (record["status"] == "briefing-grade") == (record["reasons"] == [])
    for key in ("rhat_max", "ess_bulk_min", "ess_tail_min", "divergences", "ebfmi_min"):
        assert key in record["diagnostics"]
    for key in ("pymc", "nutpie", "arviz", "python"):
        assert key in record["versions"]
    assert record["timings"]["total_s"] > 0


def test_run_json_carries_the_model_checks(first_run):
    """Predictive checks, LOO and sensitivity are recorded, and the status follows from
    them by the one rule (inference.status.assess)."""
    from cargoinfer.inference.status import assess, figure_of

    record = json.loads((run_dir_of(first_run[1]) / "run.json").read_text())
    checks = record["checks"]
    assert set(checks["predictive"]) == {"captures", "visible"}
    assert set(checks["loo"]) == {"captures", "loads"}
    assert {"total_containers", "voyages"} <= set(checks["sensitivity"])
    for c in checks["loo"].values():
        assert c["elpd_loo"] < 0 and c["pareto_k_max"] > -np.inf
    figures = [figure_of(f) for f in record["figures"]]
    last = record["sampler"]["rounds"][-1]
    assert assess(figures, checks, last["draws"] * last["chains"]) == (
        record["status"], record["reasons"], record["notes"])
    assert {f.name.split(" of ")[0] for f in figures} >= {"R-hat", "bulk ESS", "tail ESS"}


def test_posterior_knows_its_run(first_run):
    run = run_dir_of(first_run[1])
    tree = xr.open_datatree(run / "posterior.nc", engine="h5netcdf")
    record = json.loads((run / "run.json").read_text())
    assert tree.attrs["run_id"] == record["run_id"]
    assert tree.attrs["case_hash"] == record["case"]["content_hash"]
    for group in ("posterior", "sample_stats", "log_likelihood", "posterior_predictive",
                  "prior_predictive", "observed_data", "estimands"):
        assert group in tree.children, group
    assert set(tree["log_likelihood"].data_vars) == {"captures", "loads"}


def test_headline_printed_matches_estimates(first_run):
    from cargoinfer.experiments.brief import fmt_count

    out = first_run[1]
    est = pl.read_csv(run_dir_of(out) / "estimates.csv").filter(pl.col("estimand") == "total_containers")
    line = next(line for line in out.splitlines() if line.startswith("total_containers:"))
    assert fmt_count(est["median"][0]) in line and fmt_count(est["upper"][0]) in line


def test_same_run_is_recognised(first_run, store, capsys):
    code, out, _ = fit(capsys, f"store={store}", "seed=1")
    assert code == 0 and "already complete" in out
    assert run_dir_of(out) == run_dir_of(first_run[1])
    assert not [p for p in (store / "default").iterdir() if p.name.startswith(".")]


def test_case_path_gives_same_identity(first_run, store, case_copy, capsys):
    """A copy of the embedded case is the same content, hence the same run."""
    code, out, _ = fit(capsys, f"store={store}", "seed=1", f"case.path={case_copy}")
    assert code == 0 and run_dir_of(out) == run_dir_of(first_run[1])


def test_refused_case_writes_nothing(tmp_path, case_copy, capsys):
    (case_copy / "voyages.csv").write_text("vessel,origin_seen\nAngara,2023-13-01\n")
    code, out, err = fit(capsys, f"store={tmp_path / 'store'}", f"case.path={case_copy}")
    assert code == 2
    assert "voyages.csv:1:destination_seen: required column is missing" in err
    assert "Traceback" not in out + err
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("override, fragment", [
    ("model=nope", "model"),
    ("priors.voyages_per_wek.median=1", "voyages_per_wek"),
    ("seed=abc", "seed"),
    ("priors.load_cv.scale=-1", "priors.load_cv.scale"),
    ("case=nowhere", "case"),
    ("model.version=7", "model.version"),
])
def test_bad_config_is_refused(tmp_path, capsys, override, fragment):
    code, out, err = fit(capsys, f"store={tmp_path / 'store'}", override)
    assert code == 2, (out, err)
    assert fragment in err and "Traceback" not in err
    assert not (tmp_path / "store").exists()


def test_warm_compiles_the_named_family(capsys):
    from cargoinfer.inference import fit as fitting

    assert main(["warm", "voyages", "baseline"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("compiled voyages@2 in ")  # baseline has no model to compile
    assert len(out.splitlines()) == 1
    assert any(key[:2] == ("voyages", 2) for key in fitting._COMPILED)


def test_warm_refuses_an_unknown_family(capsys):
    assert main(["warm", "voyagez"]) == 2
    _, err = capsys.readouterr()
    assert "unknown model 'voyagez'" in err and "Traceback" not in err


def test_auto_adaptation_is_the_familys_choice():
    """inference.adaptation=auto samples with the family's ADAPTATION (joint: low_rank,
    docs/speed.md), else diag; a named adaptation wins."""
    from types import SimpleNamespace

    from cargoinfer.inference.fit import adaptation
    from cargoinfer.models import joint, voyages

    auto = SimpleNamespace(adaptation="auto")
    assert (adaptation(joint, auto), adaptation(voyages, auto)) == ("low_rank", "diag")
    assert adaptation(joint, SimpleNamespace(adaptation="diag")) == "diag"
    assert adaptation(joint, SimpleNamespace()) == "diag"  # no key: nutpie's default
