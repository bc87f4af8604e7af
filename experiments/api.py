"""The Python API: what the command line does, for notebooks and scripts.

    import cargoinfer as ci
    run = ci.fit(case="rajin_dunai_2023", model="joint", horizon="2024-02-26", seed=1)
    run.estimates        # polars DataFrame (estimates.csv)
    run.tree             # the posterior DataTree (posterior.nc)
    run.status, run.reasons, run.dir
    ci.load(run.dir); ci.check(folder); ci.sweep(model=["voyages", "joint"]); ci.compare([...])
    ci.plan(run, only=["quay_count_next"]).table   # cargoinfer plan: which collection next

Options are the command line's overrides: Hydra override strings ("model=joint"), or
keywords (`model="joint"`, `inference={"draws": 500}`, `**{"priors.depot_share.alpha": 3}`).
`case=` takes an embedded case's name or a case folder's path. They are composed and
checked exactly as `cargoinfer fit` does, so a fit writes the same run directory, with
the same run id and the same estimates.csv. Bad input raises `InputError` and writes
nothing. In one process, a second fit of a family reuses its compiled model."""

from __future__ import annotations

import base64
import html
import json
import re
import warnings
from datetime import date
from functools import cached_property
from pathlib import Path

from ..observations.problems import CaseInvalid
from .config import ConfigError


