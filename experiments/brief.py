"""`cargoinfer brief RUN_DIR`: brief.md and a self-contained brief.html for one run.

A headline sentence in ICD 203 words, the figures, the estimates, what the number rests
on (assumptions, priors in words, data provenance, model@version, the command that
reproduces it) and a diagnostics box; a run in review carries a banner saying why.
Numbers are rounded by one rule (ROUNDING_RULE) in the brief only; the files keep
full precision."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from . import brief_figures as figs
from . import document, outputs
from .wording import (  # noqa: F401
    ROUNDING_RULE,
    chance,
    fmt_count,
    fmt_dates,
    fmt_prob,
    prior_words,
    round_count,
    short_source,
    words,
)


@dataclass
class View:
    """What a brief reads: the run directory's files, and the case and its route
    data when the case folder still holds the data the run was fitted to."""

    folder: Path
    record: dict
    est: pl.DataFrame
    tree: object
    case: object = None
    route: object = None
    horizon: date | None = None
    priors: dict | None = None
    family: object = None
    limits: dict | None = None  # the config's inference section: the status rule's limits
    case_note: str | None = None


def family_priors(family, priors: dict) -> dict:
    """The configured priors the model family uses."""
    return {k: v for k, v in priors.items() if k in getattr(family, "PRIOR_NAMES", ())}


# ------------------------------------------------------------------------ words


def headline(view: View) -> str:
    h = outputs.headline(view.est, (view.record.get("headline") or {}).get("estimand",
                                                                            "total_containers"))
    name = h["estimand"]
    t, p = (h["threshold"], h["p_exceeds"]) if "threshold" in h else exceedance(view, name)
    start, end = (date.fromisoformat(d) for d in view.record["case"]["window"])
    origin, destination = _route(view)
    kind = "bootstrap" if hasattr(view.family, "REFERENCE_REASON") else "credible"  # baseline
    interval = (f"{fmt_count(h['median'])} containers ({h['ci_prob']:.0%} {kind} interval "
                f"{fmt_count(h['lower'])}-{fmt_count(h['upper'])})")
    if name == "forecast_containers" and view.horizon is not None:
        return (f"We estimate {interval} will have left {origin} for {destination} "
                f"{fmt_dates(start, view.horizon)}, from the data to {end:%-d %B %Y}; "
                f"{chance(p)} that more than {fmt_count(t)} will have.")
    return (f"We estimate {interval} left {origin} for {destination} {fmt_dates(start, end)}; "
            f"{chance(p)} that more than {fmt_count(t)} did.")


def exceedance(view: View, name: str) -> tuple[float, float]:
    """For a run written before estimates.csv held the headline's threshold: the
    threshold by the same rule (outputs.headline_thresholds) and P(headline > it)."""
    x = np.asarray(view.tree["estimands"][name], float).ravel()
    t = outputs.headline_thresholds(x, [])[0]
    return t, float(np.mean(x > t))


def _route(view: View) -> tuple[str, str]:
    if view.case is not None:
        return " / ".join(view.case.spec.origin), " / ".join(view.case.spec.destination)
    return "the origin", "the destination"


def claim_rows(view: View) -> list[dict]:
    """Each third-party claim with the estimate of its quantity over its dates."""
    if view.case is None or not view.case.claims.height:
        return []
    est = view.tree["estimands"]
    out = []
    for c in view.case.claims.iter_rows(named=True):
        draws, clipped = figs.between(est, c["quantity"], c["start"], c["end"])
        unit = "containers" if c["quantity"] == "containers" else "laden voyages"
        label = (f"{unit} {fmt_dates(c['start'], c['end'])}: {short_source(c['source'], 50)}"
                 + (" (window part only)" if clipped else ""))
        out.append({**c, "draws": draws, "clipped": clipped, "unit": unit, "label": label})
    return out


def claim_statement(c: dict) -> str:
    stated = {"at_least": "at least", "at_most": "at most", "about": "about"}[c["relation"]]
    if c["relation"] == "at_most":
        p, what = float(np.mean(c["draws"] <= c["value"])), f"no more than {fmt_count(c['value'])}"
    else:
        p, what = float(np.mean(c["draws"] > c["value"])), f"more than {fmt_count(c['value'])}"
    lo, med, hi = np.quantile(c["draws"], [0.05, 0.5, 0.95])
    part = " (the part inside the window)" if c["clipped"] else ""
    return (f"{short_source(c['source'])} stated {stated} {fmt_count(c['value'])} {c['unit']} "
            f"{fmt_dates(c['start'], c['end'])}. We estimate {fmt_count(med)} (90% credible "
            f"interval {fmt_count(lo)}-{fmt_count(hi)}){part}; {chance(p)} "
            f"that {what} did.")


def provenance(view: View) -> list[dict]:
    """Rows per file and source, and whether the rows are reconstructed."""
    if view.record.get("provenance") is not None:
        return view.record["provenance"]
    return case_provenance(view.case) if view.case is not None else []


def case_provenance(case) -> list[dict]:
    out = []
    for name, file in case.files.items():
        src = case.tables[name].select(pl.col("source").fill_null(""))
        src = src.with_columns(
            short=pl.col("source").map_elements(short_source, return_dtype=pl.String),
            reconstructed=pl.col("source").str.to_lowercase().str.contains("reconstruct"))
        groups = src.group_by("short", "reconstructed", maintain_order=True).len()
        out += [{"file": file, "source": g["short"], "rows": g["len"],
                 "reconstructed": g["reconstructed"]} for g in groups.iter_rows(named=True)]
    return out


def diagnostics(record: dict, limits: dict | None) -> list[str]:
    d, checks = record.get("diagnostics") or {}, record.get("checks") or {}
    out = [f"Status: **{record['status']}**"
           + (f" ({'; '.join(record['reasons'])})" if record.get("reasons") else "")]
    if d:
        lim = limits or {}
        out.append(f"Sampling: max R-hat {d['rhat_max']:.3f} (limit {lim.get('rhat_max', 1.01)}), "
                   f"min bulk ESS {d['ess_bulk_min']:.0f} and tail ESS {d['ess_tail_min']:.0f} "
                   f"(at least {lim.get('ess_bulk_min', 400):.0f}), {d['divergences']} divergent "
                   f"transitions, min E-BFMI {d['ebfmi_min']:.2f}.")
    pred = checks.get("predictive", {})
    if pred:
        out.append("Predictive checks, observations inside their 90% predictive interval: "
                   + ", ".join(f"{k} {c['n'] - c['outside_90']} of {c['n']}"
                               for k, c in pred.items()) + ".")
    for c in checks.get("trend", {}).values():
        out.append(f"Loads over the window: the counts' rank correlation with their day is "
                   f"{c['statistic']:+.2f} (the model's replicates: {c['replicated_median']:+.2f}; "
                   f"p = {c['p']:.2g}, below {c['figure']['limit']:g} the loads changed).")
    loo = checks.get("loo", {})
    if loo:
        out.append("LOO per stream, largest Pareto k (reliable below 0.7): " + ", ".join(
            f"{k} {c['pareto_k_max']:.2f}" for k, c in loo.items()) + ".")
    conflict = checks.get("conflict", {}).get("streams", {})
    if conflict:
        out.append("Each other stream against the voyage and container data alone (a "
                   "predictive p-value; below 0.01 the streams disagree): " + ", ".join(
                       f"{k} p = {c['p']:.2g}" for k, c in conflict.items()) + ".")
    spread = checks.get("spread", {})
    if spread:
        out.append(f"The 90% interval's upper end is {spread['figure']['value']:.1f} times the "
                   f"median of {spread['estimand']} (at most "
                   f"{spread['figure']['limit']:g} for a briefing).")
    sens = checks.get("sensitivity", {})
    if sens:
        out.append("Power-scaling sensitivity (prior / likelihood; above 0.05 is sensitive): "
                   + ", ".join(f"{k} {c['prior']:.3f} / {c['likelihood']:.3f}"
                               for k, c in sens.items() if "prior" in c) + ".")
    out += [f"Note: {n}." for n in record.get("notes", [])]
    out += [f"Data note: {n}." for n in record.get("data_notes", [])]
    return out


def estimates_table(est: pl.DataFrame) -> tuple[list[str], list[list[str]]]:
    rows = []
    for r in est.iter_rows(named=True):
        if r["ci_kind"] == "none":  # an exceedance probability: a point, in words too
            rows.append([r["estimand"], f"{fmt_prob(r['median'])} ({words(r['median'])})", "-",
                         "probability"])
            continue
        if r["unit"] == "probability":
            m, lo, hi = (f"{v:.0%}" for v in (r["median"], r["lower"], r["upper"]))
        else:
            m, lo, hi = (fmt_count(v) for v in (r["median"], r["lower"], r["upper"]))
        rows.append([r["estimand"], m, f"{lo}-{hi} ({r['ci_kind']}{r['ci_prob'] * 100:.0f})",
                     r["unit"]])
    return ["estimand", "median", "interval", "unit"], rows


# ----------------------------------------------------------------------- assembly


def blocks(view: View, figures: dict[str, str]) -> list[tuple]:
    r = view.record
    title = view.case.spec.title if view.case is not None else r["case"]["name"]
    out: list[tuple] = [("title", title)]
    if r["status"] != "briefing-grade":
        out.append(("banner", f"REVIEW: not briefing-grade, do not cite without review. Why: "
                              f"{'; '.join(r['reasons']) or 'see the diagnostics'}."))
    out.append(("headline", headline(view)))
    claims = claim_rows(view)
    name = outputs.headline(view.est, r["headline"]["estimand"])["estimand"]
    more = [f"{chance(p, first=True)} that {name.replace('_', ' ')} exceed "
            f"{fmt_count(t)}."  # the headline states the first threshold; the others here
            for t, p in outputs.exceedances(view.est, name)[1:]]
    if claims or more:
        out.append(("list", [*map(claim_statement, claims), *more]))
    counted = view.case is not None and view.case.containers.height > 0
    captions = {
        "cumulative": "Containers shipped, cumulative, with the 90% credible band"
                      + ("; the purple band is the forecast" if view.horizon else "")
                      + ("; the black line counts containers seen in imagery (a floor, not an "
                         "estimate)." if counted else "."),
        "voyages": "Voyages seen (grey) against voyages estimated, seen or not (red), per period.",
        "depot": "Depot measurements (black) against what the model expects at the same dates.",
        "claims": "Each third-party figure (red) against our estimate for the same dates (blue).",
        "network": "The route network: each line's width shows its route's median containers; "
                   "each port says how likely a call there is seen.",
    }
    for key, name in figures.items():
        out.append(("figure", f"figures/{name}", captions[key]))
    out += route_section(view.est)
    out += [("h2", "Estimates"), ("table", *estimates_table(view.est)),
            ("p", f"Rounding: {ROUNDING_RULE}")]
    out += [("h2", "What the number rests on"), ("list", _rests_on(view))]
    if view.family is not None and getattr(view.family, "ASSUMPTIONS", None):
        out += [("p", "The model assumes:"), ("list", list(view.family.ASSUMPTIONS))]
    if view.priors:
        out += [("p", "Priors, in words (what is believed before the data):"),
                ("list", [prior_words(k, v) for k, v in view.priors.items()])]
    prov = provenance(view)
    if prov:
        recon = sum(p["rows"] for p in prov if p["reconstructed"])
        total = sum(p["rows"] for p in prov)
        out += [("p", f"Data: {total} rows, {recon} of them reconstructed rather than reported "
                      "(the case's source column says so), by file and source:"),
                ("table", ["file", "source", "rows", "reconstructed"],
                 [[p["file"], p["source"], p["rows"], "yes" if p["reconstructed"] else "no"]
                  for p in prov])]
    out += plan_section(view.folder)
    out.append(("box", "Diagnostics", diagnostics(r, view.limits)))
    return out


def route_section(est: pl.DataFrame) -> list[tuple]:
    """A network's table: per route, its containers and voyages (median and interval)."""
    names = [e.removeprefix("route_containers[")[:-1] for e in est["estimand"]
             if e.startswith("route_containers[")]
    if not names:
        return []
    rows = {r["estimand"]: r for r in est.iter_rows(named=True)}

    def cell(name: str) -> str:
        r = rows[name]
        return (f"{fmt_count(r['median'])} ({fmt_count(r['lower'])}-{fmt_count(r['upper'])})")

    return [("h2", "Routes"),
            ("table", ["route", "containers", "voyages"],
             [[n.replace("->", " to ", 1), cell(f"route_containers[{n}]"),
               cell(f"route_voyages[{n}]")] for n in names]),
            ("p", "Medians with 90% credible intervals. A voyage seen at one port only is "
                  "shared among the routes through it as the model finds them likely.")]


