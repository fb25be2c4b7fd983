"""A lineage drawn (``readtrack lineage NAME --plot FILE``, issue 92): its members on a time axis, each step
an arrow from the member improved to the one that improved it, coloured by its verdict, and beside each
member what it improved and the number that says so.

One row per member, oldest at the top: its point at its paper's date (the x axis, in years; a month from its
arXiv id places it within the year), an arrow from each member it improves (held: green, not held: orange,
not run: grey, nothing measures it yet: a dotted grey line). To the right of the time axis, in a column of
its own so that no word is drawn over a point or runs off the figure, the member's key, title and the
reader's status, then "over X: held, 0.0052 (≤ 0.05)". The suptitle says the lineage, how many steps held,
did not, or have not run, and the date the numbers were read. Elements carry SVG ids (``member-KEY``,
``step-KEY-FROM``, ``label-KEY``) so that a saved picture can be checked element by element.
"""

from __future__ import annotations

import datetime
import math
import textwrap
from typing import TYPE_CHECKING

from readtrack.history.lineages import HELD, NOT_HELD, NOT_RUN, LineageView, Row
from readtrack.render.picture_words import fit_titles

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

COLOURS = {HELD: "#1a6b2f", NOT_HELD: "#b0400b", NOT_RUN: "#8a8a8a", None: "#b8b8b8"}
#: inches: the figure's width, and a line of the words' column (font size 7)
WIDTH, LINE = 9.5, 0.135
#: characters per line in the words' column (font size 7 at its width)
COLUMN = 74
#: inches: a panel of the family bench's (one per quantity it measures)
BENCH_HEIGHT = 1.6


def when(row: Row) -> float:
    """The row's date as a year with a fraction: a month's middle, or the year's when only it is known."""
    assert row.year is not None
    return row.year + ((row.month - 0.5) / 12 if row.month else 0.5)


def words(row: Row) -> str:
    """What the column says of a member: key, title and status; then its step and the step's number."""
    lines = textwrap.wrap(f"{row.member.key} — {row.title} [{row.status}]", COLUMN) or [row.member.key]
    step = f"over {', '.join(row.improves)}: " if row.improves else ""
    verdict = row.verdict
    if verdict is None:
        step += row.member.what or "no step measured"
    elif row.number is None:
        step += f"{row.member.what}; not run"
    else:
        step += f"{row.member.what}; {verdict}, {row.number.claim()}"
    return "\n".join([*lines[:2], *textwrap.wrap(step, COLUMN)[:3]])


