"""What the per-simulation benches share: a family on the default case's shape, and
calibrate's simulations from its prior (the bench scripts import this from their folder)."""

import numpy as np
from cargoinfer.experiments.config import case_dir, compose
from cargoinfer.models import registry
from cargoinfer.observations.aggregate import route_data
from cargoinfer.observations.case import load_case


def family_on_case(model: str, overrides=()):
    """calibrate's config for `model`, its family, the case's shape and its data values."""
    cfg = compose([f"model={model}", *overrides], config_name="calibrate")
    family = registry.get(model)
    template = route_data(load_case(case_dir(cfg)), cfg.model.transit_days,
                          cfg.model.max_containers_per_voyage,
        transit_extra_days=cfg.model.transit_extra_days)
    return cfg, family, template, family.data_values(template, cfg.priors)


def simulation(cfg, family, template, values0, index: int):
    """calibrate's simulation `index`: parameters from the prior, data from the family's
    own process with the model's shipped totals; returns the simulated case (RouteData)
    and its data values."""
    rng = np.random.default_rng([int(cfg.seed), index])
    p = {k: v[0] for k, v in family.prior_draws(values0, 1, rng).items()}
    route, _ = family.simulate(p, template, values0, rng, totals="model")
    return route, family.data_values(route, cfg.priors)
