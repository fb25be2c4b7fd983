"""The citation-graph commands of the `readtrack` CLI: refs, cites and next (`readtrack.related`).

Thin as the rest of the CLI: each opens the Semantic Scholar client on the data dir's cache, asks
`readtrack.related.graph.Related` one question and prints its rows (`readtrack.render.related`) or JSON.
Progress goes to stderr while it is a terminal; what the reader should know about the answer (a title match,
a capped citation list, answers from the cache and their date) goes to stderr always, stdout keeps the rows.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from readtrack.base.errors import UsageError
from readtrack.base.words import plural
from readtrack.related.suggested import SECTION
from readtrack.render import print_json

if TYPE_CHECKING:
    from readtrack.related.graph import Listing, Related, Row
    from readtrack.related.s2 import SemanticScholar

commands = typer.Typer()

COUNT_HELP = "Show at most this many rows."
FETCH_HELP = (
    "How many references or citations to fetch per paper: a number, or all (default 1000, or -n if more)."
)
REFS_SORT_HELP = "Semantic Scholar's order, the most cited first, or the newest first."
REFRESH_HELP = "Ask Semantic Scholar again instead of using its cached answers."
PAPER_HELP = "A paper of your list, an arXiv id, DOI:... or a Semantic Scholar paperId."


def _fetch_cap(text: str | None, shown: int = 0) -> int | None:
    """``--fetch``: None for all; unset, the default or the rows asked for (``-n``), whichever is more."""
    if text is None:
        from readtrack.related.graph import DEFAULT_FETCH

        return max(DEFAULT_FETCH, shown)
    if text.strip().lower() == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"--fetch takes a number of papers (1 or more) or all, got {text!r}")
    return value


class _Progress:
    """Progress lines on stderr, each replacing the last, while stderr is a terminal; a server's request
    to wait is said always."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.shown = False

    def __call__(self, text: str) -> None:
        if self.live:
            from readtrack.base.safe_text import visible

            width = shutil.get_terminal_size((80, 24)).columns
            sys.stderr.write("\r\x1b[K" + visible(text)[: width - 1])  # a title is a server's text
            sys.stderr.flush()
            self.shown = True

    def waiting(self, url: str, reason: str, seconds: float, attempt: int, attempts: int) -> None:
        self.clear()
        print(
            f"readtrack: Semantic Scholar answered {reason}; waiting {seconds:.0f} s before attempt "
            f"{attempt + 1} of {attempts}",
            file=sys.stderr,
        )

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


@contextmanager
def _related(refresh: bool) -> Iterator[tuple[Related, _Progress]]:
    """`Related` of the reader's list, progress on stderr; the summary (requests, cached answers) after."""
    from readtrack.base.paths import catalog_path
    from readtrack.plugins.links import load
    from readtrack.related.graph import opened

    progress = _Progress()
    with opened(
        load(catalog_path()), refresh=refresh, on_progress=progress, on_wait=progress.waiting
    ) as related:
        try:
            yield related, progress
        finally:
            progress.clear()
        sys.stdout.flush()  # the rows before the summary, in a terminal and in `2>&1 | less`
        print(_summary(related.client), file=sys.stderr)


def _summary(client: SemanticScholar) -> str:
    parts = [f"{plural(client.requests, 'request')} to Semantic Scholar"]
    if client.from_cache:
        parts.append(
            f"{plural(client.from_cache, 'answer')} from the cache of {client.oldest} (--refresh asks again)"
        )
    return "readtrack: " + ", ".join(parts)


def _print_rows(rows: list[Row], as_json: bool) -> None:
    if as_json:
        print_json([row.to_dict() for row in rows])
        return
    from readtrack.render.related import row_lines

    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    width = shutil.get_terminal_size((100, 24)).columns
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    for line in row_lines(rows, width=width, color=color, cut=not piped):
        print(line)


def _notes(notes: list[str]) -> None:
    from readtrack.base.safe_text import visible

    for note in notes:
        print(f"readtrack: {visible(note)}", file=sys.stderr)


def _check_sort(sort: str, orders: tuple[str, ...]) -> None:
    if sort not in orders:
        raise UsageError(f"--sort takes {', '.join(orders[:-1])} or {orders[-1]}, got {sort!r}")


