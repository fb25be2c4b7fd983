"""How a plugin's knobs look in a terminal: ``readtrack knobs NAME``."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from readtrack.base.safe_text import visible
from readtrack.plugins.knobs import Knob, value_text
from readtrack.render import tables
from readtrack.render.tables import Fitted


def render_knobs(plugin: str, found: Sequence[Knob], console: Console) -> None:
    """One row a knob: its name, quick and full defaults, what it may be, and what it means (with what the
    paper used); then how to turn one. Below 100 columns, or where those columns do not fit without folding a
    word, a knob's defaults, range and meaning stack in one cell beside its name, each wrapping at words (a
    column of its own would cut "reparameterised"). The name is never cut (`readtrack.render.tables`)."""
    table = _knob_table(found, narrow=console.width < 100)
    if not table.fits(console):
        table = _knob_table(found, narrow=True)
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


def _knob_table(found: Sequence[Knob], *, narrow: bool) -> Fitted:
    """The knobs' table: a column each for the defaults, the range and the meaning, or ``narrow`` all three
    stacked in one cell."""
    table = tables.table()
    table.add_column("knob", kind="id", style="bold")
    if narrow:
        table.add_column("defaults, what it may be, what it is")
    else:
        table.add_column("quick", kind="number", justify="right")
        table.add_column("full", kind="number", justify="right")
        table.add_column("allowed")
        table.add_column("what it is")
    for k in found:
        meaning = Text(visible(k.help))
        if k.paper:
            meaning.append(f" (paper: {visible(k.paper)})", style="dim")
        for value, words in k.means:  # what a special value stands for: "0.0: each its best of 3e-3, 1e-2"
            meaning.append("\n")
            meaning.append(visible(f"{value_text(value)}: {words}"))
        quick, full = value_text(k.quick), value_text(k.full)
        if narrow:
            cell = Text(f"quick {quick} · full {full}" if quick != full else f"quick and full {quick}")
            cell.append(f" · {k.allowed()}\n", style="dim")
            table.add_row(k.name, cell.append_text(meaning))
        else:
            table.add_row(k.name, quick, full, k.allowed(), meaning)
    return table
