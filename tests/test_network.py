"""model=network: a route network's estimands add up, and a fit writes them per route."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from cargoinfer.experiments.config import compose
from cargoinfer.models import network, registry
from cargoinfer.observations.aggregate import route_data
from cargoinfer.observations.case import load_case
from cargoinfer.observations.world import simulate_world, write_case


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A network world with 2 origin and 3 destination ports, and its route data."""
    folder = tmp_path_factory.mktemp("net") / "w"
    write_case(simulate_world("network", 5, destination_ports=3), folder)
    truth = json.loads((folder / "truth.json").read_text())
    cfg = compose([f"case.path={folder}", "model=network"])
    route = route_data(load_case(folder), cfg.model.transit_days,
                       cfg.model.max_containers_per_voyage)
    return folder, truth, route, network.data_values(route, cfg.priors)


def test_network_is_a_family_auto_does_not_pick():
    assert registry.get("network").NAME == "network"
    assert registry.pick({"voyages", "imagery", "containers", "depot", "claims"})[0] != "network"


def test_prior_draws_add_up_per_route_and_destination(world):
    """For every draw: the routes' voyages and containers sum to the network's, the
    destinations' containers too, and each route's cumulative series ends at its total;
    a route has at least the voyages seen at both its ends. Exact (to rounding)."""
    _, _, route, values = world
    rng = np.random.default_rng(0)
    p = network.prior_draws(values, 200, rng)
    out = network.generate(p, route, values, rng)
    n_o, n_d, _ = network.structure(values)
    assert out["route_containers"].shape == (200, n_o * n_d) == (200, 6)
    np.testing.assert_allclose(out["route_voyages"].sum(1), out["voyages"])
    np.testing.assert_allclose(out["route_containers"].sum(1), out["total_containers"],
                               rtol=1e-9)
    np.testing.assert_allclose(out["destination_containers"].sum(1), out["total_containers"],
                               rtol=1e-9)
    np.testing.assert_allclose(out["route_containers_cumulative"][:, -1], out["route_containers"])
    both = route.captures_site[:, :n_o * n_d].sum(0)
    assert (out["route_voyages"] >= both).all()
    assert ((0 <= out["site_detection"]) & (out["site_detection"] <= 1)).all()


def test_a_voyage_seen_at_one_port_sails_a_route_through_it(world):
    """With one origin-only sighting and nothing else, only routes from that origin carry it."""
    _, _, route, values = world
    n_o, n_d, n_p = network.structure(values)
    rng = np.random.default_rng(1)
    p = network.prior_draws(values, 50, rng)
    rate = np.full((50, n_p, n_o * n_d), 0.5)
    seen = np.full((50, n_o * n_d, 3, n_p, n_p), 0.01)
    one = np.zeros_like(route.captures_site)
    one[2, n_o * n_d + 1] = 1  # seen at the second origin only, in the third period
    bare = dataclasses.replace(route, captures_site=one)
    per = network.route_voyages(bare, rate, seen, np.zeros((50, n_p), int), n_o, n_d, rng)
    assert (per.sum(axis=(1, 2)) == 1).all()
    from_second = np.arange(n_o * n_d) // n_d == 1
    assert per[:, 2][:, from_second].sum() == 50 and per[:, :, ~from_second].sum() == 0


