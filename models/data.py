"""A family's named arrays, held in two pm.Data containers.

nutpie unpacks every shared variable of a compiled model in generated code whose
compile time grows by about a second per variable, so a family's data are packed
into one float vector `flat` (every array raveled, by name) and one integer vector
`layout` (each array's offset in `flat` and its shape). Shapes stay data, not
constants, so one compiled model takes data of any size through `with_data`.
The model reads each array by its own name, as a view.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

FLAT, LAYOUT = "flat", "layout"


def pack(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The containers' values, by pm.Data name (what `with_data` takes)."""
    parts, layout, offset = [], [], 0
    for name in sorted(values):
        a = np.asarray(values[name], float)
        parts.append(a.ravel())
        layout += [offset, *a.shape]
        offset += a.size
    flat = np.concatenate(parts) if parts else np.zeros(0)
    return {FLAT: flat, LAYOUT: np.array(layout, dtype="int64")}


def declare(values: dict[str, np.ndarray]) -> dict:
    """Inside a model: create the containers and return a view per array name."""
    packed = {k: pm.Data(k, v) for k, v in pack(values).items()}
    flat, layout = packed[FLAT], packed[LAYOUT]
    views, pos = {}, 0
    for name in sorted(values):
        ndim = np.ndim(values[name])
        offset, shape = layout[pos], [layout[pos + 1 + j] for j in range(ndim)]
        pos += 1 + ndim
        if ndim == 0:
            view = flat[offset]
        else:
            view = flat[offset:offset + pt.prod(pt.stack(shape))].reshape(shape, ndim=ndim)
        integer = np.issubdtype(np.asarray(values[name]).dtype, np.integer)
        views[name] = pt.cast(view, "int64") if integer else view
    return views
