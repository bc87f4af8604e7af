"""The status rule, in one place: what makes a run briefing-grade.

A run is briefing-grade only when
1. sampling passes: R-hat, bulk and tail ESS, divergences and E-BFMI within the
   inference config's limits;
2. no headline stream (the voyage and container data: `captures`, `loads`) fails its
   posterior predictive check;
3. LOO is reliable on the headline streams: no observation with Pareto k > 0.7;
4. no headline estimand (total_containers, voyages, containers_per_voyage) shows a
   potential prior-data conflict in power-scaling sensitivity;
5. every check could run.
Otherwise it is `review`, with every reason listed. Findings that do not demote a run
(a depot or claims stream that fits badly or has high Pareto k, a headline estimand
whose prior dominates) are listed as notes."""

from __future__ import annotations

from .diagnostics import sampling_reasons

BRIEFING = "briefing-grade"
REVIEW = "review"
FAILED = "failed"
HEADLINE_STREAMS = ("captures", "loads")
HEADLINE_ESTIMANDS = ("total_containers", "voyages", "containers_per_voyage")


def assess(diagnostics: dict, checks: dict, limits) -> tuple[str, list[str], list[str]]:
    """(status, reasons, notes) from the sampling diagnostics and the model checks."""
    reasons = list(sampling_reasons(diagnostics, limits)) if diagnostics else []
    reasons += checks.get("errors", [])  # a check that could not run
    notes = []
    for name, c in checks.get("predictive", {}).items():
        if c["fails"]:
            text = (f"{name}: {c['outside_90']} of {c['n']} observations outside their 90% "
                    f"predictive intervals (at most {c['outside_limit']} expected)")
            (reasons if c["stream"] in HEADLINE_STREAMS else notes).append(text)
    for name, c in checks.get("loo", {}).items():
        if c["n_pareto_k_above"]:
            text = (f"{name}: {c['n_pareto_k_above']} of {c['n']} observations with Pareto "
                    f"k > 0.7 (max {c['pareto_k_max']:.2f}): LOO unreliable on this stream")
            (reasons if name in HEADLINE_STREAMS else notes).append(text)
    for name, c in checks.get("sensitivity", {}).items():
        if name not in HEADLINE_ESTIMANDS or c["diagnosis"] == "ok":
            continue
        text = (f"{name}: {c['diagnosis']} (power-scaling sensitivity: prior "
                f"{c['prior']:.3f}, likelihood {c['likelihood']:.3f})")
        (reasons if c["diagnosis"] == "prior-data conflict" else notes).append(text)
    return (BRIEFING if not reasons else REVIEW), reasons, notes


def status(reasons: list[str]) -> str:
    return BRIEFING if not reasons else REVIEW
