"""A markdown list imported and exported keeps what the reader wrote (issue 73, item 8): trailing hashtags
are tags, a link labelled with a venue and year gives both, and the export writes an item's own wording (its
label, "(Hochreiter and Schmidhuber, 1997)" and all) so that importing it gives the same list back."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import run_cli

from readtrack.catalog.model import NEW_CATALOG, Catalog
from readtrack.formats import markdown
from readtrack.formats.importer import import_markdown
from readtrack.plugins.links import load

SEED = Path(__file__).resolve().parents[2] / "papers.yaml"
LIST = """\
# Reading

## Sequence models

- [ ] [Mamba: Linear-Time Sequence Modeling with Selective State Spaces](https://arxiv.org/abs/2312.00752) \
#ssm #long-context
- [ ] Long Short-Term Memory (Hochreiter and Schmidhuber, 1997) #rnn
- [ ] C# for Deep Learning: the #1 pitfall #dotnet
- [x] Deep Residual Learning for Image Recognition [CVPR 2016](https://doi.org/10.1109/CVPR.2016.90)
- [ ] Sequence to Sequence Learning (Ilya, 2014) [NeurIPS'14](https://papers.nips.cc/paper/5346) #seq2seq
"""


def readtrack(catalog: Path, *args: str) -> str:
    result = run_cli("--catalog", str(catalog), *args)
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


def papers(catalog: Path) -> dict[str, dict[str, object]]:
    """Each paper of ``readtrack list --json`` by its title: what an item's text gives."""
    keys = ("label", "year", "url", "arxiv", "tags", "notes", "status")
    listed = json.loads(readtrack(catalog, "list", "--json"))
    return {p["title"]: {k: p[k] for k in keys} for p in listed}


def test_hashtags_venue_links_and_labels_through_import_export_and_import(tmp_path: Path) -> None:
    source, first, second = tmp_path / "list.md", tmp_path / "first.yaml", tmp_path / "second.yaml"
    source.write_text(LIST, encoding="utf-8")
    readtrack(first, "import", str(source))
    imported = papers(first)

    # trailing hashtags are tags, not title words (a `#` inside the title stays); was: "Mamba: ... #ssm ..."
    mamba = imported["Mamba: Linear-Time Sequence Modeling with Selective State Spaces"]
    assert (mamba["arxiv"], mamba["tags"]) == ("2312.00752", ["ssm", "long-context"])
    assert imported["C# for Deep Learning: the #1 pitfall"]["tags"] == ["dotnet"]
    # "[CVPR 2016](doi link)": the year and the venue (a tag, as "(CVPR 2016)" gives), the DOI as url
    resnet = imported["Deep Residual Learning for Image Recognition"]
    assert (resnet["year"], resnet["tags"], resnet["url"]) == (
        2016,
        ["cvpr"],
        "https://doi.org/10.1109/CVPR.2016.90",
    )
    seq2seq = imported["Sequence to Sequence Learning"]
    assert (seq2seq["year"], seq2seq["tags"], seq2seq["label"]) == (
        2014,
        ["neurips", "seq2seq"],
        "Sequence to Sequence Learning (Ilya, 2014)",
    )
    lstm = imported["Long Short-Term Memory"]
    assert (lstm["label"], lstm["year"], lstm["tags"]) == (
        "Long Short-Term Memory (Hochreiter and Schmidhuber, 1997)",
        1997,
        ["rnn"],
    )

    exported = readtrack(first, "export")
    # the reader's wording comes back (was: "- [ ] Long Short-Term Memory (1997) <!-- ... -->")
    assert "- [ ] Long Short-Term Memory (Hochreiter and Schmidhuber, 1997) <!-- id: " in exported
    assert "- [ ] Sequence to Sequence Learning (Ilya, 2014) [papers.nips.cc]" in exported
    source.write_text(exported, encoding="utf-8")
    readtrack(second, "import", str(source))
    assert papers(second) == imported


def facts(catalog: Catalog) -> list[tuple[object, ...]]:
    return [
        (p.id, p.title, p.label, p.status, p.year, p.url, p.arxiv_ids(), p.code, p.tags, p.notes, p.depth)
        for p in catalog.papers()
    ]


def test_every_label_and_title_of_the_seed_list_survives_export_and_import(tmp_path: Path) -> None:
    """The shipped list's labels are its author's wording ("Transformer (Attention is all you need)") and
    its titles the papers' own: the export writes the wording, with the title in the id comment where the
    wording does not give it, or the title, with the wording in the comment (``BERT (2018)``, whose year
    the import would take out of it). Each came back as the title alone."""
    shipped = load(SEED, cache=False)
    text = markdown.render(shipped)
    assert (
        "- [x] Transformer (Attention is all you need) (2017) [arXiv:1706.03762](https://arxiv.org/abs/1706.03762)"
        " <!-- id: transformer tags: attention title: Attention Is All You Need -->"
    ) in text.splitlines()
    source, target = tmp_path / "export.md", tmp_path / "papers.yaml"
    source.write_text(text, encoding="utf-8")
    target.write_text(NEW_CATALOG, encoding="utf-8")
    import_markdown(target, source)
    assert facts(load(target, cache=False)) == facts(shipped)
