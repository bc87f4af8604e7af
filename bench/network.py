"""Route networks: model=network against the pooled single-route joint on event-level
network worlds that neither model made.

    .venv/bin/python bench/network.py SEEDS OUT.jsonl [--draws 1000] [--chains 2]
    .venv/bin/python bench/network.py --report OUT.jsonl [OUT2.jsonl ...]
    .venv/bin/python bench/network.py --one-route [--draws 1000] [--chains 4] [--seed 0]

World `seed` is `simulate scenario=network seed=SEED` (`observations/world.py`): 2 origin
and 2-3 destination ports, each imaged on its own share of days (log-uniform 5-90%, so
one port may be watched daily and another almost never), vessels on home routes by
Dirichlet weights with 0-40% of voyages switching route, calls of 1 to 4.5 days on
average at each end and each port recognising 50-97% of the ships it shows (since
commit 8cc8934; before, calls of 1-4 and 1-3 days and one recognition for all ports),
plus everything the one-route worlds vary (depot share and metrics, loads, claims).
Each world's case is fitted with `network` and with `joint` (which pools an end's ports:
a pass over one counts as a look at all), default priors and status rule, `draws` per
chain. One JSON line per world and
family goes to OUT.jsonl; worlds already there are skipped, so a stopped run resumes.
SEEDS is a comma-separated list of seeds and FIRST-LAST spans (LAST excluded), run in
the order given: `14,16,10-40` runs worlds 14 and 16 first, then the rest of 10-39.

--report prints, per family and slice (cadence: the ports' usable shares within 4x of
each other or not; switching; ports; calls: the ends' mean call over 2.5 days or not,
"-" for rows written before the worlds varied it), the coverage of the 90% interval of
the network's total, its median width and median |median - truth| over the truth; for
network also the routes pooled over all worlds (coverage, and the median width over the
route's truth where the truth is at least one voyage's load), and each share of runs
briefing-grade. `signed` is the median of (median - truth) / truth and `above` the share
of worlds whose median is above the truth: about half for a model without bias;
`voyages` the same signed error for the voyages, over the worlds that recorded them (in
brackets).

--one-route fits the embedded (one-route) case with network, dynamic and joint, the same
seed and settings, and prints each headline's median with its Monte Carlo error (the sd
of the chains' medians over the square root of the chains) and the differences."""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from ladder import fit_one  # noqa: E402 (bench/ladder.py: a family fitted as a run would be)

FAMILIES = ("network", "joint")
SLICES = ("cadence", "switching", "ports", "calls")


def quantiles(x) -> list[float]:
    return [float(v) for v in np.nanquantile(np.asarray(x, float), [0.05, 0.5, 0.95])]


def one_world(seed: int, tmp: Path, inference: dict) -> list[dict]:
    from cargoinfer.observations.world import simulate_world, write_case

    folder = write_case(simulate_world("network", seed), tmp / f"network-{seed}")
    truth = json.loads((folder / "truth.json").read_text())
    rows = []
    for name in FAMILIES:
        t0 = time.perf_counter()
        result = fit_one(folder, name, [], inference, seed)
        est = result.tree["estimands"]
        x = np.asarray(est["total_containers"]).reshape(-1)
        row = {"seed": seed, "family": name, **truth["slices"], "status": result.status,
               "truth": truth["total_containers"], "total": quantiles(x),
               "load": truth["containers_per_voyage"],
               "voyages": quantiles(np.asarray(est["voyages"]).reshape(-1)),
               "voyages_truth": truth["voyages"],
               "seconds": time.perf_counter() - t0}
        if "route_containers" in est:
            routes = {f"{r['origin']}->{r['destination']}": r["containers"]
                      for r in truth["routes"]}
            da = est["route_containers"]
            row["routes"] = [{"route": str(r), "truth": routes[str(r)],
                              "q": quantiles(np.asarray(da.sel(route=r)).reshape(-1))}
                             for r in da["route"].values]
        rows.append(row)
        lo, med, hi = row["total"]
        print(f"world {seed} {name}: {med:,.0f} ({lo:,.0f}-{hi:,.0f}) truth "
              f"{row['truth']:,} {result.status} ({row['seconds']:.0f} s)", flush=True)
    return rows


def covered(q, truth) -> bool:
    return q[0] <= truth <= q[2]


def line(label: str, rows: list[dict]) -> str:
    cov = np.mean([covered(r["total"], r["truth"]) for r in rows])
    width = np.median([(r["total"][2] - r["total"][0]) / r["truth"] for r in rows])
    signed = [(r["total"][1] - r["truth"]) / r["truth"] for r in rows]
    err = np.median(np.abs(signed))
    above = np.mean([x > 0 for x in signed])
    grade = np.mean([r["status"] == "briefing-grade" for r in rows])
    # voyages: the median signed error of the voyages, over the rows that record them
    vs = [(r["voyages"][1] - r["voyages_truth"]) / r["voyages_truth"] for r in rows if "voyages" in r]
    voyages = f"{np.median(vs):+8.2f} ({len(vs)})" if vs else ""
    return (f"{label:34} {len(rows):3d} {cov:8.0%} {width:7.2f} {err:7.2f} "
            f"{np.median(signed):+7.2f} {above:6.0%} {grade:8.0%} {voyages}").rstrip()


