"""Does code compiled into an empty PyTensor cache compute the same bits as the same code
loaded from that cache? joint's log density and gradient on the default case at three
points, once compiled cold (an empty `base_compiledir`), once warm (the same folder),
each in a process of its own.

    .venv/bin/python bench/cache_bits.py

Prints both runs' figures (repr: every bit) and whether they are identical."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from fit_rows import commit

POINTS = """
import sys
import numpy as np
sys.path.insert(0, {bench!r})
from cargoinfer.inference.logs import quiet
quiet()
import pytensor
from cargoinfer.models import joint
from prior_sims import family_on_case
_, _, _, values = family_on_case("joint")
m = joint.build(values)
lp = m.logp()
f = pytensor.function(m.value_vars, [lp, *pytensor.grad(lp, m.value_vars)], mode="NUMBA")
ip = m.initial_point()
rng = np.random.default_rng(5)
for _ in range(3):
    x = [np.asarray(ip[v.name]) + 0.2 * rng.normal(size=np.shape(ip[v.name])) for v in m.value_vars]
    out = f(*x)
    print(repr(float(out[0])), repr(float(sum(np.abs(o).sum() for o in out[1:]))))
"""


def main() -> None:
    bench = str(Path(__file__).resolve().parent)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp}/compiledir"}
        runs = [subprocess.run([sys.executable, "-c", POINTS.format(bench=bench)], env=env,
                               capture_output=True, text=True, check=True).stdout.split("\n")
                for _ in ("cold", "warm")]
    print(f"joint's log density and |gradient| summed, 3 points, commit {commit()}")
    for name, lines in zip(("cold", "warm"), runs):
        print(f"{name}: " + "; ".join(x for x in lines if x))
    print("bit-identical" if runs[0] == runs[1] else "NOT bit-identical")


if __name__ == "__main__":
    main()
