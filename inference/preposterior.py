"""Preposterior analysis by importance reweighting: how a fit's headline interval would
narrow after new data, from the fit's own draws.

New rows y are simulated from the model at some of the posterior's draws (the outer
draws). For each, every posterior draw s is reweighted by the likelihood ratio of the
data with y to the data without, p(data, y | s) / p(data | s), Pareto-smoothed (PSIS);
the reweighted draws of the headline give the interval after y. The mean width over the
outer draws is the expected width; its Monte Carlo error comes from their spread. A Pareto
k above `K_MAX` says the reweighting is not to be trusted for that outer draw: the
caller refits there instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

K_MAX = 0.7  # above it PSIS estimates are unreliable (Vehtari et al. 2024)


def data_loglik(gen: dict, streams) -> np.ndarray:
    """(S,) the data's log-likelihood of each draw: every stream's pointwise terms summed."""
    total = 0.0
    for s in streams:
        x = np.asarray(gen[f"loglik_{s}"], float)
        total = total + x.reshape(len(x), -1).sum(axis=1)
    return np.asarray(total)


def weighted_interval(x: np.ndarray, w: np.ndarray, prob: float = 0.9) -> tuple[float, float]:
    """Equal-tailed interval of draws x under normalised weights w."""
    order = np.argsort(x, kind="stable")
    xs, cum = x[order], np.cumsum(w[order])
    cum /= cum[-1]
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    return (float(xs[min(np.searchsorted(cum, lo), len(xs) - 1)]),
            float(xs[min(np.searchsorted(cum, hi), len(xs) - 1)]))


def reweight(log_ratio: np.ndarray, r_eff: float = 1.0) -> tuple[np.ndarray, float]:
    """PSIS-smoothed normalised weights of draws from log likelihood ratios, and Pareto k."""
    from arviz_stats.base import array_stats

    # arviz-stats takes LOO's convention: minus the log ratios (ary = -log_lik there)
    log_ratio = np.asarray(log_ratio, float)
    if np.ptp(log_ratio) < 1e-12:  # the same under every draw: nothing to reweight
        return np.full(len(log_ratio), 1.0 / len(log_ratio)), float("-inf")
    try:
        lw, k = array_stats.psislw(-(log_ratio - np.max(log_ratio)), r_eff)
    except ValueError:  # the largest ratios are all equal: no tail to smooth
        lw, k = log_ratio, 0.0
    w = np.exp(lw - np.max(lw))
    return w / w.sum(), float(k)


@dataclass
class Screen:
    """One option's screen: the width now, the width after each outer draw's new rows
    (nan where k > K_MAX), each Pareto k, and their summary."""

    width_now: float
    widths: np.ndarray
    ks: np.ndarray
    var_now: float = float("nan")  # the headline's variance now
    means: np.ndarray | None = None  # its weighted mean after each outer draw's rows
    variances: np.ndarray | None = None  # and its weighted variance

    @property
    def trusted(self) -> np.ndarray:
        return self.ks <= K_MAX

    def total_variance(self) -> tuple[float, float]:
        """E[Var] + Var[E] over the outer draws (today's variance, by the law of total
        variance, when the new rows follow the model) and its Monte Carlo error."""
        n = len(self.means)
        total = self.variances.mean() + self.means.var()
        se = np.hypot(self.variances.std(ddof=1) / np.sqrt(n),
                      self.means.var() * np.sqrt(2 / (n - 1)))
        return float(total), float(se)

    @property
    def width_expected(self) -> float:
        return float(np.nanmean(np.where(self.trusted, self.widths, np.nan)))

    @property
    def width_expected_mcse(self) -> float:
        w = self.widths[self.trusted]
        return float(w.std(ddof=1) / np.sqrt(len(w))) if len(w) > 1 else float("nan")


def screen(headline: np.ndarray, base: np.ndarray, outer: list[np.ndarray],
           prob: float = 0.9, r_eff: float = 1.0, headlines: list | None = None) -> Screen:
    """headline (S,) the fit's draws of the headline; base (S,) the data's log-likelihood
    per draw; outer: for each outer draw, (S,) the log-likelihood of the data with that
    draw's new rows (`data_loglik`); headlines: for each outer draw, the headline's draws
    given the data with its new rows where they change it (a count changes a voyage's
    load given the parameters; a depot reading does not), else `headline`."""
    headline = np.asarray(headline, float)
    flat = np.full(len(headline), 1.0 / len(headline))
    lo, hi = weighted_interval(headline, flat, prob)
    widths, ks, means, variances = [], [], [], []
    for i, ll in enumerate(outer):
        w, k = reweight(np.asarray(ll, float) - base, r_eff)
        x = headline if headlines is None else np.asarray(headlines[i], float)
        a, b = weighted_interval(x, w, prob)
        widths.append(b - a)
        ks.append(k)
        means.append(float(w @ x))
        variances.append(float(w @ (x - means[-1]) ** 2))
    return Screen(hi - lo, np.array(widths, float), np.array(ks, float), float(headline.var()),
                  np.array(means), np.array(variances))


def stratified(widths: np.ndarray, trusted: np.ndarray, refitted: list) -> tuple[float, float]:
    """The expected width and its Monte Carlo error when the outer draws the screen cannot
    trust (`trusted` False) are represented by refits of some of them (`refitted`, their
    widths): the trusted draws' mean and the refits' mean, weighted by the two strata's
    shares of the outer draws. When every untrusted draw is refitted that is the plain
    mean over all outer draws, with its plain error; otherwise a stratum of one draw has
    no spread to estimate (nan)."""
    widths, trusted = np.asarray(widths, float), np.asarray(trusted, bool)
    good, refitted = widths[trusted], np.asarray(refitted, float)
    share = 1.0 - trusted.mean()
    if share > 0 and not len(refitted):
        raise ValueError("untrusted outer draws and no refits")
    if len(refitted) == (~trusted).sum():  # every outer draw has a width: a plain mean
        every = np.concatenate([good, refitted])
        return float(every.mean()), float(every.std(ddof=1) / np.sqrt(len(every)))
    mean, var = 0.0, 0.0
    for part, w in ((good, 1.0 - share), (refitted, share)):
        if w > 0:
            mean += w * part.mean()
            var += w**2 * (part.var(ddof=1) / len(part) if len(part) > 1 else np.nan)
    return float(mean), float(np.sqrt(var))
