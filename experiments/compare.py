"""`cargoinfer compare RUN_DIR... | SWEEP_DIR`: runs side by side.

One table: model@version, case, the config keys whose values differ between the runs,
the headline estimate and interval, status, and the LOO difference to the best run on
the streams they share (with its standard error), among runs of the same case data.
Printed, and written as compare.csv and compare.md with a forest plot of the headline
(forest.png) to out=DIR (default: SWEEP_DIR/compare, or ./compare for run folders)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import polars as pl

from .runs import find_runs, table

# config keys that never tell runs apart in a comparison: where runs are written, the
# sampler's threads (draws do not depend on them), the model (its own column)
IGNORED = ("store", "inference.cores", "model.name", "model.version", "model.picked", "tags")


def flat(node, prefix: str = "") -> dict:
    out = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(flat(v, f"{prefix}.{k}" if prefix else str(k)))
    else:
        out[prefix] = node
    return out


def collect(paths: list[Path]) -> list[tuple[Path, dict]]:
    """Run directories named, or every run in a sweep folder (a folder of run folders).
    Raises ValueError naming a path that is neither."""
    runs = []
    for path in paths:
        if (path / "run.json").is_file():
            runs.append((path, json.loads((path / "run.json").read_text())))
        elif path.is_dir():
            inside = find_runs(path, "*/run.json")
            if not inside:
                raise ValueError(f"{path}: neither a run directory nor a sweep folder with runs")
            runs += inside
        else:
            raise ValueError(f"{path}: no such run directory or sweep folder")
    return runs


def differing(runs: list[tuple[Path, dict]]) -> dict[str, list]:
    """Config key -> value per run, for the keys whose values differ between runs."""
    import yaml

    configs = []
    for run_dir, _ in runs:
        try:
            configs.append(flat(yaml.safe_load((run_dir / "config.yaml").read_text()) or {}))
        except (OSError, yaml.YAMLError):
            configs.append({})
    keys = sorted(set().union(*configs)) if configs else []
    out = {}
    for key in keys:
        if any(key == i or key.startswith(i + ".") for i in IGNORED):
            continue
        values = [c.get(key) for c in configs]
        if len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1:
            out[key] = values
    return out


def loo_differences(runs: list[tuple[Path, dict]]) -> dict[str, dict]:
    """run id -> LOO on the streams shared with the other runs of the same case data."""
    import xarray as xr

    from ..inference.checks import compare_loo

    by_case: dict[str, list] = {}
    for run_dir, record in runs:
        if record.get("status") != "failed" and (run_dir / "posterior.nc").is_file():
            by_case.setdefault(record["case"]["content_hash"], []).append((run_dir, record))
    out = {}
    for group in by_case.values():
        trees = {}
        for run_dir, record in group:
            tree = xr.open_datatree(run_dir / "posterior.nc", engine="h5netcdf")
            if "log_likelihood" in tree.children:
                trees[record["run_id"]] = tree
        if len(trees) < 2:
            continue
        result = compare_loo(trees)
        for row in result["models"]:
            out[row["model"]] = {**row, "streams": "+".join(result["streams"])}
    return out


def compare_table(runs: list[tuple[Path, dict]]) -> pl.DataFrame:
    diff = differing(runs)
    loo = loo_differences(runs)
    rows = []
    for i, (run_dir, r) in enumerate(runs):
        h = r.get("headline") or {}
        row = {"run_id": r["run_id"], "model": f"{r['model']['name']}@{r['model']['version']}",
               "case": r["case"]["name"]}
        row.update({k: None if v[i] is None else str(v[i]) for k, v in diff.items()})
        lo = loo.get(r["run_id"], {})
        row.update({"estimand": h.get("estimand"), "median": h.get("median"),
                    "lower": h.get("lower"), "upper": h.get("upper"), "ci_kind": h.get("ci_kind"),
                    "ci_prob": h.get("ci_prob"), "status": r.get("status"),
                    "loo_streams": lo.get("streams"), "elpd_loo": lo.get("elpd_loo"),
                    "elpd_diff": lo.get("elpd_diff"), "se_diff": lo.get("se_diff"),
                    "run_dir": str(run_dir)})
        row.update(route_headlines(run_dir))
        rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


ROUTE = "route_containers["  # a network run's per-route totals in its estimates.csv


def route_headlines(run_dir: Path) -> dict:
    """A network run's containers per route: `route_containers[O->D] median` (and lower,
    upper) for each route in its estimates.csv; {} for a one-route run."""
    path = run_dir / "estimates.csv"
    if not path.is_file():
        return {}
    est = pl.read_csv(path, infer_schema_length=None)
    return {f"{r['estimand']} {k}": r[k] for r in est.iter_rows(named=True)
            if r["estimand"].startswith(ROUTE) for k in ("median", "lower", "upper")}


def routes(df: pl.DataFrame) -> list[str]:
    """The route estimands among a comparison's columns, in order."""
    return list(dict.fromkeys(c.rsplit(" ", 1)[0] for c in df.columns if c.startswith(ROUTE)))


