"""The `cargoinfer` command: check, fit, sweep, runs, compare, brief, simulate, plan, calibrate, warm.

Exit status: 0 done, 2 refused input or config (nothing written), 1 anything else."""

from __future__ import annotations

import importlib
import os
import sys
import time

from ..inference.logs import quiet

USAGE = """usage: cargoinfer COMMAND [args]

commands:
  init DIR                write a case folder to fill in (values and rows marked EXAMPLE)
  check CASE_DIR          validate a case folder; exit 2 listing every problem
  fit [overrides]         one run, e.g. case=rajin_dunai_2023 case.path=DIR model=voyages
                          seed=N store=DIR (Hydra overrides; --cfg prints the config);
                          with no model=, the family that uses the case's tables
  sweep [overrides]       Hydra multirun: comma lists (model=voyages,joint) or
                          experiment=NAME (model_ladder, detection_sensitivity,
                          cutoff_backtest, prior_sweep); hydra/launcher=joblib (the
                          default: one worker per core)|serial|ray|submitit_local|
                          submitit_slurm. One run directory per job
                          in <store>/<experiment_name>/; complete runs are skipped
  runs [store=DIR] [experiment=E model=M case=C status=S tag=T]
                          list the runs in a store (default ./runs), filtered
  compare RUN_DIR... | SWEEP_DIR [out=DIR]
                          one table of the runs (config keys that differ, headline,
                          status, LOO difference on shared streams), compare.csv,
                          compare.md and forest.png
  brief RUN_DIR [out=DIR]  brief.md and a self-contained brief.html of a run: headline
                          in ICD 203 words, figures, assumptions, provenance, diagnostics
  brief SWEEP_DIR | COMPARE_DIR [out=DIR]
                          a comparison brief: how the headline moves across the runs,
                          with the forest plot (default out: SWEEP_DIR/compare)
  simulate model=NAME seed=N out=DIR [case=NAME | case.path=DIR]
                          a synthetic case folder plus truth.json from a model family's
                          own generative process (voyages, joint, dynamic, network), parameters
                          drawn from its prior, on the shape of a template case
  simulate scenario=NAME seed=N out=DIR
                          an event-level synthetic case folder plus truth.json
                          (scenarios: steady, pause, load_change, vessel_joins; and
                          network: several ports per end, each imaged at its own
                          cadence, vessels switching routes)
  plan RUN_DIR [plan=NAME] [only=[A,B]]
                          which next collection (imagery, a count, a depot
                          measurement, a package) narrows the run's headline interval
                          most per unit of cost; a plan directory beside the run's
  calibrate model=NAME n_sims=N [case=... store=... workers=W calibration.KEY=V]
                          simulation-based calibration: n_sims simulations from the
                          model's prior on the case's shape, each refitted; writes
                          calibration.csv, ranks.csv and a rank ECDF plot with a verdict
  warm [NAME ... | --default]
                          compile every model family (or those named, or the default
                          one) once on the default case, in the worker, which keeps them
                          for later commands (`make` runs `warm --default` after installing)
  worker [status|stop]    the local worker that keeps compiled models between fit, sweep,
                          calibrate, plan and warm (on by default; --no-worker or
                          CARGOINFER_WORKER=0: run in this process; idle exit after
                          CARGOINFER_WORKER_IDLE seconds, default 10800)
"""


