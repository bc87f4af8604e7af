"""A corpus of broken case folders and the exact problems `load_case` reports for each.

Every case starts from BASE, a small valid case folder written to pytest's
tmp_path, and applies one mutation (or a few, for the multi-problem cases). The
expected list is the full, ordered list of `file:row:column: message` lines: a
new, lost or reworded message fails the test. Rows are spreadsheet rows (the
header is row 1); in case.yaml they are the line of the offending value.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from cargoinfer.experiments.cli import main
from cargoinfer.observations.case import load_case
from cargoinfer.observations.problems import CaseInvalid

# Line numbers of case.yaml matter: name 1, title 2, window 3, period_days 4,
# origin 5, destination 6, depot 7, vessels 8, vessels[0] 9, vessels[1] 10.
BASE = {
    "case.yaml": """\
name: test-case
title: Test case
window: {start: 2023-08-15, end: 2023-10-14}
period_days: 7
origin: [Rajin]
destination: [Dunai]
depot: Tikhoretsk
vessels:
  - {name: Angara, capacity_teu: 350}
  - {name: Maria}
""",
    "voyages.csv": """\
vessel,origin_seen,destination_seen,evidence,voyage_id,source
Angara,2023-08-17,2023-08-19,imagery,A1,test
Maria,2023-08-22,,imagery,M1,test
Angara,,2023-08-30,report,A2,"test, with a comma"
Maria,2023-09-05,2023-09-08,ais,,test
""",
    "imagery.csv": """\
date,site,usable,source
2023-08-15,Rajin,true,test
2023-08-17,Dunai,false,test
2023-08-22,Rajin,yes,test
""",
    "containers.csv": """\
date,site,vessel,voyage_id,stage,visible,coverage,source
2023-08-17,Rajin,Angara,A1,loading,190,0.65,test
2023-08-19,Dunai,Angara,A1,unloading,140,,test
2023-08-22,Rajin,,M1,loading,120,1,test
2023-09-01,Dunai,,,stacked,30,0.5,test
""",
    "depot.csv": """\
date,site,metric,value,sd,source
2023-08-25,Tikhoretsk,filled_area_m2,1500,500,test
2023-09-10,Tikhoretsk,railcars,40,,test
""",
    "claims.csv": """\
