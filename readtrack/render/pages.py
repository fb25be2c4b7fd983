"""`readtrack explain`: a plugin's page as rich Markdown and, on request, its code highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from readtrack.pages import PluginPage


def render_page(page: PluginPage, console: Console, *, code: bool = False) -> None:
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.syntax import Syntax

    console.print(Markdown(page.markdown()))
    if not code:
        names = ", ".join(f.name for f in page.files)
        console.print(f"\n[dim]code: {names} (readtrack explain {page.name} --code)[/dim]")
        return
    for source in page.files:
        console.print()
        console.print(Rule(f"{source.name}  ({source.path})", align="left"))
        console.print(Syntax(source.text, "python", line_numbers=True, word_wrap=False))
