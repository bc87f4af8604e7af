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
