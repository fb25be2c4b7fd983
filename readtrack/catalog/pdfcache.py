"""The PDF cache: where each paper's PDF lives, how it is verified and recorded; the offline check. How a
PDF arrives is `readtrack.arxiv.download` (streamed, resumed, verified) or a library import's copy.

Layout, under ``<data dir>/pdfs``::

    2205.14135.pdf          an arXiv paper, named from its id as written in papers.yaml
    hep-th_9901001.pdf      old-style ids: the '/' becomes '_'
    web/<paper id>.pdf      a PDF from another site (the paper's ``url``)
    *.pdf.part              a download in progress, or interrupted: the next sync resumes it

File names come only from validated arXiv ids and paper-id slugs, never from a URL or a server's reply, and
`cache_path` refuses any name that would leave the cache. A download is streamed into the ``.part`` file,
resumed with a Range request when the server answers 206 (restarted when it answers 200), verified (starts
with ``%PDF-``, as long as announced, ``%%EOF`` near the end) and only then moved into place with
``os.replace``: an HTML page or a truncated body is never kept as a PDF. What was downloaded from where is
recorded in SQLite (``pdf_files``; web pages found instead of PDFs in ``web_links``) so `doctor` can re-check
the cache offline and a second sync asks nothing of the network.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from readtrack.base.errors import UsageError
from readtrack.base.paths import pdf_cache_dir
from readtrack.base.store import opened
from readtrack.base.words import age
from readtrack.catalog import arxivid

if TYPE_CHECKING:
    from readtrack.catalog.model import Catalog, Paper

DEFAULT_MAX_PDF_MB = 100
CHUNK = 64 * 1024
EOF_WINDOW = 2048  # %%EOF must sit in the last 2 KiB; readers tolerate a little trailing junk, not more
MAX_RESUMES = 3
STALE_PART_SECONDS = 600  # a .part untouched this long belongs to no running download
WEB_DIR = "web"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS pdf_files (
    name TEXT PRIMARY KEY,          -- path relative to the cache folder
    source_url TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_links (
    url TEXT PRIMARY KEY,
    kind TEXT NOT NULL,             -- 'page': a web page kept as a link; 'pdf': downloaded into the cache
    content_type TEXT,
    checked_at TEXT NOT NULL
);
"""


# -- names and paths ----------------------------------------------------------------------------------


def arxiv_file_name(ident: str) -> str:
    """``2205.14135`` -> ``2205.14135.pdf``; ``hep-th/9901001v2`` -> ``hep-th_9901001v2.pdf``.

    Anything that is not an arXiv id is a `UsageError`: no other text ever becomes a file name.
    """
    if not arxivid.is_valid(ident):
        raise UsageError(f"not an arXiv id: {ident!r}")
    parsed = arxivid.parse(ident)
    assert parsed is not None
    return _checked_name(str(parsed).replace("/", "_") + ".pdf")


def web_file_name(paper_id: str) -> str:
    """``web/<paper id>.pdf`` for a PDF from a paper's url."""
    return f"{WEB_DIR}/{_checked_name(paper_id + '.pdf')}"


def _checked_name(name: str) -> str:
    if not _SAFE_NAME.match(name) or ".." in name:
        raise UsageError(f"refusing cache file name {name!r}")
    return name


def cache_path(name: str, root: Path | None = None) -> Path:
    """The file for a cache name, guaranteed inside the cache folder (else UsageError)."""
    root = (root or pdf_cache_dir()).resolve()
    parts = name.split("/")
    if not parts or len(parts) > 2 or (len(parts) == 2 and parts[0] != WEB_DIR):
        raise UsageError(f"refusing cache file name {name!r}")
    _checked_name(parts[-1])
    path = root.joinpath(*parts)
    if path.resolve().parent not in (root, root / WEB_DIR):
        raise UsageError(f"refusing cache file name {name!r}: it leaves {root}")
    return path


def arxiv_pdf_path(ident: str) -> Path:
    return cache_path(arxiv_file_name(ident))


def web_pdf_path(paper_id: str) -> Path:
    return cache_path(web_file_name(paper_id))


