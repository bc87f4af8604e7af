"""The README stays a front door and the docs build strictly: every page in the nav, no
broken link; the reference pages keep up with the code."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from omegaconf import OmegaConf

from cargoinfer.experiments.cli import USAGE
from cargoinfer.experiments.config import compose, compose_plain

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 200


def build(root: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "-f", str(root / "mkdocs.yml"), "-d", str(out)],
                          capture_output=True, text=True)


def test_readme_fits_its_budget_and_its_links_resolve():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= README_MAX_LINES
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    assert links and not [x for x in links if not x.startswith("http") and not (ROOT / x).exists()]


def test_docs_build_strictly(tmp_path):
    done = build(ROOT, tmp_path / "site")
    assert done.returncode == 0, done.stdout + done.stderr
    built = {p.parent.name if p.name == "index.html" else p.stem
             for p in (tmp_path / "site").rglob("index.html")}
    pages = {p.stem for p in (ROOT / "docs").glob("*.md")}
    assert pages - {"index"} <= built


def test_a_broken_link_or_a_page_left_out_fails_the_build(tmp_path):
    for change in ("link", "page"):
        root = tmp_path / change
        shutil.copytree(ROOT / "docs", root / "docs")
        shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
        if change == "link":
            with (root / "docs" / "index.md").open("a") as f:
                f.write("\nSee [nothing](no_such_page.md).\n")
        else:
            (root / "docs" / "orphan.md").write_text("# Not in the nav\n")
        done = build(root, root / "site")
        assert done.returncode != 0, change
        assert ("no_such_page.md" if change == "link" else "orphan.md") in done.stdout + done.stderr


def test_reference_pages_keep_up_with_the_code():
    assert USAGE.rstrip() in (ROOT / "docs" / "cli.md").read_text()
    page = (ROOT / "docs" / "config.md").read_text()

    def keys(node, prefix=""):
        for k, v in node.items():
            if isinstance(v, dict) and v and k not in ("priors", "options"):
                yield from keys(v, f"{prefix}{k}.")
            else:
                yield prefix + k

    for name in ("config", "calibrate"):
        cfg = OmegaConf.to_container(compose(["model=voyages"], config_name=name))
        missing = [k for k in keys(cfg) if f"`{k}`" not in page]
        assert not missing, f"docs/config.md does not describe {missing}"
    missing = [k for k in keys(OmegaConf.to_container(compose_plain([], "plan_run")))
               if f"`{k}`" not in page]
    assert not missing, f"docs/config.md does not describe {missing}"
