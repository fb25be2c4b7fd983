"""One rule for every table the CLI draws: each column has a kind, and the kind says what gives way when the
terminal is narrow (issue 84).

- ``id`` (a run's, a group's, a sweep's id, a plugin's name, a date) and ``verdict`` (passed, held 3/3,
  within, ✓ → ✗): never wrapped, never cut, never dropped: as wide as their longest value.
- ``number`` (a value, a time with its unit): whole on one line while the text can make room; then
  wrapped between its words (``17.6k`` above ``tokens/s``); folded only far below 80 columns.
- ``words`` (a verdict with more beside it: ``passed 2026-01-05 10:02``, ``3/3 seeds passed``): wraps
  between words, never inside one.
- ``text`` (a name, a setting, a title): takes the squeeze: it wraps between words, a word folded only when
  it alone is wider than what the other columns leave.

`table` makes one in the house style (a rule under the header, no outer padding, the title on the left);
`Fitted.add_column` takes the kind. The widths are worked out as the table is drawn, for the width it is
drawn at, so a table built once fits any terminal; `Fitted.fits` says whether it fits without folding a
word (a caller may then choose a slimmer table: fewer columns, cells stacked).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from rich import box
from rich.measure import Measurement
from rich.table import Table

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

#: What a column holds, and so how it gives way (the module's docstring).
Kind = Literal["id", "verdict", "number", "words", "text"]

#: A text column is never squeezed below this (or its widest line, when narrower), words folded to fit.
_TEXT_FLOOR = 6
#: Nor a number column, when even the text at its floor leaves no room (far below 80 columns).
_NUMBER_FLOOR = 4


@dataclass(frozen=True)
class _Asked:
    """A column's widths as its table asked for them, before any fitting."""

    kind: Kind
    no_wrap: bool
    overflow: Any
    width: int | None
    min_width: int | None
    max_width: int | None
    at_least: int = 0  # a text column's floor above its longest word (never above its widest line)


