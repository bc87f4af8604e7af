"""Model families: every module in models/ that defines NAME and VERSION."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from .. import models as _pkg

_HELPERS = {"registry", "priors", "loads", "streams", "data"}


def families() -> dict[str, ModuleType]:
    out = {}
    for info in pkgutil.iter_modules(_pkg.__path__):
        if info.name in _HELPERS or info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{_pkg.__name__}.{info.name}")
        if hasattr(mod, "NAME") and hasattr(mod, "VERSION"):
            out[mod.NAME] = mod
    return out


def get(name: str) -> ModuleType:
    found = families()
    if name not in found:
        raise KeyError(f"unknown model '{name}' (known: {', '.join(sorted(found))})")
    return found[name]


# the case tables each log-likelihood term of a family reads
TABLES_OF = {"captures": ("voyages", "imagery"), "loads": ("containers",),
             "depot": ("depot",), "claims": ("claims",)}


def tables_used(family: ModuleType) -> set[str]:
    return {t for term in getattr(family, "LOGLIK_DIMS", {}) for t in TABLES_OF.get(term, ())}


def pick(present: set[str]) -> tuple[str, str]:
    """The family for a case whose non-empty tables are `present`: of the sampled families,
    the one that uses most of them, then the fewest parameters. Returns (name, why)."""
    sampled = {n: f for n, f in families().items()
               if hasattr(f, "build") and getattr(f, "AUTO", True)}
    def rank(item):
        name, family = item
        return (-len(tables_used(family) & present), len(family.PARAMS), name)
    name, family = min(sampled.items(), key=rank)
    left = sorted(present - tables_used(family))
    others = [f"{n} ({len(f.PARAMS)} parameters) leaves out "
              f"{', '.join(sorted(present - tables_used(f)))}"
              for n, f in sorted(sampled.items(), key=rank) if n != name and present - tables_used(f)]
    why = (f"{name} ({len(family.PARAMS)} parameters) is the simplest model that uses "
           + (f"every table the case has ({', '.join(sorted(present))})" if not left
              else f"most of the case's tables; it leaves out {', '.join(left)}")
           + (f"; {'; '.join(others)}" if others else ""))
    return name, why
