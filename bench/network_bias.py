"""Why model=network's median sits above the truth on network worlds (docs/validation.md):
is it the call-length priors?

    .venv/bin/python bench/network_bias.py SEEDS OUT.jsonl [--draws 500] [--chains 2]
    .venv/bin/python bench/network_bias.py --report OUT.jsonl

Without vessel schedules, how likely a call is seen rests on how long ships stay in port
(`port_call_days_<end>`, priors median 2.0 and 1.5 days), which the captures inform only
weakly. The worlds (`observations/world.py`) load over 1-4 days and unload over 1-3: 2.5
and 2.0 days on average, longer than the priors' centres. Too short a call makes each
port's chance to see it too small and the voyages too many.

Each world (`simulate scenario=network seed=SEED`) is fitted with network twice, at the
same seed: with the default priors (`default`) and with the call-length medians set to
the world's own mean call lengths (`calls`), which no analyst knows. Per arm: the total's
and the voyages' 5/50/95% quantiles, the call lengths' posterior medians, and the ends'
"sighting ratio": the calls seen at an end's ports over the calls the model's chances
(each port's posterior-median `site_detection`) foresee for the voyages that truly called
there. A ratio above 1 means the model finds the ports harder to see than they were.
SEEDS as in bench/network.py (`0-8`, `3,5,10-12`); worlds already in OUT are skipped."""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from ladder import fit_one  # noqa: E402
from network import quantiles, seeds  # noqa: E402

ARMS = ("default", "calls")


def world_calls(params: dict) -> dict[str, float]:
    """The world's mean call length per end, in the model's days (a call over days a..b
    inclusive is b - a + 1 days)."""
    return {"origin": float(np.mean(params["loading_days"])),
            "destination": float(np.mean(params["unloading_days"]))}


def sighting_ratios(truth: dict, detection: np.ndarray, sites: list[str]) -> dict[str, float]:
    """Per end: calls seen at its ports over those the model's chances foresee."""
    ports = truth["ports"]
    out = {}
    for end, key in (("origin", "origin"), ("destination", "destination")):
        calls = {p: sum(r["voyages"] for r in truth["routes"] if r[key] == p) for p in ports[end]}
        seen = sum((truth["site_detection"][p] or 0.0) * calls[p] for p in ports[end])  # None: no calls
        foreseen = sum(detection[sites.index(p)] * calls[p] for p in ports[end])
        out[end] = float(seen / foreseen) if foreseen > 0 else float("nan")
    return out


def one_world(seed: int, tmp: Path, inference: dict) -> list[dict]:
    from cargoinfer.observations.world import simulate_world, write_case

    folder = write_case(simulate_world("network", seed), tmp / f"network-{seed}")
    truth = json.loads((folder / "truth.json").read_text())
    calls = world_calls(truth["parameters"])
    rows = []
    for arm in ARMS:
        overrides = ([] if arm == "default" else
                     [f"priors.port_call_days_{end}.median={calls[end]}" for end in calls])
        t0 = time.perf_counter()
        result = fit_one(folder, "network", overrides, inference, seed)
        est, post = result.tree["estimands"], result.tree["posterior"]
        flat = lambda x: np.asarray(x).reshape(-1)  # noqa: E731
        sd = est["site_detection"]  # (chain, draw, site)
        detection = np.median(np.asarray(sd).reshape(-1, sd.sizes["site"]), axis=0)
        row = {"seed": seed, "arm": arm, **truth["slices"], "status": result.status,
               "truth": truth["total_containers"], "voyages_truth": truth["voyages"],
               "total": quantiles(flat(est["total_containers"])),
               "voyages": quantiles(flat(est["voyages"])),
               "call_days": {end: float(np.median(flat(post[f"port_call_days_{end}"])))
                             for end in calls},
               "world_call_days": calls,
               "sighting_ratio": sighting_ratios(truth, detection,
                                                 [str(s) for s in sd["site"].values]),
               "seconds": time.perf_counter() - t0}
        rows.append(row)
        lo, med, hi = row["total"]
        print(f"world {seed} {arm}: {med:,.0f} ({lo:,.0f}-{hi:,.0f}) truth {row['truth']:,}; "
              f"voyages {row['voyages'][1]:.0f} truth {row['voyages_truth']}; sighting ratio "
              f"{row['sighting_ratio']['origin']:.2f} / {row['sighting_ratio']['destination']:.2f}"
              f" ({row['seconds']:.0f} s)", flush=True)
    return rows


def report(path: str) -> None:
    rows = [json.loads(s) for s in Path(path).read_text().splitlines()]
    both = sorted({r["seed"] for r in rows if r["arm"] == "default"}
                  & {r["seed"] for r in rows if r["arm"] == "calls"})
    print(f"{len(both)} network worlds fitted in both arms: {both}")
    print(f"{'arm':8} {'covered':>8} {'signed':>7} {'above':>6} {'voyages':>8} {'load':>6} "
          f"{'call o':>7} {'call d':>7} {'ratio o':>8} {'ratio d':>8}")
    for arm in ARMS:
        mine = [r for r in rows if r["arm"] == arm and r["seed"] in both]
        signed = [(r["total"][1] - r["truth"]) / r["truth"] for r in mine]
        vsigned = [(r["voyages"][1] - r["voyages_truth"]) / r["voyages_truth"] for r in mine]
        # the containers per voyage the medians imply, over the world's
        load = [r["total"][1] / r["voyages"][1] * r["voyages_truth"] / r["truth"] - 1 for r in mine]
        med = lambda f: np.nanmedian([f(r) for r in mine])  # noqa: E731
        print(f"{arm:8} {np.mean([r['total'][0] <= r['truth'] <= r['total'][2] for r in mine]):8.0%} "
              f"{np.median(signed):+7.2f} {np.mean([s > 0 for s in signed]):6.0%} "
              f"{np.median(vsigned):+8.2f} {np.median(load):+6.2f} "
              f"{med(lambda r: r['call_days']['origin']):7.2f} "
              f"{med(lambda r: r['call_days']['destination']):7.2f} "
              f"{med(lambda r: r['sighting_ratio']['origin']):8.2f} "
              f"{med(lambda r: r['sighting_ratio']['destination']):8.2f}")
    calls = rows[0]["world_call_days"]
    print(f"(the worlds' mean calls: origin {calls['origin']:.1f} days, destination "
          f"{calls['destination']:.1f}; signed and voyages: median (median - truth) / truth; "
          f"load: the medians' total / voyages over the truth's, less 1)")
    for r in sorted((r for r in rows if r["seed"] in both), key=lambda r: (r["seed"], r["arm"])):
        print(f"  world {r['seed']:2d} {r['arm']:8} {r['switching']:7} total "
              f"{(r['total'][1] - r['truth']) / r['truth']:+.2f} voyages "
              f"{r['voyages'][1]:.0f} of {r['voyages_truth']}; sighting ratio "
              f"{r['sighting_ratio']['origin']:.2f} / {r['sighting_ratio']['destination']:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds", nargs="?")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--report")
    a = ap.parse_args()
    if a.report:
        return report(a.report)
    out = Path(a.out)
    done = ({(json.loads(s)["seed"], json.loads(s)["arm"]) for s in out.read_text().splitlines()}
            if out.exists() else set())
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds(a.seeds):
            if all((seed, arm) in done for arm in ARMS):
                continue
            rows = one_world(seed, Path(tmp), {"draws": a.draws, "chains": a.chains})
            with out.open("a") as f:
                f.writelines(json.dumps(r) + "\n" for r in rows)


if __name__ == "__main__":
    main()
