"""How a sweep's end looks in a terminal: one table per number, one row per setting (`readtrack.sweep`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from readtrack.render.runs import fmt_number
from readtrack.safe_text import visible
from readtrack.sweep import NumberTable


def render_sweep(plugin: str, found: Sequence[NumberTable], console: Console) -> None:
    """Each number's table: settings, seeds, mean ± sd, 95% interval and whether it differs from the
    defaults beyond both intervals; the defaults' row first and marked."""
    if not found:
        console.print(f"{plugin}: the sweep's runs reported no number")
        return
    for number in found:
        title = Text(visible(number.name), style="bold")
        if number.target is not None:
            sign = "≥" if number.higher_is_better else "≤"
            title.append(f"  (the claim: {sign} {number.target:g})", style="dim")
        console.print(title)
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("settings", ratio=1)
        for column in ("n", "mean ± sd", "95% interval", "vs defaults"):
            table.add_column(column, justify="right" if column != "vs defaults" else "left", no_wrap=True)
        for row in number.rows:
            s = row.spread
            low, high = s.ci95
            spread = fmt_number(s.mean) + ("" if math.isnan(s.std) else f" ± {fmt_number(s.std)}")
            interval = "–" if math.isnan(low) else f"{fmt_number(low)} … {fmt_number(high)}"
            verdict = {
                True: Text("differs", style="bold"),
                False: Text("within"),
                None: Text("–", style="dim"),
            }
            label = Text("defaults", style="bold") if row.defaults else Text(visible(row.settings))
            table.add_row(label, str(len(s.finite)), spread, interval, verdict[row.differs])
        console.print(table)
    console.print(
        Text(
            "differs: the 95% intervals of the setting and the defaults do not overlap; – : no interval "
            "(one seed) or the defaults' row itself",
            style="dim",
        )
    )