def report(paths: list[str]) -> None:
    rows = [json.loads(s) for p in paths for s in Path(p).read_text().splitlines()]
    worlds = sorted({r["seed"] for r in rows})
    print(f"{len(worlds)} network worlds (seeds {worlds[0]}-{worlds[-1]})")
    print(f"{'family / slice':34} {'n':>3} {'coverage':>8} {'width':>7} {'error':>7} "
          f"{'signed':>7} {'above':>6} {'briefing':>8} {'voyages':>8}")
    for name in FAMILIES:
        mine = [r for r in rows if r["family"] == name]
        print(line(f"{name}: all", mine))
        for s in SLICES:
            for value in sorted({str(r.get(s, "-")) for r in mine}):
                print(line(f"  {s} = {value}", [r for r in mine if str(r.get(s, "-")) == value]))
    routes = [(r, x) for r in rows if r["family"] == "network" for x in r.get("routes", [])]
    if routes:
        cov = np.mean([covered(x["q"], x["truth"]) for _, x in routes])
        big = [x for r, x in routes if x["truth"] >= r["load"]]
        width = np.median([(x["q"][2] - x["q"][0]) / x["truth"] for x in big])
        print(f"network routes, pooled over worlds: {len(routes)} routes, coverage {cov:.0%}; "
              f"median width / truth {width:.2f} over the {len(big)} routes that carried at "
              f"least one voyage's load")
        for s in ("cadence", "calls"):
            for value in sorted({str(r.get(s, "-")) for r, _ in routes}):
                part = [x for r, x in routes if str(r.get(s, "-")) == value]
                print(f"  routes, {s} = {value}: {len(part)}, coverage "
                      f"{np.mean([covered(x['q'], x['truth']) for x in part]):.0%}")


def one_route(draws: int, chains: int, seed: int) -> None:
    from cargoinfer.experiments.config import case_dir, compose

    folder = Path(case_dir(compose([])))
    medians = {}
    for name in ("network", "dynamic", "joint"):
        t0 = time.perf_counter()
        result = fit_one(folder, name, [], {"draws": draws, "chains": chains}, seed)
        x = np.asarray(result.tree["estimands"]["total_containers"])  # (chain, draw)
        med = float(np.median(x))
        se = float(np.std(np.median(x, axis=1), ddof=1) / np.sqrt(x.shape[0]))
        lo, hi = np.quantile(x, [0.05, 0.95])
        medians[name] = med, se
        print(f"{name:8} median {med:7,.0f} +- {se:4,.0f} (90% {lo:,.0f}-{hi:,.0f}) "
              f"{result.status} ({time.perf_counter() - t0:.0f} s)", flush=True)
    m, s = medians["network"]
    for other in ("dynamic", "joint"):
        mo, so = medians[other]
        print(f"network - {other}: {m - mo:+,.0f} ({(m - mo) / np.hypot(s, so):+.1f} Monte "
              f"Carlo errors)")


def seeds(spec: str) -> list[int]:
    """`14,16,10-40` -> [14, 16, 10, 11, 12, 13, 15, 17, ..., 39]: in order, once each."""
    out: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        out += range(int(first), int(last)) if last else [int(first)]
    return list(dict.fromkeys(out))


def main() -> None:
    if sys.argv[1] == "--report":
        report(sys.argv[2:])
        return
    if sys.argv[1] == "--one-route":
        from cargoinfer.inference.logs import quiet

        quiet()
        ap = argparse.ArgumentParser()
        ap.add_argument("--draws", type=int, default=1000)
        ap.add_argument("--chains", type=int, default=4)
        ap.add_argument("--seed", type=int, default=0)
        a = ap.parse_args(sys.argv[2:])
        one_route(a.draws, a.chains, a.seed)
        return
    from cargoinfer.inference.logs import quiet

    quiet()
    ap = argparse.ArgumentParser()
    ap.add_argument("seeds", help="e.g. 0-40 or 14,16,10-40")
    ap.add_argument("out")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=2)
    a = ap.parse_args()
    out = Path(a.out)
    done = {r["seed"] for r in map(json.loads, out.read_text().splitlines())} if out.exists() \
        else set()
    tmp = Path(tempfile.mkdtemp())
    for seed in seeds(a.seeds):
        if seed in done:
            continue
        rows = one_world(seed, tmp, {"draws": a.draws, "chains": a.chains})
        with out.open("a") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)


if __name__ == "__main__":
    main()
