"""The README as a front page and the manual in docs/: the site builds with no broken link or missing
page, every section of the old README is still findable there, the Quickstart lines are the ones CI runs,
the README's links lead somewhere, and the TUI's picture is Textual's own screenshot of the real app."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
README = REPO / "README.md"
PICTURE = DOCS / "images" / "tui.svg"

INSTALL_LINE = "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/readtrack"
TEST_LINE = (
    'python3 -m venv .venv && .venv/bin/pip install -q -e ".[test,triton]" && .venv/bin/pytest -n auto'
)

# Every ##, ### and #### heading of the README before it became a front page (`git show 85f73e2:README.md`):
# each is a heading of a page of the manual now.
OLD_README_HEADINGS = [
    "Quickstart",
    "The reading list: papers.yaml",
    "Commands",
    "Import and export",
    "Import your library",
    "Sync: abstracts and PDFs from arXiv",
    "Search: titles, notes, abstracts, PDFs and plugins",
    "Paper plugins",
    "The playground: turn a knob, re-run, keep the picture",
    "The built-in plugins",
    "FlashAttention on CUDA: the Triton kernel",
    "Practice: implement the paper yourself",
    "Writing a plugin",
    "Adding a practice exercise",
    "The TUI",
    "Reliability promises",
    "Development",
]


def headings(path: Path) -> list[str]:
    """The markdown headings of ``path`` (any level), leaving out lines inside fenced code blocks."""
    found, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"#{1,6} +(.+?) *#*$", line)):
            found.append(heading[1])
    return found


def slug(heading: str) -> str:
    """A heading's anchor as GitHub and mkdocs' toc both make it."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return re.sub(r"[ ]+", "-", text)


def test_the_manual_builds_with_no_broken_link_or_missing_page(tmp_path: Path) -> None:
    """`mkdocs build --strict`: a broken link or anchor, a page left out of the nav, a command whose --help
    fails (the command reference runs them) fails the build."""
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    argv = [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)]
    built = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "WARNING" not in built.stderr, built.stderr

    reference = (site / "reference" / "commands" / "index.html").read_text(encoding="utf-8")
    for command in ("list", "mark", "sync", "run", "practice", "knobs", "plot", "new-plugin"):
        assert f'id="readtrack-{command}"' in reference, f"the command reference lacks readtrack {command}"
    assert "Usage: readtrack run [OPTIONS]" in reference
    assert "python -m readtrack" not in reference
    standard = (site / "plugin-standard" / "index.html").read_text(encoding="utf-8")
    assert "The plugin standard" in standard
    writing = (site / "writing-a-plugin" / "index.html").read_text(encoding="utf-8")
    assert 'href="../plugin-standard/"' in writing  # the link to ../plugins/README.md, made a page


def test_every_section_of_the_old_readme_is_a_heading_of_the_manual() -> None:
    found = {heading for page in DOCS.rglob("*.md") for heading in headings(page)}
    missing = [heading for heading in OLD_README_HEADINGS if heading not in found]
    assert not missing, f"not a heading of any page in docs/: {missing}"


def test_the_readme_holds_the_two_quickstart_lines_and_ci_runs_the_second() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert INSTALL_LINE in lines
    assert TEST_LINE in lines
    ci_run = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    ci = [line for line in ci_run if line.startswith("python3 -m venv")]
    assert ci == [TEST_LINE], ".ci/run must run the README's test line, byte for byte"


def test_every_relative_link_of_the_readme_leads_to_a_file_and_its_heading() -> None:
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    relative = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert len(relative) >= 10, relative  # the picture and the manual's pages
    for link in relative:
        path, _, anchor = link.partition("#")
        target = REPO / path
        assert target.is_file(), f"README links to {link}: no such file"
        if anchor:
            anchors = {slug(heading) for heading in headings(target)}
            assert anchor in anchors, f"README links to {link}: {path} has no heading with that anchor"


def is_textual_screenshot(svg: str) -> bool:
    """Textual's `App.save_screenshot` writes Rich's terminal SVG: its comment, its CSS class names and the
    window title of the app; the text on screen is kept as text (spaces as no-break spaces)."""
    return (
        svg.lstrip().startswith("<svg")
        and "<!-- Generated with Rich https://www.textualize.io -->" in svg
        and 'class="rich-terminal"' in svg
        and "readtrack" in svg
    )


def test_the_tui_picture_is_a_screenshot_textual_made_of_the_app() -> None:
    svg = PICTURE.read_text(encoding="utf-8")
    assert is_textual_screenshot(svg)
    for shown in ("Sections", "Details", "FlashAttention", "Development&#160;of&#160;language&#160;models"):
        assert shown in svg, f"{shown!r} is not on the picture"
    assert "docs/images/tui.svg" in README.read_text(encoding="utf-8")


def test_the_picture_script_makes_a_fresh_screenshot(tmp_path: Path) -> None:
    """The script behind the picture still works: the real TUI, headless, on a temporary data dir."""
    out = tmp_path / "tui.svg"
    script = DOCS / "scripts" / "tui_picture.py"
    argv = [sys.executable, str(script), "-o", str(out), "--no-runs"]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    svg = out.read_text(encoding="utf-8")
    assert is_textual_screenshot(svg)
    assert "FlashAttention" in svg and "Tiled&#160;attention" in svg  # the cursor's paper, with its note
