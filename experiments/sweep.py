"""`cargoinfer sweep`: Hydra multirun, every job a run directory in one sweep folder.

Before anything runs, every job's config is composed and checked (schema, values, the
case folder): one bad job refuses the whole sweep with exit 2, naming it. Jobs whose
run directory is already complete are skipped (content-addressed ids), so re-running
a sweep, after a crash or a kill, completes only what is missing. A job that fails is
recorded as a `failed` run directory with its reason, and the others go on."""

from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from ..inference.logs import quiet
from . import store

# what `hydra.launcher` / `hydra.sweeper` may name: Hydra's own and the launcher plugins
LAUNCHERS = {  # the default is joblib (configs/config.yaml)
    "hydra._internal.core_plugins.basic_launcher.BasicLauncher": "serial",
    "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher": "joblib",
    "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher": "ray",
    "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher": "submitit_local",
    "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher": "submitit_slurm",
}
SWEEPERS = ("hydra._internal.core_plugins.basic_sweeper.BasicSweeper",)
JOBS_ENV = "CARGOINFER_SWEEP_JOBS"  # the sweep's job count, for progress lines


def _hydra():
    """Hydra's own app object (what @hydra.main builds), on cargoinfer's configs. Hydra's
    internal API: pyproject pins hydra-core below 1.4."""
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.global_hydra import GlobalHydra

    from .schema import register

    register()
    GlobalHydra.instance().clear()
    return Hydra.create_main_hydra2(
        task_name="cargoinfer", config_search_path=create_config_search_path("pkg://cargoinfer.configs"))


def job_overrides(hydra, overrides: list[str]):
    """The sweep's config (with its `hydra` node) and each job's overrides, as Hydra's
    basic sweeper expands them (the config's sweeper params, then the command line)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.types import RunMode

    cfg = hydra.compose_config("config", overrides, run_mode=RunMode.MULTIRUN)
    params = [f"{k}={v}" for k, v in (cfg.hydra.sweeper.get("params") or {}).items()]
    parsed = OverridesParser.create(config_loader=hydra.config_loader).parse_overrides(
        params + list(cfg.hydra.overrides.task))
    return cfg, BasicSweeper.split_arguments(parsed, None)[0]


def plan_sweep(overrides: list[str]):
    """(sweep config, [(job overrides, run dir)]) or ConfigError naming what is wrong."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from hydra.core.global_hydra import GlobalHydra

    from ..observations.problems import CaseInvalid
    from . import run
    from .config import ConfigError, _first_line, compose, unknown_name

    hydra = _hydra()
    try:
        cfg, jobs = job_overrides(hydra, overrides)
    except (HydraException, OmegaConfBaseException) as e:
        hint = ("; ray and submitit_* are optional extras: pip install 'cargoinfer[launchers]'"
                if "hydra/launcher" in str(e) and not set(LAUNCHERS.values())
                <= set(hydra.config_loader.get_group_options("hydra/launcher")) else "")
        allowed = {"hydra/launcher": LAUNCHERS.values()}
        raise ConfigError((unknown_name(e, hydra.config_loader, allowed) or _first_line(e))
                          + hint) from None
    finally:
        GlobalHydra.instance().clear()  # `compose` below sets up its own
    for key, allowed in (("launcher", LAUNCHERS), ("sweeper", SWEEPERS)):
        target = cfg.hydra[key].get("_target_")
        if target not in allowed:
            raise ConfigError(f"hydra.{key}._target_: '{target}' is not one of cargoinfer's "
                              f"{key}s ({', '.join(sorted(allowed))})")
    planned, problems = [], []
    for job in jobs:
        try:
            _, _, run_dir, _ = run.plan(compose(job))
            planned.append((job, run_dir))
        except ConfigError as e:
            problems.append(f"job {' '.join(job) or '(no overrides)'}: {e}")
        except CaseInvalid as e:
            problems.append(f"job {' '.join(job) or '(no overrides)'}: case refused:\n{e.report()}")
    if problems:
        raise ConfigError("\n".join(problems))
    return cfg, planned


def sweep_command(args: list[str]) -> int:
    quiet()
    from .config import ConfigError

    overrides = [a for a in args if a not in ("-m", "--multirun")]
    bad = [a for a in overrides if a.startswith("-")]
    if bad:
        print(f"cargoinfer sweep: unknown option {bad[0]} (overrides are key=value)", file=sys.stderr)
        return 2
    try:
        _, counts = run_sweep(overrides, sys.stderr.isatty(), lambda line: print(line, flush=True))
    except ConfigError as e:
        print(f"cargoinfer sweep: config refused: {e}", file=sys.stderr)
        return 2
    return 0 if set(counts) <= {"briefing-grade", "review"} else 1