@pytest.mark.slow
def test_a_network_fit_writes_routes_ports_and_sites(world, tmp_path, capsys):
    """One fit (short chains): estimates.csv has a row per route, destination port and
    site, in the contract's columns; series.csv a cumulative series per route; the
    world's total and routes inside their intervals."""
    from cargoinfer.experiments.cli import main

    folder, truth, route, _ = world
    assert main(["fit", "model=network", f"case.path={folder}", f"store={tmp_path}",
                 "inference.draws=300", "inference.tune=300", "inference.chains=2"]) == 0
    run = capsys.readouterr().out.strip().splitlines()[-1].removeprefix("run: ")
    est = pl.read_csv(f"{run}/estimates.csv")
    assert est.columns == ["estimand", "unit", "mean", "median", "sd", "ci_kind", "ci_prob",
                           "lower", "upper"]
    names = set(est["estimand"])
    routes = network.route_names(route)
    assert len(routes) == 6
    assert {f"route_containers[{r}]" for r in routes} <= names
    assert {f"route_voyages[{r}]" for r in routes} <= names
    assert {f"destination_containers[{d}]" for d in truth["ports"]["destination"]} <= names
    assert {f"site_detection[{s}]" for s in route.site_names} <= names
    series = pl.read_csv(f"{run}/series.csv")
    assert {f"route_containers[{r}]" for r in routes} <= set(series["estimand"])
    record = json.loads((Path(run) / "run.json").read_text())
    assert not [n for n in record["data_notes"] if "pooled" in n]  # it sees each port
    medians = dict(zip(est["estimand"], est["mean"]))
    assert sum(medians[f"route_containers[{r}]"] for r in routes) == pytest.approx(
        medians["total_containers"], rel=1e-9)

    # bench/network.py in small: this world's truths inside the 99% intervals, the total's
    # and at least 5 of the 6 routes'. A calibrated model misses the total with chance
    # 1% and 2 or more routes with about 0.15% (the world is seeded: no retry)
    import xarray as xr

    est = xr.open_datatree(f"{run}/posterior.nc", engine="h5netcdf")["estimands"]
    lo, hi = np.quantile(np.asarray(est["total_containers"]).ravel(), [0.005, 0.995])
    assert lo <= truth["total_containers"] <= hi, (lo, truth["total_containers"], hi)
    true = {f"{r['origin']}->{r['destination']}": r["containers"] for r in truth["routes"]}
    draws = est["route_containers"]
    inside = [np.quantile(np.asarray(draws.sel(route=r)).ravel(), 0.005) <= true[r]
              <= np.quantile(np.asarray(draws.sel(route=r)).ravel(), 0.995) for r in routes]
    assert sum(inside) >= 5, dict(zip(routes, inside))

    # `cargoinfer plan` per port, on the same run: archive passes at PortB2 (this world's
    # busiest destination, 9 voyages, 4 usable images) show only voyages not yet seen at
    # that end, on usable passes, and the case they make names the port; none narrow
    # nothing, exactly; 30 passes narrow the interval beyond 3 Monte Carlo errors (seeded)
    from cargoinfer.experiments import plan, plan_imagery
    from cargoinfer.experiments.plan_menu import read_menu

    ctx = plan.context(run, 300)
    port = "PortB2"
    (option,) = read_menu({"archive": {"kind": "imagery", "site": port, "cost": 1,
                                       "start": truth["window"]["start"],
                                       "end": truth["window"]["end"], "passes": 30,
                                       "usable": 0.8}}, ctx.case)
    voyages = ctx.case.voyages
    named = voyages.filter(pl.col("destination_site") == port).height
    rng = np.random.default_rng(3)
    for s in range(0, 300, 30):
        sim = plan_imagery.simulate(ctx, option, s, rng)
        usable = {d for d, u in sim["passes"] if u}
        for row, _, day in sim["sightings"]:
            assert day in usable and (row is None or voyages["destination_seen"][row] is None)
        new = plan_imagery.with_rows(ctx.case, option, sim)
        assert new.voyages.filter(pl.col("destination_site") == port).height == (
            named + len(sim["sightings"]))
        ctx.route_of(new)  # a case the families read
    none = plan.assess(ctx, dataclasses.replace(option, passes=0), n_outer=16, seed=5)
    assert none.width_expected == none.width_now
    more = plan.assess(ctx, option, n_outer=16, seed=5, max_refits=2)
    assert more.width_expected < more.width_now - 3 * more.width_expected_mcse, more


