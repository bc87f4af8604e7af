"""`cargoinfer plan` (experiments/planning.py): bad menus refused, a plan directory of
an option the model cannot use."""

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from cargoinfer.experiments.cli import main
from cargoinfer.experiments.planning import pareto_front


def _run_dir(first_run) -> Path:
    code, out, _ = first_run
    assert code == 0
    return Path(out.strip().splitlines()[-1].removeprefix("run: "))


def _plans(run: Path) -> list[Path]:
    return sorted(run.parent.glob(f"{run.name}-plan-*")) + sorted(run.parent.glob(".staging-*"))


@pytest.mark.parametrize("override, message", [
    ("plan.options.quay_count_next.site=Vladivostok",
     "plan.options.quay_count_next.site: 'Vladivostok' is not a site of the case (origin or "
     "destination: Rajin, Dunai)"),
    ("plan.options.depot_area_late_oct.date=2031-01-01",
     "plan.options.depot_area_late_oct.date: 2031-01-01 is outside 2023-08-15 to 2024-10-14 "
     "(the window's start to 366 days after its end)"),
    ("plan.options.quay_count_next.cost=-1",
     "plan.options.quay_count_next.cost: -1.0 must be at least 0"),
    ("plan.options.depot_area_late_oct.metric=pits",
     "plan.options.depot_area_late_oct.metric: 'pits' is not one of filled_area_m2, railcars, "
     "containers"),
    ("only=[nope]", "only: 'nope' is not an option of the menu"),
])
def test_bad_menu_exits_2_naming_option_and_key(first_run, capsys, override, message):
    run = _run_dir(first_run)
    before = _plans(run)
    assert main(["plan", str(run), override]) == 2
    err = capsys.readouterr().err
    assert f"cargoinfer plan: {message}\n" in err
    assert "nothing was written" in err
    assert _plans(run) == before


def test_unknown_menu_and_missing_run(first_run, capsys, tmp_path):
    assert main(["plan", str(_run_dir(first_run)), "plan=nope"]) == 2
    assert "no plan named 'nope'; the plans are default" in capsys.readouterr().err
    assert main(["plan", str(tmp_path)]) == 2
    assert main(["plan"]) == 2


def test_pareto_front():
    costs, widths = [1, 2, 3, 3, 5], [900, 950, 800, 800, 700]
    np.testing.assert_array_equal(pareto_front(costs, widths), [True, False, True, True, True])


def test_an_option_the_model_does_not_use_narrows_nothing(first_run, capsys):
    """A depot measurement for a voyages run (voyages reads no depot rows): its expected
    width is today's, exactly, by the screen; the plan directory is complete, and asking
    again prints the same plan without assessing it again."""
    run = _run_dir(first_run)
    args = ["plan", str(run), "only=[depot_area_late_oct]", "n_outer=4"]
    assert main(args) == 0
    out = capsys.readouterr().out
    folder = Path(out.strip().splitlines()[-1].removeprefix("plan: "))
    assert folder.parent == run.parent and folder.name.startswith(f"{run.name}-plan-")
    assert {p.name for p in folder.iterdir()} == {"plan.csv", "plan.json", "plan.png",
                                                   "plan.md", "plan.html"}
    df = pl.read_csv(folder / "plan.csv")
    assert df.columns == ["option", "kind", "cost", "width_now", "width_expected",
                          "width_expected_mcse", "reduction", "reduction_per_cost", "method"]
    row = df.row(0, named=True)
    assert row["option"] == "depot_area_late_oct" and row["method"] == "screen"
    assert row["reduction"] == 0.0 and row["width_expected"] == row["width_now"]
    record = json.loads((folder / "plan.json").read_text())
    assert record["run_id"] == run.name and record["settings"]["n_outer"] == 4
    assert main(args) == 0
    assert capsys.readouterr().out.strip().endswith(f"plan: {folder}")


def test_a_plan_of_a_run_that_is_not_briefing_grade_says_so(first_run, capsys, tmp_path):
    """A run whose status is review (here a copy of the voyages run with its record
    saying so): the plan is made, but the command warns, and plan.json, plan.md and
    plan.html carry the run's status and reasons."""
    import shutil

    run = _run_dir(first_run)
    copy = tmp_path / "default" / run.name
    shutil.copytree(run, copy)
    record = json.loads((copy / "run.json").read_text())
    record.update(status="review", reasons=["R-hat 1.08 above 1.01"])
    (copy / "run.json").write_text(json.dumps(record))
    assert main(["plan", str(copy), "only=[depot_area_late_oct]", "n_outer=4"]) == 0
    out, err = capsys.readouterr()
    folder = Path(out.strip().splitlines()[-1].removeprefix("plan: "))
    assert f"warning: run {run.name} is not briefing-grade (R-hat 1.08 above 1.01)" in err
    plan = json.loads((folder / "plan.json").read_text())
    assert plan["run_status"] == "review" and plan["run_reasons"] == ["R-hat 1.08 above 1.01"]
    for page in ("plan.md", "plan.html"):
        assert "REVIEW: run" in (folder / page).read_text()
    assert main(["plan", str(copy), "only=[depot_area_late_oct]", "n_outer=4"]) == 0
    assert "not briefing-grade" in capsys.readouterr().err  # read back, warned again
    import cargoinfer as ci

    with pytest.warns(UserWarning, match="is not briefing-grade"):
        again = ci.plan(copy, only=["depot_area_late_oct"], n_outer=4)
    assert again.dir == folder and "REVIEW: run" in repr(again)


