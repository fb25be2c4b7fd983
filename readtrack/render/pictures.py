"""Pictures a researcher keeps: a run's, a group's or a sweep's claim, training curves and bench times,
saved as SVG or PNG (issues 55, 73 and 84). ``readtrack plot NAME [RUN_ID ...] -o FILE.svg``, ``readtrack run
NAME --plot FILE.png``.

Panels, top to bottom, every one titled by what it draws and with both axes labelled:

- **The headline**, a panel per target (asserted, or reported with the threshold it is held to): each
  setting's (or run's) value, the mean over seeds with its 95% interval as an error bar (``Spread.ci95``, the
  interval the tables print), each seed a dot, the claim's threshold a dashed line ("the claim: ≥ 2"); a
  setting whose run reported the number without asserting it (knobs turned, or a quick run) is drawn hollow
  and its tick says "not asserted"; above the line, how many seeds held it ("held 3/3", "not held 0/3");
  the legend says what a filled and a hollow point are, and names the arm ("AdamW: mean"). The y axis is
  the quantity (`quantity_of`: "AdamW: |w/w0 − ...|" measures a distance, not AdamW).
- **A panel per training curve** (``ctx.metric``): a line per setting (a run alone, a group of seeds, each
  setting of a sweep), its mean over seeds in a band from the lowest to the highest seed, the band's meaning
  in the legend. Settings whose recorded values print the same are one line labelled with all of them
  ("A = B"), a line lying on another at the panel's scale is dashed, and a curve
  the sweep did not change at all is drawn once, "unchanged in every setting": never lines hiding each
  other. The y axis is the curve's quantity, from its name (the words before its first comma, colon or
  parenthesis; a name "A vs B" draws A against B), with no unit the plugin did not give.
- **Bench times**: a bar per variant and setting, the median of the seeds' medians, the whisker the
  interquartile range of the timed calls (its width, centred on the median; the widest of the seeds), the
  baseline hatched, a noisy row (an IQR over ``NOISE_LIMIT`` of its median) named noisy beside its bar;
  drawn once, at the defaults, when the bench stage reads no knob (`readtrack.render.picture_bench`).

Every legend lies beside its panel, never over the data; every title is wrapped to the width it is drawn
in, measured (`fit_titles`), never clipped at the figure's edge.

One scale policy for every panel (`scale_of`): a y axis (the bench's x axis) is logarithmic when all
its values are positive and span more than one decade, so that a warm-up spike (70× the rest, at step 0)
takes a decade or two and the rest keeps its shape; training-curve panels of one quantity share that
choice. Otherwise the axis is linear, and where the first ``WARMUP_SHARE`` of the steps lie far outside the
rest (a signed spike, which a log axis cannot show), the range is the rest's and the clipped points are
marked at the edge, the legend saying how far they went.

The suptitle says what was drawn ("a sweep of norm over 3 settings × 2 seeds", "one run (defaults, seed
0)", "3 runs"), the plugin, the device, the run size and the date. On matplotlib (the field's library for
saved figures), imported only here, with no GUI backend: a `matplotlib.figure.Figure` drawn and saved
directly. Drawn elements carry SVG ids (``curve-P-N``, ``band-P-N``, ``headline-P-N``, ``threshold-P``,
``held-P-N``, ``bench-N-R``, ``bench-spread-N``) so that a saved picture can be checked element by element.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from readtrack.base.errors import UsageError
from readtrack.history.spread import GroupRecord, Spread, spreads
from readtrack.plugins.knobs import setting_name, settings_label
from readtrack.plugins.records import RunRecord
from readtrack.render import what_ran
from readtrack.render.picture_bench import bench_bars, benched_once, draw_bench
from readtrack.render.picture_words import (
    Scale,
    arm_of,
    arms_in,
    fit_titles,
    log_axis,
    outside_legend,
    quantity_of,
    scale_of,
    seed_range,
    tick_label,
    wrapped,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

Entry = RunRecord | GroupRecord
Series = list[tuple[int, float]]
FORMATS = (".svg", ".png")
#: The share of a curve's steps treated as warm-up when a linear axis's range is chosen (see the docstring).
WARMUP_SHARE = 0.05
#: Units a curve's name may give in parentheses ("pretraining loss (nats)"): kept in the axis label.
_HEIGHTS = {"headline": 2.3, "curve": 2.7}
#: Inches: a panel about 6.5 wide, its legend beside it
FIGURE_WIDTH = 9.5
_NOISY = "#b0400b"
_HELD = "#1a6b2f"


def figure(entries: Sequence[Entry]) -> Figure:
    """The figure of ``entries`` (one plugin's runs or groups; a sweep's groups), as described above."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not entries:
        raise UsageError("nothing to plot: no recorded run")
    drawn = _Drawn.of(entries)
    claims = list(dict.fromkeys(s.name for found in drawn.spreads for s in found if s.target is not None))
    curve_names = list(dict.fromkeys(name for e in entries for r in _runs(e) for name in _curves(r)))
    benched = [i for i, e in enumerate(entries) if bench_bars(e)]
    shown = benched_once(entries, benched, drawn.knobs)
    heights = [_HEIGHTS["headline"]] * len(claims) + [_HEIGHTS["curve"]] * len(curve_names)
    if shown:
        heights.append(1.2 + 0.24 * sum(len(bench_bars(entries[i])) for i in shown))
    if not heights:
        raise UsageError("nothing to plot: the runs recorded no target, no training curve and no benchmark")
    fig = Figure(figsize=(FIGURE_WIDTH, sum(heights) + 0.7), layout="constrained")
    FigureCanvasAgg(fig)  # a renderer to measure the titles with (`fit_titles`)
    axes = list(fig.subplots(len(heights), 1, squeeze=False, height_ratios=heights)[:, 0])
    arms = arms_in(curve_names)
    names, roles = _what_ran(entries)  # an arm a switch swapped: named by what ran (issue 94, item 12)
    titles = [
        _draw_headline(axes.pop(0), name, drawn, panel, arms, names) for panel, name in enumerate(claims)
    ]
    curve_axes = [axes.pop(0) for _ in curve_names]
    scales = _curve_scales(curve_names, drawn)
    for panel, (ax, name) in enumerate(zip(curve_axes, curve_names, strict=True)):
        titles.append(_draw_curve(ax, name, drawn, panel, scales[quantity_of(name)[0]], names))
    if shown:
        titles.append(draw_bench(axes.pop(0), drawn, shown, once=len(shown) < len(benched)))
    words = "\n".join([_title(entries, drawn), *roles])
    fit_titles(fig, [*((t, t.get_text()) for t in titles), (fig.suptitle(words, fontsize=10), words)])
    return fig


