"""Pictures a researcher keeps: a run's, a group's or a sweep's claim, training curves and bench times,
saved as SVG or PNG (issues 55 and 73). ``readtrack plot NAME [RUN_ID ...] -o FILE.svg``, ``readtrack run
NAME --plot FILE.png``.

Panels, top to bottom, every one titled by what it draws and with both axes labelled:

- **The headline**, a panel per target (asserted, or reported with the threshold it is held to): each
  setting's (or run's) value, the mean over seeds with its 95% interval as an error bar (``Spread.ci95``, the
  interval the tables print), each seed a dot, the claim's threshold a dashed line ("the claim: ≥ 2"); a
  setting whose run reported the number without asserting it (knobs turned, or a quick run) is drawn hollow
  and its tick says "not asserted".
- **A panel per training curve** (``ctx.metric``): a line per setting (a run alone, a group of seeds, each
  setting of a sweep), its mean over seeds in a band from the lowest to the highest seed, the band's meaning
  in the legend. Settings whose recorded values are equal are one line labelled with all of them, and a curve
  the sweep did not change at all is drawn once, "unchanged in every setting": never lines hiding each
  other. The y axis is the curve's quantity, from its name (the words before its first comma, colon or
  parenthesis; a name "A vs B" draws A against B), with no unit the plugin did not give.
- **Bench times**: a bar per variant and setting, the median of the seeds' medians, the whisker the
  interquartile range of the timed calls (its width, centred on the median; the widest of the seeds), the
  baseline hatched, a noisy row (an IQR over ``NOISE_LIMIT`` of its median) named noisy beside its bar.

One scale policy for every panel (:func:`_scale_of`): a y axis (the bench's x axis) is logarithmic when all
its values are positive and span more than one decade, so that a warm-up spike (70× the rest, at step 0)
takes a decade or two and the rest keeps its shape; training-curve panels of one quantity share that
choice. Otherwise the axis is linear, and where the first ``WARMUP_SHARE`` of the steps lie far outside the
rest (a signed spike, which a log axis cannot show), the range is the rest's and the clipped points are
marked at the edge, the legend saying how far they went.

The suptitle says what was drawn ("a sweep of norm over 3 settings × 2 seeds", "one run (defaults, seed
0)", "3 runs"), the plugin, the device, the run size and the date. On matplotlib (the field's library for
saved figures), imported only here, with no GUI backend: a `matplotlib.figure.Figure` drawn and saved
directly. Drawn elements carry SVG ids (``curve-P-N``, ``band-P-N``, ``headline-P-N``, ``threshold-P``,
``bench-N-R``, ``bench-spread-N``) so that a saved picture can be checked element by element.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from readtrack.base.errors import UsageError
from readtrack.history.spread import GroupRecord, Spread, spreads
from readtrack.plugins.knobs import setting_name, settings_label
from readtrack.plugins.records import NOISE_LIMIT, RunRecord
from readtrack.render.picture_words import quantity_of, seed_range, tick_label, wrapped

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Entry = RunRecord | GroupRecord
Series = list[tuple[int, float]]
Scale = Literal["log", "linear"]
FORMATS = (".svg", ".png")
#: The share of a curve's steps treated as warm-up when a linear axis's range is chosen (see the docstring).
WARMUP_SHARE = 0.05
#: Units a curve's name may give in parentheses ("pretraining loss (nats)"): kept in the axis label.
_HEIGHTS = {"headline": 2.3, "curve": 2.7}
_NOISY = "#b0400b"


def figure(entries: Sequence[Entry]) -> Figure:
    """The figure of ``entries`` (one plugin's runs or groups; a sweep's groups), as described above."""
    from matplotlib.figure import Figure

    if not entries:
        raise UsageError("nothing to plot: no recorded run")
    drawn = _Drawn.of(entries)
    claims = list(dict.fromkeys(s.name for found in drawn.spreads for s in found if s.target is not None))
    curve_names = list(dict.fromkeys(name for e in entries for r in _runs(e) for name in _curves(r)))
    benched = [i for i, e in enumerate(entries) if _bench_bars(e)]
    heights = [_HEIGHTS["headline"]] * len(claims) + [_HEIGHTS["curve"]] * len(curve_names)
    if benched:
        bars = sum(len(_bench_bars(entries[i])) for i in benched)
        heights.append(1.8 + 0.24 * bars)  # the legend goes under it
    if not heights:
        raise UsageError("nothing to plot: the runs recorded no target, no training curve and no benchmark")
    fig = Figure(figsize=(7.5, sum(heights) + 0.7), layout="constrained")
    axes = list(fig.subplots(len(heights), 1, squeeze=False, height_ratios=heights)[:, 0])
    for panel, name in enumerate(claims):
        _draw_headline(axes.pop(0), name, drawn, panel)
    curve_axes = [axes.pop(0) for _ in curve_names]
    scales = _curve_scales(curve_names, drawn)
    for panel, (ax, name) in enumerate(zip(curve_axes, curve_names, strict=True)):
        _draw_curve(ax, name, drawn, panel, scales[quantity_of(name)[0]])
    if benched:
        _draw_bench(axes.pop(0), drawn, benched)
    fig.suptitle(_title(entries, drawn), fontsize=10)
    return fig


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
def _scale_of(values: Sequence[float]) -> Scale:
    """Log when every value is positive and they span more than one decade, else linear (module docstring)."""
    finite = [v for v in values if math.isfinite(v)]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 10:
        return "log"
    return "linear"


def _log_axis(ax: Axes, which: Literal["x", "y"] = "y") -> None:
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


def _curve_scales(names: Sequence[str], drawn: _Drawn) -> dict[str, Scale]:
    """The scale of each quantity's curve panels, decided on all of them together."""
    values: dict[str, list[float]] = {}
    for name in names:
        found = values.setdefault(quantity_of(name)[0], [])
        found.extend(v for e in drawn.entries for r in _runs(e) for _, v in _curves(r).get(name, []))
    return {quantity: _scale_of(vs) for quantity, vs in values.items()}


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
def _draw_headline(ax: Axes, name: str, drawn: _Drawn, panel: int) -> None:
    """A target's value per setting (or run): each seed a dot, the mean with its 95% interval (from
    ``Spread.ci95``) an error bar, hollow when not asserted, and the claim's threshold a dashed line."""
    ticks: list[str] = []
    values: list[float] = []
    thresholds: dict[float, str] = {}
    shown: set[str] = set()
    for i, found in enumerate(drawn.spreads):
        spread = next((s for s in found if s.name == name), None)
        if spread is None:
            ticks.append(f"{tick_label(drawn.labels[i])}\n(not recorded)")
            continue
        asserted = spread.kind == "target"
        tick = tick_label(drawn.labels[i])
        ticks.append(tick if asserted else f"{tick}\n(not asserted)")
        values += _headline_point(ax, spread, i, drawn.colours[i], f"{panel}-{i}", shown)
        if spread.target is not None:
            thresholds[spread.target] = "≥" if spread.higher_is_better else "≤"
    for n, (target, sign) in enumerate(thresholds.items()):
        ax.axhline(target, linestyle="--", color="0.2", linewidth=1.2, gid=f"threshold-{panel}-{n}",
                   label=f"the claim: {sign} {target:g}")  # fmt: skip
        values.append(target)
    if _scale_of(values) == "log":
        _log_axis(ax)
    ax.set_xticks(range(len(ticks)), ticks, fontsize=7)
    ax.set_xlim(-0.6, len(ticks) - 0.4)
    ax.set_xlabel(drawn.per)
    ax.set_ylabel(wrapped(quantity_of(name)[0], 30), fontsize=8)
    ax.set_title(wrapped(f"the claim: {name}{drawn.each}", 100), fontsize=9, loc="left")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7)


