"""Import keeps every paper (issue 32): one paper per arXiv id or DOI, code links kept apart from the
paper's url, the item's own line read first, and a report that names both listings of every merge.

The list `data/lists/segmentation-papers.md` copies the shapes of a public computer-vision list: code links
shared by different papers (IGCV2/IGCV3, DeepLab V1/V2, DeepLab V3/V3+), one short name for two papers
([GCN]), versioned arXiv ids, a stray `[x]` and a ` -- ` inside a title, an arXiv link on the next line,
a DOI link, and papers listed in two sections.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from readtrack.catalog import arxivid
from readtrack.catalog import model as catalog_module
from readtrack.formats import markdown
from readtrack.formats.importer import import_markdown
from readtrack.plugins import links

LISTS = Path(__file__).resolve().parents[1] / "data" / "lists"
SEGMENTATION = LISTS / "segmentation-papers.md"
ARXIV_LINK = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})")


def listed_arxiv_ids(path: Path) -> set[str]:
    """Every arXiv id the file links to, found with a plain regex (not the parser under test)."""
    return set(ARXIV_LINK.findall(path.read_text(encoding="utf-8")))


def by_arxiv(catalog: catalog_module.Catalog) -> dict[str, catalog_module.Paper]:
    found: dict[str, catalog_module.Paper] = {}
    for paper in catalog.papers():
        for ident in paper.arxiv_ids():
            assert arxivid.base_id(ident) not in found, f"two papers hold arXiv {ident}"
            found[arxivid.base_id(ident)] = paper
    return found


def line_of(text: str, path: Path = SEGMENTATION) -> int:
    """The line (from 1) of the list that holds ``text``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def test_every_paper_arrives_with_its_arxiv_id_and_none_is_merged_across_ids(tmp_path: Path) -> None:
    target = tmp_path / "papers.yaml"
    report = import_markdown(target, SEGMENTATION)
    catalog = links.load(target, cache=False)
    papers = by_arxiv(catalog)
    assert set(papers) == listed_arxiv_ids(SEGMENTATION)  # one paper per id: none lost, none doubled
    assert len(listed_arxiv_ids(SEGMENTATION)) == 12
    # the papers the issue saw vanish, each with its own entry and id
    assert papers["1806.00178"].title.startswith("IGCV3") and papers["1804.06202"].title.startswith("IGCV2")
    assert papers["1606.00915"].title.startswith("DeepLab: Semantic Image Segmentation with Deep")
    assert papers["1412.7062"] is not papers["1606.00915"]
    # 12 arXiv papers, SegNet (by its DOI) and GAT (by title): 19 listings, 5 of them repeats
    assert len(list(catalog.papers())) == 14 == len(report.added)
    assert len(report.repeated) == 5


def test_the_items_own_line_wins(tmp_path: Path) -> None:
    target = tmp_path / "papers.yaml"
    import_markdown(target, SEGMENTATION)
    papers = by_arxiv(links.load(target, cache=False))
    gcn = papers["1703.02719"]  # "[GCN] Large Kernel Matters -- [x] Improve ... (2017.03) [[Paper]](...)"
    assert gcn.title == (
        "Large Kernel Matters -- Improve Semantic Segmentation by Global Convolutional Network"
    )
    assert gcn.label == (
        "[GCN] Large Kernel Matters -- Improve Semantic Segmentation by Global Convolutional Network"
    )
    assert (gcn.year, gcn.notes) == (2017, None)
    assert gcn.code == ["https://github.com/ZijunDeng/pytorch-semantic-segmentation"]
    icnet = papers["1704.08545"]  # "- [x] [x] ICNet ...": the checkbox typed twice is no title word
    assert (icnet.title, icnet.status) == (
        "ICNet for Real-Time Semantic Segmentation on High-Resolution Images",
        "read",
    )
    pspnet = papers["1612.01105"]  # its links are on the next line
    assert (pspnet.title, pspnet.code) == (
        "Pyramid Scene Parsing Network",
        ["https://github.com/hszhao/PSPNet"],
    )
    assert papers["1706.05587"].arxiv == "1706.05587v3"  # the version as written; matching ignores it


def test_code_links_go_to_code_and_the_papers_own_page_to_url(tmp_path: Path) -> None:
    target = tmp_path / "papers.yaml"
    import_markdown(target, SEGMENTATION)
    catalog = links.load(target, cache=False)
    papers = by_arxiv(catalog)
    assert papers["1606.00915"].code == [  # [[Caffe]] and [[PyTorch]], and nothing as its url
        "https://bitbucket.org/deeplab/deeplab-public/",
        "https://github.com/kazuto1011/deeplab-pytorch",
    ]
    assert papers["1606.02147"].code == ["https://github.com/e-lab/ENet-training"]  # [[Torch]]
    assert all(p.url is None for p in papers.values())  # an arXiv paper's page is arXiv's
    segnet = next(p for p in catalog.papers() if p.title.startswith("SegNet"))
    assert (segnet.url, segnet.code) == ("https://doi.org/10.1109/TPAMI.2016.2644615", [])
    assert segnet.notes == "[[Project]](https://mi.eng.cam.ac.uk/projects/segnet/)"