@commands.command()
def refs(
    paper: str = typer.Argument(
        ..., metavar="ID", help="A paper of your list, an arXiv id, DOI:... or a paperId."
    ),
    count: int = typer.Option(20, "-n", "--count", min=1, help=COUNT_HELP),
    sort: str = typer.Option("order", "--sort", metavar="order|cited|newest", help=REFS_SORT_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as a JSON array."),
    fetch: str = typer.Option(None, "--fetch", metavar="N|all", help=FETCH_HELP),
    refresh: bool = typer.Option(False, "--refresh", help=REFRESH_HELP),
) -> None:
    """What a paper cites (Semantic Scholar's order, or --sort), each row's place in your list and its
    plugins."""
    _check_sort(sort, ("order", "cited", "newest"))
    cap = _fetch_cap(fetch, count)
    with _related(refresh) as (related, progress):
        listing = related.refs(paper, fetch=cap, sort=sort)
        progress.clear()
        _listing_out(listing, "references", count, as_json, sort)


@commands.command()
def cites(
    paper: str = typer.Argument(
        ..., metavar="ID", help="A paper of your list, an arXiv id, DOI:... or a paperId."
    ),
    count: int = typer.Option(20, "-n", "--count", min=1, help=COUNT_HELP),
    sort: str = typer.Option("cited", "--sort", metavar="cited|newest", help="Most cited or newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as a JSON array."),
    fetch: str = typer.Option(None, "--fetch", metavar="N|all", help=FETCH_HELP),
    refresh: bool = typer.Option(False, "--refresh", help=REFRESH_HELP),
) -> None:
    """Who cites a paper, most cited (or newest) first among the citations fetched."""
    _check_sort(sort, ("cited", "newest"))
    cap = _fetch_cap(fetch, count)
    with _related(refresh) as (related, progress):
        listing = related.cites(paper, fetch=cap, sort=sort)
        progress.clear()
        _listing_out(listing, "citations", count, as_json, sort)


def _listing_out(listing: Listing, kind: str, count: int, as_json: bool, sort: str) -> None:
    _notes(listing.notes)
    target = listing.target
    total = target.citations if kind == "citations" else None
    if not listing.complete:
        of = f" of {total:,}" if total else ""
        _notes([f"fetched the first {listing.fetched:,}{of} {kind} (--fetch N or --fetch all for more)"])
    rows = listing.rows[:count]
    unresolved = f" ({listing.unresolved:,} unresolved)" if listing.unresolved else ""
    if as_json:
        if listing.unresolved:  # the table's heading says it; JSON has no heading
            said = f"{listing.fetched:,} {kind} fetched{unresolved}"
            _notes([f"{said}: Semantic Scholar has no paper for the unresolved ones"])
        _print_rows(rows, as_json)
        return
    from readtrack.base.safe_text import visible

    title = f"“{visible(target.title)}” ({target.year or 'year unknown'})"
    if kind == "references":
        order = {"cited": ", the most cited first", "newest": ", the newest first"}.get(sort, "")
        heading = (
            f"{title}:",
            f"{len(rows)} of its {plural(listing.fetched, 'reference')}{unresolved}{order}",
        )
    else:
        order = "most cited" if sort == "cited" else "newest"
        fetched = f"{listing.fetched:,}" + ("" if listing.complete else " fetched")
        heading = (title, f"is cited by {fetched}{unresolved}: the {len(rows)} {order} first")
    for line in _heading_lines(*heading):
        print(line)
    _print_rows(rows, as_json)


def _heading_lines(title: str, counts: str) -> list[str]:
    """The title and what is shown of its listing: one line in a pipe (as the rows) or when it fits the
    terminal's width (or ``COLUMNS``); else the counts on a line of their own, each part wrapped at words."""
    text = f"{title} {counts}"
    if not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        return [text]
    width = max(shutil.get_terminal_size((100, 24)).columns, 20)
    if len(text) <= width:
        return [text]
    import textwrap

    return [
        line
        for part in (title, counts)
        for line in textwrap.wrap(part, width, break_long_words=False, break_on_hyphens=False) or [part]
    ]


@commands.command("next")
def next_papers(
    count: int = typer.Option(20, "-n", "--count", min=1, help=COUNT_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as a JSON array."),
    include_listed: bool = typer.Option(False, "--all", help="Also show papers already in your list."),
    add: list[int] = typer.Option(
        None, "--add", metavar="N", help="Add row N (as numbered) to your list; repeat for more."
    ),
    section: str = typer.Option(SECTION, "--section", "-s", help="The section --add puts papers in."),
    fetch: str = typer.Option(None, "--fetch", metavar="N|all", help=FETCH_HELP),
    recommendations: bool = typer.Option(
        True, "--recommendations/--no-recommendations", help="Also ask Semantic Scholar's recommendations."
    ),
    refresh: bool = typer.Option(False, "--refresh", help=REFRESH_HELP),
) -> None:
    """What to read next: papers cited by or citing the ones you read or are reading, and Semantic
    Scholar's recommendations, ranked (see the manual's "What to read next")."""
    cap = _fetch_cap(fetch)
    with _related(refresh) as (related, progress):
        found = related.suggest(fetch=cap, recommendations=recommendations, include_listed=include_listed)
        progress.clear()
        from readtrack.related import suggested

        suggested.remember(related.client.cache, found.rows)
        _notes(found.notes + (["--fetch all fetches every citation"] if found.capped else []))
        rows = found.rows
        if add:
            _add_rows(rows, add, section)
            return
        if not as_json:
            read = plural(found.ranked_by, "paper")
            shown = f"{min(count, len(rows))} of {len(rows):,} candidates"
            print(f"{shown}, ranked by the {read} you read or are reading")
        _print_rows(rows[:count], as_json)


def _add_rows(rows: list[Row], numbers: list[int], section: str) -> None:
    from readtrack.base.paths import catalog_path
    from readtrack.base.safe_text import visible
    from readtrack.related import suggested

    for number in numbers:
        if not 1 <= number <= len(rows):
            raise UsageError(f"--add {number}: the suggestions are numbered 1 to {len(rows)}")
    added = suggested.add_rows(catalog_path(), [rows[n - 1] for n in numbers], section)
    for paper in added:
        print(f"added {visible(paper.id)} to {visible(section)}: {visible(paper.title)} (why: in its notes)")
