"""A scrolling pane that answers the keys the rest of the TUI moves with: arrows, PgUp/PgDn, Home/End, j/k.

The detail pane of the main screen and the result pane of the run screen are both this: Tab focuses one and
the keys the table uses to move its cursor then scroll it, as help and the key bar say.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll


class ScrollPane(VerticalScroll):
    """`VerticalScroll` (arrows, PgUp, PgDn, Home, End) plus j/k, g/G as in the paper table."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Scroll down", show=False),
        Binding("k", "scroll_up", "Scroll up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
    ]
