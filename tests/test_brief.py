"""`cargoinfer brief`: the headline equals estimates.csv under the stated rounding, the
banner follows the status, and brief.html renders in headless Chromium."""

import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from cargoinfer.experiments import brief
from cargoinfer.experiments.cli import main

IN_CI = bool(os.environ.get("CI"))  # .ci/run installs Chromium and Tesseract: never skip there


def run_dir(first_run) -> Path:
    code, out, err = first_run
    assert code == 0, err
    return Path(out.strip().splitlines()[-1][len("run: "):])


def headline_of(md: str) -> str:
    return next(line.strip("*") for line in md.splitlines() if line.startswith("**We estimate"))


# the rule as the brief states it (ROUNDING_RULE), written out again here
def rounded(x: float) -> str:
    if abs(x) < 100:
        v = round(x)
    elif abs(x) < 10_000:
        v = round(x, -1)
    else:
        v = round(x, 2 - math.floor(math.log10(abs(x))))
    return f"{int(v):,}"


ICD203 = [(0.05, "almost no chance"), (0.20, "very unlikely"), (0.45, "unlikely"),
          (0.55, "roughly even chance"), (0.80, "likely"), (0.95, "very likely"),
          (1.01, "almost certain")]


def test_rounding_rule_and_words():
    for x in (0.4, 7.5, 99.4, 100, 104, 1_236, 9_994, 12_345, 987_654):
        assert brief.fmt_count(x) == rounded(x)
    for p in (0.0, 0.049, 0.05, 0.2, 0.45, 0.5, 0.55, 0.8, 0.93, 0.95, 1.0):
        assert brief.words(p) == next(w for bound, w in ICD203 if p < bound)
    assert brief.fmt_prob(0.995) == "more than 99%" and brief.fmt_prob(0.004) == "less than 1%"
    # the phrases as grammatical clauses (issue 21: not "It is almost no chance")
    for p, clause in [(0.02, "There is almost no chance (about 2%)"),
                      (0.1, "It is very unlikely (about 10%)"), (0.3, "It is unlikely (about 30%)"),
                      (0.5, "There is a roughly even chance (about 50%)"),
                      (0.7, "It is likely (about 70%)"), (0.9, "It is very likely (about 90%)"),
                      (0.999, "It is almost certain (more than 99%)")]:
        assert brief.chance(p, first=True) == clause
        assert brief.chance(p) == clause[0].lower() + clause[1:]


def test_headline_numbers_equal_estimates(first_run):
    """Every number in the headline is a number of estimates.csv after the stated rounding."""
    run = run_dir(first_run)
    est = pl.read_csv(run / "estimates.csv")
    top = est.filter(pl.col("estimand") == "total_containers").row(0, named=True)
    exceed = est.filter(pl.col("estimand").str.starts_with("P(total_containers > ")).row(0, named=True)
    threshold = float(exceed["estimand"][len("P(total_containers > "):-1])
    p = exceed["median"]
    percent = ("more than 99%" if p > 0.99 else "less than 1%" if p < 0.01
               else f"about {round(p * 100)}%")
    word = next(w for bound, w in ICD203 if p < bound)
    word = f"there is {'a ' * (word == 'roughly even chance')}{word}" if "chance" in word else f"it is {word}"
    expected = (f"We estimate {rounded(top['median'])} containers (90% credible interval "
                f"{rounded(top['lower'])}-{rounded(top['upper'])}) left Rajin for Dunai between "
                f"15 August and 14 October 2023; {word} ({percent}) that more than "
                f"{rounded(threshold)} did.")
    md = (run / "brief.md").read_text()
    assert headline_of(md) == expected
    assert expected in (run / "brief.html").read_text()
    # the threshold is a round figure the data make likely: the 10th percentile, one digit
    assert len(str(int(threshold)).rstrip("0")) == 1 and p >= 0.5
    assert "Rounding: " + brief.ROUNDING_RULE in md