start,end,quantity,relation,value,confidence,source
2023-09-07,2023-10-01,containers,at_least,1000,medium,test
2023-08-15,2023-10-14,voyages,about,5,high,test
""",
}


def write_base(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in BASE.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# --- mutations: each takes the case folder and changes it in place -------------------------

def sub(file: str, old: str, new: str):
    """Replace the one occurrence of `old` in `file` (fails loudly if it is not exactly one)."""
    def mutate(folder: Path) -> None:
        path = folder / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
        path.write_text(text.replace(old, new), encoding="utf-8")
    return mutate


def put(file: str, text: str):
    return lambda folder: (folder / file).write_text(text, encoding="utf-8")


def put_bytes(file: str, data: bytes):
    return lambda folder: (folder / file).write_bytes(data)


def delete(file: str):
    return lambda folder: (folder / file).unlink()


def both(*mutations):
    def mutate(folder: Path) -> None:
        for m in mutations:
            m(folder)
    return mutate


VOYAGES_DF = {
    "vessel": ["Angara", "Maria", "Angara"],
    "origin_seen": [date(2023, 8, 17), date(2023, 8, 22), None],
    "destination_seen": [date(2023, 8, 19), None, date(2023, 8, 30)],
    "evidence": ["imagery", "imagery", "report"],
    "voyage_id": ["A1", "M1", "A2"],
    "source": ["test", "test", "test"],
}


def voyages_parquet(**changes):
    """Replace voyages.csv by voyages.parquet holding VOYAGES_DF with `changes` (column -> list)."""
    def mutate(folder: Path) -> None:
        (folder / "voyages.csv").unlink()
        pl.DataFrame({**VOYAGES_DF, **changes}).write_parquet(folder / "voyages.parquet")
    return mutate


# Bytes that are not Parquet (fixed, so the expected message is stable).
NOT_PARQUET = bytes(range(7, 250, 3)) * 4

CASES = [
    # --- case.yaml -------------------------------------------------------------------------
    ("yaml_missing", delete("case.yaml"),
     ["case.yaml: is missing (every case folder needs one)"]),
    ("yaml_invalid_syntax", sub("case.yaml", "end: 2023-10-14}", "end: 2023-10-14"),
     ["case.yaml:4: is not valid YAML: expected ',' or '}', but got ':'"]),
    ("yaml_not_mapping", put("case.yaml", "- name: test-case\n- title: Test case\n"),
     ["case.yaml: must be a mapping of keys (name, title, window, ...)"]),
    ("yaml_empty", put("case.yaml", ""),
     ["case.yaml: must be a mapping of keys (name, title, window, ...)"]),
    ("yaml_not_utf8", put_bytes("case.yaml", BASE["case.yaml"].replace(
        "Test case", "Test caf\xe9").encode("latin-1")),
     ["case.yaml: is not UTF-8 text"]),
    ("yaml_self_alias", sub("case.yaml", "name: test-case", "name: &n [*n]"),
     ["case.yaml:1:name: must be a non-empty text"]),
    ("yaml_missing_name", sub("case.yaml", "name: test-case\n", ""),
     ["case.yaml:name: is required"]),
    ("yaml_missing_title", sub("case.yaml", "title: Test case\n", ""),
     ["case.yaml:title: is required"]),
    ("yaml_missing_window",
     sub("case.yaml", "window: {start: 2023-08-15, end: 2023-10-14}\n", ""),
     ["case.yaml:window.start: is required",
      "case.yaml:window.end: is required"]),
    ("yaml_window_not_mapping", sub("case.yaml", "window: {start: 2023-08-15, end: 2023-10-14}",
                                    "window: 2023-08-15"),
     ["case.yaml:3:window: must be a mapping {start: YYYY-MM-DD, end: YYYY-MM-DD}"]),
    ("yaml_bad_slug", sub("case.yaml", "name: test-case", "name: Test Case"),
     ["case.yaml:1:name: 'Test Case' is not a slug (lower-case letters, digits and single hyphens)"]),
    ("yaml_window_end_before_start", sub("case.yaml", "end: 2023-10-14", "end: 2023-08-01"),
     ["case.yaml:3:window.end: 2023-08-01 is before window.start 2023-08-15"]),
    ("yaml_impossible_date", sub("case.yaml", "end: 2023-10-14", "end: 2023-02-30"),
     ["case.yaml:3:window.end: '2023-02-30' is not a real date"]),
    ("yaml_date_wrong_format", sub("case.yaml", "start: 2023-08-15", "start: 15/08/2023"),
     ["case.yaml:3:window.start: '15/08/2023' is not a date in the form YYYY-MM-DD"]),
    ("yaml_period_days_zero", sub("case.yaml", "period_days: 7", "period_days: 0"),
     ["case.yaml:4:period_days: '0' is not a whole number of days >= 1"]),
    ("yaml_period_days_text", sub("case.yaml", "period_days: 7", "period_days: weekly"),
     ["case.yaml:4:period_days: 'weekly' is not a whole number of days >= 1"]),
    ("yaml_period_days_longer_than_window", sub("case.yaml", "period_days: 7", "period_days: 62"),
     ["case.yaml:4:period_days: 62 is longer than the window (61 days)"]),
    ("yaml_origin_is_destination", sub("case.yaml", "destination: [Dunai]", "destination: [Rajin]"),
     ["case.yaml:6:destination: 'Rajin' is both an origin and a destination"]),
    ("yaml_origin_empty_list", sub("case.yaml", "origin: [Rajin]", "origin: []"),
     ["case.yaml:5:origin: must be a non-empty list of site names"]),
    ("yaml_duplicate_vessel", sub("case.yaml", "{name: Maria}", "{name: Angara}"),
     ["case.yaml:10:vessels[1].name: vessel 'Angara' is listed twice"]),
    ("yaml_capacity_negative", sub("case.yaml", "capacity_teu: 350", "capacity_teu: -5"),
     ["case.yaml:9:vessels[0].capacity_teu: '-5' is not a whole number >= 1"]),
    ("yaml_capacity_text", sub("case.yaml", "capacity_teu: 350", "capacity_teu: big"),
     ["case.yaml:9:vessels[0].capacity_teu: 'big' is not a whole number >= 1"]),
    ("yaml_vessel_without_name", sub("case.yaml", "{name: Maria}", "{capacity_teu: 10}"),
     ["case.yaml:vessels[1].name: is required"]),
    ("yaml_vessels_not_list", sub("case.yaml", "vessels:\n  - {name: Angara, capacity_teu: 350}\n"
                                               "  - {name: Maria}\n", "vessels: {}\n"),
     ["case.yaml:8:vessels: must be a non-empty list of {name: ..., capacity_teu: ...}"]),

    # --- files of the folder ---------------------------------------------------------------
    ("voyages_missing", delete("voyages.csv"),
     ["voyages.csv: is missing (required)"]),
    ("voyages_csv_and_parquet", lambda f: pl.DataFrame(VOYAGES_DF).write_parquet(
        f / "voyages.parquet"),
     ["voyages.csv: and voyages.parquet both exist: keep one"]),
    ("table_is_folder", both(delete("depot.csv"), lambda f: (f / "depot.csv").mkdir()),
     ["depot.csv: is not a file"]),
    ("csv_binary", put_bytes("imagery.csv", b"date,site\x00\x01\x02,usable,source\n"),
     ["imagery.csv: is a binary file, not CSV text"]),
    ("csv_not_utf8", put_bytes("depot.csv", BASE["depot.csv"].replace(
        "railcars,40,,test", "railcars,40,,d\xe9p\xf4t").encode("latin-1")),
     ["depot.csv:3: is not UTF-8 text"]),
    ("csv_empty", put("claims.csv", ""),
     ["claims.csv: is empty: a header line is required"]),
    ("csv_blank_lines_only", put("claims.csv", "\n\n  \n"),
     ["claims.csv: is empty: a header line is required"]),
    ("csv_bad_quoting", sub("voyages.csv", '"test, with a comma"', '"test" with a quote'),
     ["voyages.csv:4: is not valid CSV: ',' expected after '\"'"]),
    ("csv_missing_column_misspelt", sub("voyages.csv", "vessel,origin_seen", "vesel,origin_seen"),
     ["voyages.csv:1:vessel: required column is missing (is 'vesel' a misspelling?)"]),
    ("csv_missing_column", put("imagery.csv", "date,site,source\n2023-08-15,Rajin,test\n"),
     ["imagery.csv:1:usable: required column is missing"]),
    ("csv_duplicate_column", put("imagery.csv", "date,site,usable,site,source\n"
                                                "2023-08-15,Rajin,true,Rajin,test\n"),
     ["imagery.csv:1:site: column appears more than once"]),
    ("csv_ragged_row", sub("imagery.csv", "2023-08-17,Dunai,false,test", "2023-08-17,Dunai,false"),
     ["imagery.csv:3: has 3 fields but the header has 4"]),

    # --- cells -----------------------------------------------------------------------------
    ("csv_impossible_date", sub("imagery.csv", "2023-08-22,Rajin", "2023-02-30,Rajin"),
     ["imagery.csv:4:date: '2023-02-30' is not a real date"]),
    ("csv_date_wrong_format", sub("voyages.csv", "2023-08-22,,imagery", "22/08/2023,,imagery"),
     ["voyages.csv:3:origin_seen: '22/08/2023' is not a date in the form YYYY-MM-DD"]),
    ("evidence_radar", sub("voyages.csv", "2023-08-30,report", "2023-08-30,radar"),
     ["voyages.csv:4:evidence: 'radar' is not one of imagery, ais, report"]),
    ("stage_bad", sub("containers.csv", "stacked", "parked"),
     ["containers.csv:5:stage: 'parked' is not one of loading, unloading, stacked"]),
    ("metric_bad", sub("depot.csv", "railcars", "trucks"),
     ["depot.csv:3:metric: 'trucks' is not one of filled_area_m2, railcars, containers"]),
    ("relation_bad", sub("claims.csv", "at_least", "more_than"),
     ["claims.csv:2:relation: 'more_than' is not one of about, at_least, at_most"]),
    ("confidence_bad", sub("claims.csv", "high", "certain"),
     ["claims.csv:3:confidence: 'certain' is not one of low, medium, high"]),
    ("quantity_bad", sub("claims.csv", "voyages,about", "ships,about"),
     ["claims.csv:3:quantity: 'ships' is not one of containers, voyages"]),
    ("visible_negative", sub("containers.csv", ",140,", ",-3,"),
     ["containers.csv:3:visible: -3 is below 0"]),
    ("visible_not_integer", sub("containers.csv", ",120,", ",12.5,"),
     ["containers.csv:4:visible: '12.5' is not a whole number"]),
    ("visible_too_large", sub("containers.csv", ",120,", ",99999999999999999999,"),
     ["containers.csv:4:visible: 99999999999999999999 is too large"]),
    ("coverage_zero", sub("containers.csv", ",0.65,", ",0,"),
     ["containers.csv:2:coverage: 0 is not in (0, 1]"]),
    ("coverage_above_one", sub("containers.csv", ",0.5,", ",1.5,"),
     ["containers.csv:5:coverage: 1.5 is not in (0, 1]"]),
    ("coverage_nan", sub("containers.csv", ",0.5,", ",nan,"),
     ["containers.csv:5:coverage: 'nan' is not a finite number"]),
    ("coverage_text", sub("containers.csv", ",0.5,", ",half,"),
     ["containers.csv:5:coverage: 'half' is not a number"]),
    ("value_inf", sub("depot.csv", ",1500,", ",inf,"),
     ["depot.csv:2:value: 'inf' is not a finite number"]),
    ("value_negative", sub("claims.csv", ",1000,", ",-1000,"),
     ["claims.csv:2:value: -1000 is below 0"]),
    ("sd_zero", sub("depot.csv", ",500,", ",0,"),
     ["depot.csv:2:sd: 0 is not above 0"]),
    ("sd_negative", sub("depot.csv", ",500,", ",-2.5,"),
     ["depot.csv:2:sd: -2.5 is not above 0"]),
    ("usable_maybe", sub("imagery.csv", "Dunai,false", "Dunai,maybe"),
     ["imagery.csv:3:usable: 'maybe' is not true or false"]),
    ("source_empty", sub("imagery.csv", "Rajin,yes,test", "Rajin,yes,"),
     ["imagery.csv:4:source: is empty but required"]),
    ("source_whitespace_only", sub("depot.csv", "railcars,40,,test", "railcars,40,,   "),
     ["depot.csv:3:source: is empty but required"]),
    ("vessel_empty", sub("voyages.csv", "Maria,2023-08-22", ",2023-08-22"),
     ["voyages.csv:3:vessel: is empty but required"]),

    # --- rows against case.yaml and each other --------------------------------------------
    ("voyage_unknown_vessel", sub("voyages.csv", "Maria,2023-08-22", "Marie,2023-08-22"),
     ["voyages.csv:3:vessel: 'Marie' is not a vessel in case.yaml"]),
    ("voyage_both_dates_empty", sub("voyages.csv", "Angara,,2023-08-30", "Angara,,"),
     ["voyages.csv:4:origin_seen: and destination_seen are both empty: set at least one"]),
    ("voyage_destination_before_origin", sub("voyages.csv", "2023-09-05,2023-09-08",
                                             "2023-09-05,2023-09-01"),
     ["voyages.csv:5:destination_seen: 2023-09-01 is before origin_seen 2023-09-05"]),
    ("voyage_id_duplicate", sub("voyages.csv", "report,A2", "report,A1"),
     ["voyages.csv:4:voyage_id: 'A1' is used by more than one voyage"]),
    ("imagery_unknown_site", sub("imagery.csv", "2023-08-17,Dunai", "2023-08-17,Dunay"),
     ["imagery.csv:3:site: 'Dunay' is not a site in case.yaml (known: Dunai, Rajin, Tikhoretsk)"]),
    ("containers_unknown_voyage_id", sub("containers.csv", ",M1,", ",M9,"),
     ["containers.csv:4:voyage_id: 'M9' is not a voyage_id in voyages"]),
    ("containers_vessel_mismatch", sub("containers.csv", "Dunai,Angara,A1", "Dunai,Maria,A1"),
     ["containers.csv:3:vessel: 'Maria' but voyage A1 is by Angara"]),
    ("containers_unknown_vessel", sub("containers.csv", "Dunai,,,stacked", "Dunai,Ural,,stacked"),
     ["containers.csv:5:vessel: 'Ural' is not a vessel in case.yaml"]),
    ("containers_loading_at_destination", sub("containers.csv", "2023-08-22,Rajin,,M1",
                                              "2023-08-22,Dunai,,M1"),
     ["containers.csv:4:site: loading for voyage M1 at 'Dunai', not an origin"]),
    ("containers_unloading_at_origin", sub("containers.csv", "2023-08-19,Dunai", "2023-08-19,Rajin"),
     ["containers.csv:3:site: unloading for voyage A1 at 'Rajin', not a destination"]),
    ("containers_above_capacity", sub("containers.csv", ",190,", ",351,"),
     ["containers.csv:2:visible: 351 is more than Angara's capacity_teu 350 in case.yaml"]),
    ("containers_above_capacity_via_voyage", both(
        sub("containers.csv", "2023-08-19,Dunai,Angara,A1,unloading,140",
            "2023-08-19,Dunai,,A1,unloading,400"),
        sub("containers.csv", "2023-09-01,Dunai,,,stacked,30", "2023-09-01,Dunai,Angara,,stacked,900")),
     ["containers.csv:3:visible: 400 is more than Angara's capacity_teu 350 in case.yaml"]),
    ("claims_start_after_end", sub("claims.csv", "2023-09-07,2023-10-01", "2023-10-07,2023-10-01"),
     ["claims.csv:2:end: 2023-10-01 is before start 2023-10-07"]),

    # --- Parquet ---------------------------------------------------------------------------
    ("parquet_corrupt", both(delete("imagery.csv"), put_bytes("imagery.parquet", NOT_PARQUET)),
     ["imagery.parquet: is not a readable Parquet file "
      "(Parquet magic bytes not found in footer. Either the file is corrupted or this is not a "
      "parquet file.)"]),
    ("parquet_bad_enum", voyages_parquet(evidence=["imagery", "sonar", "report"]),
     ["voyages.parquet:3:evidence: 'sonar' is not one of imagery, ais, report"]),
    ("parquet_both_dates_null", voyages_parquet(destination_seen=[date(2023, 8, 19), None, None],
                                                origin_seen=[date(2023, 8, 17), date(2023, 8, 22),
                                                             None]),
     ["voyages.parquet:4:origin_seen: and destination_seen are both empty: set at least one"]),
    ("parquet_misspelt_column", both(voyages_parquet(), lambda f: pl.read_parquet(
        f / "voyages.parquet").rename({"evidence": "evidance"}).write_parquet(f / "voyages.parquet")),
     ["voyages.parquet:1:evidence: required column is missing (is 'evidance' a misspelling?)"]),
]

# voyages.csv's optional origin_site and destination_site (route networks)
SITED = """\
vessel,origin_seen,destination_seen,evidence,voyage_id,source,origin_site,destination_site
Angara,2023-08-17,2023-08-19,imagery,A1,test,Rajin,Dunai
Maria,2023-08-22,,imagery,M1,test,Rajin,
Angara,,2023-08-30,report,A2,"test, with a comma",,Dunai
Maria,2023-09-05,2023-09-08,ais,,test,Rajin,Dunai
"""
TWO_ORIGINS = sub("case.yaml", "origin: [Rajin]", "origin: [Rajin, Chongjin]")
TWO_DESTINATIONS = sub("case.yaml", "destination: [Dunai]", "destination: [Dunai, Vostochny]")


def sited(old: str = "", new: str = ""):
    """voyages.csv with both site columns, `old` replaced by `new` (once)."""
    assert SITED.count(old) == 1 or not old
    return put("voyages.csv", SITED.replace(old, new) if old else SITED)


CASES += [
    ("sites_origin_unknown", sited("M1,test,Rajin,", "M1,test,Nampo,"),
     ["voyages.csv:3:origin_site: 'Nampo' is not an origin in case.yaml (known: Rajin)"]),
    ("sites_destination_unknown", sited(",ais,,test,Rajin,Dunai", ",ais,,test,Rajin,Vladivostok"),
     ["voyages.csv:5:destination_site: 'Vladivostok' is not a destination in case.yaml "
      "(known: Dunai)"]),
    ("sites_origin_is_a_destination", sited("A1,test,Rajin,", "A1,test,Dunai,"),
     ["voyages.csv:2:origin_site: 'Dunai' is a destination in case.yaml, not an origin"]),
    ("sites_destination_is_an_origin", sited("A1,test,Rajin,Dunai", "A1,test,Rajin,Rajin"),
     ["voyages.csv:2:destination_site: 'Rajin' is an origin in case.yaml, not a destination"]),
    ("sites_wrong_case", sited("M1,test,Rajin,", "M1,test,rajin,"),
     ["voyages.csv:3:origin_site: 'rajin' is not an origin in case.yaml (known: Rajin)"]),
    ("sites_origin_without_its_date", sited('comma",,Dunai', 'comma",Rajin,Dunai'),
     ["voyages.csv:4:origin_site: 'Rajin' is set but origin_seen is empty: name a site only "
      "where the voyage was seen"]),
    ("sites_destination_without_its_date", sited("M1,test,Rajin,", "M1,test,Rajin,Dunai"),
     ["voyages.csv:3:destination_site: 'Dunai' is set but destination_seen is empty: name a "
      "site only where the voyage was seen"]),
    ("sites_two_origins_column_missing", TWO_ORIGINS,
     ["voyages.csv:1:origin_site: required column is missing: case.yaml lists 2 origins "
      "(Rajin, Chongjin)"]),
    ("sites_two_destinations_column_missing", TWO_DESTINATIONS,
     ["voyages.csv:1:destination_site: required column is missing: case.yaml lists 2 "
      "destinations (Dunai, Vostochny)"]),
    ("sites_two_origins_column_misspelt", both(TWO_ORIGINS, sited("source,origin_site,",
                                                                  "source,origin_sites,")),
     ["voyages.csv:1:origin_site: required column is missing (is 'origin_sites' a "
      "misspelling?): case.yaml lists 2 origins (Rajin, Chongjin)"]),
    ("sites_two_origins_cell_empty", both(TWO_ORIGINS, sited("M1,test,Rajin,", "M1,test,,")),
     ["voyages.csv:3:origin_site: is empty but case.yaml lists 2 origins (Rajin, Chongjin): "
      "name the one the voyage was seen at on 2023-08-22"]),
    ("sites_two_destinations_cell_empty", both(TWO_DESTINATIONS,
                                               sited('comma",,Dunai', 'comma",,')),
     ["voyages.csv:4:destination_site: is empty but case.yaml lists 2 destinations (Dunai, "
      "Vostochny): name the one the voyage was seen at on 2023-08-30"]),
    ("sites_both_ends_several_columns_missing", both(TWO_ORIGINS, TWO_DESTINATIONS),
     ["voyages.csv:1:origin_site: required column is missing: case.yaml lists 2 origins "
      "(Rajin, Chongjin)",
      "voyages.csv:1:destination_site: required column is missing: case.yaml lists 2 "
      "destinations (Dunai, Vostochny)"]),
    ("sites_count_loading_at_another_origin", both(TWO_ORIGINS, sited("A1,test,Rajin,",
                                                                      "A1,test,Chongjin,")),
     ["containers.csv:2:site: loading for voyage A1 at 'Rajin', but voyages has its "
      "origin_site 'Chongjin'"]),
    ("sites_count_unloading_at_another_destination", both(TWO_DESTINATIONS, sited(
        "A1,test,Rajin,Dunai", "A1,test,Rajin,Vostochny")),
     ["containers.csv:3:site: unloading for voyage A1 at 'Dunai', but voyages has its "
      "destination_site 'Vostochny'"]),
    ("sites_column_twice", sited("source,origin_site,destination_site",
                                 "source,origin_site,origin_site"),
     ["voyages.csv:1:origin_site: column appears more than once"]),
    ("sites_parquet_unknown", voyages_parquet(origin_site=["Rajin", "Rajin", None],
                                              destination_site=["Dunai", None, "Nakhodka"]),
     ["voyages.parquet:4:destination_site: 'Nakhodka' is not a destination in case.yaml "
      "(known: Dunai)"]),
]

# claims.csv's optional origin_site and destination_site: the route a claim is about
CLAIMS_SITED = """\
start,end,quantity,relation,value,confidence,source,origin_site,destination_site
2023-09-07,2023-10-01,containers,at_least,1000,medium,test,Rajin,Dunai
2023-08-15,2023-10-14,voyages,about,5,high,test,,
"""


def claims_sited(old: str, new: str):
    assert CLAIMS_SITED.count(old) == 1
    return put("claims.csv", CLAIMS_SITED.replace(old, new))


CASES += [
    ("claims_origin_site_unknown", claims_sited("test,Rajin,Dunai", "test,Nampo,Dunai"),
     ["claims.csv:2:origin_site: 'Nampo' is not an origin in case.yaml (known: Rajin)"]),
    ("claims_destination_site_unknown", claims_sited("high,test,,", "high,test,,Vostochny"),
     ["claims.csv:3:destination_site: 'Vostochny' is not a destination in case.yaml "
      "(known: Dunai)"]),
    ("claims_origin_site_is_a_destination", claims_sited("test,Rajin,Dunai", "test,Dunai,"),
     ["claims.csv:2:origin_site: 'Dunai' is a destination in case.yaml, not an origin"]),
    ("claims_destination_site_is_an_origin", both(TWO_ORIGINS, claims_sited(
        "test,Rajin,Dunai", "test,Rajin,Chongjin"), sited(",ais,,test,Rajin,", ",ais,,test,Chongjin,")),
     ["claims.csv:2:destination_site: 'Chongjin' is an origin in case.yaml, not a destination"]),
]

assert len({c[0] for c in CASES}) == len(CASES), "case ids must be distinct"


def _problems(folder: Path) -> list[str]:
    with pytest.raises(CaseInvalid) as exc:
        load_case(folder)
    return [str(p) for p in exc.value.problems]


def test_base_case_is_valid(tmp_path):
    case = load_case(write_base(tmp_path / "case"))
    assert case.spec.name == "test-case"
    assert {n: case.tables[n].height for n in case.files} == {
        "voyages": 4, "imagery": 3, "containers": 4, "depot": 2, "claims": 2}


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_case(tmp_path, mutate, expected):
    folder = write_base(tmp_path / "case")
    mutate(folder)
    assert _problems(folder) == expected


def test_not_a_folder(tmp_path):
    missing = tmp_path / "nowhere"
    assert _problems(missing) == [f"{missing}: is not a folder"]


def test_parquet_panic_is_a_problem(tmp_path, monkeypatch):
    """polars panics (PanicException, a BaseException) on some corrupt Parquet data."""
    folder = write_base(tmp_path / "case")
    both(delete("imagery.csv"), put_bytes("imagery.parquet", b"PAR1"))(folder)

    def panic(*args, **kwargs):
        raise pl.exceptions.PanicException("assertion failed: offset + length <= self.length")

    import pyarrow.parquet as pq

    monkeypatch.setattr(pq, "read_table", panic)
    assert _problems(folder) == [
        "imagery.parquet: is not a readable Parquet file "
        "(assertion failed: offset + length <= self.length)"]


def test_valid_parquet_tables_are_accepted(tmp_path):
    folder = write_base(tmp_path / "case")
    voyages_parquet()(folder)
    case = load_case(folder)
    assert case.files["voyages"] == "voyages.parquet"
    assert case.voyages["destination_seen"].to_list() == VOYAGES_DF["destination_seen"]


def test_sites_of_several_ports_are_accepted(tmp_path):
    folder = write_base(tmp_path / "case")
    both(TWO_ORIGINS, sited(",ais,,test,Rajin,", ",ais,,test,Chongjin,"))(folder)
    case = load_case(folder)
    assert case.spec.origin == ("Rajin", "Chongjin")
    assert case.voyages["origin_site"].to_list() == ["Rajin", "Rajin", None, "Chongjin"]
    assert case.voyages["destination_site"].to_list() == ["Dunai", None, "Dunai", "Dunai"]
    from cargoinfer.observations.aggregate import route_data
    from cargoinfer.observations.summary import summary

    assert "Voyages seen per port: Rajin 2, Chongjin 1, Dunai 3." in summary(case)
    route = route_data(case)  # the one-route models pool an end's ports, and say so
    assert not [n for n in route.notes if "pooled" in n]  # model=network does not pool them
    assert route.pooling_notes == [
        "the origins Rajin, Chongjin are pooled: a usable pass of any one is taken as a look "
        "at all, so a port imaged less often than the others looks better watched than it "
        "was and the voyages it missed can be underestimated"]


def test_a_one_route_folder_reads_the_same_with_or_without_sites(tmp_path):
    """The columns are optional for one site per end: without them they are null, and the
    data the models read (`route_data`) is the same as with them filled in."""
    from dataclasses import fields

    from cargoinfer.observations.aggregate import route_data

    plain = load_case(write_base(tmp_path / "plain"))
    folder = write_base(tmp_path / "sited")
    sited()(folder)
    named = load_case(folder)
    assert plain.voyages["origin_site"].null_count() == plain.voyages.height
    a, b = route_data(plain), route_data(named)
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True) if isinstance(
            x, np.ndarray) else x == y, f.name


def test_unknown_column_is_kept(tmp_path):
    folder = write_base(tmp_path / "case")
    lines = BASE["voyages.csv"].splitlines()
    notes = ["notes", "", "cloudy", "", "late"]
    (folder / "voyages.csv").write_text(
        "\n".join(f"{line},{note}" for line, note in zip(lines, notes)) + "\n")
    case = load_case(folder)
    assert case.voyages["notes"].to_list() == [None, "cloudy", None, "late"]
    assert case.voyages["vessel"].to_list() == ["Angara", "Maria", "Angara", "Maria"]


def test_several_problems_reported_together_in_file_order(tmp_path):
    """Problems in five files, made in reverse file order, come back sorted by file then row."""
    folder = write_base(tmp_path / "case")
    both(
        sub("claims.csv", "at_least", "roughly"),
        sub("containers.csv", ",120,1,", ",-1,2,"),
        sub("imagery.csv", "Dunai,false", "Dunai,maybe"),
        sub("voyages.csv", "report", "rumour"),
        sub("voyages.csv", "Maria,2023-08-22,,imagery", "Maria,2023-08-22,,imagery,extra"),
        sub("case.yaml", "capacity_teu: 350", "capacity_teu: 0"),
        sub("case.yaml", "period_days: 7", "period_days: -7"),
    )(folder)
    assert _problems(folder) == [
        "case.yaml:4:period_days: '-7' is not a whole number of days >= 1",
        "case.yaml:9:vessels[0].capacity_teu: '0' is not a whole number >= 1",
        "voyages.csv:3: has 7 fields but the header has 6",
        "voyages.csv:4:evidence: 'rumour' is not one of imagery, ais, report",
        "imagery.csv:3:usable: 'maybe' is not true or false",
        "containers.csv:4:visible: -1 is below 0",
        "containers.csv:4:coverage: 2 is not in (0, 1]",
        "claims.csv:2:relation: 'roughly' is not one of about, at_least, at_most",
    ]


def test_cell_and_cross_file_problems_reported_together(tmp_path):
    """With a valid case.yaml, checks across files run beside the cell checks."""
    folder = write_base(tmp_path / "case")
    both(
        sub("claims.csv", "2023-09-07,2023-10-01", "2023-10-07,2023-10-01"),
        sub("depot.csv", "2023-09-10,Tikhoretsk", "2023-09-10,Tichoretsk"),
        sub("containers.csv", ",0.65,", ",65%,"),
        sub("imagery.csv", "2023-08-17,Dunai", "2023-08-17,Dunay"),
        sub("voyages.csv", "Maria,2023-09-05", "Mariya,2023-09-05"),
        sub("voyages.csv", "Maria,2023-08-22", "Mariya,2023-08-22"),
    )(folder)
    assert _problems(folder) == [
        "voyages.csv:3:vessel: 'Mariya' is not a vessel in case.yaml",
        "voyages.csv:5:vessel: 'Mariya' is not a vessel in case.yaml",
        "imagery.csv:3:site: 'Dunay' is not a site in case.yaml (known: Dunai, Rajin, Tikhoretsk)",
        "containers.csv:2:coverage: '65%' is not a number",
        "depot.csv:3:site: 'Tichoretsk' is not a site in case.yaml (known: Dunai, Rajin, Tikhoretsk)",
        "claims.csv:2:end: 2023-10-01 is before start 2023-10-07",
    ]


def test_bad_voyages_cell_does_not_cascade_into_containers(tmp_path):
    """A voyages table refused for a bad cell is not read as 'no voyages': the voyage_ids of
    containers.csv are not then all reported unknown (voyages_missing covers the absent file)."""
    folder = write_base(tmp_path / "case")
    sub("voyages.csv", "2023-08-30,report", "2023-08-3O,report")(folder)
    assert _problems(folder) == [
        "voyages.csv:4:destination_seen: '2023-08-3O' is not a date in the form YYYY-MM-DD"]


def test_problem_is_one_line_when_cell_has_line_break(tmp_path):
    folder = write_base(tmp_path / "case")
    sub("voyages.csv", "Maria,2023-08-22,", 'Maria,"2023-\n08-22",')(folder)
    assert all("\n" not in line for line in _problems(folder))


def test_cli_check_title_with_lone_surrogate(tmp_path):
    folder = write_base(tmp_path / "case")
    sub("case.yaml", "title: Test case", 'title: "Test \\ud800 case"')(folder)
    cli = Path(sys.executable).with_name("cargoinfer")
    proc = subprocess.run([str(cli), "check", str(folder)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode in (0, 2), proc.stderr


# --- through the command line ---------------------------------------------------------------

CLI_CASES = ["csv_missing_column_misspelt", "yaml_impossible_date", "parquet_corrupt",
             "sites_two_origins_cell_empty"]


@pytest.mark.parametrize("case_id", CLI_CASES)
def test_cli_check_refuses_bad_case(tmp_path, capsys, case_id):
    _, mutate, expected = next(c for c in CASES if c[0] == case_id)
    folder = write_base(tmp_path / "case")
    mutate(folder)
    assert main(["check", str(folder)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [*expected, f"{folder}: refused, 1 problem"]
    assert "Traceback" not in err


def test_cli_check_process_refuses_several_problems(tmp_path):
    """The installed entry point, in its own process: exit 2, problems on stderr, no traceback."""
    folder = write_base(tmp_path / "case")
    both(sub("voyages.csv", "vessel,origin_seen", "vesel,origin_seen"),
         sub("containers.csv", ",0.5,", ",nan,"))(folder)
    cli = Path(sys.executable).with_name("cargoinfer")
    proc = subprocess.run([str(cli), "check", str(folder)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "voyages.csv:1:vessel: required column is missing (is 'vesel' a misspelling?)",
        "containers.csv:5:coverage: 'nan' is not a finite number",
        f"{folder}: refused, 2 problems",
    ]


def test_cli_check_accepts_valid_case(tmp_path, capsys):
    folder = write_base(tmp_path / "case")
    assert main(["check", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines() == [
        "test-case: Test case. Window 2023-08-15 to 2023-10-14 (61 days, 9 periods of 7 days), "
        "Rajin -> Dunai. Vessels: Angara (350 TEU), Maria. Voyages: 4 (2 seen at both ends, "
        "1 at the origin only, 1 at the destination only). Other rows: 3 imagery, 4 containers, "
        "2 depot, 2 claims. Dates span 2023-08-15 to 2023-10-14. OK."]


def test_cli_check_accepts_embedded_case(capsys):
    folder = Path(__file__).resolve().parents[1] / "cases" / "rajin_dunai_2023"
    assert main(["check", str(folder)]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("rajin-dunai-2023: ") and out.rstrip().endswith("OK.")
