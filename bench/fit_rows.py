"""What several benches print about a fit: the commit they ran on, the sampling rounds the
status rule drew and the conflict check's p-values (from run.json)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commit() -> str:
    """The repository's HEAD, short."""
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()


def rounds(record: dict) -> str:
    """Each round's draws per chain, with what sent it to the next: "1000 (R-hat of x), 3000"."""
    return ", ".join(f"{x['draws']}" + (f" ({'; '.join(x['borderline'])})" if x["borderline"]
                                        else "")
                     for x in record["sampler"]["rounds"])


def conflict_p(record: dict) -> str:
    """The conflict check's p-value per stream, "depot p=0.839 claims p=1"; "" without one."""
    found = (record["checks"].get("conflict") or {}).get("streams", {})
    return " ".join(f"{k} p={v['p']:.3g}" for k, v in found.items())