def _headline_point(ax: Axes, spread: Spread, x: int, colour: str, gid: str, shown: set[str]) -> list[float]:
    """One setting's number at ``x``: its seeds as dots beside the mean, whose error bar is ``Spread.ci95``
    (the tables' interval; none below two seeds). Returns the values drawn, for the scale."""

    def once(label: str) -> str | None:
        new = label not in shown
        shown.add(label)
        return label if new else None

    if len(spread.finite) > 1:
        ax.plot([x + 0.12] * len(spread.finite), spread.finite, linestyle="none", marker=".",
                color=colour, alpha=0.6, label=once("each seed"))  # fmt: skip
    (low, high), mean = spread.ci95, spread.mean
    error, drawn = None, list(spread.finite)
    if math.isfinite(low) and math.isfinite(high) and math.isfinite(mean):
        error, drawn = [[max(mean - low, 0.0)], [max(high - mean, 0.0)]], [*drawn, low, high]
    asserted = spread.kind == "target"
    bars = ax.errorbar([x], [mean], yerr=error, fmt="o", color=colour, capsize=5, markersize=7,
                       markerfacecolor=colour if asserted else "white", markeredgewidth=1.5,
                       label=once("mean, 95% interval of the seeds") if error else None)  # fmt: skip
    bars.lines[0].set_gid(f"headline-{gid}")
    for collection in bars.lines[2]:
        collection.set_gid(f"headline-interval-{gid}")
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


