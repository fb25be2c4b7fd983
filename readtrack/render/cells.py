"""The cells every run table shares: numbers, durations, sizes and throughputs as text, sparklines, the
time a run started, and a status in its colour. `readtrack.render.runs` and `readtrack.render.batches` draw
their tables with them, and the TUI its run pane."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text

from readtrack.base.words import fmt_seconds as fmt_seconds  # one duration format (practice uses it too)

STATUS_STYLE = {
    "passed": "green",
    "ok": "green",
    "failed": "red",
    "error": "red",
    "broken": "red",
    "timeout": "yellow",
    "cancelled": "yellow",
    "interrupted": "yellow",
    "running": "cyan",
    "skipped": "dim",
}
SPARKS = "▁▂▃▄▅▆▇█"
STAGE_GLYPHS = {"passed": "✓", "failed": "✗", "error": "!", "timeout": "⏱", "cancelled": "⊘", "skipped": "–"}


# -- numbers ---------------------------------------------------------------------------------------
def fmt_bytes(value: float | None) -> str:
    if value is None:
        return "–"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def fmt_number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"


def mean_sd(mean: float, sd: float) -> str:
    """``mean ± sd`` with one number of decimals for both: the mean's 4 significant digits (as `fmt_number`
    shows it, and as the sweep's "same" verdict reads it), so ``4.282 ± 0.285`` beside ``4.855 ± 0.293``,
    never ``± 0.2925``, and ``12.00 ± 0.50``. An sd that would round to 0 there keeps its own digits
    (``1.000 ± 2.000e-05``, not ``± 0.000``); without a spread (NaN: one value) the mean alone; a mean of 0 or
    in e-notation, each as `fmt_number` has it."""
    if math.isnan(sd):
        return fmt_number(mean)
    if mean == 0 or not (1e-3 <= abs(mean) < 1e5) or not math.isfinite(sd):
        return f"{fmt_number(mean)} ± {fmt_number(sd)}"
    decimals = max(0, 3 - math.floor(math.log10(abs(mean))))
    if sd > 0 and round(sd, decimals) == 0:
        return f"{mean:.{decimals}f} ± {fmt_number(sd)}"
    return f"{mean:.{decimals}f} ± {sd:.{decimals}f}"


def fmt_si(value: float | None) -> str:
    """``17600`` as ``17.6k``: throughputs at a glance."""
    if value is None or not math.isfinite(value):
        return "–"
    for suffix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def sparkline(values: Sequence[float], width: int = 24) -> str:
    """A unicode sparkline of ``values``, resampled to at most ``width`` characters."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return ""
    if len(finite) > width:
        finite = [finite[round(i * (len(finite) - 1) / (width - 1))] for i in range(width)]
    low, high = min(finite), max(finite)
    span = high - low or 1.0
    return "".join(SPARKS[min(len(SPARKS) - 1, int((v - low) / span * len(SPARKS)))] for v in finite)


def when(iso: str) -> str:
    """``2026-11-21T10:59:18+00:00`` as ``2026-11-21 10:59``."""
    return iso.replace("T", " ")[:16]


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def threads_note(threads: int) -> str:
    """`` · 1 thread`` / `` · 4 threads`` for a run's CPU thread count (nothing when it was not recorded)."""
    if threads <= 0:
        return ""
    return f" · {threads} thread{'s' if threads != 1 else ''}"
