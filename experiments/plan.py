"""The assessment behind `cargoinfer plan`: a fitted run and one candidate collection ->
the expected width of the headline's interval after it.

The run's context (its case, route, data values and posterior draws); an option's new
rows (depot readings, counts, imagery: `plan_imagery`) simulated from the model at outer
draws of the posterior and appended to a copy of the case; the screen
(`inference.preposterior`) of any option, packages too, with refits where the screen
cannot be trusted (`assess`). The command and the plan directory: `planning`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl
from omegaconf import OmegaConf

from ..inference.preposterior import Screen, data_loglik, screen, stratified
from ..observations.aggregate import route_data
from ..observations.case import Case
from . import brief, plan_imagery
from .plan_menu import Option


@dataclass
class Context:
    """What a plan needs of a run: its case (as fitted), model family, config, data
    values, a thinned set of its posterior draws (flat) and the headline's name."""

    folder: Path
    case: Case
    family: object
    cfg: object
    route: object
    values: dict
    draws: dict
    headline: str
    status: str = "briefing-grade"  # the run's, and why not (status.py's reasons)
    reasons: tuple[str, ...] = ()
    bases: dict = field(default_factory=dict, repr=False)  # seed -> the screen's base

    def route_of(self, case: Case):
        m = self.cfg.model
        return route_data(case, int(m.transit_days), int(m.max_containers_per_voyage),
                          self.route_horizon, int(m.transit_extra_days))

    @property
    def route_horizon(self):
        from datetime import timedelta

        days = int(self.route.horizon_days)
        return self.case.spec.end + timedelta(days=days) if days else None


def context(folder: str | Path, n_draws: int = 1000) -> Context:
    """The run at `folder`, its posterior thinned evenly to at most `n_draws` draws."""
    folder = Path(folder)
    view = brief.load_view(folder)  # raises BriefError for a folder that is not a run
    if view.case is None:
        raise brief.BriefError(view.case_note or f"{folder}: the run's case cannot be read")
    family = view.family
    if family is None or not hasattr(family, "generate"):
        name = view.record.get("model", {}).get("name", "?")
        raise brief.BriefError(f"{folder}: a {name} run has no model to simulate new rows "
                               "from (plan a run of joint, voyages or dynamic)")
    cfg = OmegaConf.load(folder / "config.yaml")
    values = family.data_values(view.route, cfg.priors)
    post = view.tree["posterior"]
    total = post.sizes["chain"] * post.sizes["draw"]
    keep = np.unique(np.linspace(0, total - 1, min(n_draws, total)).astype(int))
    draws = {v: np.asarray(post[v]).reshape(total, *post[v].shape[2:])[keep]
             for v in post.data_vars}
    headline = (view.record.get("headline") or {}).get("estimand") or (
        "forecast_containers" if view.horizon is not None else "total_containers")
    return Context(folder, view.case, family, cfg, view.route, values, draws, headline,
                   view.record.get("status", "briefing-grade"),
                   tuple(view.record.get("reasons") or ()))


def with_depot_row(case: Case, option: Option, value: float) -> Case:
    """A copy of `case` with the depot measurement `option` appended, reading `value`."""
    return case.with_rows("depot", {"date": [option.date], "site": [case.spec.depot],
                                    "metric": [option.metric], "value": [float(value)],
                                    "sd": [option.sd], "source": [f"plan: {option.name}"]})


REFIT_RHAT_MAX = 1.05  # a refit's chains that failed to mix, not a reported fit's 1.01


def refit_width(ctx: Context, case: Case, seed: int, draws: int = 500, tune: int = 500,
                chains: int = 2, prob: float = 0.9, rhat_max: float = REFIT_RHAT_MAX) -> float:
    """The headline's interval width after fitting `case` (the run's case with new rows)
    with the run's family and priors, through its one compiled model (`refit`)."""
    x, _ = refit(ctx, case, seed, draws, tune, chains, rhat_max)
    lo, hi = np.quantile(x, [(1 - prob) / 2, 1 - (1 - prob) / 2])
    return float(hi - lo)