def entry() -> None:
    """The console script: a served command goes to the local worker (experiments/worker.py)
    unless `--no-worker` or CARGOINFER_WORKER=0; anything else runs here."""
    argv = sys.argv[1:]
    local = "--no-worker" in argv
    argv = [a for a in argv if a != "--no-worker"]
    code = None
    if not local:
        from . import worker

        code = worker.run(argv)
    sys.exit(main(argv) if code is None else code)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0 if argv else 2
    command, args = argv[0], argv[1:]
    handlers = {"init": init_command, "check": check_command, "fit": fit_command,
                "simulate": _lazy("simulate", "simulate_command"),
                "sweep": _lazy("sweep", "sweep_command"), "runs": _lazy("runs", "runs_command"),
                "compare": _lazy("compare", "compare_command"),
                "brief": _lazy("brief", "brief_command"),
                "plan": _lazy("planning", "plan_command"),
                "calibrate": calibrate_command, "warm": warm_command,
                "worker": worker_command}
    if command not in handlers:
        from .config import did_you_mean

        print(f"cargoinfer: unknown command '{command}'{did_you_mean(command, handlers)}\n{USAGE}",
              file=sys.stderr, end="")
        return 2
    try:
        return handlers[command](args)
    except KeyboardInterrupt:
        print("cargoinfer: interrupted", file=sys.stderr)
        return 1
    except Exception as e:  # an internal failure: one line, details on request
        if os.environ.get("CARGOINFER_DEBUG"):
            raise
        print(f"cargoinfer: {command} failed: {type(e).__name__}: {_one_line(e)} "
              "(set CARGOINFER_DEBUG=1 for details)", file=sys.stderr)
        return 1


def _lazy(module: str, name: str):
    """A command from experiments/<module>.py, imported only when it runs."""
    def command(args: list[str]) -> int:
        return getattr(importlib.import_module(f".{module}", __package__), name)(args)
    return command


def _one_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else ""


def init_command(args: list[str]) -> int:
    """Write the template case folder into DIR (new or empty), all files or none."""
    import os
    import tempfile
    from pathlib import Path

    from ..observations.template import files

    if len(args) != 1 or args[0].startswith("-"):
        print("usage: cargoinfer init DIR", file=sys.stderr)
        return 2
    folder = Path(args[0]).expanduser()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        print(f"cargoinfer init: {folder} exists and is not an empty folder; nothing was written",
              file=sys.stderr)
        return 2
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        template = files()
        for name, text in template.items():
            (staging / name).write_text(text)
        if folder.exists():
            folder.rmdir()
        os.replace(staging, folder)
    except OSError as e:
        print(f"cargoinfer init: {folder}: {e.strerror or e}; nothing was written", file=sys.stderr)
        return 2
    print(f"wrote {folder}/: {', '.join(template)}")
    print("next: replace every value and row marked EXAMPLE (README.md says what each file "
          f"holds), then run: cargoinfer check {folder}")
    return 0


def check_command(args: list[str]) -> int:
    from ..observations.case import load_case
    from ..observations.problems import CaseInvalid
    from ..observations.summary import summary

    if len(args) != 1:
        print("usage: cargoinfer check CASE_DIR", file=sys.stderr)
        return 2
    try:
        case = load_case(args[0])
    except CaseInvalid as e:
        print(e.report(), file=sys.stderr)
        return 2
    print(summary(case))
    return 0


def _configured_run(command: str, args: list[str], config_name: str, execute):
    """Compose the overrides into `config_name` and call execute(cfg, overrides).

    Returns (exit status, None) when refused or printing the config (--cfg), else
    (None, what execute returned). Refusals print one reason and write nothing."""
    from omegaconf import OmegaConf

    from ..observations.problems import CaseInvalid
    from .config import ConfigError, compose

    show_cfg = "--cfg" in args
    overrides = [a for a in args if a not in ("--cfg", "job")]
    bad = [a for a in overrides if a.startswith("-")]
    if bad:
        print(f"cargoinfer {command}: unknown option {bad[0]} (overrides are key=value)",
              file=sys.stderr)
        return 2, None
    try:
        cfg = compose(overrides, config_name=config_name)
        if show_cfg:
            print(OmegaConf.to_yaml(cfg), end="")
            return 0, None
        return None, execute(cfg, overrides)
    except ConfigError as e:
        print(f"cargoinfer {command}: config refused: {e}", file=sys.stderr)
        return 2, None
    except CaseInvalid as e:
        print(e.report(), file=sys.stderr)
        print(f"cargoinfer {command}: case refused; nothing was written", file=sys.stderr)
        return 2, None


