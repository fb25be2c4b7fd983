"""Everything known about one paper, for `readtrack show` and the TUI's detail pane.

The catalog fields come from papers.yaml; abstract, authors, dates, categories and the PDF path come from
the sync cache (SQLite and the PDF folder) when the paper has been synced, and are null otherwise.
"""

from __future__ import annotations

from typing import Any

from readtrack.catalog import Paper

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


def paper_details(paper: Paper) -> dict[str, Any]:
    """``paper.to_dict()`` plus the synced metadata keys (null when not synced) and the nested ids."""
    from readtrack.metadata import synced_details  # SQLite and the PDF folder; no network

    details = catalog_details(paper)
    details.update(synced_details(paper))
    return details


def catalog_details(paper: Paper) -> dict[str, Any]:
    """The same shape from papers.yaml alone, every synced key empty (no database is opened)."""
    details: dict[str, Any] = paper.to_dict()
    details.update(dict.fromkeys(SYNCED_KEYS))
    details["authors"] = []
    details["categories"] = []
    details["children"] = [child.id for child in paper.children]
    return details