def refit(ctx: Context, case: Case, seed: int, draws: int = 500, tune: int = 500,
          chains: int = 2, rhat_max: float = REFIT_RHAT_MAX) -> tuple[np.ndarray, bool]:
    """The headline's draws after fitting `case`, and whether the chains mixed. A refit
    whose largest R-hat is above `rhat_max`, or that diverged, is drawn again once with three
    times the draws, twice the warmup and target_accept 0.99 (the status rule's second
    round), so that a chain that did not mix does not pass for a wide interval; `mixed` is
    False when the second round failed too. A refit is one inner estimate among the outer
    draws, whose spread gives the plan's Monte Carlo error: it is held to chains that mix
    (R-hat at most 1.05), not to the 1.01 of a fit whose figures are reported; with 2
    chains of 500 draws, 3 of 4 refits of the default case's joint run were above 1.01
    (1.0087-1.0204) and none above 1.05."""
    import nutpie

    from ..inference.diagnostics import sampling_diagnostics
    from ..inference.fit import adaptation, compiled

    family, inference = ctx.family, ctx.cfg.inference
    route = ctx.route_of(case)
    values = family.data_values(route, ctx.cfg.priors)
    model, _ = compiled(family, values)
    for attempt in range(2):
        tree = nutpie.sample(model, draws=draws * (1 + 2 * attempt), tune=tune * (1 + attempt),
                             chains=chains, cores=int(inference.cores), seed=seed + attempt,
                             progress_bar=False,
                             target_accept=0.99 if attempt else float(inference.target_accept),
                             adaptation=adaptation(family, inference))
        post = tree["posterior"]
        d = sampling_diagnostics(tree, list(post.data_vars))
        mixed = d["rhat_max"] <= rhat_max and not d["divergences"]
        if mixed:
            break
    n = post.sizes["chain"] * post.sizes["draw"]
    flat = {v: np.asarray(post[v]).reshape(n, *post[v].shape[2:]) for v in post.data_vars}
    x = np.asarray(family.generate(flat, route, values, np.random.default_rng([seed, 1]))[
        ctx.headline], float)
    return x, bool(mixed)


def with_count_row(case: Case, option: Option, visible: int) -> Case:
    """A copy of `case` with the count `option` appended: on the named voyage, or on the
    next one (an unidentified voyage the day after the window, its own load group)."""
    from datetime import timedelta

    spec = case.spec
    stage = "loading" if option.site in spec.origin else "unloading"
    when, voyage = spec.end + timedelta(days=1), None
    if option.voyage != "next":
        row = case.voyages.filter(pl.col("voyage_id") == option.voyage).row(0, named=True)
        seen = row["origin_seen"] if stage == "loading" else row["destination_seen"]
        when = seen or row["origin_seen"] or row["destination_seen"]
        voyage = option.voyage
    return case.with_rows("containers", {
        "date": [when], "site": [option.site], "vessel": [None], "voyage_id": [voyage],
        "stage": [stage], "visible": [int(visible)], "coverage": [option.coverage],
        "source": [f"plan: {option.name}"]})


def simulate_count(ctx: Context, option: Option, rows: np.ndarray, rng) -> np.ndarray:
    """The count `option` would read at posterior draws `rows`: the voyage's load given
    the draw and the voyage's other counts (its capacity's load prior if none), seen
    through the option's coverage (with the recorded share's error), or an unrecorded
    one's Beta prior."""
    from ..models import loads, truncated_nb

    values, route = ctx.values, ctx.route
    aug = ctx.route_of(with_count_row(ctx.case, option, 0))
    g_new = int(aug.count_group[-1])
    cap = float(aug.group_cap[g_new])
    mu = np.asarray(ctx.draws["containers_per_voyage"], float)[rows]
    alpha = 1.0 / np.maximum(np.asarray(ctx.draws["load_cv"], float)[rows], 1e-3) ** 2
    probs = truncated_nb.probs_draws(mu, alpha, route.grid, np.array([cap]))[:, 0]  # (n, K)
    if g_new < route.n_groups:  # a voyage counted before: its load given those counts
        probs = probs * values["load_weight"][g_new]
    load = route.grid[loads.GridSampler(probs).draw_each(rng)]
    if option.coverage is None:
        share = rng.beta(float(values["unknown_coverage__alpha"]),
                         float(values["unknown_coverage__beta"]), len(rows))
    else:
        error = np.exp(float(values["coverage_error__log_sd"]) * rng.normal(size=len(rows)))
        share = loads.clip_coverage(option.coverage * error)
    return rng.binomial(load.astype(int), share)


