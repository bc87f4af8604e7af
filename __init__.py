"""cargoinfer: Bayesian inference of hidden cargo volumes.

    import cargoinfer as ci
    run = ci.fit(model="joint", seed=1)   # experiments/api.py: fit, load, check, sweep, compare, plan
"""

__version__ = "0.1.0"

API = ("fit", "load", "check", "sweep", "compare", "plan", "Run", "Plan", "InputError")
__all__ = [*API, "__version__"]


def __getattr__(name: str):
    """The API, imported on first use (a bare `import cargoinfer` stays light)."""
    if name in API:
        from .experiments import api

        return getattr(api, name)
    raise AttributeError(f"module 'cargoinfer' has no attribute '{name}'")
