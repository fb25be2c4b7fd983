"""Downloading a PDF into the cache (`readtrack.catalog.pdfcache`): streamed into a ``.part`` file through the
polite session, resumed with a Range request when the server answers 206 (restarted when it answers 200),
verified (starts with ``%PDF-``, as long as announced, ``%%EOF`` near the end) and only then moved into place
with ``os.replace``: an HTML page or a truncated body is never kept as a PDF.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from readtrack.base.atomic import fsync_dir
from readtrack.base.errors import SyncError, UsageError
from readtrack.catalog.pdfcache import (
    CHUNK,
    DEFAULT_MAX_PDF_MB,
    MAX_RESUMES,
    part_path,
    pdf_problem,
)

if TYPE_CHECKING:
    from readtrack.arxiv.http import PoliteSession


class PdfRejected(SyncError):
    """The server's reply is not a PDF we keep: HTML, truncated, too large, wrong range."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{reason} ({url})")
        self.url = url
        self.reason = reason


def max_pdf_bytes(environ: Mapping[str, str] | None = None) -> int:
    """The size cap: ``READTRACK_MAX_PDF_MB`` megabytes (default 100)."""
    text = (environ if environ is not None else os.environ).get("READTRACK_MAX_PDF_MB", "").strip()
    if not text:
        return DEFAULT_MAX_PDF_MB * 1_000_000
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value <= 0:
        raise UsageError(f"READTRACK_MAX_PDF_MB must be a positive number of megabytes, got {text!r}")
    return int(value * 1_000_000)


# -- downloading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """What a fetch ended with: a PDF in the cache, or (``is_page``) a web page to keep as a link."""

    path: Path | None
    size: int = 0
    resumed_from: int = 0
    content_type: str | None = None
    is_page: bool = False


ProgressCallback = Callable[[int, "int | None"], None]  # (bytes held so far, total or None)


def _is_pdf_type(content_type: str) -> bool:
    return content_type in ("application/pdf", "application/x-pdf")


def fetch_pdf(
    session: PoliteSession,
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    pages_ok: bool = False,
    on_bytes: ProgressCallback | None = None,
) -> Fetched:
    """Download ``url`` into ``dest`` through its ``.part`` file, resuming what an earlier try left.

    With ``pages_ok`` (a paper's url of unknown kind) a reply that is neither a ``.pdf`` url nor
    ``application/pdf`` is a web page: nothing is written and ``Fetched.is_page`` is set. Otherwise such a
    reply raises `PdfRejected`, as does anything that fails verification; those leave no file behind. A
    connection lost mid-body is resumed up to `MAX_RESUMES` times; the `.part` survives a final failure
    and a cancel, so the next sync continues from there.
    """
    import requests

    from readtrack.arxiv.http import RequestFailed, describe_connection_error

    part = part_path(dest)
    resumes = 0
    while True:
        try:
            return _fetch_once(session, url, dest, part, max_bytes, pages_ok, on_bytes)
        except (
            _BrokenOff,
            requests.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.Timeout,
        ) as err:
            # the body broke off: keep what arrived and ask for the rest
            if resumes >= MAX_RESUMES:
                raise RequestFailed(
                    url, f"download kept breaking off ({describe_connection_error(err)}); resumes next sync"
                ) from None
            resumes += 1


class _BrokenOff(Exception):
    """The connection ended before the announced length arrived."""


def _fetch_once(
    session: PoliteSession,
    url: str,
    dest: Path,
    part: Path,
    max_bytes: int,
    pages_ok: bool,
    on_bytes: ProgressCallback | None,
) -> Fetched:
    from readtrack.arxiv.http import Cancelled

    offset = part.stat().st_size if part.exists() else 0
    # identity: byte ranges and lengths must count the file's own bytes, not a compressed form
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with session.open("GET", url, headers=headers) as response:
        status = response.status_code
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if status == 416 and offset:
            # the server cannot serve the rest of what we hold: start over
            response.close()
            part.unlink(missing_ok=True)
            return _fetch_once(session, url, dest, part, max_bytes, pages_ok, on_bytes)
        if status not in (200, 206):
            raise PdfRejected(url, f"HTTP {status} {response.reason}")
        looks_pdf = _is_pdf_type(content_type) or url.lower().split("?")[0].endswith(".pdf")
        if pages_ok and not looks_pdf:
            return Fetched(None, content_type=content_type or None, is_page=True)
        if content_type.startswith("text/html"):
            _discard(part)
            raise PdfRejected(url, "got an HTML page instead of a PDF")
        length = _int_header(response.headers.get("Content-Length"))
        if status == 206 and offset:
            start, total = _content_range(response.headers.get("Content-Range"))
            if start != offset:
                _discard(part)
                raise PdfRejected(url, f"asked for bytes {offset}- but got a range starting at {start}")
            mode = "ab"
        else:
            offset, total, mode = 0, length, "wb"
        if total is not None and total > max_bytes:
            _discard(part)
            raise PdfRejected(url, f"the PDF is {total / 1e6:.0f} MB, over the {_cap(max_bytes)}")
        if on_bytes:
            on_bytes(offset, total)  # what an earlier try already fetched counts as done
        received = offset
        head = b"" if offset == 0 else b"%PDF-"  # a resumed part was checked when it began
        part.parent.mkdir(parents=True, exist_ok=True)
        with _no_empty_part(part), part.open(mode) as handle:  # closed (flushed) before the size is read
            # urllib3 drops the last partial read when a body ends early; check the length ourselves instead
            response.raw.enforce_content_length = False
            for chunk in response.iter_content(CHUNK):
                if session.cancel.is_set():
                    raise Cancelled()
                if len(head) < 5:
                    head += chunk[:32]
                    if len(head) >= 5 and not head.startswith(b"%PDF-"):
                        handle.close()
                        _discard(part)
                        raise PdfRejected(url, f"not a PDF (starts with {head[:20]!r})")
                received += len(chunk)
                if received > max_bytes:
                    handle.close()
                    _discard(part)
                    raise PdfRejected(url, f"the PDF grew past the {_cap(max_bytes)}")
                handle.write(chunk)
                if on_bytes:
                    on_bytes(received, total)
            handle.flush()
            os.fsync(handle.fileno())
        if total is not None and received < total:
            raise _BrokenOff(f"connection closed after {received} of {total} bytes")
    problem = pdf_problem(part, total)
    if problem:
        _discard(part)
        raise PdfRejected(url, problem)
    os.replace(part, dest)
    fsync_dir(dest.parent)
    return Fetched(dest, dest.stat().st_size, resumed_from=offset, content_type=content_type or None)


def _cap(max_bytes: int) -> str:
    return f"{max_bytes / 1e6:.0f} MB cap (READTRACK_MAX_PDF_MB)"


@contextlib.contextmanager
def _no_empty_part(part: Path) -> Iterator[None]:
    """A download stopped before its first byte (cancelled, failed) leaves no 0-byte ``.part`` behind."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            if part.stat().st_size == 0:
                part.unlink()
        raise


def _discard(part: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        part.unlink()


def _int_header(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """``bytes 100-199/200`` -> (100, 200); unknown parts are None."""
    match = re.match(r"^\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*$", value or "")
    if not match:
        return None, None
    total = None if match.group(2) == "*" else int(match.group(2))
    return int(match.group(1)), total
