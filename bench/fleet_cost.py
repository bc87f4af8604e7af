"""What joint's fleet schedule (joint@6, models/fleet.py) costs of a gradient.

    .venv/bin/python bench/fleet_cost.py [--calls 5000]

1. joint on the default case inside nutpie: microseconds per leapfrog step (one chain,
   one core, 1,000 warmup + 1,000 draws, its seconds over its steps);
2. the fleet part alone, compiled by PyTensor's numba backend: the segments' weights,
   their log-likelihood, the unseen voyages' mean and variance and their spread over
   periods (the model's `schedule_story` after detection), value and gradient with respect
   to the vessels' cycles, cycle_cv, break_prob and each segment's chance to be missed,
   less the cost of calling a trivial compiled function; and its number of nodes and
   compile seconds. Twice: as the model has it (`fleet_op`, one Op with numba kernels) and
   composed of PyTensor's elementwise ops (`fleet.segment_weights`, `fleet.segments`).
Shows how much of joint's gradient the fleet part is, and what the Op saves, measured in
one run."""

import argparse
import time

import numpy as np


def main() -> None:
    import nutpie
    import pytensor
    import pytensor.tensor as pt
    from cargoinfer.inference.fit import compiled
    from cargoinfer.inference.logs import quiet
    from cargoinfer.models import fleet, fleet_op, joint, streams
    from prior_sims import family_on_case

    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=5000)
    args = ap.parse_args()
    quiet()
    _, _, route, values = family_on_case("joint")

    model, _ = compiled(joint, values)
    t0 = time.perf_counter()
    tree = nutpie.sample(model, draws=1000, tune=1000, chains=1, cores=1, seed=1,
                         progress_bar=False, save_warmup=True)
    seconds = time.perf_counter() - t0
    steps = int(np.asarray(tree["warmup_sample_stats"]["n_steps"]).sum()
                + np.asarray(tree["sample_stats"]["n_steps"]).sum())
    per_step = seconds / steps * 1e6
    print(f"joint@{joint.VERSION} on the default case: {per_step:.0f} us per leapfrog step "
          f"({steps:,} in {seconds:.2f} s, one chain)")

    keys = ("fleet_gaps", "fleet_vessel", "fleet_length", "fleet_m_gap", "fleet_m_edge",
            "fleet_kind", "fleet_periods", "fleet_onehot")
    lay = {k: pytensor.shared(np.asarray(values[k], float)) for k in keys}
    n_seg, n_vessels = len(values["fleet_length"]), values["fleet_onehot"].shape[1]
    cycle, cv, brk, q = pt.dvector("cycle"), pt.dscalar("cv"), pt.dscalar("brk"), pt.dvector("q")
    ops = streams.TENSOR
    window = pytensor.shared(float(route.period_days.sum()))
    tau = pytensor.shared(float(values["departure_error__sd_days"]))
    rng = np.random.default_rng(0)
    spread = rng.normal(size=(len(route.period_days), n_vessels))
    per_vessel = rng.normal(size=n_vessels)

    def build(segments):
        loglik, mean, var = segments()
        out = (loglik.sum() + (fleet.by_period(ops, lay, mean) * spread).sum()
               + (pt.dot(var, lay["fleet_onehot"]) * per_vessel).sum())
        t = time.perf_counter()
        fn = pytensor.function([cycle, cv, brk, q], [out, *pytensor.grad(out, [cycle, cv, brk, q])],
                               mode="NUMBA")
        return fn, time.perf_counter() - t

    ways = {
        "one Op (fleet_op)": build(lambda: fleet_op.segments(lay, cycle, cv, brk, tau, q, window)),
        "composed ops": build(lambda: fleet.segments(
            ops, lay, fleet.segment_weights(ops, lay, cycle, cv, brk, tau, q, window))),
    }
    trivial = pytensor.function([cv], cv * 2.0, mode="NUMBA")
    point = (np.full(n_vessels, 14.0), np.array(0.15), np.array(0.05), np.full(n_seg, 0.4))

    def per_call(fn, *a) -> float:
        for _ in range(200):
            fn(*a)
        t = time.perf_counter()
        for _ in range(args.calls):
            fn(*a)
        return (time.perf_counter() - t) / args.calls * 1e6

    base = per_call(trivial, point[1])
    costs = {}
    for name, (f, seconds) in ways.items():
        costs[name] = us = per_call(f, *point) - base
        print(f"the fleet part alone, {name} ({n_seg} segments, "
              f"{len(f.maker.fgraph.apply_nodes)} nodes, compiled in {seconds:.1f} s): "
              f"{us:.1f} us for value and gradient, {us / per_step:.0%} of a step")
    (a, x), (b, y) = costs.items()
    print(f"{b} / {a}: {y / x:.1f}x the time per gradient")
    values_ = [f(*point) for f, _ in ways.values()]
    print("largest difference between the two, value and gradient: "
          f"{max(np.max(np.abs(np.asarray(u) - np.asarray(v))) for u, v in zip(*values_)):.1e}")

if __name__ == "__main__":
    main()
