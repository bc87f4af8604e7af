import logging
import os
import shutil
from importlib import resources
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
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