def fit_command(args: list[str]) -> int:
    t0 = time.perf_counter()
    quiet()

    picked = []  # model=auto's choice and why

    def execute(cfg, overrides):
        from .run import execute

        if cfg.model.get("picked"):
            picked.append(cfg.model.picked)
        return execute(cfg, overrides, t_start=t0, progress=sys.stderr.isatty())

    code, result = _configured_run("fit", args, "config", execute)
    if code is not None:
        return code
    run_dir, record, reused = result
    h = record["headline"]
    from .wording import fmt_count

    if picked:
        print(f"model: {picked[0]}")
    if reused:
        print("already complete: same model, case, config and seed")
    print(f"{h['estimand']}: {fmt_count(h['median'])} "
          f"({h['ci_prob']:.0%} {h['ci_kind'].upper()} {fmt_count(h['lower'])}-{fmt_count(h['upper'])})")
    reasons = f" ({'; '.join(record['reasons'])})" if record["reasons"] else ""
    print(f"status: {record['status']}{reasons}")
    for note in record.get("notes", []):
        print(f"note: {note}")
    print(f"run: {run_dir}")
    return 0


def calibrate_command(args: list[str]) -> int:
    quiet()

    def execute(cfg, overrides):
        from .calibrate import execute

        return execute(cfg, overrides)

    code, result = _configured_run("calibrate", args, "calibrate", execute)
    if code is not None:
        return code
    run_dir, record, reused = result
    if reused:
        print("already complete: same model, case, config and seed")
    reasons = f" ({'; '.join(record['reasons'])})" if record["reasons"] else ""
    print(f"{record['model']['name']}@{record['model']['version']}, {record['n_sims']} simulations")
    print(f"verdict: {record['verdict']}{reasons}")
    print(f"run: {run_dir}")
    return 0


def warm_command(args: list[str]) -> int:
    """Compile each sampled model family once (or those named; `--default`: the family
    `cargoinfer fit` uses), on the default case's shape and priors. Run in the worker, the
    compiled models stay there for later commands; PyTensor also caches the compiled
    pieces of each graph on disk for any later process."""
    quiet()
    from ..inference.fit import compiled
    from ..models import registry
    from ..observations.aggregate import route_data
    from ..observations.case import load_case
    from .config import case_dir, compose

    found = registry.families()
    args = [compose([]).model.name if a == "--default" else a for a in args]
    unknown = [a for a in args if a not in found]
    if unknown:
        from .config import did_you_mean

        print(f"cargoinfer warm: unknown model '{unknown[0]}' (known: {', '.join(sorted(found))})"
              f"{did_you_mean(unknown[0], sorted(found))}",
              file=sys.stderr)
        return 2
    for name in args or sorted(found):
        family = found[name]
        if not hasattr(family, "build"):
            continue
        t0 = time.perf_counter()
        cfg = compose([f"model={name}"])
        case = load_case(case_dir(cfg))
        route = route_data(case, cfg.model.transit_days, cfg.model.max_containers_per_voyage,
                           transit_extra_days=cfg.model.transit_extra_days)
        compiled(family, family.data_values(route, cfg.priors))
        print(f"compiled {family.NAME}@{family.VERSION} in {time.perf_counter() - t0:.1f} s")
    return 0


def worker_command(args: list[str]) -> int:
    from . import worker

    if args not in ([], ["status"], ["stop"]):
        print("usage: cargoinfer worker [status|stop]", file=sys.stderr)
        return 2
    if args == ["stop"]:
        print(f"asked {worker.stop()} worker(s) to exit")
        return 0
    found = worker.status()
    if not found:
        print("no worker running")
    for rec in found:
        age = time.time() - rec["started"]
        print(f"pid {rec['pid']}: {'this code' if rec['current'] else 'other code'}, "
              f"up {age / 60:.0f} min, idle exit after {rec['idle_s']:.0f} s ({rec['package']})")
    return 0


if __name__ == "__main__":
    entry()
