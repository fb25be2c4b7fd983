"""`readtrack feed`: the day's arXiv ranked by what you read (`readtrack.feed`).

Thin as the rest of the CLI: the listing, ``--add N...`` and ``--dismiss N...`` each call one function of
`readtrack.feed.core`. Rows go to stdout (or JSON); what the reader should know about them (the categories
chosen for them, the window, a server's request to wait, a fall back to recency) goes to stderr.
"""

from __future__ import annotations

import sys

import typer

from readtrack.base.errors import UsageError
from readtrack.base.words import plural

commands = typer.Typer()


def _waiting(url: str, reason: str, seconds: float, attempt: int, attempts: int) -> None:
    print(
        f"readtrack: arXiv answered {reason}; waiting {seconds:.0f} s as it asked, before attempt "
        f"{attempt + 1} of {attempts}",
        file=sys.stderr,
    )


@commands.command("feed")
def feed(
    numbers: list[int] = typer.Argument(
        None, metavar="[N...]", help="With --add or --dismiss: rows of the last listing."
    ),
    category: list[str] = typer.Option(
        None,
        "--category",
        "-c",
        help="An arXiv category to follow (repeatable; default: the categories of what you read).",
    ),
    days: float = typer.Option(
        None, "--days", help="Submissions of the last N days (default: since the last feed, 1 to 7 days)."
    ),
    count: int = typer.Option(20, "-n", help="Show at most this many rows."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as a JSON array."),
    show_all: bool = typer.Option(False, "--all", help="Also what an earlier feed showed."),
    refresh: bool = typer.Option(False, "--refresh", help="Ask arXiv again instead of the cached window."),
    add: bool = typer.Option(False, "--add", help="Add rows N... of the last listing to the list."),
    dismiss: bool = typer.Option(
        False, "--dismiss", help="Never show rows N... again; the ranking learns they are not for you."
    ),
    section: str = typer.Option(None, "--section", "-s", help="With --add: the section (default Inbox)."),
) -> None:
    """The newest arXiv submissions in your categories, ranked by what you read, each with why (see the
    manual's "The day's arXiv")."""
    from readtrack.base.safe_text import visible

    if add and dismiss:
        raise UsageError("--add and --dismiss go one at a time")
    if (add or dismiss) and not numbers:
        raise UsageError(
            f"--{'add' if add else 'dismiss'} takes the numbers of rows: readtrack feed --add 1 3"
        )
    if numbers and not (add or dismiss):
        raise UsageError("row numbers go with --add or --dismiss: readtrack feed --add 1 3")
    if section and not add:
        raise UsageError("--section goes with --add")
    from readtrack.feed import core

    if add:
        from readtrack.base.paths import catalog_path

        where, papers = core.add(catalog_path(), numbers, section)
        for paper in papers:
            print(visible(f"added {paper.id} to {where}: {paper.title}"))
        return
    if dismiss:
        for dismissed in core.dismiss(numbers):
            print(visible(f"dismissed {dismissed['arxiv_id']}: {dismissed['title']}"))
        return
    from readtrack.base.paths import catalog_path
    from readtrack.plugins.links import load

    options = core.FeedOptions(
        categories=list(category or []), days=days, count=count, show_all=show_all, refresh=refresh
    )
    result = core.feed(load(catalog_path()), options, on_wait=_waiting)
    for note in result.notes:
        print(f"readtrack: {visible(note)}", file=sys.stderr)
    source = "the cached window" if result.pages == 0 else plural(result.pages, "request")
    print(
        f"readtrack: {plural(result.window, 'submission')} in {' '.join(result.categories)} over "
        f"{core.age(result.since)} ({source}); {result.held} in your list, {result.hidden} dismissed or "
        "shown before",
        file=sys.stderr,
    )
    if as_json:
        from readtrack.render import print_json

        print_json([row.to_json() for row in result.rows])
        if result.rows and not show_all:  # a script's read uses up the rows as a reader's does: said
            print(
                f"readtrack: these {plural(len(result.rows), 'row')} now count as shown: the next `feed` "
                "leaves them out (`feed --all` shows everything again and uses nothing up)",
                file=sys.stderr,
            )
        return
    if not result.rows:
        hint = "" if show_all else " (--all shows again what was shown before)"
        print(f"readtrack: nothing new to show{hint}", file=sys.stderr)
        return
    width = len(str(len(result.rows)))
    for row in result.rows:
        print(visible(f"{row.number:>{width}}  {row.title}"))
        pad = " " * (width + 2)
        print(
            visible(
                f"{pad}{row.date}  {' '.join(row.categories)}  {row.arxiv_id}{row.version}  {row.standing}"
            )
        )
        print(visible(f"{pad}why: {row.why}"))
    print("add with `readtrack feed --add N...`; not for you: `readtrack feed --dismiss N...`")
