"""`cargoinfer plan RUN_DIR [plan=NAME] [overrides]` (work in progress, issue 22): the
command, and the plan directory it writes beside the run's.

The plan directory `<run_id>-plan-<digest>` (the digest of the run, the menu, the
settings and the code: content-addressed like runs) holds plan.csv, plan.json, plan.png
(expected width against cost, the Pareto front marked) and plan.md / plan.html. It is
written whole into a staging folder and renamed, so it is complete or absent.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

COLUMNS = ("option", "kind", "cost", "width_now", "width_expected", "width_expected_mcse",
           "reduction", "reduction_per_cost", "method")


def pareto_front(costs, widths) -> np.ndarray:
    """(n,) True where no other option costs at most as much and narrows at least as far,
    one of the two strictly."""
    costs, widths = np.asarray(costs, float), np.asarray(widths, float)
    out = np.ones(len(costs), bool)
    for i in range(len(costs)):
        better = (costs <= costs[i]) & (widths <= widths[i]) & (
            (costs < costs[i]) | (widths < widths[i]))
        out[i] = not better.any()
    return out


def table(assessments) -> pl.DataFrame:
    rows = [{"option": a.option.name, "kind": a.option.kind, "cost": a.option.cost,
             "width_now": a.width_now, "width_expected": a.width_expected,
             "width_expected_mcse": a.width_expected_mcse, "reduction": a.reduction,
             "reduction_per_cost": a.reduction_per_cost, "method": a.method}
            for a in assessments]
    return pl.DataFrame(rows, schema={c: (pl.String if c in ("option", "kind", "method")
                                          else pl.Float64) for c in COLUMNS})


def text(df: pl.DataFrame, unit: str) -> str:
    """The plan as the command prints it: one line per option, widths rounded."""
    rows = [["option", "cost", "width now", "expected", "reduction", f"per {unit}", "method"]]
    rows += [[r["option"], f"{r['cost']:g}", f"{r['width_now']:,.0f}",
              f"{r['width_expected']:,.0f} ± {r['width_expected_mcse']:,.0f}",
              f"{r['reduction']:,.0f}", f"{r['reduction_per_cost']:,.1f}", r["method"]]
             for r in df.iter_rows(named=True)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                for i, (c, w) in enumerate(zip(r, widths))) + "  " + r[-1]
                     for r in rows)


def figure(df: pl.DataFrame, path: Path, unit: str, headline: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.2), dpi=110)
    ax = fig.add_subplot()
    cost, width, err = (df[c].to_numpy() for c in ("cost", "width_expected",
                                                     "width_expected_mcse"))
    front = pareto_front(cost, width)
    ax.errorbar(cost, width, yerr=np.nan_to_num(err), fmt="o", color="#4a6fa5", capsize=3)
    order = np.argsort(cost[front])
    ax.plot(cost[front][order], width[front][order], "-o", color="#c0392b", lw=1.2,
            mfc="none", ms=11, label="Pareto front")
    ax.axhline(float(df["width_now"][0]), color="#888", ls="--", lw=1, label="width now")
    for name, x, y in zip(df["option"], cost, width):
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel(f"cost ({unit})", fontsize=9)
    ax.set_ylabel("expected width of the 90% interval", fontsize=9)
    ax.set_title(f"{headline}: width after each option (± Monte Carlo error)", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


HEADLINE_WORDS = {"total_containers": "the containers shipped in the window",
                  "forecast_containers": "the containers shipped to the forecast's horizon"}


def measurable(row: dict) -> bool:
    """A reduction more than two Monte Carlo errors above none."""
    err = row["width_expected_mcse"]
    return row["reduction"] > 2 * (err if err == err else 0.0)


def not_briefing_grade(record: dict) -> str | None:
    """What a plan of a run that is not briefing-grade must say (None for one that is):
    its figures stand on draws that may not be the posterior's."""
    if record.get("run_status", "briefing-grade") == "briefing-grade":
        return None
    why = "; ".join(record.get("run_reasons") or []) or "see the run's diagnostics"
    return (f"run {record['run_id']} is not briefing-grade ({why}): the plan starts from "
            "its draws, so its figures need the same review")


def pages(folder: Path, df: pl.DataFrame, record: dict) -> None:
    from .document import write

    unit, headline = record["cost_unit"], record["headline"]
    what = HEADLINE_WORDS.get(headline, headline)
    now = float(df["width_now"][0])
    labels = {o["name"]: o["label"] for o in record["menu"]}

    def label(name: str, capital: bool = False) -> str:
        text = labels[name]
        return text[:1].upper() + text[1:] if capital else text

    best = df.sort("width_expected").row(0, named=True)
    if measurable(best):
        lead = (f"{label(best['option'], True)} would narrow the 90% interval of {what} "
                f"from {now:,.0f} to about {best['width_expected']:,.0f} containers wide "
                f"(Monte Carlo error {best['width_expected_mcse']:,.0f}).")
    else:
        lead = (f"No option on the menu would narrow the 90% interval of {what} "
                f"({now:,.0f} containers wide) measurably: the best, "
                f"{label(best['option'])}, would leave it at about "
                f"{best['width_expected']:,.0f} ± {best['width_expected_mcse']:,.0f}.")
    front = set(record.get("pareto_front", []))
    rows = df.sort("reduction_per_cost", descending=True)
    blocks = [
        ("title", f"Collection plan for run {record['run_id']}"),
        *([("banner", f"REVIEW: {review}")] if (review := not_briefing_grade(record)) else []),
        ("headline", lead),
        ("table", ["option", f"cost ({unit})", "expected width", "reduction",
                   f"per {unit}", "method"],
         [[label(r["option"], True) + (" *" if r["option"] in front else ""), f"{r['cost']:g}",
           f"{r['width_expected']:,.0f} ± {r['width_expected_mcse']:,.0f}",
           f"{r['reduction']:,.0f}" if measurable(r) else "none measurable",
           f"{r['reduction_per_cost']:,.1f}" if measurable(r) else "",
           r["method"]] for r in rows.iter_rows(named=True)]),
        ("p", f"Widths are of the 90% interval of {what}, in containers, after each option, "
              "± their Monte Carlo error; a reduction within two Monte Carlo errors of none "
              "is not measurable. * marks the options on the Pareto front: no other option "
              "costs as little and narrows the interval as far. Options are sorted by "
              f"reduction per {unit}."),
        ("figure", "plan.png", "Expected width against cost; the line joins the options no "
                               "other option beats on both."),
        ("p", f"Preposterior analysis of {record['model']}'s run: each option's new rows "
              f"simulated from the model at {record['settings']['n_outer']} posterior draws "
              "(the same for every option), the run's draws reweighted by the data's "
              "likelihood with them (Pareto-smoothed) and refitted where the reweighting "
              "cannot be trusted (Pareto k above 0.7). The method column says which "
              "produced each figure. docs/plan.md explains the method and its check "
              "against simulated worlds."),
    ]
    write(folder, blocks, f"Plan {record['run_id']}", stem="plan")