def test_compare_shows_each_routes_headline(tmp_path):
    """A network run's per-route rows become a comparison's columns, in words as
    'median (lower-upper)'; a one-route run has none, shown '-'."""
    from cargoinfer.experiments import compare

    run = tmp_path / "run"
    run.mkdir()
    pl.DataFrame({"estimand": ["total_containers", "route_containers[A->B]",
                               "route_containers[A->C]"],
                  "unit": ["containers"] * 3, "mean": [10.0, 6.0, 4.0],
                  "median": [9.0, 5.5, 3.5], "sd": [1.0] * 3, "ci_kind": ["eti"] * 3,
                  "ci_prob": [0.9] * 3, "lower": [5.0, 2.0, 1.0],
                  "upper": [15.0, 9.0, 7.0]}).write_csv(run / "estimates.csv")
    got = compare.route_headlines(run)
    assert got == {"route_containers[A->B] median": 5.5, "route_containers[A->B] lower": 2.0,
                   "route_containers[A->B] upper": 9.0, "route_containers[A->C] median": 3.5,
                   "route_containers[A->C] lower": 1.0, "route_containers[A->C] upper": 7.0}
    assert compare.route_headlines(tmp_path) == {}
    df = pl.DataFrame([got, {}], infer_schema_length=None)
    assert compare.routes(df) == ["route_containers[A->B]", "route_containers[A->C]"]
    rows = list(df.iter_rows(named=True))
    assert compare.route_cell(rows[0], "route_containers[A->B]") == "6 (2-9)"  # fmt_count
    assert compare.route_cell(rows[1], "route_containers[A->B]") == "-"


def test_simulated_network_reads_back_as_simulated(world, tmp_path):
    """network.simulate on a 2 x 3 network's shape, written as a case folder
    (`simulate model=network`): read back, the cells, the ports' records and the counts
    are those simulated; the routes' truths add up to the network's (exact totals)."""
    from cargoinfer.experiments.synthetic import write_model_case

    folder, _, template, values = world
    priors = compose([f"case.path={folder}", "model=network"]).priors
    spec = load_case(folder).spec
    for seed in range(4):
        rng = np.random.default_rng(seed)
        p = {k: v[0] for k, v in network.prior_draws(values, 1, rng).items()}
        sim, truth = network.simulate(p, template, values, rng)
        assert network.structure(network.data_values(sim, priors)) == network.structure(values)
        assert sum(truth["route_containers"]) == pytest.approx(truth["total_containers"])
        assert sum(truth["route_voyages"]) == truth["voyages"]
        out = tmp_path / f"sim-{seed}"
        out.mkdir()
        write_model_case(sim, truth, spec, out, np.random.default_rng(seed), model="network",
                         version=network.VERSION, seed=seed, parameters=p)
        back = route_data(load_case(out), 1, 1000)
        for name in ("captures_site", "captures", "site_usable_days", "site_has_record",
                     "depot_value", "claim_value"):
            np.testing.assert_array_equal(getattr(back, name), getattr(sim, name),
                                          err_msg=f"seed {seed} {name}")
        # the folder lists counts by date, the simulation by route
        np.testing.assert_array_equal(np.sort(back.visible), np.sort(sim.visible))
        assert back.site_names == sim.site_names


def test_a_horizon_forecasts_each_route(world):
    """With a horizon, each route's forecast is its total plus its share of the voyages
    after the window: the routes' forecasts add up to the network's, draw by draw."""
    from datetime import timedelta

    folder, _, _, _ = world
    cfg = compose([f"case.path={folder}", "model=network"])
    case = load_case(folder)
    route = route_data(case, cfg.model.transit_days, cfg.model.max_containers_per_voyage,
                       horizon=case.spec.end + timedelta(days=28))
    values = network.data_values(route, cfg.priors)
    rng = np.random.default_rng(3)
    out = network.generate(network.prior_draws(values, 100, rng), route, values, rng)
    np.testing.assert_allclose(out["route_forecast_containers"].sum(1),
                               out["forecast_containers"], rtol=1e-9)
    assert (out["route_forecast_containers"] >= out["route_containers"] - 1e-9).all()


