"""brief.md and a self-contained brief.html for one run."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import polars as pl

# ICD 203 words of estimative probability: upper bound of each band.
ICD203 = ((0.05, "almost no chance"), (0.20, "very unlikely"), (0.45, "unlikely"),
          (0.55, "roughly even chance"), (0.80, "likely"), (0.95, "very likely"),
          (1.01, "almost certain"))
ROUNDING_RULE = ("Counts below 100 are rounded to the nearest whole number, from 100 to 9,999 "
                 "to the nearest 10, larger ones to three significant figures; probabilities to "
                 "whole percent; files keep full precision.")


def words(p: float) -> str:
    return next(w for bound, w in ICD203 if p < bound)


def fmt_prob(p: float) -> str:
    """Whole percent; never 0% or 100%, which a finite sample cannot show."""
    if p > 0.99:
        return "more than 99%"
    if p < 0.01:
        return "less than 1%"
    return f"about {p:.0%}"


def round_count(x: float) -> int:
    if abs(x) < 100:
        return int(round(x))
    if abs(x) < 10_000:
        return int(round(x, -1))
    return int(round(x, 2 - int(np.floor(np.log10(abs(x))))))


def fmt_count(x: float) -> str:
    return f"{round_count(x):,}"


def headline(record: dict, est: pl.DataFrame, case) -> str:
    spec = case.spec
    row = est.filter(pl.col("estimand") == "total_containers").row(0, named=True)
    prob = f"{row['ci_prob']:.0%}"
    return (f"We estimate {fmt_count(row['median'])} containers ({prob} credible interval "
            f"{fmt_count(row['lower'])}-{fmt_count(row['upper'])}) left "
            f"{' / '.join(spec.origin)} for {' / '.join(spec.destination)} between "
            f"{spec.start:%-d %B %Y} and {spec.end:%-d %B %Y}.")


def exceedance_statements(draws: np.ndarray, case) -> list[str]:
    claims = case.claims.filter((pl.col("quantity") == "containers")
                                & pl.col("relation").is_in(["at_least", "about"]))
    out = []
    for c in claims.sort("value").iter_rows(named=True):
        p = float(np.mean(draws > c["value"]))
        stated = "at least" if c["relation"] == "at_least" else "about"
        out.append(f"It is {words(p)} ({fmt_prob(p)}) that more than {fmt_count(c['value'])} "
                   f"containers left in the window; {c['source'].split('(')[0].strip()} stated "
                   f"{stated} {fmt_count(c['value'])} for {c['start']} to {c['end']}.")
    return out


def write_brief(folder: Path, record: dict, est: pl.DataFrame, case, figures: list[str],
                total_draws: np.ndarray | None = None) -> None:
    lines = [f"# {case.spec.title}", ""]
    if record["status"] != "briefing-grade":
        lines += [f"> **REVIEW: not briefing-grade.** {'; '.join(record['reasons'])}", ""]
    lines += [headline(record, est, case), ""]
    if total_draws is not None:
        lines += [*exceedance_statements(total_draws, case), ""]
    lines += ["| estimand | median | interval | unit |", "|---|---|---|---|"]
    for r in est.iter_rows(named=True):
        if r["ci_kind"] == "none":  # an exceedance probability: a point, in words too
            lines.append(f"| {r['estimand']} | {fmt_prob(r['median'])} ({words(r['median'])}) "
                         f"| - | probability |")
            continue
        if r["unit"] == "probability":
            m, lo, hi = (f"{v:.0%}" for v in (r["median"], r["lower"], r["upper"]))
        else:
            m, lo, hi = (fmt_count(v) for v in (r["median"], r["lower"], r["upper"]))
        lines.append(f"| {r['estimand']} | {m} | {r['ci_kind']}{r['ci_prob'] * 100:.0f}: "
                     f"{lo}-{hi} | {r['unit']} |")
    d = record["diagnostics"]
    diagnostics = (f"- Diagnostics: status {record['status']}; max R-hat {d['rhat_max']:.3f}, "
                   f"min bulk ESS {d['ess_bulk_min']:.0f}, min tail ESS {d['ess_tail_min']:.0f}, "
                   f"{d['divergences']} divergences, min E-BFMI {d['ebfmi_min']:.2f}."
                   if d else f"- Diagnostics: none (status {record['status']}).")
    lines += ["", f"Rounding: {ROUNDING_RULE}", "", "## What the number rests on", "",
              f"- Model: {record['model']['name']}@{record['model']['version']}; run "
              f"`{record['run_id']}`; reproduce with `{record['command']}` (seed {record['seed']}).",
              f"- Case: {record['case']['name']} ({_provenance(case)}).",
              diagnostics,
              *_checks(record),
              *(f"- Model check note: {n}." for n in record.get("notes", [])),
              *(f"- Data note: {n}." for n in record.get("data_notes", [])), ""]
    lines += [f"![{f}](figures/{f})" for f in figures]
    md = "\n".join(lines) + "\n"
    (folder / "brief.md").write_text(md)
    (folder / "brief.html").write_text(_html(md, folder))


def _provenance(case) -> str:
    rows = recon = 0
    for name in case.files:
        src = case.tables[name]["source"]
        rows += src.len()
        recon += int(src.str.to_lowercase().str.contains("reconstruct").sum())
    return f"{rows} rows, {recon} of them reconstructed rather than reported"


def _html(md: str, folder: Path) -> str:
    body = []
    for line in md.splitlines():
        if line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("> "):
            body.append(f'<div class="banner">{html.escape(line[2:]).replace("**", "")}</div>')
        elif line.startswith("!["):
            path = line[line.index("(") + 1:-1]
            data = base64.b64encode((folder / path).read_bytes()).decode()
            body.append(f'<img alt="{html.escape(path)}" src="data:image/png;base64,{data}">')
        elif line.startswith("|---"):
            continue
        elif line.startswith("|"):
            cells = "".join(f"<td>{html.escape(c.strip())}</td>" for c in line.strip("|").split("|"))
            body.append(f"<tr>{cells}</tr>")
        elif line.startswith("- "):
            body.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    text = "\n".join(body).replace("</tr>\n<tr>", "</tr><tr>")
    text = text.replace("<tr>", "<table><tr>", 1) if "<tr>" in text else text
    text = text[::-1].replace(">rt/<", ">elbat/<>rt/<", 1)[::-1] if "<tr>" in text else text
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
             ".banner{background:#fde2e1;border:2px solid #c0392b;padding:.8em;font-weight:bold}"
             "td{padding:.2em .8em;border-bottom:1px solid #ddd}img{max-width:100%}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>brief</title>"
            f"<style>{style}</style></head><body>\n{text}\n</body></html>\n")


def _checks(record: dict) -> list[str]:
    """One line each for the predictive checks and LOO of the run (none for a hand method)."""
    checks = record.get("checks") or {}
    out = []
    pred = checks.get("predictive", {})
    if pred:
        out.append("- Predictive checks (observations inside their 90% posterior predictive "
                   "intervals): " + ", ".join(f"{k} {c['n'] - c['outside_90']}/{c['n']}"
                                               for k, c in pred.items()) + ".")
    loo = checks.get("loo", {})
    if loo:
        out.append("- LOO by stream (elpd, max Pareto k): " + ", ".join(
            f"{k} {c['elpd_loo']:.1f} ({c['pareto_k_max']:.2f})" for k, c in loo.items()) + ".")
    return out