def _what_ran(entries: Sequence[Entry]) -> tuple[dict[str, str], list[str]]:
    """The arms a switch swapped in these runs, with the name each is drawn by: what ran, when every entry
    ran the same ("LayerNorm (norm=layer)"), else the switch ("the norm arm", and lines saying what it ran
    where: `readtrack.render.what_ran`)."""
    settings = [_runs(e)[0].info.settings for e in entries]
    knobs = what_ran.switches(_runs(entries[0])[0].info.plugin) if any(settings) else []
    if all(s == settings[0] for s in settings):
        return what_ran.swapped(knobs, settings[0]), []
    return what_ran.roles(knobs, settings)


def checked_path(path: Path) -> Path:
    """``path`` when it names an SVG or a PNG file, else a UsageError (before anything is drawn)."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"{path}: a plot is saved as .svg or .png, not {suffix or 'a file without suffix'}")
    return path


def save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` to ``path`` (``.svg`` or ``.png``, atomically); a UsageError for another suffix."""
    import io

    import matplotlib

    from readtrack.base.atomic import atomic_write

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "readtrack"}):  # text stays text
        fig.savefig(buffer, format=checked_path(path).suffix.lower()[1:], dpi=150)
    atomic_write(path, buffer.getvalue())
    return path


def chosen(plugin: str | None, ids: Sequence[str]) -> list[Entry]:
    """What ``readtrack plot`` draws: the entries ``ids`` name, any id ``readtrack history`` prints (a run's,
    a multi-seed run's, a sweep's: every setting of it; its start, 4 characters or more; ``plugin``'s only,
    when given), else the newest entry of ``plugin`` (with every setting of its sweep when it was one); a
    UsageError naming what is missing."""
    from readtrack.history import runs as history
    from readtrack.history.sweeps import columns

    if ids or plugin is None:
        return columns(plugin, ids)[0]
    found = history.entries(plugin, finished=True)
    if not found:
        raise UsageError(f"no finished run of {plugin} to plot: try `readtrack run {plugin} --quick`")
    sweep = _runs(found[0])[0].info.sweep_id if _runs(found[0]) else None
    if sweep is None:
        return found[:1]
    return [e for e in reversed(found) if _runs(e) and _runs(e)[0].info.sweep_id == sweep]


