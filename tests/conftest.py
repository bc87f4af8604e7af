import contextlib
import io
import logging
import os
import shutil
from importlib import resources
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["CARGOINFER_WORKER"] = "0"  # commands run in their own process; test_worker.py turns it on
for _name in ("pytensor", "pymc", "numba"):
    logging.getLogger(_name).setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def default_case_dir() -> Path:
    return Path(str(resources.files("cargoinfer.cases") / "rajin_dunai_2023"))


@pytest.fixture
def case_copy(tmp_path, default_case_dir) -> Path:
    """A writable copy of the embedded case."""
    dst = tmp_path / "case"
    shutil.copytree(default_case_dir, dst)
    return dst


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="session")
def first_run(store):
    """`cargoinfer fit` of the default model and case at quick sampler settings, seed 1,
    shared by the session: (exit code, stdout, stderr). capsys is function-scoped, so
    the output is captured by hand."""
    from cargoinfer.experiments.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["fit", "model=voyages", "inference.draws=300", "inference.tune=300", "inference.chains=2",
                     f"store={store}", "seed=1"])
    return code, out.getvalue(), err.getvalue()
