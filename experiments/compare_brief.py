"""`cargoinfer brief SWEEP_DIR | COMPARE_DIR`: how the headline moves across runs.

From a sweep folder it builds compare's table (and writes compare's files beside the
brief); from compare's output folder it reads compare.csv and forest.png."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from . import compare, document
from .brief import BriefError
from .wording import ROUNDING_RULE, fmt_count


def write_comparison_brief(path: Path, out: Path | None = None) -> Path:
    """Write brief.md and brief.html; returns the folder they are in."""
    if (path / "compare.csv").is_file():
        df = pl.read_csv(path / "compare.csv", infer_schema_length=None)
        name = path.resolve().parent.name if path.name == "compare" else path.name
        out = path if out is None else out
        out.mkdir(parents=True, exist_ok=True)
        if not (out / "forest.png").is_file():
            compare.forest(df, compare.config_columns(df), out / "forest.png")
        document.write(out, blocks(df, name), f"Comparison brief: {name}")
        return out
    try:
        runs = compare.collect([path])
    except ValueError as e:
        raise BriefError(str(e)) from None
    df = compare.compare_table(runs)
    out = path / "compare" if out is None else out
    compare.write(df, out, also=lambda folder: document.write(
        folder, blocks(df, path.name), f"Comparison brief: {path.name}"))
    return out


def _interval(r: dict) -> str:
    return f"{fmt_count(r['median'])} ({fmt_count(r['lower'])}-{fmt_count(r['upper'])})"


def movement(df: pl.DataFrame, keys: list[str]) -> list[str]:
    """Sentences on how the headline moves: its range, then along each setting varied."""
    ok = df.filter(pl.col("median").is_not_null())
    if not ok.height:
        return ["No run has a headline: every run failed."]
    est = (ok["estimand"][0].replace("_", " ") if ok["estimand"].n_unique() == 1
           else "headline (" + " or ".join(sorted(set(ok["estimand"]))) + ")")
    prob = ok["ci_prob"][0]
    lo, hi = ok.sort("median").row(0, named=True), ok.sort("median").row(-1, named=True)
    out = [f"Across {ok.height} runs the {est} estimate (median, {prob:.0%} credible interval) "
           f"ranges from {_interval(lo)} ({compare.label(lo, keys)}) to {_interval(hi)} "
           f"({compare.label(hi, keys)})."]
    varied = (["model"] if ok["model"].n_unique() > 1 else []) + \
             [k for k in keys if ok[k].n_unique() > 1]
    for key in varied:
        name = "model@version" if key == "model" else compare.short(key)
        steps = [f"{r[key]}: {_interval(r)}" for r in ok.sort(key).iter_rows(named=True)]
        if len(varied) == 1 or len(steps) <= 6:
            out.append(f"By {name}: " + "; ".join(steps) + ".")
    width = (ok["upper"] - ok["lower"])
    out.append(f"Interval widths run from {fmt_count(width.min())} to {fmt_count(width.max())}.")
    if ok["model"].str.starts_with("baseline@").any():
        out.append("baseline's interval is a bootstrap over the container counts of the voyages "
                   "seen, not a credible interval: it leaves out the voyages nobody saw.")
    return out


def blocks(df: pl.DataFrame, name: str) -> list[tuple]:
    keys = compare.config_columns(df)
    out: list[tuple] = [("title", f"How the headline moves: {name}, {df.height} runs")]
    weak = df.filter(pl.col("status") != "briefing-grade")
    if weak.height:
        out.append(("banner", f"{weak.height} of {df.height} runs are not briefing-grade ("
                              + "; ".join(f"{compare.label(r, keys)}: {r['status']}"
                                          for r in weak.iter_rows(named=True))
                              + "): do not cite their numbers without review."))
    lines = movement(df, keys)
    out += [("headline", lines[0]), ("list", lines[1:]),
            ("figure", "forest.png", "The headline of each run: median (dot) and credible "
                                     "interval (line); blue briefing-grade, orange review.")]
    rows = []
    for r in df.iter_rows(named=True):
        loo = ("-" if r.get("elpd_diff") is None
               else f"{r['elpd_diff']:.1f} ± {r['se_diff']:.1f} ({r['loo_streams']})")
        rows.append([compare.label(r, keys), "-" if r["median"] is None else _interval(r),
                     r["status"], loo, f"`{r['run_id']}`"])
    out += [("h2", "Runs"),
            ("table", ["run", "headline (interval)", "status", "elpd_diff ± se (streams)", "run id"],
             rows),
            *route_blocks(df, keys),
            ("p", "elpd_diff: PSIS-LOO expected log predictive density below the best run, on "
                  "the observation streams the runs share, among runs of the same case data "
                  "(0 for the best; a difference within about two se_diff is no evidence)."),
            ("p", "Each run's own brief, with its assumptions, provenance and diagnostics, is "
                  "brief.html in its run directory (`cargoinfer brief RUN_DIR`)."),
            ("p", f"Rounding: {ROUNDING_RULE}")]
    return out


def route_blocks(df: pl.DataFrame, keys: list[str]) -> list[tuple]:
    """Network runs: each route's containers per run (median and interval)."""
    names = compare.routes(df)
    if not names:
        return []
    return [("h2", "Per route"),
            ("table", ["run", *(n.removeprefix(compare.ROUTE)[:-1] for n in names)],
             [[compare.label(r, keys), *(compare.route_cell(r, n) for n in names)]
              for r in df.iter_rows(named=True)]),
            ("p", "Containers per route (origin->destination), median and 90% credible "
                  "interval; '-' where a run has no such route (a one-route model pools "
                  "the ports).")]