def plan_section(run_dir: Path, top: int = 3) -> list[tuple]:
    """"What would narrow this most": the options of the run's newest plan (a plan
    directory beside the run, `cargoinfer plan`) that narrow its interval most."""
    from .planning import measurable

    plans = sorted(run_dir.parent.glob(f"{run_dir.name}-plan-*/plan.json"),
                   key=lambda p: p.stat().st_mtime)
    if not plans:
        return []
    try:
        record = json.loads(plans[-1].read_text())
        df = pl.read_csv(plans[-1].parent / "plan.csv").sort("reduction", descending=True)
    except (OSError, ValueError, pl.exceptions.PolarsError):
        return []
    labels = {o["name"]: o.get("label") or o["name"] for o in record.get("menu", [])}
    unit = record.get("cost_unit", "")
    items = []
    for r in df.head(top).iter_rows(named=True):
        label = labels.get(r["option"], r["option"])
        label = label[:1].upper() + label[1:]
        err = r["width_expected_mcse"]
        if not measurable(r):
            effect = "would not narrow it measurably"
        else:
            effect = (f"would narrow it from {r['width_now']:,.0f} to about "
                      f"{r['width_expected']:,.0f} containers wide (± {err:,.0f})")
        items.append(f"{label} ({r['cost']:g} {unit}) {effect}.")
    return [("h2", "What would narrow this most"), ("list", items),
            ("p", f"From `cargoinfer plan` ({plans[-1].parent.name}: {df.height} options; "
                  "expected widths of the 90% interval, with their Monte Carlo error).")]


