"""The bench panel of a saved picture (`readtrack.render.pictures`): a bar per variant and entry, the median
of the seeds' medians, whiskers the interquartile range, the baseline hatched, noisy rows named. A sweep's
bench is drawn once (at the defaults) when the bench stage reads none of the knobs its settings turn
(`bench_reads_knobs`): its bars at other settings differ only by the machine's noise, which a bar per
setting would show as an effect."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from readtrack.history.spread import GroupRecord
from readtrack.plugins.records import NOISE_LIMIT, RunRecord
from readtrack.render.picture_words import log_axis, outside_legend, scale_of, wrapped

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.text import Text

Entry = RunRecord | GroupRecord


class Drawn(Protocol):
    """What the bench panel reads of the picture's entries (`readtrack.render.pictures._Drawn`)."""

    @property
    def entries(self) -> Sequence[Entry]: ...
    @property
    def labels(self) -> list[str]: ...
    @property
    def colours(self) -> list[str]: ...
    @property
    def knobs(self) -> list[str]: ...
    @property
    def per(self) -> str: ...


_NOISY = "#b0400b"


def _runs(entry: Entry) -> list[RunRecord]:
    return entry.runs if isinstance(entry, GroupRecord) else [entry]


def bench_reads_knobs(plugin: str, knobs: Sequence[str] | None = None) -> bool:
    """Whether ``plugin``'s bench stage reads any of ``knobs`` (None: any knob at all;
    `readtrack.batch.knob_readers`, from its source); True when that cannot be told (an unknown or broken
    plugin), as a sweep's plan assumes."""
    from readtrack.batch.knob_readers import plugin_knob_readers
    from readtrack.plugins import discovery

    try:
        info = discovery.get(plugin).info
    except Exception:  # a plugin no longer installed, a record of a test plugin: every stage may read knobs
        return True
    if info is None:  # a broken plugin
        return True
    readers = plugin_knob_readers(info.package, info.experiments)
    if knobs is None:
        return "bench" in readers.reading or "bench" not in readers.defined
    return readers.reads("bench", knobs)


def benched_once(entries: Sequence[Entry], benched: list[int], knobs: Sequence[str]) -> list[int]:
    """The entries whose bench is drawn: one (the defaults', else the first) when the settings differ only in
    knobs (``knobs``) and the bench reads none of them, else ``benched``."""
    if len(benched) < 2 or not knobs or bench_reads_knobs(_runs(entries[benched[0]])[0].info.plugin, knobs):
        return benched
    defaults = [i for i in benched if not _runs(entries[i])[0].info.settings]
    return (defaults or benched)[:1]


@dataclass(frozen=True)
class _Bar:
    """One bench variant of one entry: the median of its seeds' medians, the widest interquartile range of
    the timed calls among them, and whether any seed's row was noisy (seconds)."""

    label: str
    baseline: bool
    median_s: float
    iqr_s: float
    noisy: bool


def bench_bars(entry: Entry) -> list[_Bar]:
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


def draw_bench(ax: Axes, drawn: Drawn, benched: Sequence[int], once: bool = False) -> Text:
    """A bar per variant and entry (the entries of a variant side by side in their colours), whiskers the
    interquartile range, the baseline hatched, noisy rows named; every entry's bench, each bar's id
    ``bench-ENTRY-ROW`` and each entry's whiskers ``bench-spread-ENTRY``."""
    bars = {i: bench_bars(drawn.entries[i]) for i in benched}
    variants = list(dict.fromkeys(b.label for found in bars.values() for b in found))
    medians = [b.median_s for found in bars.values() for b in found]
    unit, factor = _time_unit(max(medians))
    ends = [
        _bench_entry(ax, bars[i], i, drawn, variants, (k, len(benched)), (unit, factor))
        for k, i in enumerate(benched)
    ]
    right = max(end for found in ends for end in found)
    if scale_of(medians) == "log":
        log_axis(ax, "x")
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
    if once:  # the other settings' bars would differ by the machine's noise only
        per += f" (drawn once: the bench does not read {', '.join(drawn.knobs)})"
    ax.grid(True, axis="x", alpha=0.3)
    return ax.set_title(f"bench: {what}{per}", fontsize=9, loc="left")


def _bench_entry(
    ax: Axes,
    rows: list[_Bar],
    i: int,
    drawn: Drawn,
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
    """The bench panel's legend, beside it: the settings' colours, what a whisker, a hatch and red mean."""
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
    outside_legend(ax, handles, labels, fontsize=6)  # beside the panel, so that no bar is hidden
