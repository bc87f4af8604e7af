"""The brief's figures: what a reader would rather look at than read. PNG, labelled in
words, legible at slide size (10 x 5.5 inches at 13 pt)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import polars as pl

from .figures import plt  # the Agg backend and the project's plot style

BAND = "90% credible interval"
DEPOT_LABELS = {"filled_area_m2": "filled area (m2)", "railcars": "railcars",
                "containers": "containers"}


def _draws(est, name: str) -> np.ndarray:
    """(S, period) or (S,) draws of an estimand, chains flattened."""
    x = np.asarray(est[name], float)
    return x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])


def period_bounds(est) -> tuple[date, list[date]]:
    """The window's first day and each period's last day."""
    start = date.fromisoformat(str(est["period_start"].values[0]))
    return start, [date.fromisoformat(str(e)) for e in est["period_end"].values]


def between(est, name: str, first: date, last: date) -> tuple[np.ndarray, bool]:
    """Draws of the `name` series ('containers' or 'voyages') leaving from `first` to
    `last` inclusive, each period's flow spread evenly over its days (as the models
    assume). Days outside the window add nothing; the flag says whether any were cut."""
    start, ends = period_bounds(est)
    cum = _draws(est, f"{name}_cumulative")
    days = np.array([0] + [(e - start).days + 1 for e in ends], float)
    cum = np.concatenate([np.zeros((len(cum), 1)), cum], axis=1)
    lo, hi = (first - start).days, (last - start).days + 1
    clipped = lo < 0 or hi > days[-1]
    lo, hi = np.clip([lo, hi], 0, days[-1])
    at = lambda d: np.array([np.interp(d, days, row) for row in cum])
    return at(hi) - at(lo), clipped


def _save(fig, folder: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(folder / name, dpi=110)
    plt.close(fig)
    return name


def cumulative(est, route_name: str, counted: pl.DataFrame | None, folder: Path,
               forecast_to: date | None = None) -> str:
    """Cumulative containers with their band; the containers counted in imagery (each
    voyage's largest count) as a floor; the forecast to its horizon when there is one."""
    start, ends = period_bounds(est)
    x = [start, *ends]
    cum = np.concatenate([np.zeros((len(_draws(est, "containers_cumulative")), 1)),
                          _draws(est, "containers_cumulative")], axis=1)
    lo, med, hi = np.quantile(cum, [0.05, 0.5, 0.95], axis=0)
    fig, ax = plt.subplots(figsize=(10, 5.5))
    ax.fill_between(x, lo, hi, color="tab:blue", alpha=0.25, label=f"estimate, {BAND}")
    ax.plot(x, med, "-", color="tab:blue", lw=2.5, label="estimate, median")
    if forecast_to is not None and "forecast_containers" in est:
        f = _draws(est, "forecast_containers")
        steps = np.linspace(0, 1, 12)
        path = cum[:, -1:] + (f - cum[:, -1])[:, None] * steps[None, :]  # the flow goes on evenly
        flo, fmed, fhi = np.quantile(path, [0.05, 0.5, 0.95], axis=0)
        span = (forecast_to - ends[-1]).days
        fx = [ends[-1] + timedelta(days=float(s * span)) for s in steps]
        ax.fill_between(fx, flo, fhi, color="tab:purple", alpha=0.2,
                        label=f"forecast to {forecast_to:%-d %b %Y}, {BAND}")
        ax.plot(fx, fmed, "--", color="tab:purple", lw=2.5, label="forecast, median")
    if counted is not None and counted.height:
        ax.step(counted["date"].to_list(), counted["cumulative"].to_list(), where="post",
                color="black", lw=2, label="containers counted in imagery (a floor)")
    ax.set_title(f"Containers shipped {route_name}, cumulative")
    ax.set_xlabel("date")
    ax.set_ylabel("containers since the window's start")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", frameon=False, fontsize=11)
    fig.autofmt_xdate()
    return _save(fig, folder, "cumulative_containers.png")


def counted_floor(containers: pl.DataFrame, start: date, end: date) -> pl.DataFrame:
    """Containers counted in imagery inside the window, cumulative by date: a voyage's
    largest count once (its counts share one load), a count without a voyage on its own."""
    rows = containers.filter((pl.col("date") >= start) & (pl.col("date") <= end))
    if not rows.height:
        return rows.select("date").with_columns(cumulative=pl.lit(0.0))
    key = pl.when(pl.col("voyage_id").is_null()).then(pl.int_range(pl.len()).cast(pl.String)) \
        .otherwise(pl.col("voyage_id"))
    best = (rows.with_columns(key=key).sort("visible", descending=True)
            .unique("key", keep="first").sort("date"))
    return best.select("date", cumulative=pl.col("visible").cast(pl.Float64).cum_sum())


def voyages(tree, folder: Path) -> str:
    est = tree["estimands"]
    obs = np.asarray(tree["observed_data"]["captures"])
    obs = obs.reshape(len(obs), -1).sum(axis=1)  # all vessels and capture histories
    voy = np.diff(_draws(est, "voyages_cumulative"), axis=1, prepend=0)
    lo, med, hi = np.quantile(voy, [0.05, 0.5, 0.95], axis=0)
    fig, ax = plt.subplots(figsize=(10, 5.5))
    x = np.arange(len(obs))
    ax.bar(x, obs, color="0.75", label="voyages seen")
    ax.errorbar(x, med, yerr=[med - lo, hi - med], fmt="o", color="tab:red", capsize=5, ms=8,
                lw=2, label=f"voyages estimated (median, {BAND})")
    starts = [date.fromisoformat(str(s)) for s in est["period_start"].values]
    ax.set_xticks(x, [f"{s:%-d %b}" for s in starts], rotation=45)
    ax.set_xlabel("period starting")
    ax.set_ylabel("laden voyages")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Voyages seen versus estimated, per period")
    ax.legend(frameon=False)
    return _save(fig, folder, "voyages_per_period.png")


def depot(tree, route, depot_name: str, metrics: tuple[str, ...], folder: Path) -> str | None:
    """Each depot measurement against the model's 90% predictive interval for it."""
    if route is None or "depot" not in tree["observed_data"] or \
            "posterior_predictive" not in tree.children or "depot" not in tree["posterior_predictive"]:
        return None
    start = date.fromisoformat(str(tree["estimands"]["period_start"].values[0]))
    pred = _draws(tree["posterior_predictive"], "depot")
    used = sorted(set(route.depot_metric.tolist()))
    fig, axes = plt.subplots(len(used), 1, figsize=(10, 1.4 + 3.0 * len(used)), squeeze=False,
                             sharex=True)
    last = start + timedelta(days=int(route.depot_day.max()) + 3)
    for ax, m in zip(axes[:, 0], used):
        ax.set_xlim(start, last)
        rows = np.flatnonzero(route.depot_metric == m)
        when = [start + timedelta(days=int(d)) for d in route.depot_day[rows]]
        lo, med, hi = np.quantile(pred[:, rows], [0.05, 0.5, 0.95], axis=0)
        ax.errorbar(when, med, yerr=[med - lo, hi - med], fmt="s", color="tab:blue", capsize=5,
                    ms=7, lw=2, label=f"model expects ({BAND})")
        sd = np.nan_to_num(route.depot_sd[rows])
        ax.errorbar(when, route.depot_value[rows], yerr=sd, fmt="o", color="black", capsize=3,
                    ms=7, label="measured (± stated sd)")
        ax.set_ylabel(DEPOT_LABELS.get(metrics[m], metrics[m]))
        ax.set_ylim(bottom=0)
    axes[-1, 0].xaxis.set_major_formatter(mdates.DateFormatter("%-d %b"))
    axes[0, 0].legend(loc="upper left", frameon=False, fontsize=11)
    fig.suptitle(f"Depot {depot_name}: stock measured against the model")
    return _save(fig, folder, "depot_stock.png")


def claims(rows: list[dict], folder: Path) -> str | None:
    """Each third-party claim against the estimate of the same quantity over its dates.
    rows: label, value, relation, unit, draws (from `between`)."""
    if not rows:
        return None
    fig, axes = plt.subplots(len(rows), 1, figsize=(10, 1.6 + 1.5 * len(rows)), squeeze=False)
    for ax, r in zip(axes[:, 0], rows):
        lo, med, hi = np.quantile(r["draws"], [0.05, 0.5, 0.95])
        ax.plot([lo, hi], [0, 0], color="tab:blue", lw=7, alpha=0.5, label=f"our estimate, {BAND}")
        ax.plot(med, 0, "o", color="tab:blue", ms=11, label="our estimate, median")
        ax.plot(r["value"], 0, "D", color="tab:red", ms=12, label="the stated figure")
        ax.annotate(f"{r['relation'].replace('_', ' ')} {r['value']:,.0f}", (r["value"], 0),
                    xytext=(0, 12), textcoords="offset points", ha="center", color="tab:red")
        ax.set_yticks([])
        ax.set_ylim(-1, 1)
        ax.set_title(r["label"], fontsize=12, loc="left")
        ax.set_xlabel(r["unit"])
        ax.set_xlim(left=0, right=max(hi, r["value"]) * 1.1)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False, fontsize=11)
    fig.suptitle("The estimate against what third parties stated")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(folder / "claims.png", dpi=110)
    plt.close(fig)
    return "claims.png"