def by_setting(records: Sequence[RunRecord]) -> list[Entry]:
    """``records`` as one entry per setting (a group of its seeds), in the order first seen."""
    found: dict[str, list[RunRecord]] = {}
    for record in records:
        found.setdefault(settings_label(record.info.settings), []).append(record)
    entries: list[Entry] = []
    for runs in found.values():
        if len(runs) == 1:
            entries.append(runs[0])
        else:
            first = runs[0]
            seeds = [r.info.seed for r in runs]
            entries.append(
                GroupRecord("", first.info.plugin, seeds, first.info.started_at, first.status, 0.0, runs)
            )
    return entries


def _ident(entry: Entry) -> str:
    return entry.group_id if isinstance(entry, GroupRecord) else entry.info.run_id


def _runs(entry: Entry) -> list[RunRecord]:
    return entry.runs if isinstance(entry, GroupRecord) else [entry]


def _curves(run: RunRecord) -> dict[str, Series]:
    return next((s.curves for s in run.stages if s.stage == "train" and s.curves), {})


# -- who the lines are ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Drawn:
    """What every panel shares: the entries, each one's label and colour, whether they are one sweep (and
    which knobs it turned), and each entry's targets and measured values over its seeds."""

    entries: Sequence[Entry]
    labels: list[str]
    colours: list[str]
    sweep: bool
    knobs: list[str]
    spreads: list[list[Spread]]

    @classmethod
    def of(cls, entries: Sequence[Entry]) -> _Drawn:
        sweep_ids = {r.info.sweep_id for e in entries for r in _runs(e)}
        sweep = len(sweep_ids) == 1 and None not in sweep_ids
        settings = [_runs(e)[0].info.settings for e in entries]
        knobs = sorted({k for s in settings for k in s if len({str(t.get(k)) for t in settings}) > 1})
        labels = [_label(e) for e in entries]
        if not sweep:  # unrelated runs of the same setting and seed: their ids tell them apart
            labels = [
                f"{label[:-1]}, {_ident(e)[:8]})" if labels.count(label) > 1 else label
                for label, e in zip(labels, entries, strict=True)
            ]
        colours = [f"C{i % 10}" for i in range(len(entries))]
        return cls(entries, labels, colours, sweep, knobs, [spreads(_runs(e)) for e in entries])

    @property
    def per(self) -> str:
        """What a line, a point or a bar stands for: a setting (of a sweep, or one group's), or a run."""
        alone = len(self.entries) == 1 and isinstance(self.entries[0], GroupRecord)
        return "setting" if self.sweep or alone else "run"

    @property
    def each(self) -> str:
        """What a panel's title adds where it draws several entries (", per setting"), else nothing."""
        return f", per {self.per}" if len(self.entries) > 1 else ""


