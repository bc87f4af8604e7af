"""The status rule, in one place: what makes a run briefing-grade.

A run is briefing-grade only when
1. sampling passes: R-hat, bulk and tail ESS, divergences and E-BFMI within the
   inference config's limits;
2. no headline stream (the voyage and container data: `captures`, `loads`) fails its
   posterior predictive check,
   nor shows a trend over the window that the model holds constant (the counts'
   loads against their days, `checks.trend`, p below `inference.trend_p`);
3. LOO is reliable on the headline streams: no observation with Pareto k > 0.7;
4. no other stream (depot, claims) conflicts with the headline streams
   (`inference.conflict`: a predictive p-value of the stream given only the voyage and
   container data below `inference.conflict_p`);
5. the headline's 90% interval is bounded: its upper end at most
   `inference.upper_over_median_max` times its median;
6. every check could run.
Each figure of 1-5 is compared with its limit with its Monte Carlo error
(`inference.limits`): only a figure clearly beyond its limit demotes the run; one within
its error of the limit after the draws the budget allows is a note (when it is on the bad
side of the limit; within its error on the good side it says nothing). Otherwise the run is
`review`, with every reason listed. Findings that do not demote a run are notes: a depot
or claims stream that fits badly or has high Pareto k, and how much the priors carry the
headline estimands (power-scaling sensitivity): capture-recapture identifies the voyages
nobody saw through the detection priors, so a prior that carries much of the total is a
property of such data, stated beside the number, not a fault of the run."""

from __future__ import annotations

from .limits import BORDERLINE, FAIL, Figure, undecided_note

BRIEFING = "briefing-grade"
REVIEW = "review"
FAILED = "failed"
HEADLINE_STREAMS = ("captures", "loads")
HEADLINE_ESTIMANDS = ("total_containers", "voyages", "containers_per_voyage")
SENSITIVITY_NOTE = 0.05  # prior sensitivity above this: a note on how much the prior carries


def figure_of(record: dict) -> Figure:
    return Figure(**{k: v for k, v in record.items() if k != "verdict"})


def check_figures(checks: dict) -> list[tuple[Figure, bool, str]]:
    """(figure, whether failing it demotes, its words) of every check that has a limit."""
    out = []
    for name, c in checks.get("predictive", {}).items():
        f = figure_of(c["figure"])
        words = (f"{name}: about {c['outside_90_expected']:.1f} of {c['n']} observations outside "
                 f"their 90% predictive intervals (at most {c['outside_limit']} expected)")
        out.append((f, c["stream"] in HEADLINE_STREAMS, words))
    for name, c in checks.get("loo", {}).items():
        f = figure_of(c["pareto_k_nearest"])
        words = (f"{name}: {c['n_pareto_k_above']} of {c['n']} observations with Pareto "
                 f"k > 0.7 (max {c['pareto_k_max']:.2f}): LOO unreliable on this stream")
        out.append((f, name in HEADLINE_STREAMS, words))
    for c in checks.get("trend", {}).values():
        out.append((figure_of(c["figure"]), c["stream"] in HEADLINE_STREAMS, c["words"]))
    for name, c in checks.get("conflict", {}).get("streams", {}).items():
        out.append((figure_of(c["figure"]), True, c["words"]))
    spread = checks.get("spread")
    if spread:
        f = figure_of(spread["figure"])
        words = (f"{spread['estimand']}: the 90% interval's upper end is {f.value:.1f} times its "
                 f"median: the data do not bound it from above")
        out.append((f, True, words))
    return out


def sampling_words(f: Figure) -> str:
    if f.name == "divergent transitions":
        return f"{f.value:.0f} divergent transitions"
    op = ">" if f.bad == "above" else "<"
    value = f"{f.value:.3f}" if "R-hat" in f.name or "BFMI" in f.name else f"{f.value:.0f}"
    return f"{f.name} {value} {op} {f.limit:g}"


def assess(figures: list[Figure], checks: dict, draws: int,
           final: bool = True) -> tuple[str, list[str], list[str]]:
    """(status, reasons, notes) from the sampling figures and the model checks. `draws` is
    how many draws the figures come from; with `final`, borderline figures become notes
    (else the caller draws more first)."""
    reasons, notes = [], []
    rows = [(f, True, sampling_words(f)) for f in figures] + check_figures(checks)
    for f, demotes, words in rows:
        if f.verdict == FAIL:
            (reasons if demotes else notes).append(words)
        elif f.verdict == BORDERLINE and final and demotes and f.beyond:
            notes.append(undecided_note(f, draws, words))
    reasons += checks.get("errors", [])  # a check that could not run
    for name, c in checks.get("sensitivity", {}).items():
        if name in HEADLINE_ESTIMANDS and c["prior"] > SENSITIVITY_NOTE:
            notes.append(f"{name}: the priors carry much of it (power-scaling sensitivity: "
                         f"prior {c['prior']:.3f}, likelihood {c['likelihood']:.3f})")
    return (BRIEFING if not reasons else REVIEW), reasons, notes


def borderline(figures: list[Figure], checks: dict) -> list[Figure]:
    """The figures that demote if failing, are within their error of the limit and would
    be decided by drawing more; and the sampling figures that fail (longer chains at a
    higher target_accept may pass them)."""
    rows = [(f, True) for f in figures] + [(f, d) for f, d, _ in check_figures(checks)]
    return [f for f, demotes in rows if demotes and f.redraw and (
        f.verdict == BORDERLINE or (f.verdict == FAIL and f.text == "sampling"))]


def status(reasons: list[str]) -> str:
    return BRIEFING if not reasons else REVIEW