def _rests_on(view: View) -> list[str]:
    r = view.record
    fam = view.family
    doc = (fam.__doc__ or "").strip().splitlines()[0].split(": ", 1)[-1] if fam is not None else ""
    items = [f"Model: {r['model']['name']}@{r['model']['version']}" + (f" ({doc})" if doc else ""),
             f"Run `{r['run_id']}`, seed {r['seed']}; reproduce with `{r.get('command', '?')}` "
             f"(same store, same case folder). Case `{r['case']['name']}`, content hash "
             f"{r['case']['content_hash'][:12]}, config hash {r['config_hash'][:12]}."]
    if r["case"].get("cutoff"):
        items.append(f"Data cut off at {r['case']['cutoff']}: later observations left out.")
    versions = r.get("versions") or {}
    if versions:
        items.append("Software: " + ", ".join(f"{k} {versions[k]}" for k in
                                              ("python", "pymc", "nutpie", "arviz") if k in versions)
                     + f"; created {r.get('created_at', '?')}.")
    if view.case_note:
        items.append(view.case_note)
    return items


def write_run_brief(view: View, out: Path | None = None) -> list[str]:
    """The brief's figures (in figures/) and brief.md, brief.html in `out` (default the
    run directory). Returns the figure file names."""
    out = view.folder if out is None else out
    fig_dir = Path(tempfile.mkdtemp(prefix=".figures-", dir=out))  # moved in when all are drawn
    try:
        made = _figures(view, fig_dir)
        (out / "figures").mkdir(exist_ok=True)
        for name in made.values():
            os.replace(fig_dir / name, out / "figures" / name)
    finally:
        shutil.rmtree(fig_dir, ignore_errors=True)
    title = f"Brief: {view.record['case']['name']}, run {view.record['run_id']}"
    document.write(out, blocks(view, made), title)
    return list(made.values())


