"""How much warmup a fit needs: the fit's settings against shorter warmup and a shorter
conflict check, per family, over several seeds, in one interpreter (compiled once).

    .venv/bin/python bench/warmup.py [--models joint] [--seeds 1 2 3 4]
                                     [--settings 1000/1000 500/500]

A setting is TUNE/CONFLICT_DRAWS[/DRAWS] (`inference.tune`, `inference.conflict_draws`,
`inference.draws`, default 1000). Per fit: wall seconds, sampling and conflict seconds,
the headline's median and 90% interval, the smallest bulk and tail ESS, the largest
R-hat, the status, the rounds the status rule drew (a second round costs 3,000 draws per
chain) and the conflict check's p-values. Per setting: the mean wall, the mean sampling
seconds and how many fits needed a second round. Shorter warmup pays only if it does not
send more fits to a second round."""

import argparse
import statistics
import tempfile
import time

from fit_rows import commit, conflict_p, rounds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=["joint"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4])
    ap.add_argument("--settings", nargs="+", default=["1000/1000", "500/500"])
    a = ap.parse_args()
    import cargoinfer as ci

    print(f"commit {commit()}; default case; 4 chains; 2 cores")
    print(f"{'model':8} {'tune/conflict':>13} {'seed':>4} {'wall':>5} {'sampl':>5} {'confl':>5}  "
          f"{'median':>6} {'90% interval':>11} {'ESS bulk':>8} {'tail':>5} {'R-hat':>6}  "
          "status; rounds; conflict")
    summary = []
    with tempfile.TemporaryDirectory() as store:
        for model in a.models:
            ci.fit(model=model, seed=0, store=store)  # compiles: not counted
            for setting in a.settings:
                tune, conflict, draws = ([int(x) for x in setting.split("/")] + [1000])[:3]
                walls, samplings, second = [], [], 0
                for seed in a.seeds:
                    t0 = time.perf_counter()
                    run = ci.fit(model=model, seed=seed, store=store,
                                 inference={"tune": tune, "conflict_draws": conflict,
                                            "draws": draws})
                    wall = time.perf_counter() - t0
                    r = run.record
                    d, h, t = r["diagnostics"], r["headline"], r["timings"]
                    second += len(r["sampler"]["rounds"]) > 1
                    walls.append(wall)
                    samplings.append(t["sampling_s"])
                    p_values = conflict_p(r)
                    print(f"{model:8} {setting:>13} {seed:4} {wall:5.1f} {t['sampling_s']:5.1f} "
                          f"{t.get('conflict_s', 0):5.1f}  {h['median']:6.0f} "
                          f"{h['lower']:5.0f}-{h['upper']:5.0f} {d['ess_bulk_min']:8.0f} "
                          f"{d['ess_tail_min']:5.0f} {d['rhat_max']:6.3f}  {r['status']}; {rounds(r)}"
                          + (f"; conflict {p_values}" if p_values else ""),
                          flush=True)
                summary.append((model, setting, statistics.mean(walls),
                                statistics.mean(samplings), second, len(walls)))
    print("\nper setting: mean wall, mean sampling (s), fits with a second round")
    for model, setting, wall, sampling, second, n in summary:
        print(f"{model:8} {setting:>13} {wall:6.1f} {sampling:6.1f}   {second} of {n}")


if __name__ == "__main__":
    main()
