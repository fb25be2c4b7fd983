"""PDF downloads against the fake server: verified, resumed with Range, never keeping HTML or truncated
bodies; cache names that cannot escape the cache; and the offline `doctor` check."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakearxiv import FakeArxiv, FakePaper

from readtrack.arxiv import download
from readtrack.arxiv.http import Cancelled, HttpSettings, PoliteSession
from readtrack.base.errors import UsageError
from readtrack.base.paths import pdf_cache_dir
from readtrack.catalog import pdfcache
from readtrack.plugins.links import load

MB = 1_000_000


@pytest.fixture
def server() -> Iterator[FakeArxiv]:
    with FakeArxiv.running(pdf_size=200_000) as fake:
        yield fake


@pytest.fixture
def session(server: FakeArxiv) -> PoliteSession:
    settings = HttpSettings(
        api_url=server.api_url, arxiv_delay=0, connect_timeout=2, read_timeout=2, attempts=3, backoff=0.02
    )
    return PoliteSession(settings)


def fetch(
    session: PoliteSession,
    url: str,
    dest: Path,
    *,
    max_bytes: int = 100 * MB,
    pages_ok: bool = False,
    on_bytes: download.ProgressCallback | None = None,
) -> download.Fetched:
    return download.fetch_pdf(session, url, dest, max_bytes=max_bytes, pages_ok=pages_ok, on_bytes=on_bytes)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


# -- names --------------------------------------------------------------------------------------------


def test_cache_names_come_from_the_id_and_old_style_ids_lose_their_slash() -> None:
    assert pdfcache.arxiv_file_name("2205.14135") == "2205.14135.pdf"
    assert pdfcache.arxiv_file_name("2205.14135v2") == "2205.14135v2.pdf"
    assert pdfcache.arxiv_file_name("hep-th/9901001") == "hep-th_9901001.pdf"
    assert pdfcache.arxiv_file_name("math.GT/0309136v1") == "math.GT_0309136v1.pdf"
    assert pdfcache.arxiv_pdf_path("hep-th/9901001").parent == pdf_cache_dir().resolve()
    assert pdfcache.web_pdf_path("gpt2").parent == pdf_cache_dir().resolve() / "web"


@pytest.mark.parametrize(
    "hostile", ["../../etc/passwd", "2205.14135/../../x", "/etc/passwd", "..", "hep-th/../../9901001", "a b"]
)
def test_nothing_from_outside_can_name_a_file_outside_the_cache(hostile: str) -> None:
    with pytest.raises(UsageError):
        pdfcache.arxiv_file_name(hostile)
    with pytest.raises(UsageError):
        pdfcache.cache_path(hostile)


def test_paper_ids_that_are_not_slugs_are_refused_as_file_names() -> None:
    with pytest.raises(UsageError):
        pdfcache.web_pdf_path("../up")
    with pytest.raises(UsageError):
        pdfcache.cache_path("web/../../x.pdf")


# -- downloads ----------------------------------------------------------------------------------------


def test_a_pdf_is_downloaded_verified_and_moved_into_place(
    server: FakeArxiv, session: PoliteSession, tmp_path: Path
) -> None:
    dest = tmp_path / "2205.14135.pdf"
    fetched = fetch(session, server.base_url + "/pdf/2205.14135v1", dest)
    assert dest.read_bytes() == server.pdf_for("2205.14135v1", 200_000)
    assert fetched.size == 200_000 and fetched.resumed_from == 0
    assert leftovers(tmp_path) == ["2205.14135.pdf"]
    assert pdfcache.pdf_problem(dest) is None


def test_a_truncated_pdf_is_never_kept(server: FakeArxiv, session: PoliteSession, tmp_path: Path) -> None:
    server.fail("/pdf/", "truncate", fraction=0.7)
    with pytest.raises(download.PdfRejected, match="no %%EOF marker"):
        fetch(session, server.base_url + "/pdf/2205.14135v1", tmp_path / "x.pdf")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("content_type", "message"),
    [("text/html; charset=utf-8", "HTML page instead of a PDF"), ("application/pdf", "not a PDF")],
)
def test_html_instead_of_a_pdf_is_never_kept(
    server: FakeArxiv, session: PoliteSession, tmp_path: Path, content_type: str, message: str
) -> None:
    server.fail("/pdf/", "html", content_type=content_type)
    with pytest.raises(download.PdfRejected, match=message):
        fetch(session, server.base_url + "/pdf/2205.14135v1", tmp_path / "x.pdf")
    assert leftovers(tmp_path) == []


def test_a_disconnect_mid_download_resumes_with_a_range_request(
    server: FakeArxiv, session: PoliteSession, tmp_path: Path
) -> None:
    path = "/pdf/2205.14135v1"
    server.fail(path, "disconnect", fraction=0.6)
    dest = tmp_path / "x.pdf"
    fetched = fetch(session, server.base_url + path, dest)
    assert dest.read_bytes() == server.pdf_for("2205.14135v1", 200_000)
    assert fetched.resumed_from == 120_000
    assert server.requests[path] == 2
    assert server.log[-1]["headers"]["Range"] == "bytes=120000-"
    assert server.bytes_served[path] == 200_000  # nothing fetched twice


def test_a_server_ignoring_range_makes_the_download_start_over(
    server: FakeArxiv, session: PoliteSession, tmp_path: Path
) -> None:
    path = "/pdf/2205.14135v1"
    dest = tmp_path / "x.pdf"
    pdfcache.part_path(dest).write_bytes(server.pdf_for("2205.14135v1", 200_000)[:50_000])
    server.fail(path, "ignore-range")
    fetched = fetch(session, server.base_url + path, dest)
    assert fetched.resumed_from == 0
    assert dest.read_bytes() == server.pdf_for("2205.14135v1", 200_000)
    assert leftovers(tmp_path) == ["x.pdf"]


def test_a_part_file_left_by_an_earlier_run_is_resumed(
    server: FakeArxiv, session: PoliteSession, tmp_path: Path
) -> None:
    path = "/pdf/2205.14135v1"
    dest = tmp_path / "x.pdf"
    pdfcache.part_path(dest).write_bytes(server.pdf_for("2205.14135v1", 200_000)[:150_000])
    fetch(session, server.base_url + path, dest)
    assert dest.read_bytes() == server.pdf_for("2205.14135v1", 200_000)
    assert server.bytes_served[path] == 50_000


def test_a_pdf_over_the_size_cap_is_refused_before_its_body(
    server: FakeArxiv, session: PoliteSession, tmp_path: Path
) -> None:
    server.add(FakePaper("2205.14135", pdf_size=30 * MB))
    with pytest.raises(download.PdfRejected, match="the PDF is 30 MB, over the 1 MB cap"):
        fetch(session, server.base_url + "/pdf/2205.14135v1", tmp_path / "x.pdf", max_bytes=1 * MB)
    assert leftovers(tmp_path) == []
    assert server.bytes_served["/pdf/2205.14135v1"] < 20 * MB  # the body was not read


def test_cancel_mid_download_leaves_only_the_part_file(
    server: FakeArxiv, session: PoliteSession, tmp_path: Path
) -> None:
    server.fail("/pdf/", "trickle", delay=0.05)
    dest = tmp_path / "x.pdf"

    def cancel_after_some_bytes(done: int, total: int | None) -> None:
        if done >= 32 * 1024:
            session.cancel.set()

    with pytest.raises(Cancelled):
        fetch(session, server.base_url + "/pdf/2205.14135v1", dest, on_bytes=cancel_after_some_bytes)
    assert leftovers(tmp_path) == ["x.pdf.part"]
    assert pdfcache.part_path(dest).read_bytes().startswith(b"%PDF-")


def test_a_url_that_is_a_web_page_is_reported_as_a_page_and_nothing_is_written(
    server: FakeArxiv, session: PoliteSession, tmp_path: Path
) -> None:
    fetched = fetch(session, server.base_url + "/web/blog/post", tmp_path / "x.pdf", pages_ok=True)
    assert fetched.is_page and fetched.content_type == "text/html"
    assert leftovers(tmp_path) == []
    server.pages["/web/report"] = ("application/pdf", server.web_pdf("/web/report"))
    fetched = fetch(session, server.base_url + "/web/report", tmp_path / "y.pdf", pages_ok=True)
    assert not fetched.is_page and (tmp_path / "y.pdf").read_bytes().startswith(b"%PDF-")


# -- doctor -------------------------------------------------------------------------------------------


def test_doctor_finds_missing_corrupt_orphaned_and_stale_files(
    server: FakeArxiv, session: PoliteSession
) -> None:
    catalog = load(os.environ["READTRACK_CATALOG"])
    for ident in ("1706.03762", "1810.04805", "1910.10683"):
        name = pdfcache.arxiv_file_name(ident)
        fetch(session, server.base_url + f"/pdf/{ident}", pdfcache.cache_path(name))
        pdfcache.record_file(name, server.base_url + f"/pdf/{ident}", pdfcache.cache_path(name))
    assert pdfcache.doctor(catalog).healthy

    cache = pdf_cache_dir()
    (cache / "1706.03762.pdf").unlink()
    corrupt = cache / "1810.04805.pdf"
    corrupt.write_bytes(corrupt.read_bytes()[:-100])
    (cache / "9999.99999.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    stale = cache / "2205.14135.pdf.part"
    stale.write_bytes(b"%PDF-1.4\n")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = cache / "2307.08691.pdf.part"
    fresh.write_bytes(b"%PDF-1.4\n")  # a download in progress right now: not a problem

    report = pdfcache.doctor(catalog)
    found = {(p.kind, p.name) for p in report.problems}
    assert found == {
        ("missing", "1706.03762.pdf"),
        ("corrupt", "1810.04805.pdf"),
        ("orphaned", "9999.99999.pdf"),
        ("stale-part", "2205.14135.pdf.part"),
    }
    assert report.ok == 1


def test_doctor_notices_a_file_whose_bytes_changed_but_still_looks_like_a_pdf(
    server: FakeArxiv, session: PoliteSession
) -> None:
    name = pdfcache.arxiv_file_name("1706.03762")
    path = pdfcache.cache_path(name)
    fetch(session, server.base_url + "/pdf/1706.03762", path)
    pdfcache.record_file(name, "x", path)
    data = bytearray(path.read_bytes())
    data[5000] ^= 0xFF
    path.write_bytes(bytes(data))
    report = pdfcache.doctor(load(os.environ["READTRACK_CATALOG"]))
    assert [(p.kind, p.detail.split(" (")[0]) for p in report.problems] == [
        ("corrupt", "content changed since download")
    ]


def test_doctor_runs_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("doctor opened a connection")

    monkeypatch.setattr("socket.socket.connect", no_network)
    report = pdfcache.doctor(load(os.environ["READTRACK_CATALOG"]))
    assert report.healthy and report.not_downloaded > 40
