"""A case as it stood on a cut-off date: what an analyst could have known then."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date

import polars as pl

from .case import Case


def cut(case: Case, cutoff: date) -> Case:
    """The case with every observation dated after `cutoff` left out.

    The window ends at the cut-off (the estimands cover what the evidence could see);
    a voyage keeps only the sightings made by then and is dropped when none remain,
    with the counts of its load; claims count once their period has ended (claims.csv
    has no date of statement). The content hash is the case's, with the cut-off."""
    spec = case.spec
    if cutoff < spec.start:
        raise ValueError(f"cut-off {cutoff} is before the window's start {spec.start}")
    t = dict(case.tables)
    seen = {c: pl.when(pl.col(c) <= cutoff).then(pl.col(c)).otherwise(None).alias(c)
            for c in ("origin_seen", "destination_seen")}
    t["voyages"] = t["voyages"].with_columns(*seen.values()).filter(
        pl.col("origin_seen").is_not_null() | pl.col("destination_seen").is_not_null())
    for name in ("imagery", "containers", "depot"):
        t[name] = t[name].filter(pl.col("date") <= cutoff)
    kept = t["voyages"]["voyage_id"].drop_nulls().to_list()
    t["containers"] = t["containers"].filter(
        pl.col("voyage_id").is_null() | pl.col("voyage_id").is_in(kept))
    t["claims"] = t["claims"].filter(pl.col("end") <= cutoff)
    digest = hashlib.sha256(f"{case.content_hash}\0cutoff:{cutoff.isoformat()}".encode())
    return dataclasses.replace(case, spec=dataclasses.replace(spec, end=min(cutoff, spec.end)),
                               tables=t, content_hash=digest.hexdigest(), full_end=spec.end)
