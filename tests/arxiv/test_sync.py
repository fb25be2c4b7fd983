"""`readtrack.arxiv.sync` against the fake arXiv on 127.0.0.1: batching, the second run that asks nothing,
every fault the issue lists, --resolve, non-arXiv urls, events and cancel. Real HTTP, real SQLite, real files.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakearxiv import FakeArxiv, FakePaper, point_urls_at, serving

from readtrack.arxiv.sync import SyncOptions, sync
from readtrack.arxiv.syncreport import (
    BytesProgress,
    Notice,
    PaperFinished,
    SyncEvent,
    SyncReport,
    SyncStarted,
    summary_lines,
)
from readtrack.base.errors import SyncError
from readtrack.base.paths import pdf_cache_dir
from readtrack.catalog import metadata, pdfcache
from readtrack.catalog.model import Catalog
from readtrack.plugins.links import load
from readtrack.render.details import synced_details


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxiv]:
    with serving(monkeypatch) as fake:
        yield fake


@pytest.fixture
def web() -> Iterator[FakeArxiv]:
    """Another host, for papers whose url is not on arXiv."""
    with FakeArxiv.running() as fake:
        yield fake


def write_catalog(path: Path, papers: list[dict[str, str]]) -> Catalog:
    lines = ["version: 1", "sections:", "  - name: Test", "    papers:"]
    for paper in papers:
        lines.append(f"      - id: {paper['id']}")
        for key in ("title", "arxiv", "url"):
            if key in paper:
                value = f'"{paper[key]}"' if key == "arxiv" else paper[key]
                lines.append(f"        {key}: {value}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load(path)


def run(catalog: Catalog, *ids: str, events: list[SyncEvent] | None = None, **options: object) -> SyncReport:
    on_event = events.append if events is not None else None
    return sync(catalog, list(ids), options=SyncOptions.from_env(**options), on_event=on_event)


def outcomes(report: SyncReport) -> dict[str, str]:
    return {p.paper_id: p.outcome for p in report.papers}


# -- batching and the second run ----------------------------------------------------------------------


def test_250_papers_take_three_api_requests_and_a_second_sync_takes_none(
    server: FakeArxiv, catalog_file: Path
) -> None:
    catalog = write_catalog(catalog_file, [{"id": f"p{n}", "arxiv": f"2101.{n:05d}"} for n in range(250)])
    report = run(catalog, pdf=False)
    calls = server.api_calls()
    assert len(calls) == 3
    assert [len(c["id_list"][0].split(",")) for c in calls] == [100, 100, 50]
    assert [c["max_results"] for c in calls] == [["100"], ["100"], ["50"]]
    assert report.count("synced") == 250 and report.exit_code == 0
    assert len(metadata.for_papers(catalog)) == 250

    server.reset_counters()
    again = run(catalog, pdf=False)
    assert server.total_requests == 0
    assert again.count("cached") == 250 and again.requests == 0


def test_metadata_and_pdfs_land_in_sqlite_and_the_cache(server: FakeArxiv, catalog_file: Path) -> None:
    server.add(
        FakePaper(
            "2205.14135",
            title="FlashAttention: Fast and Memory-Efficient Exact Attention",
            authors=["Tri Dao", "Daniel Y. Fu"],
            abstract="Transformers are slow.\nWe fix it.",
            version=2,
            doi="10.5555/x",
            journal_ref="NeurIPS 2022",
            categories=["cs.LG"],
        )
    )
    catalog = write_catalog(
        catalog_file, [{"id": "fa", "arxiv": "2205.14135"}, {"id": "old", "arxiv": "hep-th/9901001"}]
    )
    report = run(catalog)
    assert outcomes(report) == {"fa": "synced", "old": "synced"}
    record = metadata.get("2205.14135")
    assert record is not None
    assert (record.title, record.authors, record.version) == (
        "FlashAttention: Fast and Memory-Efficient Exact Attention",
        ["Tri Dao", "Daniel Y. Fu"],
        "v2",
    )
    assert record.abstract == "Transformers are slow.\nWe fix it."
    assert (record.doi, record.journal_ref, record.primary_category) == ("10.5555/x", "NeurIPS 2022", "cs.LG")
    assert record.published == "2020-01-02T03:04:05Z"
    assert pdfcache.arxiv_pdf_path("2205.14135").read_bytes() == server.pdf_of("2205.14135")
    assert pdfcache.arxiv_pdf_path("hep-th/9901001").name == "hep-th_9901001.pdf"
    assert pdfcache.arxiv_pdf_path("hep-th/9901001").read_bytes() == server.pdf_of("hep-th/9901001")
    assert synced_details(catalog.get("fa"))["pdf_path"] == str(pdfcache.arxiv_pdf_path("2205.14135"))


def test_force_fetches_everything_again(server: FakeArxiv, catalog_file: Path) -> None:
    catalog = write_catalog(catalog_file, [{"id": "a", "arxiv": "2205.14135"}])
    run(catalog)
    server.reset_counters()
    report = run(catalog, force=True)
    assert report.count("synced") == 1
    assert server.requests["/api/query"] == 1 and server.total_requests == 2


def test_a_pinned_version_is_what_gets_downloaded(server: FakeArxiv, catalog_file: Path) -> None:
    server.add(FakePaper("1706.03762", version=7))
    catalog = write_catalog(catalog_file, [{"id": "t", "arxiv": "1706.03762v2"}])
    run(catalog)
    assert server.api_calls()[0]["id_list"] == ["1706.03762v2"]
    assert metadata.get("1706.03762").version == "v2"  # type: ignore[union-attr]
    assert pdfcache.arxiv_pdf_path("1706.03762v2").read_bytes() == server.pdf_for("1706.03762v2", 20_000)


# -- the API's faults ---------------------------------------------------------------------------------


def test_an_id_the_api_drops_is_asked_once_more_and_then_reported(
    server: FakeArxiv, catalog_file: Path
) -> None:
    catalog = write_catalog(
        catalog_file, [{"id": "a", "arxiv": "2205.14135"}, {"id": "b", "arxiv": "2307.08691"}]
    )
    server.drop("2307.08691", times=None)
    report = run(catalog)
    calls = server.api_calls()
    assert [c["id_list"] for c in calls] == [["2205.14135,2307.08691"], ["2307.08691"]]
    assert outcomes(report) == {"a": "synced", "b": "failed"}
    assert "no entry for it" in report.failed[0].reasons[0]
    assert report.exit_code == 1
    assert not [
        path for path in server.requests if path.startswith("/pdf/2307.08691")
    ]  # no metadata, no link


def test_an_id_dropped_once_comes_back_on_the_second_ask(server: FakeArxiv, catalog_file: Path) -> None:
    catalog = write_catalog(
        catalog_file, [{"id": "a", "arxiv": "2205.14135"}, {"id": "b", "arxiv": "2307.08691"}]
    )
    server.drop("2307.08691", times=1)
    report = run(catalog, pdf=False)
    assert len(server.api_calls()) == 2
    assert outcomes(report) == {"a": "synced", "b": "synced"} and report.exit_code == 0


def test_malformed_xml_is_asked_again_then_reported(server: FakeArxiv, catalog_file: Path) -> None:
    catalog = write_catalog(catalog_file, [{"id": "a", "arxiv": "2205.14135"}])
    server.fail("/api/query", "malformed", times=1)
    assert outcomes(run(catalog, pdf=False)) == {"a": "synced"}

    catalog = write_catalog(catalog_file, [{"id": "b", "arxiv": "2307.08691"}])
    server.fail("/api/query", "malformed", times=None)
    report = run(catalog, pdf=False)
    assert outcomes(report) == {"b": "failed"}
    assert "malformed reply from the arXiv API" in report.failed[0].reasons[0]
    assert metadata.get("2307.08691") is None


def test_the_error_feed_is_reported_with_arxivs_own_words(server: FakeArxiv, catalog_file: Path) -> None:
    catalog = write_catalog(catalog_file, [{"id": "a", "arxiv": "2205.14135"}])
    server.fail("/api/query", "error-feed", times=None)
    report = run(catalog, pdf=False)
    assert "the arXiv API refused the request: incorrect id format for abc" in report.failed[0].reasons[0]


def test_the_empty_feed_reports_every_id_as_missing(server: FakeArxiv, catalog_file: Path) -> None:
    catalog = write_catalog(
        catalog_file, [{"id": "a", "arxiv": "2205.14135"}, {"id": "b", "arxiv": "2307.08691"}]
    )
    server.fail("/api/query", "empty-feed", times=None)
    report = run(catalog)
    assert outcomes(report) == {"a": "failed", "b": "failed"}
    assert len(server.api_calls()) == 2 and server.total_requests == 2


def test_the_older_reply_shape_parses_to_the_same_records(
    monkeypatch: pytest.MonkeyPatch, catalog_file: Path
) -> None:
    catalog = write_catalog(
        catalog_file, [{"id": "a", "arxiv": "2205.14135"}, {"id": "b", "arxiv": "hep-th/9901001"}]
    )
    records = {}
    for shape in ("new", "old"):
        with serving(monkeypatch, shape=shape):
            report = run(catalog, pdf=False, force=True)
            assert report.exit_code == 0, summary_lines(report)
            records[shape] = {i: metadata.get(i) for i in ("2205.14135", "hep-th/9901001")}
    for ident in records["new"]:
        new, old = records["new"][ident], records["old"][ident]
        assert new is not None and old is not None
        assert "\n" in old.abstract and "  " not in old.abstract  # hard wraps undone, paragraphs kept
        assert old.pdf_url and old.pdf_url.endswith(f"/pdf/{ident}{old.version}")
        assert {k: v for k, v in old.to_dict().items() if k not in ("fetched_at", "pdf_url")} == {
            k: v for k, v in new.to_dict().items() if k not in ("fetched_at", "pdf_url")
        }


def test_a_503_with_retry_after_then_success(server: FakeArxiv, catalog_file: Path) -> None:
    catalog = write_catalog(catalog_file, [{"id": "a", "arxiv": "2205.14135"}])
    server.fail("/api/query", "503", retry_after="0")
    server.fail("/pdf/", "429")
    report = run(catalog)
    assert outcomes(report) == {"a": "synced"}
    assert server.requests["/api/query"] == 2
    assert sum(n for path, n in server.requests.items() if path.startswith("/pdf/2205.14135")) == 2


def test_a_403_stops_every_arxiv_request_of_the_run(
    server: FakeArxiv, web: FakeArxiv, catalog_file: Path
) -> None:
    catalog = write_catalog(
        catalog_file,
        [
            {"id": "a", "arxiv": "2205.14135"},
            {"id": "b", "arxiv": "2307.08691"},
            {"id": "w", "url": web.base_url + "/web/paper.pdf"},
        ],
    )
    run(catalog, "a", pdf=False)  # a's metadata is stored; its PDF would be next
    server.reset_counters()
    server.fail("/api/query", "403")
    events: list[SyncEvent] = []
    report = run(catalog, events=events)
    assert server.total_requests == 1  # the refused API call; no PDF, no second ask
    assert outcomes(report) == {"a": "failed", "b": "failed", "w": "synced"}
    assert report.stopped and "HTTP 403" in report.stopped and report.exit_code == 1
    assert any(isinstance(e, Notice) and "refused access" in e.message for e in events)
    assert pdfcache.web_pdf_path("w").is_file()


def test_network_down_is_one_clear_error_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, catalog_file: Path
) -> None:
    monkeypatch.setenv("READTRACK_ARXIV_API", "http://127.0.0.1:9/api/query")  # discard port: refused
    monkeypatch.setenv("READTRACK_BACKOFF", "0.01")
    monkeypatch.setenv("READTRACK_ARXIV_DELAY", "0")
    catalog = load(catalog_file)
    with pytest.raises(SyncError, match=r"cannot reach 127.0.0.1:9: connection refused.*Nothing was changed"):
        run(catalog, pdf=False)
    assert metadata.for_papers(catalog) == {}


def test_a_slow_reply_past_the_timeout_fails_the_paper_quickly(
    server: FakeArxiv, catalog_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READTRACK_TIMEOUT", "0.3")
    catalog = write_catalog(catalog_file, [{"id": "a", "arxiv": "2205.14135"}])
    run(catalog, pdf=False)
    server.fail("/pdf/", "slow", delay=1.0, times=None)
    report = run(catalog)
    assert outcomes(report) == {"a": "failed"}
    assert "read timeout" in report.failed[0].reasons[0]
    assert not pdfcache.arxiv_pdf_path("2205.14135").exists()


# -- PDFs ---------------------------------------------------------------------------------------------


def test_an_interrupted_download_resumes_on_the_next_sync(server: FakeArxiv, catalog_file: Path) -> None:
    server.add(FakePaper("2205.14135", pdf_size=1_000_000))
    catalog = write_catalog(catalog_file, [{"id": "a", "arxiv": "2205.14135"}])
    server.fail("/pdf/", "trickle", delay=0.01)
    cancel = threading.Event()

    def stop_midway(event: SyncEvent) -> None:
        if isinstance(event, BytesProgress) and event.done > 300_000:
            cancel.set()

    report = sync(catalog, options=SyncOptions.from_env(), on_event=stop_midway, cancel=cancel)
    assert report.cancelled and report.exit_code == 1
    part = pdfcache.part_path(pdfcache.arxiv_pdf_path("2205.14135"))
    held = part.stat().st_size
    assert held > 300_000 and not pdfcache.arxiv_pdf_path("2205.14135").exists()

    server.reset_counters()
    report = run(catalog)
    assert outcomes(report) == {"a": "synced"}
    assert server.log[-1]["headers"]["Range"] == f"bytes={held}-"
    assert sum(server.bytes_served.values()) - server.bytes_served["/api/query"] == 1_000_000 - held
    assert pdfcache.arxiv_pdf_path("2205.14135").read_bytes() == server.pdf_of("2205.14135")


def test_html_and_truncated_pdfs_fail_the_paper_and_leave_nothing(
    server: FakeArxiv, catalog_file: Path
) -> None:
    catalog = write_catalog(
        catalog_file, [{"id": "a", "arxiv": "2205.14135"}, {"id": "b", "arxiv": "2307.08691"}]
    )
    server.fail("/pdf/2205.14135", "html", times=None)
    server.fail("/pdf/2307.08691", "truncate", fraction=0.5, times=None)
    report = run(catalog)
    reasons = {p.paper_id: p.reasons[0] for p in report.failed}
    assert "HTML page instead of a PDF" in reasons["a"] and "truncated" in reasons["b"]
    assert sorted(p.name for p in pdfcache.arxiv_pdf_path("2205.14135").parent.iterdir() if p.is_file()) == []


def test_urls_to_pdfs_download_and_web_pages_stay_links(
    server: FakeArxiv, web: FakeArxiv, catalog_file: Path
) -> None:
    web.pages["/web/report"] = ("application/pdf", web.web_pdf("/web/report"))
    catalog = write_catalog(
        catalog_file,
        [
            {"id": "pdf", "url": web.base_url + "/web/paper.pdf"},
            {"id": "typed", "url": web.base_url + "/web/report"},
            {"id": "blog", "url": web.base_url + "/web/blog/post"},
            {"id": "gone", "url": web.base_url + "/nothing-here.pdf"},
            {"id": "bare", "title": "Nothing to fetch"},
        ],
    )
    report = run(catalog)
    assert outcomes(report) == {"pdf": "synced", "typed": "synced", "blog": "link", "gone": "failed"}
    assert report.nothing_to_sync == ["bare"]
    assert pdfcache.web_pdf_path("pdf").read_bytes() == web.web_pdf("/web/paper.pdf")
    assert not pdfcache.web_pdf_path("blog").exists()
    assert "HTTP 404" in report.failed[0].reasons[0]

    web.reset_counters()
    again = run(catalog, "pdf", "typed", "blog")
    assert web.total_requests == 0 and server.total_requests == 0
    assert outcomes(again) == {"pdf": "cached", "typed": "cached", "blog": "link"}


def test_a_redirect_to_a_file_url_fails_that_paper_and_the_others_carry_on(
    server: FakeArxiv, web: FakeArxiv, catalog_file: Path
) -> None:
    web.fail("/web/evil.pdf", "redirect", location="file:///etc/passwd", times=None)
    web.fail("/web/slow.pdf", "trickle", delay=0.01)  # in flight while the redirect fails
    catalog = write_catalog(
        catalog_file,
        [
            {"id": "evil", "url": web.base_url + "/web/evil.pdf"},
            {"id": "slow", "url": web.base_url + "/web/slow.pdf"},
            {"id": "a", "arxiv": "2205.14135"},
        ],
    )
    report = run(catalog, jobs=2)
    assert outcomes(report) == {"evil": "failed", "slow": "synced", "a": "synced"}
    (reason,) = report.failed[0].reasons
    assert "refused a redirect to a file: URL (HTTP 302 to file:///etc/passwd)" in reason
    assert "\n" not in reason
    assert pdfcache.web_pdf_path("slow").read_bytes() == web.web_pdf("/web/slow.pdf")
    assert [p.name for p in pdf_cache_dir().rglob("*.part")] == []


def test_events_report_start_bytes_and_every_paper(server: FakeArxiv, catalog_file: Path) -> None:
    catalog = write_catalog(
        catalog_file, [{"id": "a", "arxiv": "2205.14135"}, {"id": "b", "arxiv": "2307.08691"}]
    )
    events: list[SyncEvent] = []
    run(catalog, events=events)
    assert events[0] == SyncStarted(papers=2, metadata=2, downloads=2)
    finished = [e.result.paper_id for e in events if isinstance(e, PaperFinished)]
    assert sorted(finished) == ["a", "b"]
    last_bytes = [e for e in events if isinstance(e, BytesProgress)][-1]
    assert last_bytes.done == last_bytes.total == 20_000


# -- resolve ------------------------------------------------------------------------------------------


def test_resolve_writes_a_confident_match_as_one_line(server: FakeArxiv, catalog_file: Path) -> None:
    server.add(
        FakePaper("1706.03762", title="Attention Is All You Need"),
        FakePaper("2001.00001", title="Attention Is Not All You Need for Tables"),
    )
    catalog = write_catalog(catalog_file, [{"id": "t", "title": "Attention is all you need!"}])
    before = catalog_file.read_text().splitlines()
    report = run(catalog, resolve=True)
    after = catalog_file.read_text().splitlines()
    assert [line for line in after if line not in before] == ['        arxiv: "1706.03762"']
    assert len(after) == len(before) + 1
    assert [r.outcome for r in report.resolved] == ["resolved"]
    assert outcomes(report) == {"t": "synced"}  # and then synced like any other id
    assert pdfcache.arxiv_pdf_path("1706.03762").is_file()
    assert server.api_calls()[0]["search_query"] == ['ti:"Attention is all you need"']


def test_resolve_without_a_clear_match_prints_candidates_and_changes_nothing(
    server: FakeArxiv, catalog_file: Path
) -> None:
    server.add(
        FakePaper("2101.00001", title="Deep Residual Learning"),
        FakePaper("2101.00002", title="Deep Residual Learning."),
        FakePaper("2101.00003", title="Deep Residual Learning for Image Recognition"),
    )
    catalog = write_catalog(
        catalog_file,
        [
            {"id": "twins", "title": "Deep residual learning"},
            {"id": "nothing", "title": "An unpublished note"},
        ],
    )
    before = catalog_file.read_bytes()
    events: list[SyncEvent] = []
    report = run(catalog, events=events, resolve=True)
    assert catalog_file.read_bytes() == before
    assert [r.outcome for r in report.resolved] == ["unresolved", "unresolved"]
    notices = "\n".join(e.message for e in events if isinstance(e, Notice))
    assert "several close matches" in notices and "2101.00001" in notices and "2101.00003" in notices
    assert "no arXiv paper has this title or all of its words" in notices
    (nothing,) = [
        e.message for e in events if isinstance(e, Notice) and e.message.startswith("unresolved nothing")
    ]
    assert "add `arxiv:` by hand if you find it" in nothing and "one of them" not in nothing  # there are none
    assert report.exit_code == 0


def test_resolve_shows_candidates_with_every_word_when_no_title_has_the_phrase(
    server: FakeArxiv, catalog_file: Path
) -> None:
    server.add(
        FakePaper(
            "1512.03385",
            title="Deep Residual Learning for Image Recognition",
            published="2015-12-10T00:00:00Z",
        )
    )
    catalog = write_catalog(
        catalog_file, [{"id": "resnet", "title": "Image recognition with deep residual learning"}]
    )
    before = catalog_file.read_bytes()
    events: list[SyncEvent] = []
    report = run(catalog, events=events, resolve=True, pdf=False)
    assert catalog_file.read_bytes() == before and [r.outcome for r in report.resolved] == ["unresolved"]
    (notice,) = [e.message for e in events if isinstance(e, Notice)]
    lines = notice.splitlines()
    assert lines[0].endswith("candidates (arXiv id, year, similarity, title):")
    assert re.fullmatch(
        r" +1512\.03385 +2015 +0\.\d\d +Deep Residual Learning for Image Recognition", lines[1]
    )
    assert lines[2] == "    papers.yaml unchanged; add `arxiv: ID` by hand if one of them is right"


# -- the seed list ------------------------------------------------------------------------------------


def test_the_seed_list_syncs_every_arxiv_paper(server: FakeArxiv, web: FakeArxiv, catalog_file: Path) -> None:
    point_urls_at(catalog_file, web)
    catalog = load(catalog_file)
    report = run(catalog, jobs=4)
    assert report.exit_code == 0, summary_lines(report)
    for paper in catalog.papers():
        for ident in paper.arxiv_ids():
            assert metadata.get(ident) is not None
            assert pdfcache.pdf_problem(pdfcache.arxiv_pdf_path(ident)) is None
    assert server.max_in_flight == 1  # arXiv: one request at a time


# -- what a run imports -------------------------------------------------------------------------------

SYNC_IN_A_FRESH_PROCESS = """
import sys
from readtrack.plugins.links import load
from readtrack.arxiv.sync import SyncOptions, sync
report = sync(load(sys.argv[1]), ["flashattention"], options=SyncOptions.from_env(pdf=True))
assert report.count("synced") == 1, report
print(" ".join(sorted(name for name in sys.modules if "." not in name)))
"""


def test_a_whole_run_never_imports_rich(server: FakeArxiv, catalog_file: Path) -> None:
    """The run is the core: rendering it (rich) is the faces' job, so a run must work without rich."""
    result = subprocess.run(
        [sys.executable, "-c", SYNC_IN_A_FRESH_PROCESS, str(catalog_file)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    modules = set(result.stdout.split())
    assert {"readtrack", "arxiv", "requests", "lxml"} <= modules  # the check sees the run's imports
    assert "rich" not in modules
