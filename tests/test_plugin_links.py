"""A reader's own list runs the built-in plugins: a paper is linked to every plugin declared with one of its
arXiv ids, without `plugin:` written by hand (issue 41, A). Through the real CLI, real plugin folders."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

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


def declare_plugin(folder: Path, package: str, arxiv: str, *, style: str = "declare") -> None:
    """A user plugin whose __init__ declares ``arxiv``: with `declare` (read as text) or a hand-written
    hook implementation (found by importing it)."""
    (folder / package).mkdir(parents=True, exist_ok=True)
    if style == "declare":
        init = f"""
            from readtrack.paper_plugin import declare

            readtrack_paper_plugins = declare(__name__, title="T", arxiv={arxiv!r}, claim="c")
        """
    else:
        init = f"""
            from readtrack.paper_plugin import PaperPlugin, hookimpl

            @hookimpl
            def readtrack_paper_plugins():
                return [PaperPlugin(name={package!r}, paper_id={package!r}, title="T", arxiv={arxiv!r},
                                    claim="c", package=__name__)]
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
    assert "readtrack.plugin_links" in imported
    assert not imported & {"torch", "readtrack_plugins.adamw", "readtrack.plugins", "pluggy"}


def test_a_user_plugin_links_and_relinks_when_it_changes(tmp_path: Path, user_dir: Path) -> None:
    path = write_list(tmp_path)
    assert listed(path)["no-arxiv"]["plugins"] == []
    declare_plugin(user_dir, "my_adamw", "1711.05101")
    assert listed(path)["decoupled"]["plugins"] == ["adamw", "my-adamw"]
    declare_plugin(user_dir, "my_adamw", "2112.10752")  # its declaration edited: the links follow
    papers = listed(path)
    assert papers["decoupled"]["plugins"] == ["adamw"]
    assert papers["latent-diffusion"]["plugins"] == ["stable-diffusion", "my-adamw"]


def test_a_plugin_declared_by_hand_is_found_by_importing_its_init(tmp_path: Path, user_dir: Path) -> None:
    path = write_list(tmp_path)
    declare_plugin(user_dir, "handmade", "1711.05101", style="hookimpl")
    assert listed(path)["decoupled"]["plugins"] == ["adamw", "handmade"]
