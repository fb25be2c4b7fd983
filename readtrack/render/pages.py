"""`readtrack explain`: a plugin's page as rich Markdown and, on request, its code highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from readtrack.plugins.pages import PluginPage


def render_page(page: PluginPage, console: Console, *, code: bool = False) -> None:
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.syntax import Syntax
    from rich.text import Text

    from readtrack.base.safe_text import visible

    console.print(Markdown(visible(page.markdown(), multiline=True)))
    if not code:
        names = ", ".join(f.name for f in page.files)
        console.print()
        console.print(Text(visible(f"code: {names} (readtrack explain {page.name} --code)"), style="dim"))
        return
    for source in page.files:
        console.print()
        console.print(Rule(Text(visible(f"{source.name}  ({source.path})")), align="left"))
        # a line longer than the terminal wraps under its number: no character is dropped
        text = visible(source.text, multiline=True)
        console.print(Syntax(text, "python", line_numbers=True, word_wrap=True))