def run_sweep(overrides: list[str], progress: bool, say):
    """Plan every job (ConfigError before anything runs), run the sweep and return the
    planned (job overrides, run dir) and the runs per final state; `say(line)` gets the
    start and end lines."""
    cfg, planned = plan_sweep(overrides)
    folders = sorted({run_dir.parent for _, run_dir in planned})
    done = sum(store.is_complete(d) and store.status(d) != "failed" for _, d in planned)
    launcher = LAUNCHERS[cfg.hydra.launcher._target_]
    say(f"sweep: {len(planned)} jobs ({done} already complete) with the {launcher} launcher, "
        f"into {', '.join(map(str, folders))}")
    t0 = time.perf_counter()
    for folder in folders:
        store.clean_staging(folder)
    os.environ[JOBS_ENV] = str(len(planned))
    with _progress_bar([d for _, d in planned], progress):
        _hydra().multirun("config", job, overrides, with_log_configuration=True)
    quiet()
    counts: dict[str, int] = {}
    for _, run_dir in planned:
        state = store.status(run_dir) if store.is_complete(run_dir) else "missing"
        counts[state] = counts.get(state, 0) + 1
    say(f"sweep: {len(planned)} jobs in {time.perf_counter() - t0:.1f} s: "
        + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    for folder in folders:
        say(f"sweep: {folder}")
    return planned, counts


@contextmanager
def _progress_bar(run_dirs: list[Path], show: bool, width: int = 30):
    """On a terminal, a bar of the sweep's complete runs, redrawn every second from the
    run directories themselves (so it works with any launcher)."""
    if not show:
        yield
        return

    stop = threading.Event()

    def draw():
        while True:
            n = sum(store.is_complete(d) for d in run_dirs)
            k = width * n // max(len(run_dirs), 1)
            sys.stderr.write(f"\r\033[K[{'#' * k}{'.' * (width - k)}] {n}/{len(run_dirs)} runs complete")
            sys.stderr.flush()
            if stop.wait(1.0):
                sys.stderr.write("\n")
                return

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def sampler_cores(launcher, wanted: int) -> int:
    """The sampler's threads for one job: jobs running at once share the machine's cores
    (joblib: cores / n_jobs), and a Ray or Slurm job keeps to the CPUs it reserved."""
    cpus = os.cpu_count() or 1
    target = launcher.get("_target_", "")
    if target.endswith("JoblibLauncher"):
        n = int(launcher.get("n_jobs") or 1)
        return max(1, min(wanted, cpus // (cpus if n < 0 else n)))
    if target.endswith("RayLauncher"):
        return max(1, min(wanted, int(launcher.ray.remote.get("num_cpus") or 1)))
    if target.endswith(("LocalLauncher", "SlurmLauncher")):
        return max(1, min(wanted, int(launcher.get("cpus_per_task") or 1)))
    return max(1, min(wanted, cpus))


def job(cfg) -> str:
    """One job of a sweep, in whatever process the launcher runs it: fit, or record why not.

    The sampler's cores are capped so that jobs running at once share the machine's cores
    (nutpie's draws do not depend on its cores: the run id leaves them out)."""
    from hydra.core.hydra_config import HydraConfig

    from . import run
    from .config import check, compose

    t0 = time.perf_counter()
    quiet()  # Hydra configured logging for this job
    hc = HydraConfig.get()
    overrides = list(hc.overrides.task)
    try:
        if cfg.model.name == "auto":  # the family for the job's case, as plan_sweep chose it
            cfg = compose(overrides)  # checked there
        else:
            check(cfg)
        cfg.inference.cores = sampler_cores(hc.launcher, cfg.inference.cores)
        # no sampler progress bar here: the sweep draws its own (_progress_bar)
        run_dir, record, reused = run.execute(cfg, overrides, t_start=t0, command="cargoinfer sweep")
        state = "skipped, complete" if reused else record["status"]
    except Exception as e:  # recorded, and the sweep goes on
        state = f"failed: {type(e).__name__}: {str(e).strip()[:200]}"
        try:
            run_dir = run.record_failure(cfg, overrides, e, time.perf_counter() - t0)
        except Exception as e2:
            run_dir = Path("(not recorded)")
            state += f"; its record could not be written: {type(e2).__name__}: {e2}"
    total = os.environ.get(JOBS_ENV, "?")
    clear = "\r\033[K" if sys.stderr.isatty() else ""  # over the progress bar's line
    print(f"{clear}[{hc.job.num + 1}/{total}] {' '.join(overrides) or '(defaults)'} -> {run_dir.name} "
          f"{state} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    return str(run_dir)

