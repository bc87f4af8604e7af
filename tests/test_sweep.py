"""`cargoinfer sweep`, `runs` and `compare`: refusals, skipping, failures, kills, launchers."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from cargoinfer.experiments.brief import fmt_count
from cargoinfer.experiments.cli import main
from cargoinfer.observations.case import load_case
from cargoinfer.observations.cutoff import cut

# tiny sampler settings: these tests check the machinery, not the statistics
TINY = ["inference.draws=60", "inference.tune=60", "inference.chains=1"]
TWO_CHAINS = ["inference.draws=60", "inference.tune=60", "inference.chains=2"]


def cli(*args, timeout=900, **kw):
    """The `cargoinfer` command in a fresh interpreter: (exit status, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-c", "import sys; from cargoinfer.experiments.cli "
                           "import main; sys.exit(main())", *args],
                          capture_output=True, text=True, timeout=timeout, **kw)
    return proc.returncode, proc.stdout, proc.stderr


def run_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if folder.is_dir() else []


def records(folder: Path) -> dict[str, dict]:
    return {d.name: json.loads((d / "run.json").read_text()) for d in run_dirs(folder)}


def assert_whole(folder: Path) -> None:
    """Every visible folder is a complete run directory."""
    for d in run_dirs(folder):
        assert (d / "run.json").is_file(), f"half-written run directory {d}"
        if json.loads((d / "run.json").read_text())["status"] != "failed":
            for name in ("config.yaml", "estimates.csv", "series.csv", "posterior.nc"):
                assert (d / name).is_file(), f"{d} lacks {name}"


# ---------------------------------------------------------------- refused before anything runs

@pytest.mark.parametrize("args, says", [
    (["model=voyages,jont"], "jont"),
    (["experiment=nope"], "nope"),
    (["model=voyages", "seed=1,2", "priors.load_cv.scale=-1"], "priors.load_cv.scale"),
    (["model=voyages", "case.cutoff=2023-01-01,2023-09-15"], "case.cutoff"),
    (["hydra.launcher._target_=os.system"], "hydra.launcher._target_"),
    (["model=voyages", "+foo._target_=subprocess.call"], "foo._target_"),
    (["model=voyages", "seed=1,2", "inference.drawz=5"], "drawz"),
])
def test_sweep_refuses_a_bad_job_before_running_any(tmp_path, capsys, args, says):
    code = main(["sweep", f"store={tmp_path}", *args])
    err = capsys.readouterr().err
    assert code == 2 and says in err and "Traceback" not in err, err
    assert not run_dirs(tmp_path / "default")


@pytest.mark.parametrize("preset, jobs, key", [
    ("model_ladder", 4, "model"), ("detection_sensitivity", 9, "priors.identification_origin.alpha"),
    ("cutoff_backtest", 4, "case.cutoff"), ("prior_sweep", 9, "priors.containers_per_voyage.median"),
])
def test_presets_expand_to_distinct_checked_runs(tmp_path, preset, jobs, key):
    from cargoinfer.experiments.sweep import plan_sweep

    cfg, planned = plan_sweep([f"experiment={preset}", f"store={tmp_path}"])
    assert len(planned) == jobs
    assert len({d for _, d in planned}) == jobs  # every job its own run id
    assert all(d.parent == tmp_path / preset for _, d in planned)
    assert all(any(o.startswith(key + "=") for o in overrides) for overrides, _ in planned)


def test_fit_refuses_a_foreign_target(tmp_path, capsys):
    assert main(["fit", f"store={tmp_path}", "+priors.x._target_=os.system"]) == 2
    assert "only cargoinfer's own classes" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------- cut-off

def test_cut_leaves_out_what_came_after(default_case_dir):
    case = load_case(default_case_dir)
    day = date(2023, 9, 15)
    c = cut(case, day)
    assert c.spec.end == day and c.full_end == case.spec.end
    assert c.content_hash != case.content_hash
    for name in ("imagery", "containers", "depot"):
        assert c.tables[name]["date"].max() <= day
        assert 0 < c.tables[name].height < case.tables[name].height
    v = c.tables["voyages"]
    for col in ("origin_seen", "destination_seen"):
        assert v[col].drop_nulls().max() <= day
    assert (v["origin_seen"].is_not_null() | v["destination_seen"].is_not_null()).all()
    assert c.tables["claims"].height == 0  # both claims' periods end later
    assert cut(case, case.spec.end).tables["voyages"].height == case.tables["voyages"].height
    with pytest.raises(ValueError, match="before the window"):
        cut(case, date(2023, 8, 1))


# ---------------------------------------------------------------- failures, resuming

