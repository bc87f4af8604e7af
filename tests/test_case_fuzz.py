"""Property: however a valid case folder is corrupted, `load_case` either returns a Case or
raises CaseInvalid whose problems name files of the folder; it never crashes.

The examples are derandomized (`derandomize=True`, no example database): Hypothesis draws
them from a fixed seed derived from this test's code, so every run tries the same 200
corruptions and the test cannot fail (or pass) by chance. A failure is a real crash, and
Hypothesis prints the shrunk corruption that reproduces it.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from datetime import date
from pathlib import Path

import polars as pl
import yaml
from cargoinfer.observations.case import load_case
from cargoinfer.observations.problems import CaseInvalid, Problem, printable
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

CASE = Path(__file__).resolve().parents[1] / "cases" / "rajin_dunai_2023"
FILES = ("case.yaml", "voyages.csv", "imagery.csv", "containers.csv", "depot.csv", "claims.csv")
CSVS = FILES[1:]

# Text for cells: any unicode, plus the characters that matter to CSV and to our parsers.
cell_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from(list(',"\n\r \t;0123456789-.eE+:/\x00\ufeffé')), max_size=12),
    st.sampled_from(["", " ", "nan", "-inf", "1e400", "99999999999999999999", "-0", "2023-02-30",
                     "0000-01-01", "9999-12-31", "true", "maybe", "Rajin", "Angara", "A1", "M1",
                     "loading", "unloading", "stacked", "0", "1.5", "1_000", "٣",
                     "２０２３-０８-１５"]),
)

yaml_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.dates(min_value=date(1, 1, 1)), st.sampled_from(["2023-02-30", "15/08/2023", "Rajin", ""]),
)
yaml_value = st.recursive(
    yaml_scalar,
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=8), children, max_size=3)),
    max_leaves=8,
)
YAML_KEYS = ["name", "title", "window", "window.start", "window.end", "period_days", "origin",
             "destination", "depot", "vessels", "vessels.0", "vessels.0.name",
             "vessels.0.capacity_teu", "vessels.1", "vessels.1.name", "new_key"]

index = st.integers(min_value=0, max_value=10_000)  # taken modulo the length it indexes

corruption = st.one_of(
    st.tuples(st.just("cell"), st.sampled_from(CSVS), index, index, cell_text, st.booleans()),
    st.tuples(st.just("delete_line"), st.sampled_from(FILES), index),
    st.tuples(st.just("replace_line"), st.sampled_from(FILES), index, cell_text),
    st.tuples(st.just("truncate"), st.sampled_from(FILES), index),
    st.tuples(st.just("insert_bytes"), st.sampled_from(FILES), index, st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("yaml"), st.sampled_from(YAML_KEYS), yaml_value),
    st.tuples(st.just("parquet"), st.sampled_from(CSVS), index, st.binary(min_size=1, max_size=8)),
)


def _corrupt_cell(path: Path, row: int, col: int, text: str, quoted: bool) -> None:
    """Put `text` in one cell: written by csv (well-formed) or pasted raw (maybe not)."""
    if not path.exists():  # converted to Parquet by an earlier corruption
        return
    text_now = path.read_bytes().decode("utf-8", "surrogateescape")
    try:
        rows = list(csv.reader(io.StringIO(text_now, newline="")))
    except csv.Error:  # an earlier corruption broke the quoting
        return
    rows = [r for r in rows if r] or [[""]]
    r = row % len(rows)
    c = col % len(rows[r])
    if quoted:
        rows[r][c] = text
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\n").writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8", errors="surrogateescape", newline="")
    else:
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\n").writerows(rows)
        lines = out.getvalue().split("\n")
        fields = lines[r].split(",")
        fields[c % len(fields)] = text
        lines[r] = ",".join(fields)
        path.write_text("\n".join(lines), encoding="utf-8", errors="surrogateescape", newline="")


def _set_yaml(path: Path, key: str, value) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    node, parts = data, key.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _to_parquet(folder: Path, csv_name: str, at: int, data: bytes) -> None:
    """Replace a CSV by Parquet with the same table, then overwrite a few of its bytes."""
    src = folder / csv_name
    target = src.with_suffix(".parquet")
    pl.read_csv(src, try_parse_dates=True, infer_schema_length=None).write_parquet(target)
    src.unlink()
    raw = bytearray(target.read_bytes())
    at %= len(raw)
    raw[at:at + len(data)] = data
    target.write_bytes(bytes(raw))


def corrupt(folder: Path, c: tuple) -> None:
    kind, rest = c[0], c[1:]
    if kind == "cell":
        _corrupt_cell(folder / rest[0], *rest[1:])
    elif kind == "yaml":
        path = folder / "case.yaml"
        try:
            _set_yaml(path, *rest)
        except Exception:
            pass  # an earlier corruption broke case.yaml or the path: leave the file as it is
    elif kind == "parquet":
        if (folder / rest[0]).exists():
            try:
                _to_parquet(folder, *rest)
            except (Exception, pl.exceptions.PanicException):
                pass  # an earlier corruption left a CSV that polars will not read: keep it
    else:
        path = folder / rest[0]
        if not path.exists():  # converted to Parquet by an earlier corruption
            path = path.with_suffix(".parquet")
        data = path.read_bytes()
        if kind == "truncate":
            data = data[: rest[1] % (len(data) + 1)]
        elif kind == "insert_bytes":
            at = rest[1] % (len(data) + 1)
            data = data[:at] + rest[2] + data[at:]
        else:  # delete_line, replace_line
            lines = data.split(b"\n")
            i = rest[1] % len(lines)
            if kind == "delete_line":
                del lines[i]
            else:
                lines[i] = rest[2].encode("utf-8", "surrogatepass")
            data = b"\n".join(lines)
        path.write_bytes(data)


@settings(derandomize=True, database=None, max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(corruptions=st.lists(corruption, min_size=1, max_size=3))
def test_corrupted_case_never_crashes(corruptions):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "case"
        shutil.copytree(CASE, folder)
        for c in corruptions:
            corrupt(folder, c)
        names = {p.name for p in folder.iterdir()}
        try:
            load_case(folder)
            event("accepted")
        except CaseInvalid as e:
            event(f"refused: first problem in {e.problems[0].file if e.problems else '?'}")
            assert e.problems, "CaseInvalid without problems"
            for p in e.problems:
                assert isinstance(p, Problem)
                assert p.file in names, f"{p.file!r} is not a file of the case ({sorted(names)})"
                line = str(p)
                assert line.startswith(printable(p.file)) and printable(p.message) in line
                assert "\n" not in line
            assert e.report().endswith("problem" + ("s" if len(e.problems) != 1 else ""))


def test_embedded_case_is_valid():
    """The fuzz starts from a valid case: if this fails, the property above proves little."""
    assert load_case(CASE).voyages.height > 0


# --- exhaustive sweeps: every column and every case.yaml key against a list of edge values ------
# Random corruption rarely lands a given value in a given column (a too-large whole number in
# `visible`, say); these sweeps try each edge value in each place, deterministically.

EDGE_CELLS = [
    "", " ", "\t", '"', "'", ",", "a\nb", "\r", "\x00", "\ufeff", "\u2028", "é", "\U0001f6a2",
    "nan", "NaN", "inf", "-inf", "Infinity", "1e308", "1e400", "-1e400", "1e-320", "1.", ".5",
    "0", "-0", "+1", "-1", "1_000", "0x10", "٣", "１２", "12.5", "9223372036854775807",
    "9223372036854775808", "-9223372036854775809", "99999999999999999999999999999999",
    "2023-02-30", "2023-8-5", "0000-01-01", "0001-01-01", "9999-12-31", "10000-01-01",
    "2023-08-15T00:00:00", "２０２３-０８-１５", "15/08/2023",
    "true", "TRUE", "yes", "maybe", "Rajin", "Dunai", "Angara", "A1", "M1", "loading", "x" * 5000,
]


def _sweep_failures(folder: Path, file: str, variants) -> list[str]:
    """Load the case once per variant text of `file`; describe every crash."""
    original = (folder / file).read_bytes()
    failures = []
    for label, data in variants:
        (folder / file).write_bytes(data)
        try:
            load_case(folder)
        except CaseInvalid as e:
            bad = [p for p in e.problems if p.file not in FILES or not str(p)]
            if bad:
                failures.append(f"{file} {label}: problems name no file of the case: {bad}")
        except BaseException as e:  # noqa: BLE001 - anything else is the bug we look for
            failures.append(f"{file} {label}: {type(e).__name__}: {e}"[:300])
        finally:
            (folder / file).write_bytes(original)
    return failures


def test_every_column_takes_every_edge_value(tmp_path):
    folder = tmp_path / "case"
    shutil.copytree(CASE, folder)
    failures = []
    for file in CSVS:
        rows = list(csv.reader(io.StringIO((folder / file).read_text(encoding="utf-8"), newline="")))

        def variants():
            for c, column in enumerate(rows[0]):
                for value in EDGE_CELLS:
                    changed = [row[:] for row in rows]
                    changed[1][c] = value
                    out = io.StringIO(newline="")
                    csv.writer(out, lineterminator="\n").writerows(changed)
                    yield f"row 2 {column}={value[:20]!r}", out.getvalue().encode("utf-8")

        failures += _sweep_failures(folder, file, variants())
    assert failures == []


EDGE_YAML = [
    "", "~", "''", "' '", "[]", "{}", "[[]]", "[{}]", "0", "-1", "7", "7.0", "1:30", "0x1F", "1_0",
    "99999999999999999999999", ".nan", ".inf", "-.inf", "true", "no", "2023-02-30", "15/08/2023",
    "2023-08-15", "2023-08-15 10:00:00", "!!timestamp 2023-08-15", "!!binary aGVsbG8=",
    "!!set {a: null}", "!!pairs [{a: 1}]", "!!omap [{a: 1}]", "!!float nan", "!!str 7",
    "!!python/object:os.system ls", "*undefined", "&self [*self]", "&selfmap {a: *selfmap}",
    "[" * 600 + "]" * 600, "{a: " * 1000 + "b" + "}" * 1000, '"\\x00"', '"\\ud800"',
    "[Rajin, Rajin]", "[Rajin, [Dunai]]", "[{name: Angara}]", "{start: 2023-08-15}",
    "{start: 2023-08-15, end: 2023-08-15}", "[Angara, Maria]", "[{name: Angara, capacity_teu: x}]",
    "[{name: A}, {name: A}]", "[{capacity_teu: 1}]", "|\n  multi\n  line",
]


def test_every_case_yaml_key_takes_every_edge_value(tmp_path):
    folder = tmp_path / "case"
    shutil.copytree(CASE, folder)
    sentinel = "@@EDGE@@"
    variants = []
    for key in YAML_KEYS:
        probe = folder / "probe.yaml"
        probe.write_text((folder / "case.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        _set_yaml(probe, key, sentinel)
        template = probe.read_text(encoding="utf-8")
        probe.unlink()
        assert template.count(f"'{sentinel}'") == 1, key
        indent = " " * 8  # deeper than any key of the template, for the block scalar
        for raw in EDGE_YAML:
            text = template.replace(f"'{sentinel}'", raw.replace("\n", "\n" + indent))
            variants.append((f"{key}={raw[:30]!r}", text.encode("utf-8")))
    assert _sweep_failures(folder, "case.yaml", variants) == []