class Fitted(Table):
    """A rich Table whose columns have a `Kind`: fitted to the width it is drawn at (the module's rule)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._asked: list[_Asked] = []

    def add_column(
        self, header: Any = "", *args: Any, kind: Kind = "text", at_least: int = 0, **kwargs: Any
    ) -> None:
        """A column of ``kind``; ``id``, ``verdict`` and ``number`` columns never wrap, a ``text`` column
        folds a word only when it must; ``at_least``: a text column kept that wide (or its widest line)
        before the table counts as fitting, a sweep's setting not a word a line (the other options as
        rich's)."""
        if kind in ("text", "words"):
            kwargs.setdefault("overflow", "fold")
        else:
            kwargs["no_wrap"] = True
        kwargs.pop("ratio", None)  # a table that does not expand has no use for it; the fit shares the room
        super().add_column(header, *args, **kwargs)
        column = self.columns[-1]
        self._asked.append(
            _Asked(
                kind,
                column.no_wrap,
                column.overflow,
                column.width,
                column.min_width,
                column.max_width,
                at_least,
            )
        )

    # -- the fit ------------------------------------------------------------------------------------
    def fits(self, console: Console, width: int | None = None) -> bool:
        """Whether the table fits ``width`` (the console's) with every text column at least as wide as its
        longest word: nothing folded inside a word."""
        widths, floors = self._natural(console)
        room = self._room(width if width is not None else console.width)
        kinds = [a.kind for a in self._asked]
        return (
            sum(f if k in ("text", "words") else w for k, w, f in zip(kinds, widths, floors, strict=True))
            <= room
        )

    def text_room(self, console: Console, width: int | None = None) -> int:
        """What is left of ``width`` (the console's) for the text columns once every column that never wraps
        has its widest line: under a few columns, a table is no longer the way to show its rows."""
        widths, _ = self._natural(console)
        kinds = [a.kind for a in self._asked]
        fixed = sum(w for k, w in zip(kinds, widths, strict=True) if k not in ("text", "words"))
        return self._room(width if width is not None else console.width) - fixed

    def _room(self, width: int) -> int:
        """What the cells may take of ``width``: less the borders and each column's padding."""
        padding = sum(self._get_padding_width(i) for i in range(len(self.columns)))
        return width - self._extra_width - padding

    def _natural(self, console: Console) -> tuple[list[int], list[int]]:
        """Each column's widest line and widest word (its header's too), within what the table asked."""
        options = console.options.update_width(10_000)
        widest: list[int] = []
        words: list[int] = []
        for column, asked in zip(self.columns, self._asked, strict=True):
            cells: Iterable[Any] = column.cells
            if self.show_header:
                cells = [column.header, *cells]
            found = [Measurement.get(console, options, cell) for cell in cells if cell != ""]
            line = max((m.maximum for m in found), default=1)
            word = max((m.minimum for m in found), default=1)
            if asked.width is not None:
                line = word = asked.width
            line = max(line, asked.min_width or 0)
            if asked.max_width is not None:
                line = min(line, asked.max_width)
            widest.append(line)
            words.append(min(max(word, asked.at_least), line))
        return widest, words

    def _fit(self, console: Console, width: int) -> None:
        """Each column's width for ``width``: ids and verdicts whole; the text columns the rest, the widest
        narrowed first, down to their longest word (``words`` columns too, never below); then the numbers
        down to theirs (wrapped between words); only then words folded (text, then numbers)."""
        for column, asked in zip(self.columns, self._asked, strict=True):  # as asked: a fit is per width
            column.no_wrap, column.overflow = asked.no_wrap, asked.overflow
            column.width, column.min_width, column.max_width = asked.width, asked.min_width, asked.max_width
        widths, words = self._natural(console)
        room = self._room(width)
        if sum(widths) <= room:
            return
        kinds = [a.kind for a in self._asked]
        fitted = list(widths)
        for squeezed, floors in (
            (("text", "words"), words),
            (("number",), words),
            (("text",), [min(w, _TEXT_FLOOR) for w in widths]),
            (("number",), [min(w, _NUMBER_FLOOR) for w in widths]),
        ):
            _narrow(fitted, [k in squeezed for k in kinds], floors, sum(fitted) - room)
            if sum(fitted) <= room:
                break
        for i, (column, kind) in enumerate(zip(self.columns, kinds, strict=True)):
            if fitted[i] < widths[i] or kind in ("text", "words"):
                column.width = fitted[i]
            if fitted[i] < widths[i] and kind == "number":
                column.no_wrap, column.overflow = False, "fold"
            if kind in ("id", "verdict"):
                column.min_width = widths[i]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        self._fit(console, options.max_width)
        yield from super().__rich_console__(console, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        self._fit(console, options.max_width)
        return super().__rich_measure__(console, options)


def _narrow(widths: list[int], which: list[bool], floors: list[int], excess: int) -> None:
    """Take ``excess`` characters off the ``which`` columns, one at a time off the widest of those still
    above its floor (in place)."""
    while excess > 0:
        left = [i for i, w in enumerate(widths) if which[i] and w > floors[i]]
        if not left:
            return
        widest = max(left, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1


def table(title: str | None = None, *, tight: bool = False, **kwargs: Any) -> Fitted:
    """A table in the house style (a rule under the header, no padding at its edges, the title on the
    left, on one line where the terminal is wide enough); ``tight``: its columns one space apart, not two
    (a narrow terminal)."""
    kwargs.setdefault("box", box.SIMPLE_HEAD)
    kwargs.setdefault("pad_edge", False)
    kwargs.setdefault("title_justify", "left")
    if title:  # as wide as its title where there is room: a title wrapped over a narrow table reads badly
        kwargs.setdefault("min_width", len(title))
    if tight:
        kwargs.setdefault("padding", (0, 1, 0, 0))
    return Fitted(title=title, **kwargs)
