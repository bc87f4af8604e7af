"""`cargoinfer init DIR`: a case folder whose every example value and row `check` names
until replaced; filled in (as the tutorial does), it checks and fits."""

import re

import pytest

from cargoinfer.experiments.cli import main
from cargoinfer.observations.schema import TABLES


def fill(folder):
    """What the tutorial (docs/tutorial.md) does by hand: each EXAMPLE value replaced, each
    example row's source replaced."""
    for path in folder.iterdir():
        if path.suffix in (".csv", ".yaml"):
            text = path.read_text().replace("EXAMPLE: replace with where this row comes from",
                                            "reconstructed for the tutorial")
            path.write_text(re.sub(r"EXAMPLE[-:] ?|example-", "", text))


def test_init_then_check_names_what_to_replace(tmp_path, capsys):
    folder = tmp_path / "my_case"
    assert main(["init", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].endswith(f"cargoinfer check {folder}")
    written = {p.name for p in folder.iterdir()}
    assert written == {"case.yaml", "README.md", *(f"{t.name}.csv" for t in TABLES)}
    for table in TABLES:  # every table with the contract's required header and example rows
        lines = (folder / f"{table.name}.csv").read_text().splitlines()
        assert lines[0] == ",".join(table.required_names) and len(lines) > 1
    assert main(["check", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    problems, last = err[:-1], err[-1]
    assert last == f"{folder}: refused, {len(problems)} problems"
    # only the examples, each named by file, row and column
    assert all("is an example from `cargoinfer init`: replace it" in p for p in problems), problems
    assert {p.split(":")[0] for p in problems} == written - {"README.md"}
    rows = sum(len((folder / f"{t.name}.csv").read_text().splitlines()) - 1 for t in TABLES)
    assert sum(":source: this row is" in p for p in problems) == rows
    assert "case.yaml:5:name: 'example-port-a-to-port-b'" in problems[0]


def test_init_refuses_a_folder_with_files(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("mine")
    assert main(["init", str(tmp_path / "x")]) == 2
    assert "exists and is not an empty folder; nothing was written" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["notes.txt"]
    assert main(["init"]) == 2 and main(["init", "a", "b"]) == 2
    assert not list(tmp_path.glob(".x.*")), "no staging folder left behind"


@pytest.mark.slow
def test_the_filled_in_template_checks_and_fits(tmp_path, capsys):
    folder = tmp_path / "tutorial"
    assert main(["init", str(folder)]) == 0
    fill(folder)
    assert main(["check", str(folder)]) == 0
    assert capsys.readouterr().out.strip().endswith("OK.")
    assert main(["fit", f"case.path={folder}", "model=voyages", "inference.draws=300",
                 "inference.tune=300", "inference.chains=2", f"store={tmp_path / 's'}"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("total_containers: ") and out[-1].startswith("run: ")