def _alike(name: str, drawn: _Drawn) -> list[list[int]]:
    """The entries that recorded curve ``name``, grouped where their recorded values are equal (a setting
    the knob does not reach records the same numbers), in the order first seen."""
    groups: dict[tuple[tuple[tuple[int, float], ...], ...], list[int]] = {}
    for i, entry in enumerate(drawn.entries):
        series = [tuple(_curves(r).get(name, [])) for r in _runs(entry)]
        series = [s for s in series if s]
        if series:
            groups.setdefault(tuple(series), []).append(i)
    return list(groups.values())


def _draw_curve(ax: Axes, name: str, drawn: _Drawn, panel: int, scale: Scale) -> None:
    """One line per group of equal entries (its mean over seeds) in a band (lowest to highest seed); each
    line's SVG id is ``curve-PANEL-N``, its band's ``band-PANEL-N``."""
    groups = _alike(name, drawn)
    unchanged = len(drawn.entries) > 1 and len(groups) == 1
    banded: set[int] = set()
    lines = []
    for n, members in enumerate(groups):
        first = drawn.entries[members[0]]
        series = [s for s in (_curves(r).get(name, []) for r in _runs(first)) if s]
        xs, mean, low, high = _mean_and_band(series)
        seeds = f"{len(series)} seeds" if len(series) > 1 else f"seed {_runs(first)[0].info.seed}"
        if unchanged:
            label = f"unchanged in every {drawn.per} ({seeds})"
        else:
            label = " = ".join(drawn.labels[i] for i in members)
        colour = "0.25" if unchanged else drawn.colours[members[0]]
        ax.plot(xs, mean, label=label, linewidth=1.4, color=colour, gid=f"curve-{panel}-{n}")
        if len(series) > 1:
            ax.fill_between(xs, low, high, color=colour, alpha=0.2, linewidth=0, gid=f"band-{panel}-{n}")
            banded.add(len(series))
        lines.append((xs, low, high))
    if scale == "log":
        _log_axis(ax)
    else:
        _clip_warmup(ax, lines)
    if banded:
        from matplotlib.patches import Patch

        seeds = f"{banded.pop()} seeds" if len(banded) == 1 else "the seeds of each line"
        handles, labels = ax.get_legend_handles_labels()
        handles.append(Patch(color="0.5", alpha=0.3, linewidth=0))
        labels.append(f"band: lowest–highest of {seeds}")
        ax.legend(handles, labels, fontsize=7)
    else:
        ax.legend(fontsize=7)
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
    ax.set_title(wrapped(f"{name}{' — ' + what if what else ''}", 100), fontsize=9, loc="left")
    quantity, x = quantity_of(name)
    ax.set_xlabel(x)
    ax.set_ylabel(wrapped(quantity, 30), fontsize=8)
    ax.grid(True, alpha=0.3)


@dataclass(frozen=True)
class _Bar:
    """One bench variant of one entry: the median of its seeds' medians, the widest interquartile range of
    the timed calls among them, and whether any seed's row was noisy (seconds)."""

    label: str
    baseline: bool
    median_s: float
    iqr_s: float
    noisy: bool


def _bench_bars(entry: Entry) -> list[_Bar]:
    found: dict[str, list[tuple[float, float, bool, bool]]] = {}
    for run in _runs(entry):
        for stage in run.stages:
            for row in stage.bench if stage.stage == "bench" else []:
                if math.isfinite(row.median_s) and row.error is None:
                    found.setdefault(row.label, []).append((row.median_s, row.iqr_s, row.noisy, row.baseline))
    return [
        _Bar(
            label,
            any(r[3] for r in rows),
            statistics.median(r[0] for r in rows),
            max((r[1] for r in rows if math.isfinite(r[1])), default=math.nan),
            any(r[2] for r in rows),
        )
        for label, rows in found.items()
    ]


def _time_unit(seconds: float) -> tuple[str, float]:
    if seconds < 1e-3:
        return "µs", 1e6
    return ("ms", 1e3) if seconds < 1 else ("s", 1.0)