class InputError(ValueError):
    """Input the user can fix: an override, a config value or a case folder. `problems`
    holds one line per problem (`file:row:column: message` for a case folder). Nothing was
    written."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems) if problems is not None else [message]
        super().__init__(message)


_PLAIN = re.compile(r"^[\w./:@+-]+$")  # an override value Hydra reads as it is


def _value(value) -> str:
    """A Python value as Hydra override text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_value(v) for v in value) + "]"
    text = str(value)
    if _PLAIN.match(text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _flat(key: str, value) -> list[tuple[str, object]]:
    if isinstance(value, dict):
        return [kv for k, v in value.items() for kv in _flat(f"{key}.{k}", v)]
    return [(key, value)]


def overrides(args: tuple[str, ...] = (), options: dict | None = None,
              sweep: bool = False) -> list[str]:
    """Hydra overrides from override strings and keyword options. `case=` names an
    embedded case or, given a path to a folder, sets `case.path`. In a sweep a list is the
    values to sweep over (a comma list), else a list value."""
    out = []
    for a in args:
        if not isinstance(a, str) or "=" not in a:
            raise InputError(f"'{a}' is not an override (key=value)")
        out.append(a)
    for key, value in (options or {}).items():
        if key == "case" and isinstance(value, (str, Path)) and _is_path(value):
            out.append(f"case.path={_value(str(Path(value).expanduser()))}")
            continue
        for k, v in _flat(key, value):
            if sweep and isinstance(v, (list, tuple)):
                out.append(f"{k}={','.join(_value(x) for x in v)}")
            else:
                out.append(f"{k}={_value(v)}")
    return out


def _is_path(value) -> bool:
    text = str(value)
    return isinstance(value, Path) or "/" in text or text.startswith(".") or Path(text).is_dir()


def _refused(e: Exception) -> InputError:
    if isinstance(e, CaseInvalid):
        return InputError(f"case refused: {e}; nothing was written",
                          [str(p) for p in e.problems])
    return InputError(f"config refused: {e}", str(e).split("\n"))


def fit(*args: str, progress: bool = False, **options) -> "Run":
    """One run, as `cargoinfer fit` with the same overrides; returns the Run (a complete
    run of the same model, case, config and seed is reused, as on the command line)."""
    import time

    from ..inference.logs import quiet
    from . import run as run_module
    from .config import compose

    t0 = time.perf_counter()
    quiet()
    ov = overrides(args, options)
    try:
        cfg = compose(ov)
        run_dir, record, reused = run_module.execute(cfg, ov, t_start=t0, command="cargoinfer.fit",
                                                     progress=progress)
    except (ConfigError, CaseInvalid) as e:
        raise _refused(e) from None
    return Run(run_dir, record, reused)


def load(run_dir: str | Path) -> "Run":
    """A run directory written earlier (complete: its run.json exists)."""
    folder = Path(run_dir).expanduser()
    try:
        record = json.loads((folder / "run.json").read_text())
    except FileNotFoundError:
        raise InputError(f"{folder}: not a complete run directory (no run.json)") from None
    except ValueError as e:
        raise InputError(f"{folder / 'run.json'}: unreadable ({e})") from None
    return Run(folder, record)


def check(folder: str | Path):
    """The case folder, read and validated as `cargoinfer check` does; InputError lists
    every problem (file:row:column)."""
    from ..observations.case import load_case

    try:
        return load_case(folder)
    except CaseInvalid as e:
        raise _refused(e) from None


def sweep(*args: str, **options) -> list["Run"]:
    """`cargoinfer sweep` with these overrides (lists are swept over: model=["voyages",
    "joint"]); the sweep's runs, complete ones reused. Every job is checked before any
    runs; one bad job raises InputError and nothing runs."""
    from .sweep import run_sweep

    ov = overrides(args, options, sweep=True)
    try:
        planned, _ = run_sweep(ov, progress=False, say=lambda line: None)
    except (ConfigError, CaseInvalid) as e:
        raise _refused(e) from None
    return [load(d) for _, d in planned if (d / "run.json").is_file()]


def compare(runs, out: str | Path | None = None):
    """The comparison table (polars) of runs (Run objects or run or sweep folders), as
    `cargoinfer compare` prints it; with `out`, compare.csv, compare.md and forest.png
    are written there too."""
    from . import compare as cmp

    paths = [r.dir if isinstance(r, Run) else Path(r) for r in
             (runs if isinstance(runs, (list, tuple)) else [runs])]
    try:
        found = cmp.collect(paths)
    except ValueError as e:
        raise InputError(str(e)) from None
    df = cmp.compare_table(found)
    if out is not None:
        cmp.write(df, Path(out))
    return df


def plan(run, *args: str, **options) -> "Plan":
    """`cargoinfer plan` of a run (a Run or its folder) with these overrides of
    configs/plan_run.yaml (`plan="NAME"`, `only=["A", "B"]`, `n_outer=16`,
    `**{"plan.options.quay_count_next.cost": 5}`); returns the Plan (a plan done before is
    read back). A bad menu or run raises InputError, naming option and key, and writes
    nothing."""
    from ..inference.logs import quiet
    from .planning import PlanRefused, make_plan

    quiet()
    folder = run.dir if isinstance(run, Run) else Path(run).expanduser()

    def say(line: str) -> None:  # the command's warnings, as Python warnings
        if line.startswith("warning: "):
            warnings.warn(line.removeprefix("warning: "), stacklevel=3)

    try:
        out, table, record, reused = make_plan(folder, overrides(args, options), say=say)
    except PlanRefused as e:
        raise InputError(e.problems[-1] if len(e.problems) == 1 else
                         f"plan refused: {'; '.join(e.problems)}", e.problems) from None
    return Plan(out, table, record, reused)


class Plan:
    """A plan directory (`cargoinfer plan`): `table` is plan.csv, `record` plan.json."""

    def __init__(self, folder: Path, table, record: dict, reused: bool = False):
        self.dir, self.table, self.record, self.reused = Path(folder), table, record, reused

    def __repr__(self) -> str:
        from .planning import text

        from .planning import not_briefing_grade

        review = not_briefing_grade(self.record)
        return f"Plan of run {self.record['run_id']} ({self.dir})\n" + (
            f"REVIEW: {review}\n" if review else "") + text(
            self.table, self.record["cost_unit"])

    def _repr_html_(self) -> str:
        e = html.escape
        data = base64.b64encode((self.dir / "plan.png").read_bytes()).decode()
        head = "".join(f"<th>{e(c)}</th>" for c in self.table.columns)
        body = "".join("<tr>" + "".join(
            f"<td>{e(f'{v:,.1f}' if isinstance(v, float) else str(v))}</td>" for v in row)
            + "</tr>" for row in self.table.iter_rows())
        return (f"<div><p>Plan of run <code>{e(self.record['run_id'])}</code> "
                f"({e(self.record['model'])}, headline {e(self.record['headline'])})</p>"
                f"<table><tr>{head}</tr>{body}</table>"
                f'<img alt="expected width against cost" style="max-width:640px" '
                f'src="data:image/png;base64,{data}">'
                f"<p><code>{e(str(self.dir))}</code></p></div>")


class Run:
    """A run directory and what it holds; read lazily, written by `fit`."""

    def __init__(self, folder: Path, record: dict, reused: bool = False):
        self.dir = Path(folder)
        self.record = record  # run.json
        self.reused = reused  # an earlier complete run of the same id

    id = property(lambda self: self.record["run_id"])
    status = property(lambda self: self.record["status"])
    reasons = property(lambda self: list(self.record.get("reasons", [])))
    notes = property(lambda self: list(self.record.get("notes", [])))
    headline = property(lambda self: self.record.get("headline"))
    model = property(lambda self: f"{self.record['model']['name']}@{self.record['model']['version']}")

    @cached_property
    def estimates(self):
        import polars as pl

        return pl.read_csv(self.dir / "estimates.csv")

    @cached_property
    def series(self):
        import polars as pl

        return pl.read_csv(self.dir / "series.csv", try_parse_dates=True)

    @cached_property
    def tree(self):
        import xarray as xr

        with xr.open_datatree(self.dir / "posterior.nc", engine="h5netcdf") as t:
            return t.load()

    @cached_property
    def config(self):
        from omegaconf import OmegaConf

        return OmegaConf.load(self.dir / "config.yaml")

    def brief(self, out: str | Path | None = None) -> Path:
        """brief.md and brief.html (the run's own, or rewritten into `out`); their folder."""
        from .brief import load_view, write_run_brief

        target = self.dir if out is None else Path(out)
        if out is not None:
            target.mkdir(parents=True, exist_ok=True)
            write_run_brief(load_view(self.dir), target)
        return target

    def headline_text(self) -> str:
        from .runs import headline_text

        return headline_text(self.record)

    def __repr__(self) -> str:
        return (f"Run({self.model} on {self.record['case']['name']}: {self.headline_text()}; "
                f"{self.status}; {self.dir})")

    def _repr_html_(self) -> str:
        e = html.escape
        reasons = "".join(f"<li>{e(r)}</li>" for r in self.reasons)
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        figure = self.dir / "figures" / "cumulative_containers.png"
        img = ""
        if figure.is_file():
            data = base64.b64encode(figure.read_bytes()).decode()
            img = f'<img alt="cumulative containers" style="max-width:640px" src="data:image/png;base64,{data}">'
        return (f"<div><p><b>{e(self.headline_text())}</b></p>"
                f"<p>{e(self.model)} on {e(self.record['case']['name'])}, seed {self.record['seed']}; "
                f"status <b>{e(self.status)}</b></p>"
                + (f"<p>Why:</p><ul>{reasons}</ul>" if reasons else "")
                + (f"<p>Notes:</p><ul>{notes}</ul>" if notes else "")
                + img + f"<p><code>{e(str(self.dir))}</code></p></div>")