def figure(lineage: LineageView) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = lineage.rows
    if not rows:
        from readtrack.base.errors import UsageError

        raise UsageError(f"lineage {lineage.lineage.name} has no dated member to draw")
    said = [words(row) for row in rows]
    row_height = LINE * max(text.count("\n") + 1 for text in said) + 0.2  # no two rows' words touch
    quantities = list(dict.fromkeys(q for bench in lineage.bench for q in bench.values))
    chain_height = row_height * len(rows)
    heights = [chain_height, *([BENCH_HEIGHT] * len(quantities))]
    fig = Figure(figsize=(WIDTH, 1.6 + sum(heights) + 0.6 * len(quantities)), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(len(heights), 2, width_ratios=[1.0, 1.7], height_ratios=heights)
    timeline = fig.add_subplot(grid[0, 0])
    column = fig.add_subplot(grid[0, 1], sharey=timeline)
    places = {row.member.key: (when(row), index) for index, row in enumerate(rows)}
    for index, row in enumerate(rows):
        x = when(row)
        colour = COLOURS[row.verdict]
        timeline.plot([x], [index], "o", color=colour, markersize=6, gid=f"member-{row.member.key}", zorder=3)
        for earlier in row.improves:
            if earlier not in places:
                continue
            x0, y0 = places[earlier]
            arrow = timeline.annotate(
                "",
                xy=(x, index),
                xytext=(x0, y0),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": colour,
                    "linestyle": ":" if row.verdict is None else "-",
                    "shrinkA": 4,
                    "shrinkB": 4,
                    "connectionstyle": "arc3,rad=-0.25",
                },
            )
            if arrow.arrow_patch is not None:
                arrow.arrow_patch.set_gid(f"step-{row.member.key}-{earlier}")
        column.text(
            0.0, index, said[index], va="center", ha="left", fontsize=7, color="#202020",
            gid=f"label-{row.member.key}",
        )  # fmt: skip
    years = [when(row) for row in rows]
    low, high = min(years), max(years)
    pad = max(1.0, 0.08 * (high - low))
    timeline.set_xlim(low - pad, high + pad)
    from matplotlib.ticker import MaxNLocator

    ticks = MaxNLocator(6, integer=True).tick_values(low - pad, high + pad)
    timeline.set_xticks([y for y in ticks if low - pad <= y <= high + pad])  # none drawn off the axis
    timeline.set_ylim(len(rows) - 0.5, -0.5)  # oldest at the top
    timeline.set_yticks(range(len(rows)), [row.member.arm or row.member.plugin for row in rows], fontsize=7)
    timeline.set_xlabel("the paper's date (year)")
    timeline.grid(axis="x", color="#e4e4e4", linewidth=0.6)
    timeline.set_title("each step: an arrow from the member it improved", loc="left", fontsize=8)
    column.set_axis_off()
    column.set_xlim(0, 1)
    timeline.legend(
        handles=_legend(), loc="upper center", bbox_to_anchor=(0.5, -0.55 / (row_height * len(rows))), ncol=2,
        fontsize=6.5, frameon=False,
    )  # fmt: skip
    for panel, quantity in enumerate(quantities):
        ax = fig.add_subplot(grid[panel + 1, :])
        _bench_panel(ax, lineage, rows, quantity, panel)
        ax.set_xlim(timeline.get_xlim())  # the same time axis as the chain's
        ax.set_xticks(timeline.get_xticks())
    counts = {v: sum(1 for r in rows if r.verdict == v) for v in (HELD, NOT_HELD, NOT_RUN)}
    title = (
        f"{lineage.lineage.title}\n{counts[HELD]} held, {counts[NOT_HELD]} not held, {counts[NOT_RUN]} not "
        f"run; numbers from the newest recorded runs, read {datetime.date.today().isoformat()}"
    )
    fit_titles(fig, [(fig.suptitle(title, fontsize=9), title)])
    return fig


def _bench_panel(ax: Axes, lineage: LineageView, rows: list[Row], quantity: str, panel: int) -> None:
    """The family bench's ``quantity`` for each member that has it, a point at the member's date. Points, not
    a line: a bench may train its members on more than one network (the normalization bench's convnet and
    transformer), whose numbers a line through time would join as if they were one series."""
    dated = {row.member.key: when(row) for row in rows}
    found = [(dated[b.member.key], b.values[quantity], b.member.key) for b in lineage.bench
             if quantity in b.values and b.member.key in dated]  # fmt: skip
    points = sorted(p for p in found if math.isfinite(p[1]))
    # no value (a loss never reached in the budget, a run that diverged: a record keeps either as null) has
    # no place on the axis: named
    off = [key for _, value, key in found if not math.isfinite(value)]
    ax.plot([p[0] for p in points], [p[1] for p in points], "o", color="#34558b", gid=f"bench-{panel}")
    for index, (x, y, key) in enumerate(points):  # keys above and below in turn: neighbours in time apart
        ax.annotate(
            key, (x, y), textcoords="offset points", xytext=(4, 4 if index % 2 == 0 else -11), fontsize=6.5
        )
    first = lineage.bench[0]
    off_axis = f" (off the axis: {', '.join(off)})" if off else ""
    ax.set_title(
        f"the family bench ({lineage.lineage.bench}, {first.setting}): {quantity}{off_axis}",
        loc="left",
        fontsize=8,
    )
    ax.set_ylabel(quantity if len(quantity) <= 28 else quantity[:27] + "…", fontsize=7)
    ax.set_xlabel("the paper's date (year)", fontsize=7)
    ax.grid(color="#e4e4e4", linewidth=0.6)
    ax.margins(y=0.25)  # room for the keys above the points


def _legend() -> list[Line2D]:
    from matplotlib.lines import Line2D

    labels: dict[str | None, str] = {
        HELD: "held",
        NOT_HELD: "not held",
        NOT_RUN: "not run",
        None: "nothing measures it yet",
    }
    return [
        Line2D([], [], color=COLOURS[v], marker="o", linestyle=":" if v is None else "-", label=label)
        for v, label in labels.items()
    ]
