"""The words and axes of a saved picture (`readtrack.render.pictures`): the quantity an axis shows (and its
unit, when the number's name gives one; never the arm that measured it), a setting's label under its tick,
legends beside their panel, titles wrapped to the width they are drawn in (measured, never clipped), and the
scale policy every panel follows."""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

Scale = Literal["log", "linear"]
#: The units a number's name may give in parentheses ("held-out loss (nats)"), shown on its axis
UNITS = ("nats", "bits", "s", "ms", "µs", "%", "dB")
#: Characters a legend's label is wrapped at (it sits beside the panel, taking the figure's width)
LEGEND_WIDTH = 30
#: A claim written as a sentence ("the decay is the same whatever the gradient scale (spread of mean w/w0)")
#: names its number in its closing parenthesis
_SENTENCE = re.compile(r"(?P<words>.*\b(?:is|are|holds?|does|do)\b.*) \((?P<number>[^()]+)\)")


def seed_range(seeds: list[int]) -> str:
    ordered = sorted(seeds)
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{len(ordered)} seeds ({ordered[0]}-{ordered[-1]})"
    return f"{len(ordered)} seeds ({', '.join(map(str, ordered))})"


def arms_in(names: Iterable[str]) -> set[str]:
    """The arms that curve names give in a closing parenthesis ("w/w0, zero gradient, w0=1 (AdamW)"): a
    number named "AdamW: ..." is then AdamW's, and its quantity is what follows the colon."""
    found = (re.search(r" \(([^()]+)\)$", name) for name in names)
    return {m.group(1) for m in found if m and m.group(1) not in UNITS}


def arm_of(name: str, arms: Iterable[str]) -> tuple[str | None, str]:
    """(the arm, the rest) of ``name`` when what comes before its first colon is an arm, else (None, name):
    one of ``arms``, or words that name no quantity before words that do ("inputs ×100: test loss ...", "ViT
    trained on 4000 images: test accuracy"; not "training loss: reference")."""
    head, colon, rest = name.partition(": ")
    if colon and (head in set(arms) or (not _names_a_quantity(head) and _names_a_quantity(rest))):
        return head, rest
    return None, name


#: Words that make a phrase a measured quantity, for `arm_of`
_QUANTITIES = re.compile(
    r"loss|accuracy|error|ratio|perplexity|nll|elbo|match|\bap\b|score|time|speed|throughput|w/w0|gap|"
    r"spread|mean|difference|distance|norm of|rate|bits|nats",
    re.IGNORECASE,
)


def _names_a_quantity(words: str) -> bool:
    return bool(_QUANTITIES.search(words))


def quantity_of(name: str, arms: Iterable[str] = ()) -> tuple[str, str]:
    """(y label, x label) of a curve or a number named ``name``: the words before its first comma, colon or
    parenthesis at the top level (not inside ``|...|``), a unit it gives in parentheses kept; "A vs B" (or
    "against") is A over B; an arm's name before a colon (one of ``arms``) is left out, and a claim written
    as a sentence gives the number in its closing parenthesis."""
    x = "step"
    for word in (" vs ", " against "):
        if word in name:
            name, x = name.split(word, 1)
            break
    _, name = arm_of(name, arms)
    sentence = _SENTENCE.fullmatch(name)
    if sentence and sentence["number"] not in UNITS:
        name = sentence["number"]
    depth, bars, cut = 0, False, len(name)
    for i, char in enumerate(name):
        opens = char == "(" and i > 0 and name[i - 1] == " "
        if depth == 0 and not bars and (opens or char in ",:"):
            cut = i
            break
        depth += {"(": 1, ")": -1}.get(char, 0)
        bars ^= char == "|"
    quantity = name[:cut].strip() or name
    unit = next((u for u in UNITS if re.search(rf"\({re.escape(u)}\)", name)), None)
    return (f"{quantity} ({unit})" if unit and unit not in quantity else quantity), x


def wrapped(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def tick_label(label: str) -> str:
    """An entry's label under its tick: the setting wrapped, its seeds ("(2 seeds)") a line of their own."""
    setting, _, seeds = label.rpartition(" (")
    return f"{wrapped(setting, 24)}\n({seeds}" if setting else wrapped(label, 24)


def outside_legend(ax: Axes, handles: Sequence[Artist], labels: Sequence[str], fontsize: float = 7) -> None:
    """``ax``'s legend beside it, right of the data (the constrained layout makes room), its labels wrapped:
    never over a curve, a point or a bar."""
    ax.legend(
        list(handles),
        [wrapped(label, LEGEND_WIDTH) for label in labels],
        fontsize=fontsize,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
    )


def fit_titles(fig: Figure, titles: Sequence[tuple[Text, str]]) -> None:
    """Wrap each title (its artist, its words) to the width it has: from where it starts (the panel's left
    edge; the figure's for a centred one) to the figure's right edge, measured as drawn. Laid out twice, since
    a title of more lines moves the panels (not their left edges, which the labels set)."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    margin = 0.01 * fig.bbox.width
    for _ in range(2):
        fig.draw_without_rendering()
        before = [text.get_text() for text, _ in titles]
        for text, words in titles:
            centred = text.get_horizontalalignment() == "center"
            left = fig.bbox.x0 + margin if centred else text.get_window_extent(renderer).x0
            room = fig.bbox.x1 - margin - left
            width = len(words)
            text.set_text(words)
            while width > 10:
                drawn = text.get_window_extent(renderer).width
                if drawn <= room:
                    break
                width = min(width - 1, int(width * room / drawn))
                text.set_text(wrapped(words, width))
        if [text.get_text() for text, _ in titles] == before:  # laid out as it is drawn
            return
    fig.draw_without_rendering()


def scale_of(values: Sequence[float]) -> Scale:
    """Log when every value is positive and they span more than one decade, else linear (see pictures)."""
    finite = [v for v in values if math.isfinite(v)]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 10:
        return "log"
    return "linear"


def log_axis(ax: Axes, which: Literal["x", "y"] = "y") -> None:
    """Make ``ax``'s x or y axis logarithmic, its ticks plain numbers (0.2, 1, 10); the minor ticks 2, 3 and
    5 labelled too when the axis spans less than a decade and a half (else such an axis has one label)."""
    from matplotlib import ticker

    if which == "x":
        ax.set_xscale("log")
    else:
        ax.set_yscale("log")
    axis = ax.xaxis if which == "x" else ax.yaxis

    def minor(value: float, _: object) -> str:
        low, high = sorted(axis.get_view_interval())
        if low <= 0 or high / low > 30 or value <= 0:
            return ""
        lead = round(value / 10 ** math.floor(math.log10(value)), 6)
        return f"{value:g}" if lead in (2, 3, 5) else ""

    axis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(ticker.FuncFormatter(minor))