def _label(entry: Entry) -> str:
    runs = _runs(entry)
    setting = setting_name(runs[0].info.settings) if runs else "defaults"
    seeds = f"{len(runs)} seeds" if len(runs) > 1 else f"seed {runs[0].info.seed}" if runs else ""
    return f"{setting} ({seeds})"


def _title(entries: Sequence[Entry], drawn: _Drawn) -> str:
    infos = [r.info for e in entries for r in _runs(e)]
    first = infos[0]
    dates = sorted({i.started_at[:10] for i in infos})
    when = dates[0] if len(dates) == 1 else f"{dates[0]} – {dates[-1]}"
    size = " and ".join(sorted({"quick" if i.quick else "full" for i in infos}, reverse=True))
    device = "/".join(sorted({i.device for i in infos}))
    return f"{first.plugin} · {_what(entries, drawn)} · {device} · {size} · {when}"


def _what(entries: Sequence[Entry], drawn: _Drawn) -> str:
    """The picture in words: a sweep (its knobs, settings and seeds), one run, one setting's seeds, N runs."""
    counts = sorted({len(_runs(e)) for e in entries})
    seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    seeds += " seed" if counts == [1] else " seeds"
    if drawn.sweep and len(entries) > 1:
        knobs = ", ".join(drawn.knobs) or "its knobs"
        return f"a sweep of {knobs} over {len(entries)} settings × {seeds}"
    if len(entries) == 1:
        runs = _runs(entries[0])
        setting = setting_name(runs[0].info.settings)
        if len(runs) == 1:
            return f"one run ({setting}, seed {runs[0].info.seed})"
        return f"one setting ({setting}) on {seed_range([r.info.seed for r in runs])}"
    total = sum(len(_runs(e)) for e in entries)
    return f"{total} runs" if total == len(entries) else f"{len(entries)} entries, {total} runs"


# -- the scale policy ------------------------------------------------------------------------------------
def _curve_scales(names: Sequence[str], drawn: _Drawn) -> dict[str, Scale]:
    """The scale of each quantity's curve panels, decided on all of them together."""
    values: dict[str, list[float]] = {}
    for name in names:
        found = values.setdefault(quantity_of(name)[0], [])
        found.extend(v for e in drawn.entries for r in _runs(e) for _, v in _curves(r).get(name, []))
    return {quantity: scale_of(vs) for quantity, vs in values.items()}


def _clip_warmup(ax: Axes, lines: Sequence[tuple[list[int], list[float], list[float]]]) -> None:
    """On a linear axis: when the warm-up steps lie far outside the rest (beyond the rest's own span either
    side), the range is the rest's and the clipped points are marked at the edge with how far they went."""
    steps = [x for xs, _, _ in lines for x in xs]
    if not steps:
        return
    cut = min(steps) + WARMUP_SHARE * (max(steps) - min(steps))
    rest = [v for xs, lo, hi in lines for x, a, b in zip(xs, lo, hi, strict=True) if x > cut for v in (a, b)]
    early = [(x, a, b) for xs, lo, hi in lines for x, a, b in zip(xs, lo, hi, strict=True) if x <= cut]
    if not rest or not early:
        return
    low, high = min(rest), max(rest)
    span = (high - low) or abs(high) or 1.0
    over = [(x, b) for x, _, b in early if b > high + span]
    under = [(x, a) for x, a, _ in early if a < low - span]
    if not over and not under:
        return
    bottom, top = low - 0.08 * span, high + 0.08 * span
    ax.set_ylim(bottom, top)
    for points, edge, marker, word in ((over, top, "^", "above"), (under, bottom, "v", "below")):
        if points:
            worst = max(b for _, b in points) if word == "above" else min(a for _, a in points)
            label = f"{word} the axis, clipped (up to {worst:.3g})"
            ax.plot([x for x, _ in points], [edge] * len(points), linestyle="none", marker=marker,
                    color="0.3", clip_on=False, label=label)  # fmt: skip


