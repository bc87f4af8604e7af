"""nutpie's mass-matrix adaptation on the default case: diag (the default) against
low_rank, per family, at the fit's settings, in one interpreter (compiled once).

    .venv/bin/python bench/adaptation.py [--models joint] [--seeds 1 2 3]

Per fit: wall seconds (the first of a family includes its compile), sampling seconds,
the rounds the status rule drew (draws and what sent it to a second round), the
headline's median and 90% interval, the smallest bulk and tail ESS, the largest R-hat,
the status, and the conflict check's seconds and p-values."""

import argparse
import tempfile
import time

from fit_rows import commit, conflict_p, rounds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["joint"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    a = parser.parse_args()
    import cargoinfer as ci

    print(f"commit {commit()}; default case; 4 chains x 1000 draws, 1000 tune, 2 cores")
    print(f"{'model':8} {'adaptation':10} {'seed':>4} {'wall':>6} {'sampling':>8}  "
          f"{'median':>6} {'90% interval':>13} {'ESS bulk':>8} {'tail':>5} {'R-hat':>6}  "
          "status; rounds; conflict")
    with tempfile.TemporaryDirectory() as store:
        for model in a.models:
            for adaptation in ("diag", "low_rank"):
                for seed in a.seeds:
                    t0 = time.perf_counter()
                    run = ci.fit(model=model, seed=seed, store=store,
                                 inference={"adaptation": adaptation})
                    r = run.record
                    d, h = r["diagnostics"], r["headline"]
                    conflict = f"{r['timings'].get('conflict_s', 0):.1f} s {conflict_p(r)}".strip()
                    print(f"{model:8} {adaptation:10} {seed:4} {time.perf_counter() - t0:6.1f} "
                          f"{r['timings']['sampling_s']:8.1f}  {h['median']:6.0f} "
                          f"{h['lower']:6.0f}-{h['upper']:6.0f} {d['ess_bulk_min']:8.0f} "
                          f"{d['ess_tail_min']:5.0f} {d['rhat_max']:6.3f}  {r['status']}; {rounds(r)}; {conflict}",
                          flush=True)


if __name__ == "__main__":
    main()
