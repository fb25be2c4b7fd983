"""The `readtrack` command line: thin Typer commands over readtrack's core.

No logic lives here: each command parses its arguments, calls one core function and renders the result
(plain, rich table or JSON). Errors are mapped to one line and an exit code in exactly one place: `main`.
Heavy modules (torch, textual, arxiv) are imported inside the commands that need them, never at the top.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from readtrack.base.words import plural
from readtrack.catalog.model import STATUS_GLYPHS
from readtrack.cli.registry import ELSEWHERE
from readtrack.render import new_console, print_json

if TYPE_CHECKING:
    from typer._click.core import Command, Context  # Typer 0.28's own Click

    from readtrack.catalog.model import Catalog


class _Elsewhere(typer.core.TyperCommand):
    """A command of another module (`ELSEWHERE`) as `--help` lists it: its name and its one-line help."""


class _Commands(typer.core.TyperGroup):
    """The app's Click group: a command of another module, invoked, is imported and built here."""

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, _Elsewhere) and name is not None:
            command = typer.main.get_command_from_info(
                _command_elsewhere(name),
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
        return name, command, rest


app = typer.Typer(
    name="readtrack",
    help="Read machine-learning papers by running them. With no command, opens the TUI.",
    cls=_Commands,
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(asked: bool) -> None:
    """``--version``: ``readtrack X.Y.Z``, the installed package's (its metadata), then exit 0."""
    if not asked:
        return
    import importlib.metadata

    from readtrack.base.version import __version__

    try:
        version = importlib.metadata.version("readtrack")
    except importlib.metadata.PackageNotFoundError:  # run from a clone that was never installed
        version = __version__
    print(f"readtrack {version}")
    raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    catalog: str = typer.Option(
        None,
        "--catalog",
        envvar="READTRACK_CATALOG",
        help="papers.yaml to use (default: ./papers.yaml, else the data dir's).",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print readtrack's version and exit."
    ),
) -> None:
    # --debug is also read from sys.argv by readtrack.cli.exits.run_mapped, which sees errors raised here
    if catalog:
        os.environ["READTRACK_CATALOG"] = catalog
    if ctx.invoked_subcommand is None:
        from readtrack.tui import run_tui

        run_tui(debug=debug)


# -- the reading list ---------------------------------------------------------------------------------

STATUS_HELP = "todo | reading | read | skipped"


def _catalog_path() -> Path:
    from readtrack.base.paths import catalog_path

    return catalog_path()


def _load() -> Catalog:
    from readtrack.plugins.links import load

    return load(_catalog_path())


@app.command("list")
def list_papers(
    section: str = typer.Option(None, "--section", "-s", help="Only this section."),
    status: str = typer.Option(None, "--status", help=STATUS_HELP),
    tag: str = typer.Option(None, "--tag", "-t", help="Only papers with this tag."),
    search: str = typer.Option(
        None, "--search", "-q", help="Words to find in title, label, id, tags, notes."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array of every matching paper."),
) -> None:
    """List papers with their status (☐ todo, ◐ reading, ☑ read, ⊘ skipped)."""
    catalog = _load()
    papers = catalog.filter(section=section, status=status, tag=tag, search=search)
    asked = {"--section": section, "--status": status, "--tag": tag, "--search": search}
    asked = {flag: value for flag, value in asked.items() if value is not None}
    if as_json:
        print_json([p.to_dict() for p in papers])
    if not papers and asked:  # as `search` does: nothing found is exit 1, said on stderr
        wanted = " ".join(f"{flag} {value!r}" for flag, value in asked.items())
        print(f"readtrack: no paper matches {wanted}", file=sys.stderr)
        raise typer.Exit(1)
    if as_json:
        return
    import shutil

    from readtrack.render.papers import paper_table

    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    width = shutil.get_terminal_size((100, 24)).columns
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ  # whole titles, for grep
    if catalog.sample:
        from readtrack.base.paths import SAMPLE_NOTICE

        print(f"readtrack: {SAMPLE_NOTICE} (--empty, or --from LIST.md)", file=sys.stderr)
    nested = not (status or tag or search)
    print(paper_table(catalog, papers, width=width, nested=nested, color=color, cut=not piped))


@app.command()
def show(
    paper_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json", help="Print the paper as JSON."),
    full: bool = typer.Option(False, "--full", help="Show long notes and abstracts whole, not cut."),
) -> None:
    """Show one paper: its fields, notes, and synced metadata when present."""
    from readtrack.render.details import paper_details

    catalog = _load()
    details = paper_details(catalog.get(paper_id))
    if as_json:
        print_json(details)
        return
    from readtrack.render.papers import full_blocks, panel_width, paper_panel

    console = new_console()
    if not console.is_terminal:  # a pipe gets full lines: no link folded, no title cut, at the width
        console.width = max(console.width, panel_width(details))
    console.print(paper_panel(details, full=full))
    if full:
        print(full_blocks(details))


@app.command()
def mark(
    paper_id: str = typer.Argument(..., metavar="ID"),
    status: str = typer.Argument(..., metavar="STATUS", help=STATUS_HELP),
    date: bool = typer.Option(
        False, "--date", help="Also record today's date as `read:` (when STATUS is read)."
    ),
) -> None:
    """Set a paper's status. Only its status line in papers.yaml changes."""
    from readtrack.catalog import edits

    catalog = edits.mark(_catalog_path(), paper_id, status, record_date=date)
    paper = catalog.get(paper_id)
    print(f"{STATUS_GLYPHS[paper.status]} {paper.id}: {paper.status}")


@app.command()
def note(
    paper_id: str = typer.Argument(..., metavar="ID"),
    text: str = typer.Argument(None, metavar="[TEXT]", help="The new notes; omit to edit them in $EDITOR."),
) -> None:
    """Replace a paper's notes (TEXT, or $EDITOR when omitted; empty text removes them)."""
    from readtrack.catalog import edits

    path = _catalog_path()
    if text is None:
        from readtrack.base.editor import edit_text

        current = _load().get(paper_id).notes or ""
        edited = edit_text(current, suffix=f"-{paper_id}.md")
        if edited is None or edited.strip() == current.strip():
            print("notes unchanged")
            return
        text = edited
    edits.note(path, paper_id, text)
    print(f"notes of {paper_id} saved" if text.strip() else f"notes of {paper_id} removed")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def tag(
    paper_id: str = typer.Argument(..., metavar="ID"),
    changes: list[str] = typer.Argument(..., metavar="+TAG|-TAG..."),
) -> None:
    """Add (+name or name) and remove (-name) tags. Removing a tag the paper lacks is said, and exits 1
    when nothing else changed."""
    from readtrack.catalog import edits

    result = edits.edit_tags(_catalog_path(), paper_id, changes)
    for word in result.absent:
        print(f"readtrack: {paper_id} has no tag {word!r}: nothing to remove", file=sys.stderr)
    paper = result.catalog.get(paper_id)
    print(f"{paper.id}: {', '.join(paper.tags) or '(no tags)'}")
    if result.absent and not result.changed:
        raise typer.Exit(1)


@app.command()
def add(
    what: str = typer.Argument(..., metavar="ARXIV_ID|DOI|URL|TITLE"),
    section: str = typer.Option(
        None,
        "--section",
        "-s",
        help="Section to add to (created when missing; default Inbox, or To read for a paper `next` "
        "suggested).",
    ),
) -> None:
    """Add a paper offline; `readtrack sync` fills its metadata later. A paper `readtrack next` suggested
    comes with its title, year and the reason it was suggested, in its notes."""
    from readtrack.catalog import edits
    from readtrack.related.suggested import suggested_entry

    entry = edits.parse_entry(what)
    suggested = suggested_entry(entry)
    if suggested is not None:
        entry = suggested
        from readtrack.related.suggested import SECTION

        section = section or SECTION
    section = section or "Inbox"
    edits.add_papers(_catalog_path(), section, [entry])  # refuses a paper already in the list
    why = " (suggested by `readtrack next`: why in its notes)" if suggested else ""
    print(f"added {entry.id} to {section}{why}")


@app.command()
def init(
    empty: bool = typer.Option(False, "--empty", help="Start with no papers."),
    source: str = typer.Option(
        None, "--from", metavar="FILE", help="Start from a markdown list or a papers.yaml."
    ),
) -> None:
    """Create your own papers.yaml (the data dir's, or --catalog PATH), starting from the list you have been
    editing (the sample list with your marks, or ./papers.yaml), or --empty, or --from FILE. Never
    overwrites a list of yours; a sample list in the way is kept as sample-papers.yaml."""
    from readtrack.base.paths import catalog_path, own_catalog_path
    from readtrack.base.safe_text import visible
    from readtrack.formats.own_list import init_catalog

    own = own_catalog_path()
    here = Path.cwd() / "papers.yaml"
    editing = here if here.is_file() and not os.environ.get("READTRACK_CATALOG") else None
    made = init_catalog(own, empty=empty, source=Path(source) if source else None, editing=editing)
    for line in made.lines():
        print(visible(line))
    for line in made.report.summary().splitlines()[1:] if made.report else []:
        print(visible(line))  # titles from the list it was made from
    in_use = catalog_path()
    if in_use.resolve() != own.resolve():
        print(f"in this folder readtrack still uses {in_use} (a ./papers.yaml wins; --catalog chooses)")


@app.command()
def stats() -> None:
    """Reading progress per section, and plugin coverage: papers with a plugin, run, passing per device."""
    from readtrack.history.coverage import coverage, newest_statuses
    from readtrack.render.papers import stats_table

    catalog = _load()
    newest, problem = newest_statuses()
    if problem:
        print(f"readtrack: {problem}", file=sys.stderr)
    new_console().print(stats_table(catalog, coverage(catalog, newest)))
    if not problem:
        from readtrack import practice
        from readtrack.practice.text import summary_line

        attempts = summary_line(practice.statuses())
        if attempts:
            print(attempts)


@app.command("import")
def import_list(
    file: str = typer.Argument(
        None,
        metavar="FILE",
        help="A markdown list (.md), BibTeX (.bib) or CSL-JSON (.json) file; with --zotero, the Zotero data "
        "directory (default: the one Zotero's settings name, else ~/Zotero).",
    ),
    section: str = typer.Option(None, "--section", "-s", help="Put every item in this section."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the report (what would be added, skipped, merged) and write nothing."
    ),
    zotero: bool = typer.Option(
        False, "--zotero", help="Import a Zotero library (collections, tags, notes, PDFs, reading status)."
    ),
) -> None:
    """Merge a reading list or library into papers.yaml, skipping papers already there."""
    from readtrack import formats
    from readtrack.base.errors import ReadtrackError, UsageError

    if not zotero and not file:
        raise UsageError("give a file to import (FILE.md, FILE.bib or FILE.json), or --zotero [DIR]")
    report = (
        formats.import_zotero(_catalog_path(), Path(file) if file else None, section=section, dry_run=dry_run)
        if zotero
        else formats.import_file(_catalog_path(), Path(file), section=section, dry_run=dry_run)
    )
    from readtrack.base.safe_text import visible

    print(visible(report.summary(), multiline=True))  # titles from the file imported
    problems = getattr(report, "problems", [])
    if problems:  # the work is done and reported; the exit status says some items were not whole
        count = len(problems)
        raise ReadtrackError(f"{plural(count, 'item')} had problems (listed above)")


@app.command()
def export(
    fmt: str = typer.Option("md", "--format", "-f", metavar="md|bibtex|json", help="What to write."),
    output: str = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Write the whole list as a markdown checklist, BibTeX or JSON."""
    from readtrack.formats.importer import export_catalog

    result = export_catalog(_catalog_path(), fmt, Path(output) if output else None)
    if result.written_to is None:
        sys.stdout.write(result.text)
    else:
        print(f"exported {plural(result.papers, 'paper')} as {fmt} to {result.written_to}")


# -- commands of other modules (`readtrack.cli.registry`), each imported only when one of them runs ----


def _placeholder() -> None:
    """Never run: `_Commands.resolve_command` builds the real command of a name in `ELSEWHERE`."""
    raise AssertionError("a command of ELSEWHERE was run without its module")


app.registered_commands += [
    typer.models.CommandInfo(name=name, help=line, cls=_Elsewhere, callback=_placeholder)
    for name, (_, line) in ELSEWHERE.items()
]


def _command_elsewhere(name: str) -> typer.models.CommandInfo:
    """The real command ``name`` of `ELSEWHERE`, its module imported (its `commands` Typer holds it)."""
    import importlib

    module = importlib.import_module(ELSEWHERE[name][0])
    commands: typer.Typer = module.commands
    return next(c for c in commands.registered_commands if _command_name(c) == name)


def every_command() -> list[typer.models.CommandInfo]:
    """Every command of the app, in `--help`'s order, those of `ELSEWHERE` imported (what the app held before
    issue 87; for tests)."""
    return [
        _command_elsewhere(_command_name(c)) if c.cls is _Elsewhere else c for c in app.registered_commands
    ]


# -- arXiv sync and the PDF cache ---------------------------------------------------------------------


@app.command("sync")
def sync_papers(
    paper_ids: list[str] = typer.Argument(None, metavar="[ID...]", help="Only these papers (default: all)."),
    section: str = typer.Option(None, "--section", "-s", help="Only papers of this section."),
    no_pdf: bool = typer.Option(False, "--no-pdf", help="Metadata only; no PDF downloads."),
    resolve: bool = typer.Option(
        False, "--resolve", help="Find arXiv ids by title and write confident ones."
    ),
    force: bool = typer.Option(False, "--force", help="Fetch again what is already stored."),
    jobs: int = typer.Option(4, "--jobs", "-j", help="Parallel downloads from non-arXiv hosts."),
) -> None:
    """Fetch arXiv metadata (abstracts, authors) and PDFs for offline reading; politely, resumably."""
    from readtrack.arxiv import sync
    from readtrack.arxiv.syncreport import summary_lines
    from readtrack.render.papers import TerminalProgress
    from readtrack.search.index import refresh_list

    options = sync.SyncOptions.from_env(pdf=not no_pdf, resolve=resolve, force=force, jobs=jobs)
    with TerminalProgress() as progress:
        report = sync.sync(
            _load(), paper_ids or [], section=section, options=options, on_event=progress,
            index=refresh_list,
        )  # fmt: skip
    from readtrack.base.safe_text import visible

    for line in summary_lines(report):
        print(visible(line, multiline=True))  # ids, URLs and a server's words
    raise typer.Exit(report.exit_code)


@app.command("open")
def open_paper(paper_id: str = typer.Argument(..., metavar="ID")) -> None:
    """Open a paper's PDF in the system viewer (READTRACK_OPENER overrides), syncing it first if missing."""
    from readtrack.arxiv import viewer
    from readtrack.render.papers import TerminalProgress

    with TerminalProgress() as progress:
        opened = viewer.open_paper(_load(), paper_id, on_event=progress)
    from readtrack.base.safe_text import visible

    print(f"opened {visible(opened)}")


@app.command()
def doctor(
    reindex: bool = typer.Option(False, "--reindex", help="Also rebuild the search index from scratch."),
    repair: bool = typer.Option(
        False,
        "--repair",
        help="Move a corrupt database aside (keeping what can be read), rebuild the search index, remove "
        "temp files of writes that never finished.",
    ),
    address: str = typer.Option(
        None, "--address", metavar="HOST:PORT", help="The Ray cluster to show (default: RAY_ADDRESS)."
    ),
) -> None:
    """Check offline: the database, temp files of unfinished writes, plugins that cannot run (broken or
    shadowed), and the PDF cache (missing, corrupt and orphaned files, stale partial downloads); say which
    plugins' calibration is stale, incomplete or missing, and the cluster `--executor ray` would use (asked
    for its nodes when RAY_ADDRESS or --address names one)."""
    from readtrack.catalog import pdfcache
    from readtrack.cli.doctor import (
        calibration_line,
        check_setup,
        cluster_line,
        plugin_problems,
        semantic_scholar_line,
    )
    from readtrack.render.papers import doctor_lines

    catalog = _load()
    setup = check_setup(catalog.path, repair=repair)
    for line in setup.lines():
        print(line)
    broken_plugins = plugin_problems()
    for line in broken_plugins:
        print(line)
    print(calibration_line())  # said, not a problem of the setup: it leaves the exit status as it is
    print(semantic_scholar_line())
    cluster, cluster_usable = cluster_line(address)
    print(cluster)
    if not setup.database_usable:
        print("PDF cache not checked: its records are in the database")
        raise typer.Exit(1)
    report = pdfcache.doctor(catalog)
    elsewhere = len(setup.stale) + len(broken_plugins) + (not cluster_usable)  # the summary counts them all
    for line in doctor_lines(report, elsewhere):
        print(line)
    if reindex or setup.repaired is not None:
        from readtrack.render.search import index_lines
        from readtrack.search import index as search_index

        for line in index_lines(search_index.rebuild(catalog), search_index.problems()):
            print(line)
    raise typer.Exit(0 if report.healthy and setup.healthy and not broken_plugins and cluster_usable else 1)


# -- full-text search ---------------------------------------------------------------------------------


@app.command()
def search(
    query: list[str] = typer.Argument(
        ..., metavar="QUERY", help='Words, "phrases", prefix*, AND/OR/NOT, field:'
    ),
    limit: int = typer.Option(20, "--limit", "-n", help="At most this many hits, best first."),
    as_json: bool = typer.Option(False, "--json", help="Print the hits as a JSON array."),
) -> None:
    """Search titles, notes, abstracts, PDF text and plugin pages and code (fields: title: notes: abstract:
    pdf: page: code: author: year:; filters: status:read tag:attention section:vision). Exit 1: no match."""
    from readtrack.search.query import search as run_search

    text = " ".join(query)
    hits, report = run_search(_load(), text, limit=limit)
    for paper_id, problem in report.no_text.items():
        print(f"readtrack: the PDF of {paper_id} has no text: {problem}", file=sys.stderr)
    if as_json:
        print_json([hit.to_dict() for hit in hits])
    else:
        import shutil

        from readtrack.render.search import hit_lines

        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        width = shutil.get_terminal_size((100, 24)).columns
        for line in hit_lines(hits, width=width, color=color):
            print(line)
    if not hits:
        print(f"readtrack: nothing matches {text!r}", file=sys.stderr)
        raise typer.Exit(1)


def main() -> None:
    """Run the CLI (the ``readtrack`` script comes here through `readtrack.cli.launch` unless it opens the
    TUI).

    Typer (standalone mode) already reports usage errors with exit 2; `readtrack.cli.exits.run_mapped` maps
    `ReadtrackError` to ``readtrack: message`` and its exit code. A command that only reads, run again on
    unchanged inputs, prints what it printed then (`readtrack.cli.replay`).
    """
    from readtrack.cli import replay
    from readtrack.cli.exits import run_mapped

    args = sys.argv[1:]
    if replay.replay(args):  # the same command on unchanged inputs: what it printed then (issue 96)
        return
    only_the_invoked_command(args)
    kept = replay.recording(args)
    code: object = 0
    try:
        run_mapped(app, "--debug" in sys.argv)
    except SystemExit as done:
        code = done.code
        raise
    except BaseException:
        code = 1
        raise
    finally:
        if kept is not None:
            kept.finish(code)


def only_the_invoked_command(args: list[str]) -> None:
    """Keep in `app` only the command ``args`` invoke, when they name one.

    On every start Typer builds a Click command for each of the 27 commands (their signatures read, their
    types resolved: 8 ms, as long as `list` takes to draw 1,000 papers), and Click then runs one. A named
    command's usage, help and errors name only itself, so they are the same from a one-command app. With no
    command, ``--help``, or a name that is no command (which Click answers by listing or suggesting the
    others), every command stays.
    """
    rest = iter(args)
    for arg in rest:
        if arg == "--catalog":
            next(rest, None)
        elif arg == "--debug" or arg.startswith("--catalog="):
            continue
        elif arg.startswith("-"):
            return
        else:
            invoked = [c for c in app.registered_commands if _command_name(c) == arg]
            if invoked:  # a command of another module: that module imported, and only that one
                app.registered_commands = [
                    _command_elsewhere(arg) if c.cls is _Elsewhere else c for c in invoked
                ]
            return


def _command_name(command: typer.models.CommandInfo) -> str:
    """The name Typer gives a command: its own, or its function's (``typer.main.get_command_name``)."""
    assert command.callback is not None
    return command.name or typer.main.get_command_name(command.callback.__name__)