USAGE = "usage: cargoinfer plan RUN_DIR [plan=NAME] [only=[A,B]] [seed=N] [n_outer=N] [max_refits=N]"


class PlanRefused(ValueError):
    """A plan that cannot be made: every problem, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def make_plan(run_dir, overrides: list[str], say=lambda line: None):
    """The plan of the run at `run_dir` with `overrides` of configs/plan_run.yaml: (plan
    directory, plan.csv as a DataFrame, plan.json's record, reused). A plan done before
    is read back, not assessed again. Raises PlanRefused (nothing written)."""
    from omegaconf import OmegaConf

    from . import store
    from .brief import BriefError
    from .config import ConfigError, compose_plain
    from .plan import PLAN_VERSION, PlanError, assess, context
    from .plan_menu import MenuError, read_menu

    try:
        cfg = compose_plain(overrides, "plan_run")
    except ConfigError as e:
        raise PlanRefused([f"config refused: {e}"]) from None
    try:
        ctx = context(run_dir, int(cfg.n_draws))
    except BriefError as e:
        raise PlanRefused([str(e)]) from None
    menu = OmegaConf.to_container(cfg.plan.options, resolve=True)
    try:
        options = read_menu(menu, ctx.case)
        names = [o.name for o in options]
        unknown = [n for n in (cfg.only or []) if n not in names]
        if unknown:
            raise MenuError([f"only: {n!r} is not an option of the menu" for n in unknown])
    except MenuError as e:
        raise PlanRefused([*e.problems, "menu refused; nothing was written"]) from None
    if cfg.only:
        options = [o for o in options if o.name in cfg.only]
    plain = OmegaConf.to_container(cfg, resolve=True)
    settings = {k: plain[k] for k in ("only", "seed", "n_outer", "max_refits", "n_draws")}
    record = {"plan_version": PLAN_VERSION, "run_id": ctx.folder.name,
              "run": str(ctx.folder), "model": f"{ctx.family.NAME}@{ctx.family.VERSION}",
              "headline": ctx.headline, "cost_unit": str(cfg.plan.cost_unit),
              "menu": [{"name": o.name, **{k: v for k, v in menu[o.name].items()
                                           if v is not None}, "label": o.label}
                       for o in options],
              "settings": settings, "run_status": ctx.status,
              "run_reasons": list(ctx.reasons)}
    folder = ctx.folder.parent / f"{ctx.folder.name}-plan-{store.digest(record)[:12]}"
    if review := not_briefing_grade(record):
        say(f"warning: {review}")
    if (folder / "plan.json").is_file():  # the same plan, done before
        return (folder, pl.read_csv(folder / "plan.csv"),
                json.loads((folder / "plan.json").read_text()), True)
    t0, out = time.perf_counter(), []
    try:
        for option in options:
            out.append(assess(ctx, option, int(cfg.n_outer), int(cfg.seed),
                              max_refits=int(cfg.max_refits)))
            a = out[-1]
            say(f"  {option.name}: {a.width_now:,.0f} -> {a.width_expected:,.0f} "
                f"+- {a.width_expected_mcse:,.0f} ({a.method}; {a.seconds:.1f} s)")
    except PlanError as e:
        raise PlanRefused([f"{e}; nothing was written"]) from None
    df = table(out)
    record.update(timings={"total_s": time.perf_counter() - t0,
                           "screen_s": sum(a.screen_seconds for a in out),
                           "options": {a.option.name: {"total_s": a.seconds,
                                                       "screen_s": a.screen_seconds,
                                                       "refits": len(a.refit_widths)}
                                       for a in out}},
                  pareto_front=[n for n, f in zip(df["option"], pareto_front(
                      df["cost"], df["width_expected"])) if f])
    with store.staged(folder) as tmp:
        df.write_csv(tmp / "plan.csv")
        figure(df, tmp / "plan.png", record["cost_unit"], ctx.headline)
        pages(tmp, df, record)
        (tmp / "plan.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    return folder, df, record, False


def plan_command(args: list[str]) -> int:
    runs = [a for a in args if "=" not in a]
    overrides = [a for a in args if "=" in a]
    if len(runs) != 1 or runs[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        folder, df, record, _ = make_plan(runs[0], overrides,
                                          say=lambda line: print(line, file=sys.stderr))
    except PlanRefused as e:
        print("\n".join(f"cargoinfer plan: {p}" for p in e.problems), file=sys.stderr)
        return 2
    print(text(df, record["cost_unit"]))
    print(f"plan: {folder}")
    return 0
