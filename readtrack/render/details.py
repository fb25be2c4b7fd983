"""Everything known about one paper, for `readtrack show` and the TUI's detail pane.

The catalog fields come from papers.yaml; abstract, authors, dates, categories and the PDF path come from
the sync cache (SQLite and the PDF folder) when the paper has been synced, and are null otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from readtrack.base.safe_text import visible
from readtrack.catalog.model import Paper

if TYPE_CHECKING:
    import sqlite3

SYNCED_KEYS = (
    "abstract",
    "authors",
    "published",
    "updated",
    "categories",
    "primary_category",
    "doi",
    "journal_ref",
    "comment",
    "pdf_path",
)
# Fields shown as blocks (line breaks kept), and how much of each a view shows before cutting it: a 5 MB
# note would take a terminal (or the TUI's pane) seconds to lay out, and nobody reads it there.
BLOCK_KEYS = ("abstract", "notes")
SHOWN_CHARS = 4000
SHOWN_LINES = 60


def paper_details(paper: Paper) -> dict[str, Any]:
    """``paper.to_dict()`` plus the synced metadata keys (null when not synced), the nested ids and each
    plugin's newest run (``last_runs``: plugin -> status, device, threads, seeds, quick, started)."""
    from readtrack.catalog.stored import SHOWN  # what `readtrack import` stored
    from readtrack.catalog.stored import details as imported

    details = catalog_details(paper)
    details.update(synced_details(paper))
    for key, value in imported(paper.id, paper.arxiv).items():
        shown_as = SHOWN.get(key)
        if shown_as and not details.get(shown_as):  # arXiv's own metadata, once synced, comes first
            details[shown_as] = value
    details["last_runs"] = last_runs(paper.plugins)
    return details


def last_runs(plugins: list[str]) -> dict[str, dict[str, Any]]:
    """The newest run (or multi-seed run) of each plugin that has one, from history."""
    if not plugins:  # a paper without a plugin: history is not opened, nor imported
        return {}
    from readtrack.history.runs import entries
    from readtrack.history.spread import GroupRecord

    found: dict[str, dict[str, Any]] = {}
    for plugin in plugins:
        newest = entries(plugin, limit=1)
        if not newest or (isinstance(newest[0], GroupRecord) and not newest[0].runs):
            continue
        entry = newest[0]
        info = entry.info
        found[plugin] = {
            "status": entry.status,
            "device": info.device,
            "threads": info.threads,
            "seeds": entry.seeds if isinstance(entry, GroupRecord) else [info.seed],
            "quick": info.quick,
            "started_at": entry.started_at if isinstance(entry, GroupRecord) else info.started_at,
        }
    return found


def catalog_details(paper: Paper) -> dict[str, Any]:
    """The same shape from papers.yaml alone, every synced key empty (no database is opened)."""
    details: dict[str, Any] = paper.to_dict()
    details.update(dict.fromkeys(SYNCED_KEYS))
    details["authors"] = []
    details["categories"] = []
    details["children"] = [child.id for child in paper.children]
    details["last_runs"] = {}
    return details


def shown_details(details: dict[str, Any], *, full: bool = False) -> dict[str, Any]:
    """``details`` as a view shows them: every text made `visible` (control characters written out),
    and, unless ``full``, notes and abstract past `SHOWN_CHARS` characters or `SHOWN_LINES` lines cut,
    ending in ``… [4.9 MB more: readtrack show ID --full]``. JSON output keeps the data itself."""
    shown: dict[str, Any] = {}
    for key, value in details.items():
        if key in BLOCK_KEYS and isinstance(value, str):
            text = value if full else cut_long(value, details.get("id", ""))
            shown[key] = visible(text, multiline=True)
        else:
            shown[key] = _visible_value(value)
    return shown


def _visible_value(value: Any) -> Any:
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, list):
        return [_visible_value(v) for v in value]
    if isinstance(value, dict):
        return {_visible_value(k): _visible_value(v) for k, v in value.items()}
    return value


def cut_long(text: str, paper_id: str) -> str:
    """``text`` cut after `SHOWN_CHARS` characters or `SHOWN_LINES` lines, saying how much was left out
    and how to see it all; short text unchanged."""
    end = cut_at(text)
    if end is None:
        return text
    return f"{text[:end].rstrip()}\n… [{size_after(text, end)} more: readtrack show {paper_id} --full]"


def cut_at(text: str, *, lines: int | None = SHOWN_LINES, at_word: bool = False) -> int | None:
    """Where a view cuts ``text``: after `SHOWN_CHARS` characters or ``lines`` lines (None: no line limit),
    back at the last line or word end when ``at_word`` and one lies in the second half; None when the text
    shows whole. `cut_long` (``show``) and the TUI's detail pane both cut here."""
    end = len(text) if len(text) <= SHOWN_CHARS else SHOWN_CHARS
    breaks = 0
    at = text.find("\n") if lines is not None else -1
    while at != -1 and at < end:
        breaks += 1
        if breaks == lines:
            end = at
            break
        at = text.find("\n", at + 1)
    if end >= len(text):
        return None
    if at_word:
        word_end = max(text.rfind("\n", 0, end), text.rfind(" ", 0, end))
        end = word_end if word_end > end // 2 else end
    return end


def size_after(text: str, end: int) -> str:
    """How much of ``text`` lies past ``end``, in bytes as people read them: ``4.9 MB``."""
    from rich.filesize import decimal

    return decimal(len(text[end:].encode("utf-8", "surrogatepass")))


def synced_details(paper: Paper, conn: sqlite3.Connection | None = None) -> dict[str, Any]:
    """The synced keys of ``show --json``: abstract, authors, published, updated, categories, primary
    category, DOI, journal ref, comment, and ``pdf_path`` (the cached PDF, null when not downloaded)."""
    from readtrack.catalog.metadata import NOT_DETAILS, for_papers
    from readtrack.catalog.pdfcache import paper_pdf_path

    pdf = paper_pdf_path(paper)
    details: dict[str, Any] = {"pdf_path": str(pdf) if pdf else None}
    record = for_papers([paper], conn).get(paper.id)
    if record:
        details.update((k, v) for k, v in record.to_dict().items() if k not in NOT_DETAILS)
    return details
