"""A reader's own list runs the built-in plugins: a paper is linked to every plugin declared with one of its
arXiv ids, without `plugin:` written by hand (issue 41, A); failing that, with its DOI, or its title and
first author (issue 53, item 6). Through the real CLI, real plugin folders and real ``.bib`` imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_runner import run_cli

MY_LIST = """\
version: 1
sections:
  - name: Mine
    papers:
      - id: decoupled
        title: Decoupled Weight Decay Regularization
        arxiv: "1711.05101v3"
      - id: latent-diffusion
        title: High-Resolution Image Synthesis with Latent Diffusion Models
        related: ["2112.10752"]
      - id: resnet-no
        title: Deep Residual Learning for Image Recognition
        arxiv: "1512.03385"
        plugin: []
      - id: mine-explicit
        title: Written by hand
        arxiv: "1512.03385"
        plugin: adamw
      - id: no-arxiv
        title: Something else
"""


def write_list(tmp_path: Path) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(MY_LIST)
    return path


def declare_plugin(
    folder: Path, package: str, arxiv: str | None, *, style: str = "declare", doi: str | None = None
) -> None:
    """A user plugin whose __init__ declares ``arxiv`` (and ``doi``): with `declare` (read as text) or a
    hand-written hook implementation (found by importing it)."""
    (folder / package).mkdir(parents=True, exist_ok=True)
    if style == "declare":
        init = f"""
            from readtrack.plugins.declaration import declare

            readtrack_paper_plugins = declare(__name__, title="T", arxiv={arxiv!r}, doi={doi!r}, claim="c")
        """
    else:
        init = f"""
            from readtrack.plugins.declaration import PaperPlugin, hookimpl

            @hookimpl
            def readtrack_paper_plugins():
                return [PaperPlugin(name={package!r}, paper_id={package!r}, title="T", arxiv={arxiv!r},
                                    claim="c", package=__name__, doi={doi!r})]
        """
    (folder / package / "__init__.py").write_text(textwrap.dedent(init))
    for module in ("model", "experiment"):
        (folder / package / f"{module}.py").write_text("import torch\n")


def listed(path: Path) -> dict[str, dict[str, object]]:
    result = run_cli("--catalog", str(path), "list", "--json")
    assert result.returncode == 0, result.stderr
    return {p["id"]: p for p in json.loads(result.stdout)}


def test_a_readers_own_list_is_linked_by_arxiv_id(tmp_path: Path) -> None:
    path = write_list(tmp_path)
    papers = listed(path)
    assert (papers["decoupled"]["plugins"], papers["decoupled"]["plugin_link"]) == (["adamw"], "arxiv id")
    assert papers["latent-diffusion"]["plugins"] == ["stable-diffusion"]  # a related id links too
    assert (papers["resnet-no"]["plugins"], papers["resnet-no"]["plugin_link"]) == ([], "file")  # opted out
    assert (papers["mine-explicit"]["plugins"], papers["mine-explicit"]["plugin_link"]) == (["adamw"], "file")
    assert (papers["no-arxiv"]["plugins"], papers["no-arxiv"]["plugin_link"]) == ([], None)

    table = run_cli("--catalog", str(path), "list").stdout
    rows = {line.split()[1]: line for line in table.splitlines() if line.startswith("☐")}
    assert "▶" in rows["decoupled"] and "▶" in rows["latent-diffusion"] and "▶" not in rows["resnet-no"]

    shown = run_cli("--catalog", str(path), "show", "decoupled")
    assert "plugins  adamw (by arXiv id)" in shown.stdout
    shown_json = json.loads(run_cli("--catalog", str(path), "show", "decoupled", "--json").stdout)
    assert shown_json["plugin_link"] == "arxiv id"
    stats = run_cli("--catalog", str(path), "stats").stdout
    assert [line.split()[:3] for line in stats.splitlines() if line.strip().startswith("all")] == [
        ["all", "0/5", "0%"]
    ]
    assert stats.splitlines()[-1].split()[3] == "3"  # three papers with a plugin


def test_listing_a_linked_list_imports_neither_torch_nor_the_plugins(tmp_path: Path) -> None:
    path = write_list(tmp_path)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "readtrack", "--catalog", str(path), "list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "▶" in result.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "readtrack.plugins.links" in imported
    assert not imported & {"torch", "readtrack_plugins.adamw", "readtrack.plugins.discovery", "pluggy"}
    assert "hashlib" not in imported  # the caches' digests are the interpreter's own: no OpenSSL to load


def test_a_user_plugin_links_and_relinks_when_it_changes(tmp_path: Path, user_dir: Path) -> None:
    path = write_list(tmp_path)
    assert listed(path)["no-arxiv"]["plugins"] == []
    declare_plugin(user_dir, "my_adamw", "1711.05101")
    assert listed(path)["decoupled"]["plugins"] == ["adamw", "my-adamw"]
    declare_plugin(user_dir, "my_adamw", "2112.10752")  # its declaration edited: the links follow
    papers = listed(path)
    assert papers["decoupled"]["plugins"] == ["adamw"]
    assert papers["latent-diffusion"]["plugins"] == ["stable-diffusion", "my-adamw"]
    # a copy that keeps the size and the modification time (``cp -p``, issue 94): the change time tells
    init = user_dir / "my_adamw" / "__init__.py"
    before = init.stat()
    declare_plugin(user_dir, "my_adamw", "1711.05101")  # an id of the same length
    os.utime(init, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (init.stat().st_size, init.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert listed(path)["decoupled"]["plugins"] == ["adamw", "my-adamw"]


def test_what_the_ids_link_is_kept_for_an_unchanged_list_and_redone_when_the_list_changes(
    tmp_path: Path,
) -> None:
    """The answer is read back while the list's bytes and the plugins are the same (a memo planted with
    another answer under the same key is what `list` then shows), and found again when the list changes."""
    from readtrack.base import quickcache
    from readtrack.base.paths import data_dir

    path = write_list(tmp_path)
    first = listed(path)
    (memo,) = (data_dir() / "cache").glob("links-*.marshal")
    assert listed(path) == first
    kept = quickcache.read(memo)
    assert kept is not None and kept["links"]["decoupled"] == (["adamw"], "arxiv id")
    assert "no-arxiv" not in kept["links"]
    kept["links"]["no-arxiv"] = (["gpt"], "arxiv id")
    quickcache.write(memo, kept)
    assert listed(path)["no-arxiv"]["plugins"] == ["gpt"]  # read back, not worked out again

    path.write_text(MY_LIST.replace("1711.05101v3", "2005.14165"))  # decoupled now names GPT-3's id
    papers = listed(path)
    assert (papers["decoupled"]["plugins"], papers["no-arxiv"]["plugins"]) == (["gpt3"], [])
    assert (quickcache.read(memo) or {})["links"]["decoupled"] == (["gpt3"], "arxiv id")


def test_a_plugin_declared_by_hand_is_found_by_importing_its_init(tmp_path: Path, user_dir: Path) -> None:
    path = write_list(tmp_path)
    declare_plugin(user_dir, "handmade", "1711.05101", style="hookimpl")
    assert listed(path)["decoupled"]["plugins"] == ["adamw", "handmade"]


SCHOLAR = Path(__file__).resolve().parents[1] / "data" / "library" / "same-paper-scholar.bib"


def imported_list(tmp_path: Path) -> Path:
    """A new list with Google Scholar's and IEEE's entries imported: ResNet by its DOI, LSTM and Attention
    Is All You Need without arXiv id or DOI, and a book chapter also titled "Long short-term memory"."""
    path = tmp_path / "mine.yaml"
    assert run_cli("--catalog", str(path), "init", "--empty").returncode == 0
    result = run_cli("--catalog", str(path), "import", str(SCHOLAR))
    assert result.returncode == 0, result.stdout + result.stderr
    return path


def test_a_paper_is_linked_by_its_doi_or_its_title_and_first_author(tmp_path: Path) -> None:
    path = imported_list(tmp_path)
    papers = listed(path)
    links = sorted((p["title"], p["year"], p["plugins"], p["plugin_link"]) for p in papers.values())
    assert links == [
        ("Attention is all you need", 2017, ["transformer"], "title and first author"),  # Scholar's: no ids
        ("Deep Residual Learning for Image Recognition", 2016, ["resnet"], "doi"),  # IEEE's: a DOI, no arXiv
        ("Long short-term memory", 1997, ["lstm"], "title and first author"),  # Hochreiter and Schmidhuber
        ("Long short-term memory", 2012, [], None),  # Graves's book chapter of that title: another paper
    ]
    ids = {(p["title"], p["year"]): str(p["id"]) for p in papers.values()}
    resnet, lstm = (
        ids["Deep Residual Learning for Image Recognition", 2016],
        ids["Long short-term memory", 1997],
    )
    assert "plugins  resnet (by DOI)" in run_cli("--catalog", str(path), "show", resnet).stdout
    shown = run_cli("--catalog", str(path), "show", lstm).stdout
    assert "plugins  lstm (by title and first author)" in shown
    table = run_cli("--catalog", str(path), "list").stdout
    rows = {line.split()[1]: line for line in table.splitlines() if line.startswith("☐")}
    assert "▶" in rows[resnet] and "▶" in rows[lstm]
    assert "▶" not in rows[ids["Long short-term memory", 2012]]


def test_a_title_alone_links_nothing(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "version: 1\nsections:\n  - name: S\n    papers:\n"
        "      - id: lstm-by-hand\n        title: Long Short-Term Memory\n"
        "      - id: resnet-other-doi\n        title: Deep Residual Learning for Image Recognition\n"
        "        url: https://doi.org/10.1000/182\n"
    )
    papers = listed(path)  # no authors known for them: nothing says they are the plugins' papers
    assert papers["lstm-by-hand"]["plugins"] == [] and papers["resnet-other-doi"]["plugins"] == []


def test_listing_a_list_linked_by_doi_and_title_imports_neither_torch_nor_the_plugins(tmp_path: Path) -> None:
    path = imported_list(tmp_path)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "readtrack", "--catalog", str(path), "list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("▶") == 3
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert not imported & {
        "torch",
        "readtrack_plugins.resnet",
        "readtrack.plugins.discovery",
        "pluggy",
        "bibtexparser",
    }


@pytest.mark.parametrize("style", ["declare", "hookimpl"])
def test_a_user_plugin_declares_a_doi(tmp_path: Path, user_dir: Path, style: str) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "version: 1\nsections:\n  - name: S\n    papers:\n"
        "      - id: mine\n        title: Mine\n        url: https://doi.org/10.5555/MINE.1\n"
    )
    declare_plugin(user_dir, "mypaper", None, style=style, doi="10.5555/mine.1")
    paper = listed(path)["mine"]
    assert (paper["plugins"], paper["plugin_link"]) == (["mypaper"], "doi")


def test_a_plugins_declaration_read_as_text_is_what_importing_it_declares() -> None:
    from readtrack.plugins.folders import builtin_roots
    from readtrack.plugins.links import _declared, _discovered

    text = _declared(builtin_roots())
    assert text is not None and text == _discovered()
    assert text.doi["10.1109/cvpr.2016.90"] == ["resnet"]
    authors = {d.name: d.author for found in text.title.values() for d in found}
    assert (authors["resnet"], authors["lstm"], authors["r-cnn"], authors["pixelrnn"]) == (
        "he",
        "hochreiter",
        "girshick",  # "(R-CNN, Girshick, ...": the acronym is no author
        "oord",  # "(van den Oord, Kalchbrenner and Kavukcuoglu ..."
    )
    assert "rf" not in authors  # its page opens "RF, read as REINFORCE: Williams (1992)": no author named


def test_a_plugin_declaring_something_else_than_a_doi_is_listed_broken_and_the_list_still_links(
    tmp_path: Path, user_dir: Path
) -> None:
    path = write_list(tmp_path)
    declare_plugin(user_dir, "typo", None, doi="CVPR.2016.90")  # the DOI's prefix left out
    assert listed(path)["decoupled"]["plugins"] == ["adamw"]
    shown = run_cli("plugins").stdout
    row = next(line for line in shown.splitlines() if "typo" in line)
    assert "DOI 'CVPR.2016.90' is not one" in " ".join(shown.split()), row