def _draw_bench(ax: Axes, drawn: _Drawn, benched: Sequence[int]) -> None:
    """A bar per variant and entry (the entries of a variant side by side in their colours), whiskers the
    interquartile range, the baseline hatched, noisy rows named; every entry's bench, each bar's id
    ``bench-ENTRY-ROW`` and each entry's whiskers ``bench-spread-ENTRY``."""
    bars = {i: _bench_bars(drawn.entries[i]) for i in benched}
    variants = list(dict.fromkeys(b.label for found in bars.values() for b in found))
    medians = [b.median_s for found in bars.values() for b in found]
    unit, factor = _time_unit(max(medians))
    ends = [
        _bench_entry(ax, bars[i], i, drawn, variants, (k, len(benched)), (unit, factor))
        for k, i in enumerate(benched)
    ]
    right = max(end for found in ends for end in found)
    if _scale_of(medians) == "log":
        _log_axis(ax, "x")
        low = min(m * factor for m in medians) / 2
        decades = math.log10(right / low)
        ax.set_xlim(low, right * 10 ** (decades / 2.2))  # room for the notes beside the bars
    else:
        ax.set_xlim(0.0, right * 1.8)
    ax.set_yticks(range(len(variants)), [wrapped(v, 28) for v in variants], fontsize=7)
    ax.invert_yaxis()
    settings = [(drawn.labels[i], drawn.colours[i]) for i in benched] if len(benched) > 1 else []
    several = any(len(_runs(drawn.entries[i])) > 1 for i in benched)
    _bench_legend(ax, settings, any(b.noisy for found in bars.values() for b in found), several)
    ax.set_xlabel(f"median time per call ({unit})")
    ax.set_ylabel("variant")
    what = "the median of the seeds' medians" if several else "median time"
    per = f", a bar per {drawn.per}" if len(benched) > 1 else f", {drawn.labels[benched[0]]}"
    ax.set_title(f"bench: {what}{per}", fontsize=9, loc="left")
    ax.grid(True, axis="x", alpha=0.3)


def _bench_entry(
    ax: Axes,
    rows: list[_Bar],
    i: int,
    drawn: _Drawn,
    variants: list[str],
    slot: tuple[int, int],
    unit: tuple[str, float],
) -> list[float]:
    """Entry ``i``'s bars in its ``slot`` (k of n) of each variant's row, with whiskers and the time (and
    the noise) written beside each; returns where the whiskers end."""
    k, n = slot
    height = 0.8 / n
    ys = [variants.index(b.label) + (k - (n - 1) / 2) * height for b in rows]
    times = [b.median_s * unit[1] for b in rows]
    whiskers = [b.iqr_s * unit[1] / 2 if math.isfinite(b.iqr_s) else 0.0 for b in rows]
    drawn_bars = ax.barh(ys, times, height=height * 0.9, color=drawn.colours[i], alpha=0.85)
    for m, (bar, row) in enumerate(zip(drawn_bars, rows, strict=True)):
        bar.set_gid(f"bench-{i}-{m}")
        if row.baseline:
            bar.set_hatch("//")
    spread = ax.errorbar(times, ys, xerr=whiskers, fmt="none", ecolor="0.15", capsize=2, linewidth=1)
    for collection in spread.lines[2]:
        collection.set_gid(f"bench-spread-{i}")
    for y, t, w, row in zip(ys, times, whiskers, rows, strict=True):
        note = f"{t:.3g} {unit[0]}"
        if row.noisy:
            note += f", noisy: IQR {row.iqr_s / row.median_s:.0%}"
        ax.text(t + w, y, f" {note}", va="center", fontsize=6, color=_NOISY if row.noisy else "0.2")
    return [t + w for t, w in zip(times, whiskers, strict=True)]


def _bench_legend(ax: Axes, settings: list[tuple[str, str]], noisy: bool, several: bool) -> None:
    """The bench panel's legend, below it: the settings' colours, what a whisker, a hatch and red mean."""
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Artist] = [Patch(color=colour, alpha=0.85) for _, colour in settings]
    labels = [label for label, _ in settings]
    handles += [
        Line2D([], [], color="0.15", linewidth=1, marker="|"),
        Patch(facecolor="white", edgecolor="0.3", hatch="//"),
    ]
    labels += [
        "whisker: interquartile range of the timed calls" + (" (the widest seed's)" if several else ""),
        "hatched: the baseline",
    ]
    if noisy:
        handles.append(Patch(color=_NOISY))
        labels.append(f"noisy: an IQR over {NOISE_LIMIT:.0%} of the median, not reliable")
    # under the x axis's label (``borderaxespad`` counts font sizes), so that no bar is hidden
    ax.legend(handles, labels, fontsize=6, loc="upper left", bbox_to_anchor=(0.0, 0.0), borderaxespad=5.5)