def test_clean_staging_removes_only_dead_writers_leftovers(tmp_path):
    from cargoinfer.experiments import store

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = __import__("socket").gethostname()
    names = {"dead": f".staging-abc123.{dead.pid}@{host}.x1y2", "live": f".staging-abc124.{os.getpid()}@{host}.q",
             "aside": f".replaced-abc125.{dead.pid}@{host}.z", "other_host": f".staging-abc126.1@elsewhere.example.w",
             "run": "abc127"}
    for name in names.values():
        (tmp_path / name).mkdir()
    removed = store.clean_staging(tmp_path)
    assert sorted(removed) == sorted([names["dead"], names["aside"]])
    assert {p.name for p in tmp_path.iterdir()} == {names["live"], names["other_host"], names["run"]}
    old = time.time() - 2 * 86400
    os.utime(tmp_path / names["other_host"], (old, old))
    assert store.clean_staging(tmp_path) == [names["other_host"]]


def test_failed_job_is_recorded_and_the_others_go_on(tmp_path, capsys, monkeypatch):
    """A job that raises gets a `failed` run directory with its reason; the sweep goes on;
    a re-run skips the complete runs and replaces the failed one when it succeeds."""
    from cargoinfer.experiments import run

    real_fit = run.fit

    def flaky(family, route, values, seed, inference, **kw):
        if seed == 2:
            raise RuntimeError("disk on fire")
        return real_fit(family, route, values, seed, inference, **kw)

    monkeypatch.setattr(run, "fit", flaky)
    args = ["sweep", f"store={tmp_path}", "model=baseline", "seed=1,2,3", "hydra/launcher=serial"]
    assert main(args) == 1  # a failed job: non-zero, after every job ran
    out = capsys.readouterr().out
    assert "1 failed" in out and ("2 review" in out or "2 briefing-grade" in out), out
    first = records(tmp_path / "default")
    assert len(first) == 3
    failed = [r for r in first.values() if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["seed"] == 2
    assert "disk on fire" in failed[0]["reasons"][0]
    assert_whole(tmp_path / "default")

    monkeypatch.setattr(run, "fit", real_fit)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "3 jobs (2 already complete)" in out
    second = records(tmp_path / "default")
    assert set(second) == set(first)
    for rid, r in first.items():
        if r["status"] == "failed":
            assert second[rid]["status"] != "failed"
        else:
            assert second[rid] == r  # not redone
    assert not list((tmp_path / "default").glob(".staging-*"))
    assert not list((tmp_path / "default").glob(".replaced-*"))


@pytest.mark.slow
def test_same_id_gives_identical_estimates(tmp_path):
    """The same run from a sweep's process that reused its compiled model for another job
    first (2 cores), and from a fresh `fit` on 1 core, has the same id and a
    byte-identical estimates.csv: neither the compile cache nor the sampler's threads
    change the draws."""
    code, out, err = cli("sweep", f"store={tmp_path / 'a'}", "model=voyages", "seed=1,2",
                         "inference.cores=2", "hydra/launcher=serial", *TWO_CHAINS)
    assert code in (0, 1), err
    code, out, err = cli("fit", f"store={tmp_path / 'b'}", "model=voyages", "seed=2",
                         "inference.cores=1", *TWO_CHAINS)
    assert code == 0, err
    fresh = Path(out.strip().splitlines()[-1].removeprefix("run: "))
    swept = tmp_path / "a" / "default" / fresh.name
    assert swept.is_dir(), "the same config and seed must give the same run id"
    assert json.loads((swept / "run.json").read_text())["sampler"]["cores"] == min(2, os.cpu_count())
    assert json.loads((fresh / "run.json").read_text())["sampler"]["cores"] == 1
    assert (swept / "estimates.csv").read_bytes() == (fresh / "estimates.csv").read_bytes()


# ---------------------------------------------------------------- killed and re-run

N_JOBS = 8


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="needs Linux /proc")
def test_sigkill_midway_then_rerun_completes_only_the_rest(tmp_path):
    """N_JOBS jobs of voyages with the joblib launcher, SIGKILLed (the whole process group)
    once a few runs are complete, then re-run: N_JOBS complete runs, the ones complete before
    the kill untouched, and no half-written run directory at any point checked."""
    args = ["sweep", f"store={tmp_path}", "model=voyages", "seed=" + ",".join(map(str, range(1, N_JOBS + 1))),
            "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *TINY]
    folder = tmp_path / "default"
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from cargoinfer.experiments.cli "
                             "import main; sys.exit(main())", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and len(records(folder) if folder.is_dir() else {}) < 3:
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    before = {rid: (r, (folder / rid / "run.json").stat().st_mtime_ns)
              for rid, r in records(folder).items()}
    assert 3 <= len(before) < N_JOBS, f"{len(before)} complete when killed"
    assert_whole(folder)

    code, out, err = cli(*args)
    assert code == 0, err
    assert f"{N_JOBS} jobs ({len(before)} already complete)" in out, out
    after = records(folder)
    assert len(after) == N_JOBS and all(r["status"] != "failed" for r in after.values())
    for rid, (r, mtime) in before.items():
        assert after[rid] == r and (folder / rid / "run.json").stat().st_mtime_ns == mtime
    assert_whole(folder)
    assert not list(folder.glob(".staging-*"))


# ---------------------------------------------------------------- launchers

@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["ray", "submitit_local"])
def test_launcher_runs_a_four_job_sweep(tmp_path, launcher):
    pytest.importorskip({"ray": "hydra_plugins.hydra_ray_launcher",
                         "submitit_local": "hydra_plugins.hydra_submitit_launcher"}[launcher])
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    # baseline: nothing to compile, so the test times the launcher, not four model compiles
    code, out, err = cli("sweep", f"store={tmp_path}", "model=baseline", "seed=1,2,3,4",
                         f"hydra/launcher={launcher}", env=env)
    assert code == 0, err[-3000:]
    assert "with the " + launcher + " launcher" in out
    found = records(tmp_path / "default")
    assert sorted(r["seed"] for r in found.values()) == [1, 2, 3, 4]
    assert_whole(tmp_path / "default")


