"""The `readtrack` command line: thin Typer commands over readtrack's core.

No logic lives here: each command parses its arguments, calls one core function and renders the result
(plain, rich table or JSON). Errors are mapped to one line and an exit code in exactly one place: `main`.
Heavy modules (torch, textual, arxiv) are imported inside the commands that need them, never at the top.
"""

from __future__ import annotations

import os
import sys

import typer

from readtrack.errors import ReadtrackError

app = typer.Typer(
    name="readtrack",
    help="Read machine-learning papers by running them. With no command, opens the TUI.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_debug = False


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    catalog: str = typer.Option(
        None, "--catalog", envvar="READTRACK_CATALOG", help="papers.yaml to use (default: ./papers.yaml, else the data dir's)."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
) -> None:
    global _debug
    _debug = debug
    if catalog:
        os.environ["READTRACK_CATALOG"] = catalog
    if ctx.invoked_subcommand is None:
        from readtrack.tui import run_tui

        run_tui()


def main() -> None:
    """Entry point: run the app, turning readtrack errors into one line and an exit code."""
    try:
        app(standalone_mode=False)
    except ReadtrackError as err:
        if _debug:
            raise
        print(f"readtrack: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        print("readtrack: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as err:  # click's own usage errors arrive here in standalone_mode=False
        import click

        if isinstance(err, click.exceptions.Exit):
            sys.exit(err.exit_code)
        if isinstance(err, click.ClickException):
            err.show()
            sys.exit(err.exit_code)
        if isinstance(err, click.exceptions.Abort):
            sys.exit(130)
        raise