ROUTE_CLAIMS = """\
start,end,quantity,relation,value,confidence,source,origin_site,destination_site
2023-08-15,2023-10-14,containers,about,3000,medium,test,,
2023-08-15,2023-10-14,containers,at_least,800,high,test,PortA2,PortB
2023-08-15,2023-10-14,voyages,about,4,low,test,PortA,
2023-08-15,2023-10-14,containers,at_most,2000,medium,test,,PortB3
"""


@pytest.fixture(scope="module")
def route_claims(world, tmp_path_factory):
    """The world's case with claims on the network, a route, an origin and a destination."""
    import shutil

    folder = tmp_path_factory.mktemp("claims") / "w"
    shutil.copytree(world[0], folder)
    (folder / "claims.csv").write_text(ROUTE_CLAIMS)
    case = load_case(folder)
    cfg = compose([f"case.path={folder}", "model=network"])
    route = route_data(case, cfg.model.transit_days, cfg.model.max_containers_per_voyage)
    return route, network.data_values(route, cfg.priors), cfg


def test_a_claim_naming_ports_is_about_the_routes_through_them(route_claims):
    """claim_routes marks the routes a claim is about, and each claim's expected figure is
    the network's times those routes' share, draw by draw (exact)."""
    route, values, _ = route_claims
    np.testing.assert_array_equal(values["claim_routes"], [
        [1, 1, 1, 1, 1, 1],   # the whole network
        [0, 0, 0, 1, 0, 0],   # PortA2->PortB
        [1, 1, 1, 0, 0, 0],   # every route from PortA
        [0, 0, 1, 0, 0, 1]])  # every route to PortB3
    rng = np.random.default_rng(4)
    p = network.prior_draws(values, 50, rng)
    out = network.generate(p, route, values, np.random.default_rng(5))
    share = network.route_shares(p)
    whole = network.generate(p, dataclasses.replace(
        route, claim_origin=np.full(4, -1), claim_destination=np.full(4, -1)),
        {**values, "claim_routes": np.ones((4, 6))}, np.random.default_rng(5))
    np.testing.assert_allclose(out["claims_expected"],
                               whole["claims_expected"] * (share @ values["claim_routes"].T),
                               rtol=1e-12)


@pytest.mark.slow
def test_the_model_reads_route_claims_as_numpy_does(route_claims):
    """The sampled density's claims term equals the numpy log-likelihood at a prior draw
    (rtol 1e-8), with claims on a route, an origin and a destination."""
    route, values, _ = route_claims
    p = network.prior_draws(values, 1, np.random.default_rng(4))
    model = network.build(values)
    point = model.initial_point()
    one = {k: np.asarray(v)[0] for k, v in p.items()}
    for rv in model.free_RVs:
        value_var, transform = model.rvs_to_values[rv], model.rvs_to_transforms[rv]
        x = one[rv.name]
        point[value_var.name] = transform.forward(x, *rv.owner.inputs).eval() if transform else x
    term = model.compile_fn(model.logp(vars=[model["claims_loglik"]], sum=False),
                            inputs=model.value_vars, on_unused_input="ignore")(point)[0]
    at_one = network.generate({k: np.atleast_1d(v) for k, v in one.items()}, route, values,
                              np.random.default_rng(6))
    np.testing.assert_allclose(term, at_one["loglik_claims"].sum(), rtol=1e-8)


def test_families_that_pool_ports_read_a_claim_on_part_as_a_bound_on_the_whole(route_claims):
    """With the ports pooled (joint), 'about' and 'at least' on part of the network become
    'at least' on the whole, 'at most' on a part is left out, and the run says so."""
    from cargoinfer.models import joint, streams

    route, _, cfg = route_claims
    terms = joint.data_values(route, cfg.priors)
    at_least = streams.CLAIM_TERMS[1]
    np.testing.assert_array_equal(terms["claim_terms"], [streams.CLAIM_TERMS[0], at_least,
                                                          at_least, np.zeros(3)])
    assert ("claims row(s) 3, 4, 5 name a port: with the ports pooled, a claim on part of "
            "the network is read as a lower bound on the whole ('about' and 'at least') or "
            "left out ('at most')") in route.pooling_notes