def route_cell(r: dict, name: str) -> str:
    from .wording import fmt_count

    m = r.get(f"{name} median")
    return "-" if m is None else (f"{fmt_count(m)} ({fmt_count(r[f'{name} lower'])}-"
                                  f"{fmt_count(r[f'{name} upper'])})")


def _text_rows(df: pl.DataFrame) -> tuple[list[str], list[list[str]]]:
    from .wording import fmt_count

    shown = [c for c in df.columns if c not in ("run_dir", "ci_kind", "ci_prob", "lower", "upper",
                                                "loo_streams", "elpd_loo")
             and not c.startswith(ROUTE)]
    names = routes(df)
    probs = {p for p in df["ci_prob"].to_list() if p is not None}
    interval = f"{probs.pop():.0%} interval" if len(probs) == 1 else "interval"
    header = [c if c != "median" else f"headline ({interval})" for c in shown]
    header += [n.removeprefix(ROUTE)[:-1] for n in names]
    rows = []
    for r in df.iter_rows(named=True):
        cells = []
        for c in shown:
            v = r[c]
            if c == "median":
                v = ("-" if v is None else f"{fmt_count(v)} ({fmt_count(r['lower'])}-"
                     f"{fmt_count(r['upper'])})")
            elif c in ("elpd_diff", "se_diff"):
                v = "-" if v is None else f"{v:.1f}"
            cells.append("-" if v is None else str(v))
        rows.append(cells + [route_cell(r, n) for n in names])
    return header, rows


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def short(key: str) -> str:
    """A config key as a label: priors.identification_origin.alpha -> identification_origin.alpha."""
    return ".".join(key.split(".")[-2:]) if key.startswith("priors.") else key.split(".")[-1]


def label(row: dict, keys: list[str]) -> str:
    """A run as model@version and its values of the config keys that differ."""
    return ", ".join([row["model"]] + [f"{short(k)}={row[k]}" for k in keys
                                       if row.get(k) is not None])


def forest(df: pl.DataFrame, diff_keys: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = df.filter(pl.col("median").is_not_null())
    labels = [label(r, diff_keys) for r in ok.iter_rows(named=True)]
    n = max(ok.height, 1)
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.5 * n))
    colors = {"briefing-grade": "tab:blue", "review": "tab:orange"}
    for i, r in enumerate(ok.iter_rows(named=True)):
        y = n - 1 - i
        c = colors.get(r["status"], "0.5")
        ax.plot([r["lower"], r["upper"]], [y, y], color=c, lw=3)
        ax.plot(r["median"], y, "o", color=c, ms=8)
    ax.set_yticks(range(n - 1, n - 1 - ok.height, -1), labels)
    estimand = ok["estimand"][0] if ok.height else "total_containers"
    prob = ok["ci_prob"][0] if ok.height else 0.9
    ax.set_xlabel(f"{estimand.replace('_', ' ')} (median and {prob:.0%} credible interval)")
    ax.set_title("Headline across runs (blue: briefing-grade, orange: review)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def folders_and_out(args: list[str]) -> tuple[list[Path], Path | None]:
    """The folders named on a command line and its out=DIR; ValueError for an option."""
    out, paths = None, []
    for a in args:
        if a.startswith("out="):
            out = Path(a[4:])
        elif a.startswith("-"):
            raise ValueError(f"unknown option {a}")
        else:
            paths.append(Path(a))
    return paths, out


def compare_command(args: list[str]) -> int:
    from ..inference.logs import quiet

    quiet()
    try:
        paths, out = folders_and_out(args)
    except ValueError as e:
        print(f"cargoinfer compare: {e}", file=sys.stderr)
        return 2
    if not paths:
        print("usage: cargoinfer compare RUN_DIR... | SWEEP_DIR [out=DIR]", file=sys.stderr)
        return 2
    try:
        runs = collect(paths)
    except ValueError as e:
        print(f"cargoinfer compare: {e}", file=sys.stderr)
        return 2
    if out is None:
        out = paths[0] / "compare" if len(paths) == 1 and not (paths[0] / "run.json").is_file() \
            else Path("compare")
    df = compare_table(runs)
    header, rows = _text_rows(df)
    print(table(rows, header))
    streams = sorted({s for s in df["loo_streams"].to_list() if s})
    if streams:
        print(f"elpd_diff: PSIS-LOO below the best run on the streams the runs share "
              f"({', '.join(streams)}), among runs of the same case data; se_diff: its standard error")
    write(df, out, header, rows)
    print(f"compare: {out}")
    return 0


def config_columns(df: pl.DataFrame) -> list[str]:
    """The table's config-key columns (between case and the headline)."""
    return df.columns[3:df.columns.index("estimand")]


def write(df: pl.DataFrame, out: Path, header=None, rows=None, also=None) -> None:
    """compare.csv, compare.md and forest.png in `out`, replaced whole; `also(folder)`
    adds files to the folder before it appears."""
    if header is None:
        header, rows = _text_rows(df)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        df.write_csv(tmp / "compare.csv")
        (tmp / "compare.md").write_text(markdown(header, rows))
        forest(df, config_columns(df), tmp / "forest.png")
        if also is not None:
            also(tmp)
        if out.exists():
            shutil.rmtree(out)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