def network(est, folder: Path) -> str | None:
    """A route network: origin ports left, destination ports right (each with its chance
    that a call there is seen), one line per route whose width shows its median
    containers, labelled with the median and the 90% interval."""
    if "route_containers" not in est:
        return None
    from .wording import fmt_count

    routes = [str(r) for r in est["route"].values]
    sites = [str(s) for s in est["site"].values]
    x = _draws(est, "route_containers")
    med, lo, hi = np.median(x, 0), *np.quantile(x, [0.05, 0.95], axis=0)
    seen = np.median(_draws(est, "site_detection"), 0)
    origins = list(dict.fromkeys(r.split("->", 1)[0] for r in routes))
    ends = list(dict.fromkeys(r.split("->", 1)[1] for r in routes))
    y = lambda names, n: dict(zip(names, np.linspace(1, 0, n) if n > 1 else [0.5]))  # noqa: E731
    yo, yd = y(origins, len(origins)), y(ends, len(ends))
    fig, ax = plt.subplots(figsize=(10, 5.5))
    top = max(med.max(), 1.0)
    for r, m, a, b in zip(routes, med, lo, hi):
        o, d = r.split("->", 1)
        ax.plot([0, 1], [yo[o], yd[d]], color="tab:red", alpha=0.7, lw=1 + 11 * m / top,
                solid_capstyle="round")
        t = 0.28 + 0.44 * ends.index(d) / max(len(ends) - 1, 1)  # crossing lines' labels apart
        ax.annotate(f"{fmt_count(m)} ({fmt_count(a)}-{fmt_count(b)})",
                    (t, yo[o] + t * (yd[d] - yo[o])), ha="center", va="center", fontsize=10,
                    bbox={"boxstyle": "round", "fc": "white", "ec": "none", "alpha": 0.85})
    for names, pos, xs, ha in ((origins, yo, 0, "right"), (ends, yd, 1, "left")):
        for n in names:
            ax.plot([xs], [pos[n]], "o", color="black", ms=9)
            ax.annotate(f"{n}\nseen {seen[sites.index(n)]:.0%}", (xs, pos[n]),
                        xytext=(-12 if ha == "right" else 12, 0), textcoords="offset points",
                        ha=ha, va="center")
    ax.set_xlim(-0.35, 1.35)
    ax.set_ylim(-0.15, 1.15)
    ax.axis("off")
    ax.set_title("Containers per route, median (90% interval); calls seen per port")
    return _save(fig, folder, "network.png")