# ---------------------------------------------------------------- any option: assess

K_REFIT_NOTE = "Pareto k above 0.7"
PLAN_VERSION = 5  # a plan directory's address changes with the method


class PlanError(ValueError):
    """An option the plan cannot assess (one line)."""


def _stream(seed: int, name: str) -> np.random.Generator:
    """The random numbers of one single option: the same in every option that buys it
    (common random numbers across the menu)."""
    return np.random.default_rng([seed, 22, zlib.crc32(name.encode())])


def simulate_rows(ctx: Context, option: Option, outer: np.ndarray, seed: int):
    """The new reading of a single option at each outer draw: a depot measurement's value,
    a count's containers in view, what imagery passes show (`plan_imagery.simulate`)."""
    rng = _stream(seed, option.name)
    if option.kind == "depot":
        route0 = ctx.route_of(with_depot_row(ctx.case, option, 0.0))
        gen = ctx.family.generate({k: v[outer] for k, v in ctx.draws.items()}, route0,
                                  ctx.family.data_values(route0, ctx.cfg.priors), rng)
        if "pred_depot" not in gen:  # a family that does not read the depot: any value
            return np.zeros(len(outer))
        return np.maximum(np.asarray(gen["pred_depot"], float)[:, -1], 0.0)
    if option.kind == "count":
        return simulate_count(ctx, option, outer, rng).astype(float)
    try:  # imagery: what the passes would show at each outer draw
        return [plan_imagery.simulate(ctx, option, int(s), rng) for s in outer]
    except plan_imagery.ImageryError as e:
        raise PlanError(str(e)) from None


def with_rows(case: Case, singles, readings) -> Case:
    """A copy of `case` with each single option's row appended at its reading."""
    for option, value in zip(singles, readings):
        if option.kind == "depot":
            case = with_depot_row(case, option, float(value))
        elif option.kind == "count":
            case = with_count_row(case, option, int(value))
        else:
            case = plan_imagery.with_rows(case, option, value)
    return case


@dataclass
class Assessment:
    """One option's expected width after it: `method` says what produced the figure."""

    option: Option
    width_now: float
    width_expected: float
    width_expected_mcse: float
    method: str
    ks: np.ndarray
    refit_widths: list
    seconds: float
    screen_seconds: float  # of `seconds`: simulating the rows and the screen
    widths: np.ndarray | None = None  # per outer draw (refitted ones' refit; nan: neither)

    @property
    def reduction(self) -> float:
        return self.width_now - self.width_expected

    @property
    def reduction_per_cost(self) -> float:
        return self.reduction / self.option.cost if self.option.cost > 0 else float("inf")


def screen_option(ctx: Context, option: Option, n_outer: int = 32, seed: int = 0,
                  prob: float = 0.9) -> tuple[Screen, list[Case]]:
    """The screen of `option` at `n_outer` evenly spaced outer draws, and each outer
    draw's case with its new rows."""
    n = len(ctx.draws[next(iter(ctx.draws))])
    outer = np.unique(np.linspace(0, n - 1, min(n_outer, n)).astype(int))
    singles = option.singles
    per_single = [simulate_rows(ctx, o, outer, seed) for o in singles]
    readings = [[r[i] for r in per_single] for i in range(len(outer))]
    cases = [with_rows(ctx.case, singles, row) for row in readings]
    return screen_cases(ctx, cases, seed, prob), cases


