"""Where a family's total goes wrong on event-level worlds: voyages and detection beside it.

    .venv/bin/python bench/world_fits.py FAMILY FIRST-LAST OUT.jsonl [overrides ...]
    .venv/bin/python bench/world_fits.py --report OUT.jsonl [OUT2.jsonl ...]

Fits FAMILY (default priors and settings, plus any Hydra overrides) to the worlds of
seeds FIRST..LAST-1 of `bench/ladder.py` (the scenarios in turn) and keeps, per world,
the 5%/50%/95% of the total, of the voyages and of each end's detection, beside the
truth. `--report` prints per file: coverage of the total, how many intervals lie above
the truth, the median log(median / truth), the median width / truth and the median
error of each end's detection (model median - the share of the window's voyages seen)."""

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def fit_worlds(family_name: str, seeds: range, out: Path, overrides: list[str]) -> None:
    from cargoinfer.inference.logs import quiet
    from cargoinfer.observations.world import SCENARIOS, simulate_world, write_case
    from ladder import fit_one  # bench/ladder.py, beside this script

    quiet()
    tmp = Path(tempfile.mkdtemp())
    for seed in seeds:
        world = simulate_world(SCENARIOS[seed % len(SCENARIOS)], seed)
        folder = write_case(world, tmp / f"world-{seed}")
        t0 = time.perf_counter()
        r = fit_one(folder, family_name, overrides, {}, seed)

        def q(name):
            for group in ("estimands", "posterior"):
                if name in r.tree[group]:
                    x = np.asarray(r.tree[group][name]).ravel()
                    return [float(v) for v in np.nanquantile(x, [0.05, 0.5, 0.95])]
            return None

        t = world.truth
        row = {"seed": seed, **t["slices"], "truth": t["total_containers"],
               "total": q("total_containers"), "voyages_true": t["voyages"],
               "voyages_seen": t["voyages_seen"], "voyages": q("voyages"),
               "detection_true": t["detection"], "detection_origin": q("detection_origin"),
               "detection_destination": q("detection_destination"), "status": r.status,
               "seconds": time.perf_counter() - t0}
        row["covered"] = row["total"][0] <= row["truth"] <= row["total"][2]
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"world {seed}: truth {row['truth']}, {[round(x) for x in row['total']]} "
              f"{'in' if row['covered'] else 'OUT'}", flush=True)


def report(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line]
    log_err = np.array([np.log(r["total"][1] / r["truth"]) for r in rows])
    width = np.median([(r["total"][2] - r["total"][0]) / r["truth"] for r in rows])
    above = sum(r["total"][0] > r["truth"] for r in rows)
    det = {end: np.median([r[f"detection_{end}"][1] - r["detection_true"][end] for r in rows
                           if r[f"detection_{end}"] and r["detection_true"][end] is not None])
           for end in ("origin", "destination")}
    print(f"{path}: {sum(r['covered'] for r in rows)}/{len(rows)} covered, {above} above the truth; "
          f"median log(median/truth) {np.median(log_err):+.3f}; median width/truth {width:.2f}; "
          f"detection error origin {det['origin']:+.3f}, destination {det['destination']:+.3f}")


if __name__ == "__main__":
    if sys.argv[1] == "--report":
        for p in sys.argv[2:]:
            report(Path(p))
    else:
        first, last = (int(x) for x in sys.argv[2].split("-"))
        fit_worlds(sys.argv[1], range(first, last), Path(sys.argv[3]), sys.argv[4:])