def _figures(view: View, fig_dir: Path) -> dict[str, str]:
    est = view.tree["estimands"]
    made = {}
    route_name = " to ".join(_route(view))
    counted = None
    if view.case is not None and view.case.containers.height:
        start, end = (date.fromisoformat(d) for d in view.record["case"]["window"])
        counted = figs.counted_floor(view.case.containers, start, end)
    made["cumulative"] = figs.cumulative(est, route_name, counted, fig_dir, view.horizon)
    made["voyages"] = figs.voyages(view.tree, fig_dir)
    if view.case is not None and view.case.spec.depot:
        from ..observations.aggregate import DEPOT_METRICS

        made["depot"] = figs.depot(view.tree, view.route, view.case.spec.depot, DEPOT_METRICS,
                                   fig_dir)
    made["claims"] = figs.claims(claim_rows(view), fig_dir)
    made["network"] = figs.network(est, fig_dir)
    return {k: v for k, v in made.items() if v}


# ----------------------------------------------------------------- reading a run


class BriefError(ValueError):
    """A folder that cannot be briefed (the reason is for the user)."""


def load_view(folder: Path) -> View:
    """A run directory's View."""
    import xarray as xr
    import yaml

    from ..models import registry

    if not (folder / "run.json").is_file():
        raise BriefError(f"{folder}: not a run directory (no run.json)")
    record = json.loads((folder / "run.json").read_text())
    if record.get("status") == "failed":
        raise BriefError(f"{folder}: a failed run has no estimates to brief "
                         f"({'; '.join(record.get('reasons', []))})")
    for name in ("estimates.csv", "posterior.nc", "config.yaml"):
        if not (folder / name).is_file():
            raise BriefError(f"{folder}: {name} is missing")
    est = pl.read_csv(folder / "estimates.csv")
    tree = xr.open_datatree(folder / "posterior.nc", engine="h5netcdf")
    cfg = yaml.safe_load((folder / "config.yaml").read_text()) or {}
    try:
        family = registry.get(record["model"]["name"])
    except KeyError:
        family = None
    view = View(folder, record, est, tree, priors=family_priors(family, cfg.get("priors") or {}),
                family=family, limits=cfg.get("inference"))
    _attach_case(view, cfg)
    return view