def screen_cases(ctx: Context, cases: list[Case], seed: int, prob: float = 0.9) -> Screen:
    """The screen of the run's draws reweighted by each case's data (the run's case with
    new rows), on common random numbers for the headline."""
    from concurrent.futures import ThreadPoolExecutor

    family, streams = ctx.family, list(ctx.family.LOGLIK_DIMS)

    def one(case):  # each case on its own generator: the same numbers in any thread
        route = ctx.route if case is None else ctx.route_of(case)
        values = ctx.values if case is None else family.data_values(route, ctx.cfg.priors)
        gen = family.generate(ctx.draws, route, values, np.random.default_rng([seed, 22]))
        return data_loglik(gen, streams), np.asarray(gen[ctx.headline], float)

    fresh = seed not in ctx.bases  # the run's own data: the same for every option
    with ThreadPoolExecutor(max(1, int(ctx.cfg.inference.cores))) as pool:
        rest = list(pool.map(one, [None, *cases] if fresh else cases))
    if fresh:
        ctx.bases[seed] = rest.pop(0)
    base, head = ctx.bases[seed]
    return screen(head, base, [r[0] for r in rest], prob, headlines=[r[1] for r in rest])


# how much narrower in variance a refit's interval is than a coherent update's, in percent
# (bench/plan_lotv.py: voyages 0.917, dynamic 0.883 of the law of total variance)
REREAD = {"voyages": 8, "dynamic": 12}


def caveat(ctx: Context, a: Assessment) -> Assessment:
    """`a` with its method saying what the figure carries: imagery on a voyages or dynamic
    run, whose refit re-reads the weekly table of sightings as if the new passes had
    always been in the record, not today's posterior updated by the news
    (bench/plan_coherence.py). The plan foresees that refit; the law of total variance
    falls short by that much (bench/plan_lotv.py)."""
    passes = any(o.kind == "imagery" and o.passes for o in a.option.singles)
    if passes and ctx.family.NAME in REREAD:
        return replace(a, method=f"{a.method}; this family re-reads its weekly table with the "
                       f"new passes: its interval after them is about "
                       f"{REREAD[ctx.family.NAME]}% narrower in variance than a coherent "
                       "update (docs/plan.md)")
    return a


def assess(ctx: Context, option: Option, n_outer: int = 32, seed: int = 0, prob: float = 0.9,
           max_refits: int = 8, refit=None) -> Assessment:
    """The expected width of the headline's interval after `option`, at `n_outer` evenly
    spaced outer draws (the same for every option). The screen reweights the run's draws
    by the data's likelihood with each outer draw's new rows. Where its Pareto k is above
    0.7 the outer draw is refitted instead (`refit_width`, or `refit(case, seed)`), at most
    `max_refits` of them, evenly spaced among the untrusted ones: the expectation is then
    stratified, the trusted draws' mean screen width and the refitted draws' mean width
    weighted by their shares, so dropping draws never biases it. The method says what
    the figure carries (`caveat`)."""
    import time

    t0 = time.perf_counter()
    s, cases = screen_option(ctx, option, n_outer, seed, prob)
    bad = np.flatnonzero(~s.trusted)
    screened = time.perf_counter() - t0
    refit = refit or (lambda case, sd: refit_width(ctx, case, sd, prob=prob))
    if not len(bad):
        return caveat(ctx, Assessment(option, s.width_now, s.width_expected,
                                      s.width_expected_mcse, "screen", s.ks, [],
                                      time.perf_counter() - t0, screened,
                                      np.where(s.trusted, s.widths, np.nan)))
    chosen = bad[np.unique(np.linspace(0, len(bad) - 1, min(max_refits, len(bad))).astype(int))]
    widths = [refit(cases[i], seed * 1000 + int(i)) for i in chosen]
    mean, mcse = stratified(s.widths, s.trusted, widths)
    each = np.where(s.trusted, s.widths, np.nan)
    each[chosen] = widths
    good = s.widths[s.trusted]
    method = (f"refit ({len(chosen)} of {len(s.ks)} outer draws)" if not len(good) else
              f"screen, refit where {K_REFIT_NOTE} ({len(chosen)} refit"
              f"{'s' if len(chosen) > 1 else ''} for {len(bad)} of {len(s.ks)} outer draws)")
    return caveat(ctx, Assessment(option, s.width_now, mean, mcse, method, s.ks,
                                  widths, time.perf_counter() - t0, screened, each))