# -- the panels -----------------------------------------------------------------------------------------
def _draw_headline(
    ax: Axes, name: str, drawn: _Drawn, panel: int, arms: set[str], names: dict[str, str]
) -> Text:
    """A target's value per setting (or run): each seed a dot, the mean with its 95% interval (from
    ``Spread.ci95``) an error bar, hollow when not asserted, the claim's threshold a dashed line and, on it,
    whether each setting's seeds held it ("held 3/3"); the legend says what a filled and a hollow mean is."""
    from matplotlib.lines import Line2D

    ticks: list[str] = []
    values: list[float] = []
    thresholds: dict[float, str] = {}
    kinds: set[str] = set()
    for i, found in enumerate(drawn.spreads):
        spread = next((s for s in found if s.name == name), None)
        if spread is None:
            ticks.append(f"{tick_label(drawn.labels[i])}\n(not recorded)")
            continue
        kinds.add(spread.kind)
        tick = tick_label(drawn.labels[i])
        ticks.append(tick if spread.kind == "target" else f"{tick}\n(not asserted)")
        values += _headline_point(ax, spread, i, drawn.colours[i], f"{panel}-{i}")
        if spread.target is not None:
            thresholds[spread.target] = "≥" if spread.higher_is_better else "≤"
            _held(ax, spread, i, f"{panel}-{i}")
    if scale_of(values) == "log":
        log_axis(ax)
    _held_below_a_high_line(ax)
    arm, _ = arm_of(name, arms)
    mean = f"{names.get(arm, arm)}: mean" if arm else "mean"
    several = any(len(s.finite) > 1 for found in drawn.spreads for s in found if s.name == name)
    interval = ", 95% interval of the seeds" if several else ""
    handles: list[Line2D] = []
    labels: list[str] = []
    if several:
        handles.append(Line2D([], [], linestyle="none", marker=".", color="0.4"))
        labels.append("each seed")
    for kind, face, words in (
        ("target", "0.4", f"{mean}{interval} (filled: asserted)"),
        (
            "measured",
            "white",
            f"{mean} (hollow: reported, not asserted: knobs turned, or no claim at this size;"
            " held: its side)",
        ),
    ):
        if kind in kinds:
            handles.append(Line2D([], [], linestyle="none", marker="o", color="0.4", markerfacecolor=face))
            labels.append(words)
    for n, (target, sign) in enumerate(thresholds.items()):
        line = ax.axhline(target, linestyle="--", color="0.2", linewidth=1.2, gid=f"threshold-{panel}-{n}")
        handles.append(line)
        labels.append(f"the claim: {sign} {target:g}; on it, held by how many seeds")
    ax.set_xticks(range(len(ticks)), ticks, fontsize=7)
    ax.set_xlim(-0.6, len(ticks) - 0.4)
    ax.set_xlabel(drawn.per)
    ax.set_ylabel(wrapped(what_ran.renamed(quantity_of(name, arms)[0], names), 30), fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    outside_legend(ax, handles, labels)
    return ax.set_title(f"the claim: {what_ran.renamed(name, names)}{drawn.each}", fontsize=9, loc="left")


def _held(ax: Axes, spread: Spread, x: int, gid: str) -> None:
    """How many seeds held the claim ("held 3/3", "not held 1/3"), just above the threshold line at ``x``; of
    a number reported without being asserted (a hollow point), which side of the line its seeds are on."""
    assert spread.target is not None
    if spread.kind == "target" and spread.passed:
        reached = sum(spread.passed)
    else:
        sign = 1 if spread.higher_is_better else -1
        reached = sum(1 for v in spread.values if math.isfinite(v) and sign * (v - spread.target) >= 0)
    total = len(spread.values)
    # beside the error bar, left of its caps (5 points either side of x), never over it
    ax.annotate(f"{'held' if reached == total else 'not held'} {reached}/{total}", (x, spread.target),
                xytext=(-8, 3), textcoords="offset points", ha="right", va="bottom", fontsize=6,
                color=_HELD if reached == total else _NOISY, bbox={"facecolor": "white", "alpha": 0.7,
                "edgecolor": "none", "pad": 0.5}, gid=f"held-{gid}")  # fmt: skip


def _held_below_a_high_line(ax: Axes) -> None:
    """The "held" words under their threshold line where it runs near the panel's top (above it, they
    would run into the title)."""
    from matplotlib.text import Annotation

    low, high = ax.get_ylim()  # the limits autoscaled to what is drawn
    where = math.log10 if ax.get_yscale() == "log" else float
    for text in ax.texts:
        if (text.get_gid() or "").startswith("held-") and isinstance(text, Annotation):
            height = (where(text.xy[1]) - where(low)) / ((where(high) - where(low)) or 1.0)
            if height > 0.8:
                text.set_position((-8, -3))
                text.set_verticalalignment("top")


def _headline_point(ax: Axes, spread: Spread, x: int, colour: str, gid: str) -> list[float]:
    """One setting's number at ``x``: its seeds as dots beside the mean, whose error bar is ``Spread.ci95``
    (the tables' interval; none below two seeds). Returns the values drawn, for the scale."""
    if len(spread.finite) > 1:
        ax.plot([x + 0.12] * len(spread.finite), spread.finite, linestyle="none", marker=".",
                color=colour, alpha=0.6)  # fmt: skip
    (low, high), mean = spread.ci95, spread.mean
    error, drawn = None, list(spread.finite)
    if math.isfinite(low) and math.isfinite(high) and math.isfinite(mean):
        error, drawn = [[max(mean - low, 0.0)], [max(high - mean, 0.0)]], [*drawn, low, high]
    asserted = spread.kind == "target"
    bars = ax.errorbar([x], [mean], yerr=error, fmt="o", color=colour, capsize=5, markersize=7,
                       markerfacecolor=colour if asserted else "white", markeredgewidth=1.5)  # fmt: skip
    bars.lines[0].set_gid(f"headline-{gid}")
    for collection in bars.lines[2]:
        collection.set_gid(f"headline-interval-{gid}")
    if spread.target is not None:
        drawn.append(spread.target)
    return drawn


def _mean_and_band(series: list[Series]) -> tuple[list[int], list[float], list[float], list[float]]:
    """Steps, the mean over ``series`` (seeds) at each step, and the lowest and highest seed there."""
    steps = sorted({step for s in series for step, _ in s})
    by_step = [[v for s in series for st, v in s if st == step and math.isfinite(v)] for step in steps]
    kept = [(st, vs) for st, vs in zip(steps, by_step, strict=True) if vs]
    xs = [st for st, _ in kept]
    return (
        xs,
        [statistics.fmean(vs) for _, vs in kept],
        [min(vs) for _, vs in kept],
        [max(vs) for _, vs in kept],
    )


#: Significant digits at which two recorded curves count as equal: the tables' print precision (``:.4g``)
PRINTED_DIGITS = 4
#: Lines whose means differ everywhere by less than this share of the panel's span draw over each other:
#: the later is dashed, so that both show
_OVERLAP = 0.015


def _printed(value: float) -> float:
    return float(f"{value:.{PRINTED_DIGITS}g}")


def _alike(name: str, drawn: _Drawn) -> list[list[int]]:
    """The entries that recorded curve ``name``, grouped where their recorded values print the same (a
    setting the knob does not reach records the same numbers, up to round-off), in the order first seen."""
    groups: dict[tuple[tuple[tuple[int, float], ...], ...], list[int]] = {}
    for i, entry in enumerate(drawn.entries):
        series = [tuple((st, _printed(v)) for st, v in _curves(r).get(name, [])) for r in _runs(entry)]
        series = [s for s in series if s]
        if series:
            groups.setdefault(tuple(series), []).append(i)
    return list(groups.values())


def _dashes(means: list[tuple[list[int], list[float]]], scale: Scale) -> list[tuple[float, float] | None]:
    """Per line: None (solid) unless it lies on an earlier line (within `_OVERLAP` of the panel's span at
    every step, measured on the axis's scale), then a dash pattern of its own (longer gaps for each line
    under it)."""
    log = scale == "log"
    where = [(xs, [math.log10(v) if log and v > 0 else v for v in ys]) for xs, ys in means]
    values = [v for _, ys in where for v in ys if math.isfinite(v)]
    span = (max(values) - min(values)) if values else 0.0
    found: list[tuple[float, float] | None] = []
    for n, (xs, ys) in enumerate(where):
        under = sum(
            1
            for xs_, ys_ in where[:n]
            if xs_ == xs and all(abs(a - b) <= _OVERLAP * span for a, b in zip(ys, ys_, strict=True))
        )
        found.append((4.0, 2.0 + 2.0 * under) if under else None)
    return found


def _draw_curve(ax: Axes, name: str, drawn: _Drawn, panel: int, scale: Scale, names: dict[str, str]) -> Text:
    """One line per group of entries that print the same (its mean over seeds, labelled "A = B") in a band
    (lowest to highest seed), a line lying on an earlier one dashed; each line's SVG id is
    ``curve-PANEL-N``, its band's ``band-PANEL-N``."""
    groups = _alike(name, drawn)
    unchanged = len(drawn.entries) > 1 and len(groups) == 1
    banded: set[int] = set()
    drawn_lines = []
    for members in groups:
        first = drawn.entries[members[0]]
        series = [s for s in (_curves(r).get(name, []) for r in _runs(first)) if s]
        seeds = f"{len(series)} seeds" if len(series) > 1 else f"seed {_runs(first)[0].info.seed}"
        drawn_lines.append((members, series, seeds, _mean_and_band(series)))
    dashes = _dashes([(xs, mean) for *_, (xs, mean, _, _) in drawn_lines], scale)
    lines = []
    for n, (members, series, seeds, (xs, mean, low, high)) in enumerate(drawn_lines):
        if unchanged:
            label = f"unchanged in every {drawn.per} ({seeds})"
        else:
            label = " = ".join(drawn.labels[i] for i in members)
        colour = "0.25" if unchanged else drawn.colours[members[0]]
        line = ax.plot(xs, mean, label=label, linewidth=1.4, color=colour, gid=f"curve-{panel}-{n}")[0]
        dash = dashes[n]
        if dash:
            line.set_dashes(dash)
        if len(series) > 1:
            ax.fill_between(xs, low, high, color=colour, alpha=0.2, linewidth=0, gid=f"band-{panel}-{n}")
            banded.add(len(series))
        lines.append((xs, low, high))
    if scale == "log":
        log_axis(ax)
    else:
        _clip_warmup(ax, lines)
    handles, labels = ax.get_legend_handles_labels()
    if banded:
        from matplotlib.patches import Patch

        seeds = f"{banded.pop()} seeds" if len(banded) == 1 else "the seeds of each line"
        handles.append(Patch(color="0.5", alpha=0.3, linewidth=0))
        labels.append(f"band: lowest–highest of {seeds}")
    if any(dashes):
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="0.4", dashes=(4.0, 4.0)))
        labels.append("dashed: a line lying on one above it")
    outside_legend(ax, handles, labels)
    if unchanged:
        what = f"the same in every {drawn.per}" + (
            f": {', '.join(drawn.knobs)} does not change it" if drawn.knobs else ""
        )
    elif len(drawn.entries) > 1:
        what = f"a line per {drawn.per}" + (
            f" of {', '.join(drawn.knobs)}" if drawn.sweep and drawn.knobs else ""
        )
    else:
        what = ""
    quantity, x = quantity_of(name)
    ax.set_xlabel(x)
    ax.set_ylabel(wrapped(quantity, 30), fontsize=8)
    ax.grid(True, alpha=0.3)
    said = what_ran.renamed(name, names)
    return ax.set_title(f"{said}{' — ' + what if what else ''}", fontsize=9, loc="left")
