"""`readtrack import` and `readtrack export` through the real command line, in a subprocess."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli

from readtrack.plugins import links

LISTS = Path(__file__).resolve().parents[1] / "data" / "lists"


def ok(*args: str) -> str:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def one_line_error(*args: str) -> str:
    result = run_cli(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    message = result.stderr.strip()
    assert message.startswith("readtrack: ") and "\n" not in message and "Traceback" not in message
    return message


def test_import_a_messy_list_then_again_adds_nothing(catalog_file: Path) -> None:
    out = ok("import", str(LISTS / "awesome-style.md"))
    assert out.splitlines()[0] == (
        "added 7 papers to papers.yaml "
        "(new sections: Sparse attention, 🚀 Linear attention, IO-aware kernels)"
    )
    assert "skipped 3 duplicates already in the list as: longformer, reformer, flashattention" in out
    listed = json.loads(ok("list", "--json", "--section", "🚀 Linear attention"))
    assert [(p["title"], p["arxiv"], p["depth"]) for p in listed] == [
        ("Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention", "2006.16236", 0),
        ("Rethinking Attention with Performers", "2009.14794", 0),
        ("Linformer", "2006.04768", 0),
        ("Nyströmformer", "2102.03902", 1),
    ]
    after_first = catalog_file.read_bytes()
    again = ok("import", str(LISTS / "awesome-style.md"))
    assert again.startswith("added 0 papers to papers.yaml\nskipped 10 duplicates")
    assert catalog_file.read_bytes() == after_first


def test_import_into_one_section(catalog_file: Path) -> None:
    out = ok("import", str(LISTS / "tabs-crlf-bom.md"), "--section", "Inbox")
    # each skip names both listings, by line, and what made them one
    lines = {paper.id: paper.line for paper in links.load(catalog_file, cache=False).papers()}
    assert out == (
        "added 5 papers to papers.yaml (new section: Inbox)\n"
        "skipped 2 duplicates already in the list as: resnet, vit\n"
        '  tabs-crlf-bom.md:2 "ResNet: Deep Residual Learning for Image Recognit…" is resnet '
        f"(papers.yaml:{lines['resnet']}): same arXiv id 1512.03385\n"
        f'  tabs-crlf-bom.md:6 "ViT" is vit (papers.yaml:{lines["vit"]}): same title\n'
    )
    inbox = json.loads(ok("list", "--json", "--section", "Inbox"))
    assert [(p["title"], p["depth"]) for p in inbox] == [
        ("WaveNet: A Generative Model for Raw Audio", 0),
        ("Parallel WaveNet", 1),
    ]
    # ResNet was already listed: its new nested papers go under the existing entry, in its own section
    nested = [p for p in json.loads(ok("list", "--json", "--section", "Vision")) if p["parent"] == "resnet"]
    assert [p["title"] for p in nested] == [
        "Identity Mappings in Deep Residual Networks",
        "Aggregated Residual Transformations (ResNeXt)",
    ]


def test_import_keeps_every_paper_reports_each_merge_and_dry_run_writes_nothing(catalog_file: Path) -> None:
    source = str(LISTS / "segmentation-papers.md")
    before = catalog_file.read_bytes()
    dry = ok("import", source, "--dry-run")
    assert catalog_file.read_bytes() == before
    assert dry.startswith("would add 13 papers to papers.yaml (new sections: Semantic Segmentation, ")
    out = ok("import", source)
    assert out.splitlines()[1:] == dry.splitlines()[1:]  # the same report, for real this time
    assert out.startswith("added 13 papers to papers.yaml (new sections: Semantic Segmentation, ")
    assert (
        '  segmentation-papers.md:7 "Fully Convolutional Networks for Semantic Segment…" is segmentation'
        in out
    )
    assert "merged 5 repeated listings into the first: " in out
    assert "4 pairs look similar, kept apart:" in out
    assert '"IGCV3: Interleaved Low-Rank Group Convolutions fo…" and segmentation-papers.md:26 ' in out
    listed = json.loads(ok("list", "--json"))
    sections = {"Semantic Segmentation", "Real-time Segmentation", "Efficient Networks", "Graphs"}
    ids = [
        arxiv for p in listed if p["section"] in sections for arxiv in [p["arxiv"], *p["related"]] if arxiv
    ]
    assert {"1804.06202", "1806.00178", "1606.00915", "1703.02719", "1612.01105"} <= set(ids)
    assert len(ids) == len({i.split("v")[0] for i in ids}) == 11  # one paper per id (FCN was there)
    igcv3 = next(p for p in listed if p["arxiv"] == "1806.00178")
    shown = json.loads(ok("show", igcv3["id"], "--json"))
    assert (shown["code"], shown["url"]) == (["https://github.com/homles11/IGCV3"], None)
    assert re.search(r"│ code +https://github\.com/homles11/IGCV3 ", ok("show", igcv3["id"]))
    assert "[code](https://github.com/homles11/IGCV3) <!-- id: igcv3-" in ok("export", "-f", "md")
    assert "  note = {Code: \\url{https://github.com/homles11/IGCV3}}," in ok("export", "-f", "bibtex")
    after = catalog_file.read_bytes()
    again = ok("import", source)
    assert again.startswith("added 0 papers to papers.yaml\nskipped 19 duplicates already in the list as: ")
    assert catalog_file.read_bytes() == after


def test_exported_markdown_imports_into_a_new_list_as_the_same_list(tmp_path: Path) -> None:
    exported = tmp_path / "list.md"
    exported.write_text(ok("export", "--format", "md"), encoding="utf-8")
    fresh = tmp_path / "fresh.yaml"
    out = ok("--catalog", str(fresh), "import", str(exported))
    assert out.startswith("added 70 papers to fresh.yaml")

    def outline(listing: str) -> list[tuple]:
        return [
            (p["id"], p["title"], p["status"], p["section"], p["parent"], p["depth"])
            for p in json.loads(listing)
        ]

    assert outline(ok("--catalog", str(fresh), "list", "--json")) == outline(ok("list", "--json"))


def test_export_bibtex_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "refs.bib"
    out = ok("export", "-f", "bibtex", "-o", str(target))
    assert out.strip() == f"exported 70 papers as bibtex to {target}"
    text = target.read_text(encoding="utf-8")
    assert text.count("@misc{") == 70
    assert "@misc{transformer,\n  title = {Attention {Is} {All} {You} {Need}}," in text
    assert [p.name for p in tmp_path.iterdir()] == ["refs.bib"]  # no temp file left behind


def test_export_bibtex_uses_synced_metadata() -> None:
    from readtrack.catalog import metadata

    record = metadata.ArxivRecord(
        arxiv_id="2205.14135",
        version="v2",
        title="FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
        authors=["Tri Dao", "Daniel Y. Fu", "Stefano Ermon", "Atri Rudra", "Christopher Ré"],
        published="2022-05-27T17:53:09Z",
        primary_category="cs.LG",
        doi="10.48550/arXiv.2205.14135",
        fetched_at="2026-01-01T00:00:00Z",
    )
    metadata.save([record])  # the test's own database, in its READTRACK_HOME
    # with its authors and year known, its key is Better BibTeX's, no longer the paper's id
    entry = ok("export", "-f", "bibtex").split("@misc{dao2022flashattention,\n", 1)[1].split("\n}", 1)[0]
    assert (
        "  author = {Tri Dao and Daniel Y. Fu and Stefano Ermon and Atri Rudra and Christopher Ré}," in entry
    )
    assert "  primaryClass = {cs.LG}," in entry
    assert "  doi = {10.48550/arXiv.2205.14135}," in entry


def test_export_json_is_what_list_json_prints() -> None:
    exported = ok("export", "--format", "json")
    assert exported == ok("list", "--json")
    assert len(json.loads(exported)) == 70


def test_export_md_to_stdout_and_file_agree(tmp_path: Path) -> None:
    stdout = ok("export")
    assert stdout.splitlines()[2:4] == ["# Self notes for some research papers list", ""]
    # the item's own wording (its label) is the text; the title, which it does not give, in the id comment
    assert "- [x] SGD - AdamW / AdamScheduleFree (cs231n) (2017) [arXiv:1711.05101]" in stdout
    assert "<!-- id: adamw tags: optimization title: Decoupled Weight Decay Regularization -->" in stdout
    ok("export", "-o", str(tmp_path / "list.md"))
    assert (tmp_path / "list.md").read_text(encoding="utf-8") == stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("import", "missing.md"), "missing.md: no such file"),
        (("import", "."), ": is a folder, not a markdown file"),
        (("import", "empty.md"), "empty.md: no list items found"),
        (("export", "--format", "pdf"), "unknown export format 'pdf' (use one of md, bibtex, json)"),
        (("export", "-o", "."), ": is a folder; give a file name to write to"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple, expected: str
) -> None:
    (tmp_path / "empty.md").write_text("# Nothing here\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert expected in one_line_error(*args)


def test_import_and_export_never_load_torch_textual_or_arxiv(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from readtrack.cli import app as cli\n"
        "sys.argv = ['readtrack', *sys.argv[1:]]\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "heavy = sorted(m for m in ('torch', 'textual', 'arxiv') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    for args in (
        ["import", str(LISTS / "numbered.md")],
        ["export", "-f", "md"],
        ["export", "-f", "bibtex", "-o", str(tmp_path / "x.bib")],
        ["export", "-f", "json"],
    ):
        result = run_cli_python(script, *args)
        assert result.returncode == 0, result.stderr
        assert "HEAVY []" in result.stderr, (args, result.stderr)


def run_cli_python(script: str, *args: str):  # type: ignore[no-untyped-def]
    import os
    import subprocess

    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
    )
