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
    """``paper.to_dict()`` plus the synced metadata keys (null when not synced), the nested ids and each
    plugin's newest run (``last_runs``: plugin -> status, device, threads, seeds, quick, started)."""
    from readtrack.metadata import synced_details  # SQLite and the PDF folder; no network

    details = catalog_details(paper)
    details.update(synced_details(paper))
    details["last_runs"] = last_runs(paper.plugins)
    return details


def last_runs(plugins: list[str]) -> dict[str, dict[str, Any]]:
    """The newest run (or multi-seed run) of each plugin that has one, from history."""
    from readtrack.history import entries
    from readtrack.records import GroupRecord

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
