"""The local worker (experiments/worker.py): same output, files and exit codes as a
command in its own process; one per version of the code; private; off when asked."""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).with_name("cargoinfer"))


def _env(where: Path, **extra) -> dict:
    env = {**os.environ, "CARGOINFER_WORKER": "1", "CARGOINFER_WORKER_DIR": str(where),
           "CARGOINFER_WORKER_IDLE": "300"}
    env.update(extra)
    return env


def _run(args, env, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def _workers(where: Path) -> list[dict]:
    out = []
    for p in where.glob("w-*.json"):
        try:
            out.append(json.loads(p.read_text()))
        except (OSError, ValueError):
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has exited
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _gone(pid: int, within_s: float = 20) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < within_s:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def where(tmp_path):
    d = tmp_path / "w"
    yield d
    for rec in _workers(d):
        try:
            os.kill(rec["pid"], signal.SIGKILL)
        except OSError:
            pass


def _runs(store: Path) -> list[str]:
    return sorted(p.name for p in store.glob("*/*") if not p.name.startswith("."))


def test_same_output_files_and_exit_codes_as_in_process(tmp_path, where):
    args = ["fit", "model=baseline", "seed=3"]
    served = _run([*args, f"store={tmp_path}/a"], _env(where))
    assert len(_workers(where)) == 1, "the command did not go to a worker"
    local = _run([*args, f"store={tmp_path}/b"], _env(where, CARGOINFER_WORKER="0"))
    assert (served.returncode, local.returncode) == (0, 0), served.stderr + local.stderr
    assert served.stdout.replace(f"{tmp_path}/a", "S") == local.stdout.replace(f"{tmp_path}/b", "S")
    assert served.stderr == local.stderr
    assert _runs(tmp_path / "a") == _runs(tmp_path / "b") and len(_runs(tmp_path / "a")) == 1
    rid = _runs(tmp_path / "a")[0]
    for name in ("estimates.csv", "series.csv"):
        assert ((tmp_path / "a/default" / rid / name).read_bytes()
                == (tmp_path / "b/default" / rid / name).read_bytes())
    # a refusal: same message, exit 2, nothing written, through the same worker
    bad = ["fit", "model=jiont", f"store={tmp_path}/c"]
    r1, r2 = _run(bad, _env(where)), _run(bad, _env(where, CARGOINFER_WORKER="0"))
    assert (r1.returncode, r1.stdout, r1.stderr) == (r2.returncode, r2.stdout, r2.stderr)
    assert r1.returncode == 2 and not (tmp_path / "c").exists()
    # a plan goes to the worker too: a baseline run's plan is refused the same way
    run = tmp_path / "a/default" / rid
    plan = ["plan", str(run), "only=[quay_count_next]"]
    p1, p2 = _run(plan, _env(where)), _run(plan, _env(where, CARGOINFER_WORKER="0"))
    assert (p1.returncode, p1.stdout, p1.stderr) == (p2.returncode, p2.stdout, p2.stderr)
    assert p1.returncode == 2 and "no model to simulate new rows from" in p1.stderr
    # relative paths are the client's: its working directory, not the worker's
    rel = _run(["fit", "model=baseline", "seed=3", "store=rel"], _env(where), cwd=tmp_path)
    assert rel.returncode == 0 and _runs(tmp_path / "rel") == [rid]
    assert len(_workers(where)) == 1  # every command went to the one worker


def test_private_to_its_user(tmp_path, where):
    assert _run(["fit", "model=baseline", f"store={tmp_path}/s"], _env(where)).returncode == 0
    assert stat.S_IMODE(where.stat().st_mode) == 0o700
    (sock,) = where.glob("w-*.sock")
    assert stat.S_ISSOCK(sock.stat().st_mode) and stat.S_IMODE(sock.stat().st_mode) == 0o600


def test_a_folder_others_can_read_is_not_used(tmp_path):
    where = tmp_path / "open"
    where.mkdir(mode=0o755)
    where.chmod(0o755)
    r = _run(["fit", "model=baseline", f"store={tmp_path}/s"], _env(where))
    assert r.returncode == 0 and not list(where.iterdir())  # ran in its own process


def test_switched_off(tmp_path, where):
    r1 = _run(["fit", "model=baseline", f"store={tmp_path}/s"], _env(where, CARGOINFER_WORKER="0"))
    r2 = _run(["--no-worker", "fit", "model=baseline", f"store={tmp_path}/s", "seed=2"],
              _env(where))
    assert (r1.returncode, r2.returncode) == (0, 0)
    assert not list(where.glob("w-*.sock")) and not _workers(where)
    assert len(_runs(tmp_path / "s")) == 2


def test_two_clients_at_once_both_finish(tmp_path, where):
    procs = [subprocess.Popen([CLI, "fit", "model=baseline", f"seed={s}", f"store={tmp_path}/s"],
                              env=_env(where), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for s in (4, 5, 6)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert len(_runs(tmp_path / "s")) == 3 and len(_workers(where)) == 1


def test_idle_worker_exits(tmp_path, where):
    assert _run(["fit", "model=baseline", f"store={tmp_path}/s"],
                _env(where, CARGOINFER_WORKER_IDLE="1")).returncode == 0
    (rec,) = _workers(where)
    assert _gone(rec["pid"])
    assert not list(where.glob("w-*.sock"))


def test_new_code_gets_a_new_worker(tmp_path, where):
    """A copy of the package on PYTHONPATH: editing one of its files names a new worker,
    and the old one (same package, older code) is asked to exit."""
    pkg = tmp_path / "pkg" / "cargoinfer"
    src = Path(str(resources.files("cargoinfer")))
    pkg.mkdir(parents=True)
    shutil.copy(src / "__init__.py", pkg)
    for d in ("observations", "models", "inference", "experiments", "configs", "cases"):
        shutil.copytree(src / d, pkg / d, ignore=shutil.ignore_patterns("__pycache__"))
    env = _env(where, PYTHONPATH=str(pkg.parent))

    def fit(seed):
        r = subprocess.run([sys.executable, "-m", "cargoinfer.experiments.cli", "fit",
                            "model=baseline", f"seed={seed}", f"store={tmp_path}/s"],
                           env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr

    fit(1)
    (old,) = _workers(where)
    assert old["package"] == str(pkg)
    with open(pkg / "models" / "baseline.py", "a") as f:
        f.write("# an edit\n")
    fit(2)
    new = [w for w in _workers(where) if w["pid"] != old["pid"]]
    assert len(new) == 1 and new[0]["key"] != old["key"]
    assert _gone(old["pid"])


@pytest.mark.slow
def test_killed_mid_fit_leaves_no_run(tmp_path, where):
    """SIGKILL to the worker while it compiles and samples: the client says so in one line
    and exits 1; the store holds no run directory."""
    proc = subprocess.Popen([CLI, "fit", "model=voyages", f"store={tmp_path}/s"], env=_env(where),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not _workers(where) and time.monotonic() - t0 < 120:
        time.sleep(0.1)
    time.sleep(5)  # importing is done; compiling (about 15 s on 2 cores) or sampling
    (rec,) = _workers(where)
    os.kill(rec["pid"], signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert err.count("\n") == 1 and "worker" in err and str(rec["pid"]) in err, err
    assert _runs(tmp_path / "s") == []


@pytest.mark.slow
def test_interrupt_reaches_the_command(tmp_path, where):
    """Ctrl-C at the client interrupts the command in the worker, which stays up."""
    proc = subprocess.Popen([CLI, "fit", "model=voyages", f"store={tmp_path}/s"], env=_env(where),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not _workers(where) and time.monotonic() - t0 < 120:
        time.sleep(0.1)
    time.sleep(5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1 and "interrupted" in err, err
    assert _runs(tmp_path / "s") == []
    (rec,) = _workers(where)
    assert _alive(rec["pid"])


@pytest.mark.slow
def test_a_sampled_fit_is_the_same_through_the_worker(tmp_path, where, capsys):
    """voyages (compiled and sampled by nutpie): byte-identical estimates.csv and the same
    lines, in the worker and in this process (`cli.main`, as `--no-worker` runs it); the
    worker's second fit reuses its compiled model."""
    from cargoinfer.experiments.cli import main

    args = ["fit", "model=voyages", "inference.draws=300", "inference.tune=300", "seed=7"]
    served = _run([*args, f"store={tmp_path}/a"], _env(where))
    assert served.returncode == 0, served.stderr
    capsys.readouterr()
    assert main([*args, f"store={tmp_path}/b"]) == 0
    local = capsys.readouterr().out
    assert served.stdout.replace(f"{tmp_path}/a", "S") == local.replace(f"{tmp_path}/b", "S")
    (rid,) = _runs(tmp_path / "a")
    assert ((tmp_path / "a/default" / rid / "estimates.csv").read_bytes()
            == (tmp_path / "b/default" / rid / "estimates.csv").read_bytes())
    again = _run([*args[:-1], "seed=8", f"store={tmp_path}/a"], _env(where))
    assert again.returncode == 0
    timings = [json.loads((tmp_path / "a/default" / r / "run.json").read_text())["timings"]
               for r in _runs(tmp_path / "a")]
    assert sorted(t["compile_s"] == 0.0 for t in timings) == [False, True]
