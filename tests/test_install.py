"""Packaging: the package builds without a setuptools warning and carries every config and
case file that git tracks (make installs it the same way, editable)."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_builds_quietly_with_every_data_file(tmp_path):
    src = tmp_path / "src"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(src)], check=True)
    # the working tree's pyproject.toml, so that the test checks what is being committed
    (src / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                          "--no-build-isolation", str(src), "-w", str(tmp_path / "whl")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    noisy = [line for line in (out.stdout + out.stderr).splitlines()
             if "Warning" in line or "would be ignored" in line]
    assert not noisy, "\n".join(noisy)
    (wheel,) = (tmp_path / "whl").glob("*.whl")
    packed = {n.removeprefix("cargoinfer/") for n in zipfile.ZipFile(wheel).namelist()}
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "configs", "cases"],
                             capture_output=True, text=True, check=True).stdout.split()
    assert tracked and not set(tracked) - packed, sorted(set(tracked) - packed)


def _pins(path: Path) -> dict[str, str]:
    """name (normalised, PEP 503) -> version of a lock file's `name==version` lines."""
    import re

    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            out[re.sub(r"[-_.]+", "-", name).lower()] = version
    return out


def test_the_run_lock_is_the_full_locks_pins_for_the_package_and_its_dependencies():
    """`make demo` installs requirements-run.lock, `make test` requirements.lock: the run
    lock holds every runtime dependency (pyproject.toml) and setuptools (the editable
    install), each at the full lock's version, and nothing only the tools need."""
    import re
    import tomllib

    run, full = _pins(ROOT / "requirements-run.lock"), _pins(ROOT / "requirements.lock")
    differ = {n: (v, full.get(n)) for n, v in run.items() if full.get(n) != v}
    assert not differ, differ
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[ ;]", d)[0]).lower() for d in deps}
    assert not (names | {"setuptools"}) - set(run), (names | {"setuptools"}) - set(run)
    assert not {"pytest", "mkdocs", "ray", "hydra-ray-launcher", "submitit"} & set(run)