def _attach_case(view: View, cfg: dict) -> None:
    """The case and its route data, if the case folder holds the data of the run."""
    from ..observations.aggregate import route_data
    from ..observations.case import load_case
    from ..observations.cells import parse_date
    from ..observations.cutoff import cut
    from ..observations.problems import CaseInvalid

    rec = view.record["case"]
    try:
        case = load_case(rec["path"])
        if rec.get("cutoff"):
            case = cut(case, parse_date(str(rec["cutoff"])))
    except (CaseInvalid, OSError, ValueError):
        view.case_note = (f"The case folder {rec['path']} cannot be read now: observations are "
                          "not overlaid on the figures.")
        return
    if case.content_hash != rec["content_hash"]:
        view.case_note = (f"The case folder {rec['path']} has changed since the run: "
                          "observations are not overlaid on the figures.")
        return
    # run.json records the horizon the run forecast to (older runs: the config's, or a cut
    # case's full end)
    horizon = view.record.get("horizon", cfg.get("horizon") or case.full_end)
    view.horizon = parse_date(str(horizon)) if horizon else None
    if view.horizon is not None and view.horizon <= case.spec.end:
        view.horizon = None
    model = cfg.get("model") or {}
    view.case = case
    view.route = route_data(case, int(model.get("transit_days", 1)),
                            int(model.get("max_containers_per_voyage", 1000)), view.horizon,
                            int(model.get("transit_extra_days", 1)))


def brief_command(args: list[str]) -> int:
    import sys

    from ..inference.logs import quiet
    from .compare import folders_and_out

    quiet()
    try:
        paths, out = folders_and_out(args)
    except ValueError as e:
        print(f"cargoinfer brief: {e}", file=sys.stderr)
        return 2
    if len(paths) != 1:
        print("usage: cargoinfer brief RUN_DIR | SWEEP_DIR | COMPARE_DIR [out=DIR]",
              file=sys.stderr)
        return 2
    path = paths[0]
    try:
        if (path / "run.json").is_file():
            view = load_view(path)
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
            write_run_brief(view, out)
            where = out or path
        else:
            from .compare_brief import write_comparison_brief

            where = write_comparison_brief(path, out)
    except BriefError as e:
        print(f"cargoinfer brief: {e}", file=sys.stderr)
        return 2
    print(f"brief: {where / 'brief.html'}")
    return 0
