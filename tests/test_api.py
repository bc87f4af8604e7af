"""The Python API (experiments/api.py): the same runs as the command line, refusals as one
exception type, nothing written on bad input."""

import json
from pathlib import Path

import cargoinfer as ci
import pytest
from cargoinfer.experiments.api import overrides

QUICK = {"model": "voyages", "inference": {"draws": 300, "tune": 300, "chains": 2}}


def cli_run_dir(first_run) -> Path:
    code, out, err = first_run
    assert code == 0, err
    return Path(out.strip().splitlines()[-1].removeprefix("run: "))


def test_fit_gives_the_cli_run(first_run, tmp_path):
    """Same overrides as the CLI's session run: the same run id and the same estimates.csv,
    byte for byte; a second fit of voyages in this process reuses its compiled model."""
    cli = cli_run_dir(first_run)
    run = ci.fit(store=str(tmp_path / "store"), seed=1, **QUICK)
    assert run.id == cli.name and not run.reused
    assert (run.dir / "estimates.csv").read_bytes() == (cli / "estimates.csv").read_bytes()
    assert run.record["timings"]["compile_s"] == 0.0  # the session's CLI run compiled it
    assert run.record["command"].startswith("cargoinfer.fit ")
    assert run.status == json.loads((cli / "run.json").read_text())["status"]
    assert run.estimates["estimand"][0] == "total_containers"
    assert "total_containers" in run.tree["estimands"]
    assert "total_containers" in run.headline_text() and run.status in repr(run)
    html = run._repr_html_()
    assert run.status in html and "data:image/png;base64," in html
    again = ci.load(run.dir)
    assert again.id == run.id and again.estimates.equals(run.estimates)
    assert ci.fit(store=str(tmp_path / "store"), seed=1, **QUICK).reused


def test_strings_and_keywords_are_the_same_overrides(default_case_dir):
    assert overrides(("seed=2",), {"model": "joint", "inference": {"draws": 500},
                                   "horizon": "2024-02-26", "tags": ["a", "b"], "case.cutoff": None}) \
        == ["seed=2", "model=joint", "inference.draws=500", "horizon=2024-02-26", "tags=[a,b]",
            "case.cutoff=null"]
    assert overrides((), {"case": "rajin_dunai_2023"}) == ["case=rajin_dunai_2023"]
    assert overrides((), {"case": default_case_dir}) == [f"case.path={default_case_dir}"]
    assert overrides((), {"title": "it's"}) == ["title='it\\'s'"]
    assert overrides((), {"model": ["voyages", "joint"]}, sweep=True) == ["model=voyages,joint"]
    with pytest.raises(ci.InputError, match="not an override"):
        overrides(("seed",), {})


@pytest.mark.parametrize("options, fragment", [
    ({"model": "nope"}, "no model named 'nope'"),
    ({"inference": {"draws": 0}}, "inference.draws"),
    ({"priors": {"load_cv": {"scale": -1}}}, "priors.load_cv.scale"),
    ({"horizon": "2023-01-01"}, "horizon"),
])
def test_bad_config_raises_input_error(tmp_path, options, fragment):
    with pytest.raises(ci.InputError) as e:
        ci.fit(store=str(tmp_path / "store"), **options)
    assert fragment in str(e.value) and e.value.problems
    assert not (tmp_path / "store").exists()


def test_bad_case_raises_input_error_with_its_cells(tmp_path, case_copy):
    (case_copy / "voyages.csv").write_text("vessel,origin_seen\nAngara,2023-13-01\n")
    with pytest.raises(ci.InputError) as e:
        ci.fit(case=case_copy, store=str(tmp_path / "store"))
    assert "voyages.csv:1:destination_seen: required column is missing" in e.value.problems
    assert not (tmp_path / "store").exists()
    with pytest.raises(ci.InputError) as e:
        ci.check(case_copy)
    assert "voyages.csv:1:destination_seen: required column is missing" in e.value.problems


def test_check_and_load(default_case_dir, tmp_path):
    case = ci.check(default_case_dir)
    assert case.spec.name and case.voyages.height > 0
    with pytest.raises(ci.InputError, match="not a complete run directory"):
        ci.load(tmp_path)


def test_sweep_and_compare(tmp_path):
    """A two-job sweep of the bootstrap baseline (no sampler) through the API, compared."""
    runs = ci.sweep(model="baseline", seed=[1, 2], store=str(tmp_path / "store"),
                    experiment_name="api", **{"hydra/launcher": "serial"})
    assert sorted(r.record["seed"] for r in runs) == [1, 2]
    table = ci.compare(runs, out=tmp_path / "cmp")
    assert table.height == 2 and (tmp_path / "cmp" / "compare.csv").is_file()
    with pytest.raises(ci.InputError):
        ci.sweep(model="nope", store=str(tmp_path / "store2"))
    assert not (tmp_path / "store2").exists()


@pytest.mark.slow
def test_example_notebook_runs(tmp_path):
    """examples/first_fit.ipynb, every cell, in a fresh kernel (its runs go to tmp_path)."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(__file__).parents[1] / "examples" / "first_fit.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = [o for o in outputs if "text/html" in o.get("data", {})]
    assert any("status" in o["data"]["text/html"] for o in shown)  # the Run's own view
    assert "config refused: inference.draws" in "".join(o.get("text", "") for o in outputs)
    assert len(list((tmp_path / "runs" / "default").iterdir())) == 2


def test_compose_works_inside_a_hydra_app_and_leaves_it_as_it_was():
    """A notebook that ran a Hydra app (or a sweep whose launcher left Hydra set up) can
    still fit: `compose` sets Hydra's global state aside and puts it back."""
    from cargoinfer.experiments.config import compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    with initialize_config_module("cargoinfer.configs", version_base="1.3"):
        assert compose(["model=joint"]).model.name == "joint"
        assert GlobalHydra.instance().is_initialized()
    assert not GlobalHydra.instance().is_initialized()
    assert compose([]).model.name
