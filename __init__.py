"""cargoinfer: Bayesian inference of hidden cargo volumes."""

__version__ = "0.1.0"