# ---------------------------------------------------------------- presets, runs, compare

@pytest.mark.slow
def test_model_ladder_then_runs_and_compare(tmp_path):
    store = tmp_path / "store"
    code, out, err = cli("sweep", f"store={store}", "experiment=model_ladder", *TINY)
    assert code in (0, 1), err
    ladder = store / "model_ladder"
    found = records(ladder)
    assert sorted(r["model"]["name"] for r in found.values()) == ["baseline", "dynamic", "joint", "voyages"]

    code, out, err = cli("runs", f"store={store}")
    assert code == 0 and "4 runs" in out, err
    code, out, err = cli("runs", f"store={store}", "model=joint", "experiment=model_ladder")
    assert code == 0 and "1 runs" in out and "joint@" in out and "voyages@" not in out
    code, out, err = cli("runs", f"store={store}", "status=failed")
    assert code == 0 and "0 runs" in out
    assert cli("runs", f"store={store}", "colour=red")[0] == 2

    code, out, err = cli("compare", str(ladder))
    assert code == 0, err
    for name in ("baseline", "voyages", "joint", "dynamic"):
        assert f"{name}@" in out
    table = pl.read_csv(ladder / "compare" / "compare.csv")
    assert table.height == 4
    assert {"model", "case", "median", "lower", "upper", "status", "elpd_diff", "se_diff"} <= set(table.columns)
    sampled = table.filter(pl.col("model").str.starts_with("baseline").not_())
    assert sampled["elpd_diff"].null_count() == 0 and (sampled["elpd_diff"] >= 0).all()
    assert sampled["elpd_diff"].min() == 0  # the best run on the shared streams
    assert (ladder / "compare" / "forest.png").stat().st_size > 10_000
    assert (ladder / "compare" / "compare.md").read_text().startswith("| run_id | model")
    assert not (ladder / "compare" / "run.json").exists()
    assert "4 runs" in cli("runs", f"store={store}")[1]  # compare/ is no run

    # the comparison brief: how the headline moves across the ladder, with the forest plot
    code, out, err = cli("brief", str(ladder))
    assert code == 0, err
    md = (ladder / "compare" / "brief.md").read_text()
    ok = table.filter(pl.col("median").is_not_null())
    assert "ranges from" in md and "By model@version:" in md
    for r in ok.iter_rows(named=True):
        assert f"{r['model']}: {fmt_count(r['median'])} ({fmt_count(r['lower'])}-" in md
    html = (ladder / "compare" / "brief.html").read_text()
    assert html.count("data:image/png;base64,") == 1 and "src=\"forest.png\"" not in html
    assert (ladder / "compare" / "compare.csv").is_file()  # compare's files rewritten beside it
    code, out, err = cli("brief", str(ladder / "compare"))  # or from compare's output
    assert code == 0 and (ladder / "compare" / "brief.md").read_text() == md, err


@pytest.mark.slow
def test_cutoff_backtest_forecasts_the_full_window(tmp_path):
    code, out, err = cli("sweep", f"store={tmp_path}", "experiment=cutoff_backtest", "model=voyages",
                         "case.cutoff=2023-09-15,2023-10-14", *TINY)
    assert code in (0, 1), err
    found = {r["case"]["cutoff"]: r for r in records(tmp_path / "cutoff_backtest").values()}
    assert set(found) == {"2023-09-15", "2023-10-14"}
    assert found["2023-09-15"]["headline"]["estimand"] == "forecast_containers"
    assert found["2023-09-15"]["case"]["window"] == ["2023-08-15", "2023-09-15"]
    assert found["2023-10-14"]["headline"]["estimand"] == "total_containers"
    cut_run = tmp_path / "cutoff_backtest" / found["2023-09-15"]["run_id"]
    md = (cut_run / "brief.md").read_text()  # the forecast is the brief's headline
    assert "will have left Rajin for Dunai between 15 August and 14 October 2023, from the " \
           "data to 15 September 2023" in md, md[:600]
