"""Numbers and probabilities in words, by one rounding rule (the brief states it)."""

from __future__ import annotations

from datetime import date

import numpy as np

# ICD 203 words of estimative probability: upper bound of each band.
ICD203 = ((0.05, "almost no chance"), (0.20, "very unlikely"), (0.45, "unlikely"),
          (0.55, "roughly even chance"), (0.80, "likely"), (0.95, "very likely"),
          (1.01, "almost certain"))
ROUNDING_RULE = ("Counts below 100 are rounded to the nearest whole number, from 100 to 9,999 "
                 "to the nearest 10, larger ones to three significant figures; probabilities to "
                 "whole percent; files keep full precision.")


def words(p: float) -> str:
    return next(w for bound, w in ICD203 if p < bound)


def chance(p: float, first: bool = False) -> str:
    """The ICD 203 phrase as the start of a sentence's clause: "there is almost no chance
    (about 2%)", "it is likely (about 70%)"; `first` capitalises it."""
    w = words(p)
    text = (f"there is {'a ' * w.startswith('roughly')}{w}" if w.endswith("chance")
            else f"it is {w}") + f" ({fmt_prob(p)})"
    return text[0].upper() + text[1:] if first else text


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


def fmt_dates(first: date, last: date) -> str:
    if first.year == last.year:
        return f"between {first:%-d %B} and {last:%-d %B %Y}"
    return f"between {first:%-d %B %Y} and {last:%-d %B %Y}"


def short_source(text: str, width: int = 70) -> str:
    """A source's name: its text up to the first '(' or ':', at most `width` characters."""
    head = text.split("(")[0].split(":")[0].strip() or text.strip()
    return head if len(head) <= width else head[: width - 1].rstrip() + "…"


def prior_words(name: str, node: dict) -> str:
    from scipy import stats

    from ..models.priors import MEANING, share_quantiles

    what = MEANING.get(name, name.replace("_", " "))
    if "median" in node:
        lo, hi = stats.lognorm.ppf([0.05, 0.95], s=node["log_sd"], scale=node["median"])
        dist = (f"log-normal, median {_num(node['median'])}, 90% of prior mass between "
                f"{_num(lo)} and {_num(hi)}")
    elif "floor" in node and node["alpha"] == 0 and node["beta"] == 1:
        lo, med, hi = share_quantiles([0.05, 0.5, 0.95], 0.0, 1.0, node["floor"])
        dist = (f"log-uniform from {_num(node['floor'])} to 1 (its order of magnitude unknown): "
                f"median {med:.0%}, 90% between {lo:.1%} and {hi:.0%}")
    elif "floor" in node and (node["alpha"] == 0
                              or stats.beta.cdf(node["floor"], node["alpha"], node["beta"]) > 0.01):
        lo, hi = share_quantiles([0.05, 0.95], node["alpha"], node["beta"], node["floor"])
        dist = (f"proportional to x^({_num(node['alpha'] - 1)}) (1 - x)^({_num(node['beta'] - 1)}) "
                f"from {_num(node['floor'])} to 1: 90% between {lo:.1%} and {hi:.0%}")
    elif "alpha" in node:
        lo, hi = stats.beta.ppf([0.05, 0.95], node["alpha"], node["beta"])
        dist = (f"Beta({_num(node['alpha'])}, {_num(node['beta'])}): mean "
                f"{node['alpha'] / (node['alpha'] + node['beta']):.0%}, 90% between {lo:.0%} "
                f"and {hi:.0%}")
    elif set(node) == {"log_sd"}:
        lo, hi = np.exp(np.array([-1.645, 1.645]) * node["log_sd"])
        dist = (f"fixed: the true value is the recorded one times a log-normal error of log-sd "
                f"{_num(node['log_sd'])}, 90% between {_num(lo)} and {_num(hi)} times it")
    elif "scale" in node:
        dist = (f"half-normal, scale {_num(node['scale'])}: 90% below "
                f"{_num(stats.halfnorm.ppf(0.9, scale=node['scale']))}")
    else:
        dist = ", ".join(f"{k} {_num(v)}" for k, v in node.items())
    return f"{what.capitalize()} (`{name}`): {dist}."


def _num(x: float) -> str:
    x = float(x)
    if abs(x) >= 100:
        return fmt_count(x)
    return f"{x:.2g}" if abs(x) < 1 else f"{x:.3g}"