def test_shared_code_links_and_short_names_are_reported_as_similar_never_merged(tmp_path: Path) -> None:
    report = import_markdown(tmp_path / "papers.yaml", SEGMENTATION)
    similar = {(s.listing.where, s.other.where): s.shared for s in report.similar}
    name = SEGMENTATION.name
    igcv3, igcv2 = line_of("[IGCV3]"), line_of("[IGCV2]")
    assert similar[(f"{name}:{igcv3}", f"{name}:{igcv2}")] == (
        "same code link github.com/homles11/igcv3 (arXiv 1806.00178 and 1804.06202)"
    )
    v2, v1 = line_of("[DeepLab V2]"), line_of("[DeepLab V1]")
    assert similar[(f"{name}:{v2}", f"{name}:{v1}")].startswith("same code link bitbucket.org/deeplab")
    kipf, peng = line_of("Semi-Supervised Classification"), line_of("Large Kernel Matters")
    assert similar[(f"{name}:{kipf}", f"{name}:{peng}")] == (
        "same short name [GCN] (arXiv 1609.02907 and 1703.02719)"
    )
    assert len(similar) == 4
    summary = report.summary()
    assert "4 pairs look similar, kept apart:" in summary
    assert (
        f'  {name}:{igcv3} "IGCV3: Interleaved Low-Rank Group Convolutions fo…" and {name}:{igcv2}' in summary
    )


def test_a_paper_in_two_sections_is_one_paper_in_the_first_and_the_report_says_where(tmp_path: Path) -> None:
    target = tmp_path / "papers.yaml"
    report = import_markdown(target, SEGMENTATION)
    catalog = links.load(target, cache=False)
    deeplab = by_arxiv(catalog)["1606.00915"]
    assert deeplab.section == "Semantic Segmentation"
    assert deeplab.tags == ["real-time-segmentation"]  # the other section, as a tag
    assert deeplab.notes == "listed again here for its speed table"
    merges = {m.listing.where: (m.first.where, m.key, m.listing.section) for m in report.repeated}
    name = SEGMENTATION.name
    again = line_of("- [ ] DeepLab [[Paper]]")
    assert merges[f"{name}:{again}"] == (
        f"{name}:{line_of('[DeepLab V2]')}",
        "same arXiv id 1606.00915",  # listed as 1606.00915v2: versions ignored
        "Real-time Segmentation",
    )
    assert merges[f"{name}:{line_of('SegNet (TPAMI)')}"][1] == "same DOI 10.1109/tpami.2016.2644615"
    assert merges[f"{name}:{line_of('[ICNet]')}"][1] == "same arXiv id 1704.08545"
    assert merges[f"{name}:{line_of('- [ ] graph attention networks')}"][1] == "same title"
    assert len(merges) == 5
    assert (
        f"  {name}:{again} \"DeepLab\" in 'Real-time Segmentation' into {name}:{line_of('[DeepLab V2]')} "
        "\"DeepLab: Semantic Image Segmentation with Deep Co…\" in 'Semantic Segmentation': "
        "same arXiv id 1606.00915"
    ) in report.summary().splitlines()


def test_importing_twice_adds_nothing_and_names_each_paper_it_skipped(tmp_path: Path) -> None:
    target = tmp_path / "papers.yaml"
    import_markdown(target, SEGMENTATION)
    before = target.read_bytes()
    again = import_markdown(target, SEGMENTATION)
    assert again.added == [] and again.repeated == []
    assert target.read_bytes() == before
    assert len(again.skipped) == 19  # every listing, repeats included, is a paper already there
    keys = {m.key for m in again.skipped}
    assert keys == {f"same arXiv id {i}" for i in listed_arxiv_ids(SEGMENTATION)} | {
        "same DOI 10.1109/tpami.2016.2644615",
        "same title",
    }
    catalog = links.load(target, cache=False)
    lines = {p.id: p.line for p in catalog.papers()}
    igcv3 = next(m for m in again.skipped if m.key == "same arXiv id 1806.00178")
    assert (igcv3.listing.where, igcv3.existing_id, igcv3.first.where) == (
        f"{SEGMENTATION.name}:{line_of('[IGCV3]')}",
        "igcv3-interleaved-low-rank",
        f"papers.yaml:{lines['igcv3-interleaved-low-rank']}",
    )


