"""How a plugin's knobs look in a terminal: ``readtrack knobs NAME``."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from readtrack.base.safe_text import visible
from readtrack.plugins.knobs import Knob, value_text


def render_knobs(plugin: str, found: Sequence[Knob], console: Console) -> None:
    """One row a knob: its name, quick and full defaults, what it may be, and what it means (with what the
    paper used); then how to turn one."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    table.add_column("knob", no_wrap=True, style="bold")
    table.add_column("quick", justify="right", no_wrap=True)
    table.add_column("full", justify="right", no_wrap=True)
    table.add_column("allowed", overflow="fold")
    table.add_column("what it is", ratio=1)
    for k in found:
        meaning = Text(visible(k.help))
        if k.paper:
            meaning.append(f" (paper: {visible(k.paper)})", style="dim")
        quick, full = value_text(k.quick), value_text(k.full)
        table.add_row(k.name, quick, full, k.allowed(), meaning)
    console.print(Text(f"{plugin}: {len(found)} knobs", style="bold"))
    console.print(table)
    first = found[0] if found else None
    if first is not None:
        console.print(
            Text(
                f"turn one: readtrack run {plugin} --quick --set {first.name}=VALUE (a run of other settings "
                "reports its targets, asserts none: they were calibrated on the defaults)",
                style="dim",
            )
        )
