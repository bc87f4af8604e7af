"""PNG figures of the model checks (rootogram, predictive totals, SBC ranks), labelled in words."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

plt.rcParams.update({"font.size": 13, "axes.spines.top": False, "axes.spines.right": False})


def write_figures(tree, folder: Path) -> list[str]:
    """The model-check figures of a fit (the brief draws its own: brief_figures)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    if "posterior_predictive" in tree.children:
        names.append(rootogram(tree, folder))
    if "prior_predictive" in tree.children:
        names.append(prior_predictive(tree, folder))
    return names


def rootogram(tree, folder: Path, stream: str = "captures") -> str:
    """Hanging rootogram of a count stream: bars of sqrt(observed frequency) hang from
    the curve of sqrt(expected frequency) under the posterior predictive; a bar that
    ends far from zero marks counts the model expects too often or too rarely."""
    obs = np.asarray(tree["observed_data"][stream]).ravel().astype(int)
    pred = np.asarray(tree["posterior_predictive"][stream])
    pred = pred.reshape(pred.shape[0] * pred.shape[1], -1).astype(int)
    top = int(max(obs.max(), np.quantile(pred, 0.99))) + 1
    k = np.arange(top + 1)
    expected = np.array([(pred == v).sum(axis=1).mean() for v in k])
    observed = np.bincount(obs, minlength=top + 1)[: top + 1]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.bar(k, np.sqrt(observed), bottom=np.sqrt(expected) - np.sqrt(observed), color="0.75",
           label="observed (hanging from the expected)")
    ax.plot(k, np.sqrt(expected), "o-", color="tab:red", label="expected under the model")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xlabel(f"{stream}: count in a cell (period x capture history)")
    ax.set_ylabel("sqrt(number of cells)")
    ax.set_title(f"Posterior predictive rootogram: {stream}")
    ax.legend(frameon=False)
    fig.tight_layout()
    name = f"rootogram_{stream}.png"
    fig.savefig(folder / name, dpi=110)
    plt.close(fig)
    return name


def prior_predictive(tree, folder: Path) -> str:
    """What the priors alone expect (prior predictive) against what the fit expects and
    what was observed, for each count stream's total."""
    streams = [s for s in ("captures", "visible") if s in tree["prior_predictive"].data_vars]
    fig, axes = plt.subplots(1, len(streams), figsize=(6 * len(streams), 4.5), squeeze=False)
    for ax, s in zip(axes[0], streams):
        def total(group):
            x = np.asarray(tree[group][s], float)
            return x.reshape(x.shape[0] * x.shape[1], -1).sum(axis=1)

        prior, post = total("prior_predictive"), total("posterior_predictive")
        hi = np.quantile(np.concatenate([prior, post]), 0.99)
        bins = (np.arange(0, hi + 2) - 0.5 if s == "captures" and hi < 80
                else np.linspace(0, max(hi, 1.0), 40))
        ax.hist(prior, bins=bins, density=True, color="0.7", alpha=0.7, label="prior predictive")
        ax.hist(post, bins=bins, density=True, color="tab:blue", alpha=0.5,
                label="posterior predictive")
        ax.axvline(float(np.asarray(tree["observed_data"][s]).sum()), color="tab:red", lw=2,
                   label="observed")
        ax.set_xlabel({"captures": "voyages seen (all periods)",
                       "visible": "containers counted (all counts)"}[s])
        ax.set_yticks([])
        ax.legend(frameon=False, fontsize=10)
    fig.suptitle("Prior and posterior predictive totals against the data")
    fig.tight_layout()
    fig.savefig(folder / "prior_predictive.png", dpi=110)
    plt.close(fig)
    return "prior_predictive.png"


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