def test_brief_of_a_run_with_a_plan_says_what_would_narrow_it(first_run, tmp_path):
    """After a plan, `cargoinfer brief` adds the plan's options: here one that cannot
    narrow the interval (a depot reading for voyages), said so."""
    run = _run_dir(first_run)
    assert main(["plan", str(run), "only=[depot_area_late_oct]", "n_outer=4"]) == 0
    assert main(["brief", str(run), f"out={tmp_path}"]) == 0
    text = (tmp_path / "brief.md").read_text()
    assert "## What would narrow this most" in text
    assert ("- A measurement of the filled pit area at Tikhoretsk on 25 October (2 k$) would "
            "not narrow it measurably.") in text


def test_zero_passes_narrow_nothing(first_run, capsys):
    """Imagery of no passes carries no information: its expected width is today's,
    exactly (the data do not change), for any family."""
    run = _run_dir(first_run)
    assert main(["plan", str(run), "only=[archive_dunai_sep]", "n_outer=4",
                 "plan.options.archive_dunai_sep.passes=0"]) == 0
    folder = Path(capsys.readouterr().out.strip().splitlines()[-1].removeprefix("plan: "))
    row = pl.read_csv(folder / "plan.csv").row(0, named=True)
    assert row["reduction"] == 0.0 and row["method"] == "screen"


def test_imagery_on_a_voyages_run(first_run):
    """Imagery on a voyages run (the voyages nobody saw drawn per period): no pass narrows
    nothing, exactly; more passes of the Dunai archive (0, 4, 14) never predict a wider
    interval beyond 3 Monte Carlo errors of the difference, and fourteen passes predict a
    narrower one than none beyond 3 of theirs (seeded; by chance about once in 700 per
    comparison if the errors are normal)."""
    import dataclasses

    from cargoinfer.experiments.config import compose_plain
    from cargoinfer.experiments.plan import assess, context
    from cargoinfer.experiments.plan_menu import read_menu
    from omegaconf import OmegaConf

    ctx = context(_run_dir(first_run), 600)
    menu = OmegaConf.to_container(compose_plain([], "plan_run").plan.options, resolve=True)
    base = next(o for o in read_menu(menu, ctx.case) if o.name == "archive_dunai_sep")
    got = [assess(ctx, dataclasses.replace(base, passes=k), n_outer=16, seed=5, max_refits=2)
           for k in (0, 4, 14)]
    assert got[0].width_expected == got[0].width_now
    for fewer, more in zip(got, got[1:]):
        se = np.hypot(np.nan_to_num(fewer.width_expected_mcse), more.width_expected_mcse)
        assert more.width_expected <= fewer.width_expected + 3 * se, (
            [(a.option.passes, a.width_expected, a.width_expected_mcse) for a in got])
    assert got[2].width_expected < got[0].width_now - 3 * got[2].width_expected_mcse


def test_a_run_without_a_model_is_refused(tmp_path, capsys):
    """The bootstrap baseline has no generative process: the plan is refused, exit 2,
    nothing written."""
    from cargoinfer.experiments.cli import main as cli

    assert cli(["fit", "model=baseline", f"store={tmp_path}", "seed=1"]) == 0
    run = Path(capsys.readouterr().out.strip().splitlines()[-1].removeprefix("run: "))
    assert main(["plan", str(run), "only=[quay_count_next]"]) == 2
    err = capsys.readouterr().err
    assert "a baseline run has no model to simulate new rows from" in err
    assert _plans(run) == []


def test_law_of_total_variance_on_a_run(first_run):
    """On a fitted run, today's variance of the headline equals the expected variance
    after a count of the next voyage plus the variance of the headline's expected value
    over the count's outcomes. Tolerance: 4 standard errors of those two Monte Carlo
    terms (64 outer draws) plus 3% of today's variance for the Pareto smoothing; seeded,
    a false failure well under once in 1,000 seeds."""
    from cargoinfer.experiments.config import compose_plain
    from cargoinfer.experiments.plan import context, screen_option
    from cargoinfer.experiments.plan_menu import read_menu
    from omegaconf import OmegaConf

    ctx = context(_run_dir(first_run), 600)
    menu = OmegaConf.to_container(compose_plain([], "plan_run").plan.options, resolve=True)
    option = next(o for o in read_menu(menu, ctx.case) if o.name == "quay_count_next")
    s, _ = screen_option(ctx, option, n_outer=64, seed=3)
    assert s.trusted.all()
    total, se = s.total_variance()
    assert abs(total - s.var_now) < 4 * se + 0.03 * s.var_now, (total, s.var_now, se)
    assert s.means.var() > 0  # the count moves the headline


def test_python_api_plan_is_the_command_s(first_run, capsys):
    """`ci.plan` makes the same plan directory as the command for the same settings (read
    back, not assessed again); a bad menu raises InputError naming option and key, and
    writes nothing."""
    import cargoinfer as ci

    run = _run_dir(first_run)
    assert main(["plan", str(run), "only=[depot_area_late_oct]", "n_outer=4"]) == 0
    folder = Path(capsys.readouterr().out.strip().splitlines()[-1].removeprefix("plan: "))
    p = ci.plan(ci.load(run), only=["depot_area_late_oct"], n_outer=4)
    assert p.dir == folder and p.reused
    assert p.table.equals(pl.read_csv(folder / "plan.csv"))
    assert "depot_area_late_oct" in p._repr_html_() and "data:image/png;base64," in p._repr_html_()
    before = _plans(run)
    with pytest.raises(ci.InputError) as e:
        ci.plan(run, **{"plan.options.quay_count_next.cost": -1})
    assert "plan.options.quay_count_next.cost: -1.0 must be at least 0" in e.value.problems
    assert _plans(run) == before
