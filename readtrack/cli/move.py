"""`readtrack move`: a paper's lines moved elsewhere in papers.yaml (`readtrack.catalog.moves`), nothing else
changed."""

from __future__ import annotations

import typer

commands = typer.Typer()


@commands.command("move")
def move(
    paper_id: str = typer.Argument(..., metavar="ID"),
    before: str = typer.Option(None, "--before", metavar="ID", help="Put it right before this paper."),
    after: str = typer.Option(None, "--after", metavar="ID", help="Put it right after this paper."),
    section: str = typer.Option(None, "--section", "-s", help="Put it at the end of this section."),
) -> None:
    """Move a paper before or after another, or to the end of a section: only its own lines move (with the
    comment lines right above it), every other line of papers.yaml stays as it was."""
    from readtrack.base.paths import catalog_path
    from readtrack.base.safe_text import visible
    from readtrack.catalog.moves import move as move_paper

    path = catalog_path()
    was = path.read_bytes() if path.is_file() else b""
    catalog = move_paper(path, paper_id, before=before, after=after, section=section)
    paper = catalog.get(paper_id)
    where = f"before {before}" if before else f"after {after}" if after else "at its end"
    still = " (already there: nothing written)" if path.read_bytes() == was else ""
    print(visible(f"{paper.id}: {where}, in {paper.section}{still}"))