def test_brief_states_what_the_number_rests_on(first_run):
    run = run_dir(first_run)
    md = (run / "brief.md").read_text()
    record = json.loads((run / "run.json").read_text())
    assert "Model: voyages@2" in md and f"Run `{record['run_id']}`" in md
    assert f"reproduce with `{record['command']}`" in md
    assert "(`containers_per_voyage`): log-normal, median 150" in md  # priors in words
    recon = sum(p["rows"] for p in record["provenance"] if p["reconstructed"])
    rows = sum(p["rows"] for p in record["provenance"])
    assert f"Data: {rows} rows, {recon} of them reconstructed" in md and recon > 0
    assert "### Diagnostics" in md and f"Status: **{record['status']}**" in md
    assert "White House stated at least 1,000 containers between 7 September and 1 October" in md
    for name in ("cumulative_containers", "voyages_per_period", "claims"):
        assert f"(figures/{name}.png)" in md
    html = (run / "brief.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and 'src="figures/' not in html


def _with_status(src: Path, dst: Path, status: str, reasons: list[str]) -> Path:
    shutil.copytree(src, dst)
    record = json.loads((dst / "run.json").read_text())
    record.update(status=status, reasons=reasons)
    (dst / "run.json").write_text(json.dumps(record))
    return dst


def test_banner_only_for_review(first_run, tmp_path, capsys):
    run = run_dir(first_run)
    review = _with_status(run, tmp_path / "review", "review", ["voyages: a stated reason"])
    grade = _with_status(run, tmp_path / "grade", "briefing-grade", [])
    for folder in (review, grade):
        assert main(["brief", str(folder)]) == 0
        assert capsys.readouterr().out.strip() == f"brief: {folder / 'brief.html'}"
    md, html = (review / "brief.md").read_text(), (review / "brief.html").read_text()
    assert md.splitlines()[2].startswith("> **REVIEW: not briefing-grade")
    assert "voyages: a stated reason" in md.splitlines()[2]
    assert html.count('class="banner"') == 1 and html.index("banner") < html.index("We estimate")
    assert "REVIEW" not in (grade / "brief.md").read_text()
    assert 'class="banner"' not in (grade / "brief.html").read_text()


def test_brief_refuses_what_it_cannot_brief(first_run, tmp_path, capsys):
    assert main(["brief", str(tmp_path / "nowhere")]) == 2
    failed = _with_status(run_dir(first_run), tmp_path / "failed", "failed", ["RuntimeError: x"])
    assert main(["brief", str(failed)]) == 2
    assert main(["brief"]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "a failed run has no estimates" in err and "Traceback" not in err


def _tool(*names):
    found = next((shutil.which(n) for n in names if shutil.which(n)), None)
    if found is None and not IN_CI:
        pytest.skip(f"{names[0]} is not installed (.ci/run installs it)")
    assert found, f"{names[0]} missing in CI"
    return found


def test_brief_html_renders_in_headless_chromium(first_run, tmp_path):
    """The page renders self-contained (no network, file:// only); its top screenshot is
    not blank, and OCR of it reads the headline's numbers."""
    chromium = _tool("chromium-headless-shell", "chromium", "chromium-browser")
    run = run_dir(first_run)
    shot = tmp_path / "brief.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1200,1000", f"--screenshot={shot}",
                    (run / "brief.html").resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    ink = (pixels.mean(axis=2) < 0.8).mean()
    assert pixels.std() > 0.05 and ink > 0.01, (pixels.std(), ink)  # not blank
    blue = ((pixels[..., 2] > pixels[..., 0] + 0.03) & (pixels.mean(axis=2) > 0.85)).mean()
    assert blue > 0.01  # the headline's pale blue box is on screen

    tesseract = _tool("tesseract")
    text = subprocess.run([tesseract, str(shot), "-"], check=True, capture_output=True,
                          text=True, timeout=120).stdout
    est = pl.read_csv(run / "estimates.csv").filter(pl.col("estimand") == "total_containers")
    flat = re.sub(r"\s+", " ", text)
    assert "We estimate" in flat, flat[:500]
    for col in ("median", "lower", "upper"):
        assert rounded(est[col][0]) in flat, (col, flat[:500])


def test_forecast_band_drawn_for_a_horizon(first_run, tmp_path):
    """A horizon adds the forecast to the cumulative figure (more pixels than without)."""
    import matplotlib.image
    import xarray as xr
    from cargoinfer.experiments import brief_figures

    run = run_dir(first_run)
    tree = xr.open_datatree(run / "posterior.nc", engine="h5netcdf")
    est = tree["estimands"].to_dataset()
    total = est["containers_cumulative"].isel(period=-1)
    est["forecast_containers"] = total * 1.5  # a stand-in forecast: only the drawing is tested
    from datetime import date

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    brief_figures.cumulative(est, "x to y", None, a)
    brief_figures.cumulative(est, "x to y", None, b, forecast_to=date(2023, 12, 31))
    purple = [((img[..., 0] > 0.5) & (img[..., 2] > 0.5) & (img[..., 1] < 0.5)).mean()
              for img in (matplotlib.image.imread(d / "cumulative_containers.png") for d in (a, b))]
    assert purple[0] == 0 and purple[1] > 0.001
    assert np.isfinite(purple).all()
