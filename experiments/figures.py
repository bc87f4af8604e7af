"""PNG figures of a run, labelled in words and legible at slide size."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

plt.rcParams.update({"font.size": 13, "axes.spines.top": False, "axes.spines.right": False})


def _band(ax, x, draws, color, label, prob=0.9):
    lo, med, hi = np.quantile(draws, [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0)
    ax.fill_between(x, lo, hi, color=color, alpha=0.25, label=f"{prob:.0%} credible interval")
    ax.plot(x, med, "o-", color=color, lw=2, label=label)


def write_figures(tree, case, folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    est = tree["estimands"]
    ends = np.array([np.datetime64(e) for e in est["period_end"].values])
    names = []

    cum = np.asarray(est["containers_cumulative"]).reshape(-1, est.sizes["period"])
    x = np.concatenate([[np.datetime64(case.spec.start)], ends])
    cum = np.concatenate([np.zeros((len(cum), 1)), cum], axis=1)  # nothing before the window
    fig, ax = plt.subplots(figsize=(10, 5.5))
    _band(ax, x, cum, "tab:blue", "estimated containers shipped (median)")
    route = f"{' / '.join(case.spec.origin)} to {' / '.join(case.spec.destination)}"
    ax.set_title(f"Containers shipped {route}, cumulative to each period's end")
    ax.set_xlabel("date")
    ax.set_ylabel("containers, cumulative")
    ax.legend(loc="upper left", frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(folder / "cumulative_containers.png", dpi=110)
    plt.close(fig)
    names.append("cumulative_containers.png")

    obs = np.asarray(tree["observed_data"]["captures"])
    obs = obs.reshape(len(obs), -1).sum(axis=1)  # all vessels and capture histories
    voy = np.diff(np.asarray(est["voyages_cumulative"]).reshape(-1, est.sizes["period"]),
                  axis=1, prepend=0)
    fig, ax = plt.subplots(figsize=(10, 5.5))
    x = np.arange(len(ends))
    lo, med, hi = np.quantile(voy, [0.05, 0.5, 0.95], axis=0)
    ax.bar(x, obs, color="0.75", label="voyages seen")
    ax.errorbar(x, med, yerr=[med - lo, hi - med], fmt="o", color="tab:red", capsize=4,
                label="voyages estimated (median, 90% interval)")
    ax.set_xticks(x, [str(s)[5:] for s in est["period_start"].values])
    ax.set_xlabel("period starting (month-day)")
    ax.set_ylabel("laden voyages")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Voyages seen versus estimated, per period")
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(folder / "voyages_per_period.png", dpi=110)
    plt.close(fig)
    names.append("voyages_per_period.png")
    return names


def rank_ecdf(result, folder: Path, level: float = 0.95) -> str:
    """SBC: for each quantity, the ECDF of the simulations' PITs minus the uniform CDF,
    inside the simultaneous `level` band of a calibrated model."""
    from ..inference.calibration import band

    folder.mkdir(parents=True, exist_ok=True)
    names = list(dict.fromkeys(row["estimand"] for row in result.rows))
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        u = np.sort([s.pit[name] for s in result.simulations if name in s.pit])
        z, lo, hi = band(len(u), level)
        ax.fill_between(z, lo - z, hi - z, color="0.85", label=f"{level:.0%} simultaneous band")
        ecdf = np.searchsorted(u, z, side="right") / len(u)
        ax.plot(z, ecdf - z, color="tab:blue", lw=1.8, label="ranks' ECDF - uniform")
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set_title(name.replace("parameter.", "param: "), fontsize=11)
        ax.set_xlabel("fractional rank of the truth", fontsize=10)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    axes[0, 0].legend(frameon=False, fontsize=9, loc="lower left")
    fig.suptitle(f"Simulation-based calibration, {len(result.simulations)} simulations: "
                 f"{result.verdict}")
    fig.tight_layout()
    fig.savefig(folder / "rank_ecdf.png", dpi=100)
    plt.close(fig)
    return "rank_ecdf.png"