def test_a_new_paper_sharing_a_code_link_or_label_with_the_catalog_is_added(tmp_path: Path) -> None:
    target = tmp_path / "papers.yaml"
    first = tmp_path / "first.md"
    first.write_text(
        "## Efficient\n"
        "- [ ] [IGCV2] IGCV2 (2018.04) [[Paper]](https://arxiv.org/abs/1804.06202)"
        " [[Code]](https://github.com/homles11/IGCV3)\n"
        "- [ ] ViT [[Paper]](https://arxiv.org/abs/2010.11929) [blog](https://example.org/vit)\n",
        encoding="utf-8",
    )
    import_markdown(target, first)
    later = tmp_path / "later.md"
    later.write_text(
        "## Efficient\n"
        "- [ ] [IGCV3] IGCV3 (2018.06) [[Paper]](https://arxiv.org/abs/1806.00178v2)"
        " [[Code]](https://github.com/homles11/IGCV3)\n"
        "- [ ] ViT [[Paper]](https://arxiv.org/abs/2106.10270) [blog](https://example.org/vit)\n"
        "- [ ] IGCV2, again [[Paper]](https://arxiv.org/pdf/1804.06202v1.pdf)\n",
        encoding="utf-8",
    )
    report = import_markdown(target, later)
    papers = by_arxiv(links.load(target, cache=False))
    assert set(papers) == {"1804.06202", "1806.00178", "2010.11929", "2106.10270"}
    assert [(m.title, m.existing_id, m.key) for m in report.skipped] == [
        ("IGCV2, again", "igcv2", "same arXiv id 1804.06202")
    ]
    assert [(s.listing.where, s.other.where, s.shared) for s in report.similar] == [
        (
            "later.md:2",
            "papers.yaml:7",
            "same code link github.com/homles11/igcv3 (arXiv 1806.00178 and 1804.06202)",
        ),
        (
            "later.md:3",
            "papers.yaml:15",
            "same title (arXiv 2106.10270 and 2010.11929)",
        ),
    ]


@pytest.mark.parametrize(
    ("text", "added", "key"),
    [
        # no arXiv id on either side: the same normalised title is the same paper
        ("- [ ] Deep Residual Learning (2015)\n- [x] deep residual learning\n", 1, "same title"),
        # ... unless the years differ, which makes them two papers that look alike
        ("- [ ] Deep Residual Learning (2015)\n- [x] Deep Residual Learning (2016)\n", 2, None),
        # one id, one title: the title decides
        ("- [ ] ResNet 1512.03385\n- [ ] ResNet\n", 1, "same title"),
        # two ids: two papers, whatever the title
        ("- [ ] ResNet 1512.03385\n- [ ] ResNet 1603.05027\n", 2, None),
        # a DOI, with any capitalisation
        (
            "- [ ] A [pdf](https://doi.org/10.1145/ABC.1)\n- [ ] B [paper](https://dl.acm.org/doi/abs/10.1145/abc.1)\n",
            1,
            "same DOI 10.1145/abc.1",
        ),
        # a shared URL alone: two papers
        ("- [ ] A [pdf](https://e.org/x.pdf)\n- [ ] B [pdf](https://e.org/x.pdf)\n", 2, None),
    ],
)
def test_the_identity_rule(tmp_path: Path, text: str, added: int, key: str | None) -> None:
    source = tmp_path / "list.md"
    source.write_text("## S\n" + text, encoding="utf-8")
    report = import_markdown(tmp_path / "papers.yaml", source)
    assert len(report.added) == added
    assert [m.key for m in report.repeated] == ([key] if key else [])
    assert len(report.similar) == (1 if key is None else 0)  # kept apart: named in the report


def test_dry_run_writes_nothing_and_reports_the_same(tmp_path: Path, catalog_file: Path) -> None:
    before = catalog_file.read_bytes()
    dry = import_markdown(catalog_file, SEGMENTATION, dry_run=True)
    assert catalog_file.read_bytes() == before
    # FCN (1411.4038) is in the shipped list already
    assert dry.summary().startswith("would add 13 papers to papers.yaml (new sections: ")
    assert [(m.existing_id, m.key) for m in dry.skipped] == [("segmentation", "same arXiv id 1411.4038")]
    assert "dry run, nothing written" in dry.summary().splitlines()[0]
    real = import_markdown(catalog_file, SEGMENTATION)
    assert real.added == dry.added  # the same ids, assigned the same way
    assert [m.line() for m in real.repeated] == [m.line() for m in dry.repeated]
    missing = tmp_path / "missing.yaml"
    import_markdown(missing, SEGMENTATION, dry_run=True)
    assert not missing.exists()


def test_the_segmentation_list_parses_into_what_the_issue_expects() -> None:
    imported = markdown.parse(SEGMENTATION.read_text(encoding="utf-8"))
    first = imported.sections[0].papers
    assert [imported.line_of(p) for p in first[:3]] == [7, 8, 9]
    gcn = first[3]
    assert (gcn.arxiv, gcn.year, gcn.notes) == ("1703.02719", 2017, None)
    assert (
        markdown.parse("- [ ] A (2017.03)\n- [ ] B (2017-13)\n").sections[0].papers[1].title == "B (2017-13)"
    )