def part_path(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def paper_pdf_path(paper: Paper) -> Path | None:
    """The paper's own cached PDF (its first arXiv id, else the PDF from its url) when it is there."""
    idents = paper.arxiv_ids()
    candidates = [arxiv_pdf_path(idents[0])] if idents else []
    candidates.append(web_pdf_path(paper.id))
    return next((p for p in candidates if p.is_file()), None)


def expected_names(catalog: Catalog) -> set[str]:
    """Every cache name some paper of the catalog could own."""
    names: set[str] = set()
    for paper in catalog.papers():
        names.update(arxiv_file_name(i) for i in paper.arxiv_ids())
        names.add(web_file_name(paper.id))
    return names


# -- verification -------------------------------------------------------------------------------------


def pdf_problem(path: Path, expected_size: int | None = None) -> str | None:
    """Why the file is not a complete PDF, or None when it looks whole. Reads only its head and tail."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
            handle.seek(max(0, size - EOF_WINDOW))
            tail = handle.read()
    except FileNotFoundError:
        return "missing"
    except OSError as err:
        return f"unreadable ({err.strerror})"
    if size == 0:
        return "empty file"
    if not head.startswith(b"%PDF-"):
        return f"not a PDF (starts with {head[:8]!r})"
    if expected_size is not None and size != expected_size:
        return f"{size} bytes where {expected_size} were announced (truncated?)"
    if b"%%EOF" not in tail:
        return "no %%EOF marker at the end (truncated PDF)"
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- the records --------------------------------------------------------------------------------------


def _db(conn: sqlite3.Connection | None) -> AbstractContextManager[sqlite3.Connection]:
    return opened(SCHEMA, conn)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_file(name: str, url: str, path: Path, conn: sqlite3.Connection | None = None) -> None:
    values = (name, url, path.stat().st_size, sha256_of(path), _now())
    with _db(conn) as db:
        db.execute("INSERT OR REPLACE INTO pdf_files VALUES (?, ?, ?, ?, ?)", values)


def record_link(
    url: str, kind: str, content_type: str | None, conn: sqlite3.Connection | None = None
) -> None:
    with _db(conn) as db:
        db.execute(
            "INSERT OR REPLACE INTO web_links (url, kind, content_type, checked_at) VALUES (?, ?, ?, ?)",
            (url, kind, content_type, _now()),
        )


def known_link(url: str, conn: sqlite3.Connection | None = None) -> str | None:
    """'page' or 'pdf' when this url was checked before, else None."""
    with _db(conn) as db:
        row = db.execute("SELECT kind FROM web_links WHERE url = ?", (url,)).fetchone()
    return str(row["kind"]) if row else None


# -- the offline check --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CacheProblem:
    kind: str  # missing | corrupt | orphaned | stale-part
    name: str
    detail: str


@dataclass
class CacheReport:
    """What `doctor` found: problems, and how many files were fine."""

    folder: Path
    checked: int = 0
    ok: int = 0
    not_downloaded: int = 0
    problems: list[CacheProblem] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


def doctor(catalog: Catalog, *, now: float | None = None) -> CacheReport:
    """Check the cache offline: recorded files missing or corrupt, files no paper owns, stale .part files."""
    root = pdf_cache_dir()
    report = CacheReport(folder=root)
    with _db(None) as db:
        rows = {str(r["name"]): r for r in db.execute("SELECT name, size, sha256 FROM pdf_files")}
    owned = expected_names(catalog)
    for name, row in sorted(rows.items()):
        if name not in owned:
            continue  # judged below as an orphan when the file is there
        report.checked += 1
        path = root / name
        problem = pdf_problem(path, int(row["size"]))
        if problem == "missing":
            report.problems.append(
                CacheProblem("missing", name, "recorded but gone; `readtrack sync` fetches it")
            )
        elif problem is None and sha256_of(path) != row["sha256"]:
            report.problems.append(CacheProblem("corrupt", name, "content changed since download (checksum)"))
        elif problem:
            report.problems.append(
                CacheProblem("corrupt", name, f"{problem}; `readtrack sync --force` refetches")
            )
        else:
            report.ok += 1
    now = time.time() if now is None else now
    for path in _cache_files(root):
        name = path.relative_to(root).as_posix()
        if name.endswith(".part"):
            idle = now - path.stat().st_mtime
            if idle > STALE_PART_SECONDS:
                report.problems.append(
                    CacheProblem(
                        "stale-part",
                        name,
                        f"interrupted download, {age(idle)} old; `readtrack sync` resumes it",
                    )
                )
        elif name not in owned:
            report.problems.append(
                CacheProblem("orphaned", name, "no paper in the catalog uses it; safe to delete")
            )
        elif name not in rows:
            problem = pdf_problem(path)
            if problem:
                report.problems.append(CacheProblem("corrupt", name, problem))
            else:
                report.checked += 1
                report.ok += 1
    arxiv_names = {arxiv_file_name(i) for p in catalog.papers() for i in p.arxiv_ids()}
    report.not_downloaded = sum(not (root / name).exists() for name in arxiv_names)
    return report


def _cache_files(root: Path) -> Iterable[Path]:
    for folder in (root, root / WEB_DIR):
        if folder.is_dir():
            yield from sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".nfs"))
