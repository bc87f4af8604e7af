"""Keep library chatter (PyTensor, PyMC, numba, ...) off the user's terminal."""

from __future__ import annotations

import logging
import warnings


def quiet() -> None:
    """Keep PyTensor, PyMC and numba chatter off the user's terminal."""
    for name in ("pytensor", "pymc", "numba", "arviz", "hydra", "nutpie", "h5py", "matplotlib"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="pytensor")
