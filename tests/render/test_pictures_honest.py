"""Issue 84, item 9: honest pictures. Records made by hand (a sweep of adamw's knobs, no training), drawn by
`readtrack.render.pictures` and read back from the matplotlib Figure (labels, texts, legend handles, the
boxes things are drawn in); each picture is also saved as the CLI and the TUI save it, to be looked at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Text

from readtrack.plugins.records import (
    BenchRow,
    Measured,
    RunInfo,
    RunRecord,
    StageResult,
    Target,
    claim_note,
)
from readtrack.render import pictures
from readtrack.render.picture_words import arms_in, quantity_of

SWEPT: list[dict[str, Any]] = [{}, {"weight_decay": 1.0}, {"decay": "l2", "weight_decay": 1.0}]
#: adamw's own names: a claim is "ARM: quantity ..." and a curve "quantity, ... (ARM)"
DISTANCE = "AdamW: |w/w0 − (1 − lr·λ)^100| from w0=1"
SPREAD = "AdamW: the decay is the same whatever the gradient scale (spread of mean w/w0)"


def shown(name: str) -> str:
    """``name`` as a picture of the sweep draws it: its ``decay`` settings swap the AdamW arm's method
    (``arm="AdamW"`` in adamw's config), so the arm is named by its switch (`readtrack.render.what_ran`)."""
    return name.replace("AdamW", "the decay arm")


SIZE = "Adam + L2: w/w0 from w0=10 minus from w0=1 (the decay depends on the weight's size)"
#: wider than the figure at its size, as a claim's title
LONG = (
    "Adam + L2: weights with large gradients are regularised less than those with small ones, as in the"
    " paper's Figure 2 (w/w0 at scale 100 minus at 0.01)"
)


def record(
    seed: int,
    settings: dict[str, Any],
    *,
    plugin: str = "adamw",
    claims: dict[str, tuple[float, float, bool]] | None = None,
    curves: dict[str, list[tuple[int, float]]] | None = None,
    bench_ms: float | None = None,
) -> RunRecord:
    """One run of a sweep ``sw``: ``claims`` name -> (value, threshold, higher is better), asserted at the
    defaults and reported with the threshold elsewhere (as ``RunContext.target`` does)."""
    train = StageResult("train", "passed", curves=curves or {})
    for name, (value, threshold, higher) in (claims or {}).items():
        if settings:
            train.measured.append(Measured(name, value, claim_note(threshold, higher, calibrated=False)))
        else:
            train.targets.append(Target(name, value, threshold, higher))
    stages = [train]
    if bench_ms is not None:
        rows = [BenchRow("torch.optim.AdamW", bench_ms / 1e3, bench_ms / 1e4, 20, baseline=True)]
        stages.append(StageResult("bench", "passed", bench=rows))
    ident = f"r{seed}{len(settings)}{len(str(settings))}"
    info = RunInfo(ident, plugin, "adamw", "cpu", ["train", "bench"], True, seed, "2026-11-28T10:00:00")
    info.settings, info.sweep_id = settings, "sw"
    return RunRecord(info, "passed", 1.0, stages)


def decay(rate: float) -> list[tuple[int, float]]:
    return [(s, (1 - rate) ** s) for s in range(1, 101)]


def adamw_sweep(bench: bool = False) -> list[RunRecord]:
    """3 settings × 2 seeds: the claims of adamw's train stage, its curves (the Adam + L2 curve the same in
    two settings up to round-off, the AdamW one just apart), and, with ``bench``, a bench at every setting
    whose medians differ by the machine's noise only (13.4 ms vs 33.2 ms)."""
    records = []
    for n, settings in enumerate(SWEPT):
        for seed in (0, 1):
            distance = 1e-7 if n < 2 else 0.6 + 0.01 * seed
            claims = {DISTANCE: (distance, 1e-6, False), SPREAD: (0.01, 0.05, False), SIZE: (0.7, 0.3, True)}
            claims[LONG] = (0.77, 0.5, True)
            curves = {
                "w/w0, zero gradient, w0=1 (AdamW)": decay(0.001 if n == 0 else 0.01 + 1e-5 * n),
                "w/w0, zero gradient, w0=1 (Adam + L2)": decay(0.01 + 1e-12 * n if n < 2 else 0.02),
            }
            bench_ms = (13.4, 33.2, 20.0)[n] if bench else None
            records.append(record(seed, settings, claims=claims, curves=curves, bench_ms=bench_ms))
    return records


def drawn(records: list[RunRecord], tmp_path: Path, name: str, *, tui: bool = False) -> Figure:
    """The figure of ``records`` as ``readtrack run --plot`` / ``readtrack plot`` draw it, saved as the CLI
    saves it (PNG); with ``tui``, each entry alone as the TUI's plot key saves it too."""
    entries = pictures.by_setting(records)
    fig = pictures.figure(entries)
    pictures.save(fig, tmp_path / f"{name}.png")
    for n, entry in enumerate(entries if tui else []):
        pictures.save(pictures.figure([entry]), tmp_path / f"{name}-tui-{n}.png")
    FigureCanvasAgg(fig)  # measured as the PNG is drawn
    fig.draw_without_rendering()
    return fig


def panels(fig: Figure) -> list[Axes]:
    return list(fig.axes)


def one_line(text: str) -> str:
    return " ".join(text.split())


def legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, f"{ax.get_title(loc='left')!r} has no legend"
    return [one_line(t.get_text()) for t in legend.get_texts()]


def test_the_claims_y_axes_name_the_quantity_and_the_legend_the_arm(tmp_path: Path) -> None:
    """A claim named "AdamW: |w/w0 − ...| from w0=1" measures a distance, not AdamW: the y axis says the
    quantity (a claim written as a sentence: the number in its parenthesis); the legend names the arm."""
    fig = drawn(adamw_sweep(), tmp_path, "arms")
    titles = {one_line(ax.get_title(loc="left")): ax for ax in panels(fig)}
    claims = {title: ax for title, ax in titles.items() if title.startswith("the claim")}
    assert len(claims) == 4
    ylabels = {title: one_line(ax.get_ylabel()) for title, ax in claims.items()}
    assert ylabels[f"the claim: {shown(DISTANCE)}, per setting"] == "|w/w0 − (1 − lr·λ)^100| from w0=1"
    assert ylabels[f"the claim: {shown(SPREAD)}, per setting"] == "spread of mean w/w0"
    assert ylabels[f"the claim: {SIZE}, per setting"] == "w/w0 from w0=10 minus from w0=1"
    assert ylabels[f"the claim: {LONG}, per setting"] == "w/w0 at scale 100 minus at 0.01"
    assert not {"AdamW", "Adam + L2"} & set(ylabels.values())
    for arm, claim in (("the decay arm", SPREAD), ("Adam + L2", SIZE)):
        legend = legend_texts(claims[f"the claim: {shown(claim)}, per setting"])
        assert any(t.startswith(f"{arm}: mean") for t in legend)


def test_every_word_lies_within_the_figure_and_long_titles_wrap(tmp_path: Path) -> None:
    """A claim's title wider than the figure at its size wraps, measured as drawn, every word kept; no
    title, label or legend reaches past an edge."""
    fig = drawn(adamw_sweep(bench=True), tmp_path, "titles", tui=True)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg's (see `drawn`)
    edge = fig.bbox
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert len(texts) > 50
    for text in texts:
        box = text.get_window_extent(renderer)
        assert edge.x0 - 1 <= box.x0 and box.x1 <= edge.x1 + 1, f"{text.get_text()!r} clipped at the side"
        assert edge.y0 - 1 <= box.y0 and box.y1 <= edge.y1 + 1, f"{text.get_text()!r} clipped at the top"
    long = next(ax for ax in panels(fig) if "Figure 2" in one_line(ax.get_title(loc="left")))
    assert "\n" in long.get_title(loc="left")  # wrapped, every word kept
    assert one_line(long.get_title(loc="left")) == f"the claim: {LONG}, per setting"


def test_legends_lie_beside_the_data_never_over_it(tmp_path: Path) -> None:
    """Every panel's legend box is outside its axes' data area (no curve, point or bar under it)."""
    fig = drawn(adamw_sweep(bench=True), tmp_path, "legends")
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg's (see `drawn`)
    for ax in panels(fig):
        legend = ax.get_legend()
        assert isinstance(legend, Legend), ax.get_title(loc="left")
        box, data = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert not box.overlaps(data), f"the legend of {ax.get_title(loc='left')!r} covers its data"
        assert box.x1 <= fig.bbox.x1 + 1


def curve_lines(ax: Axes) -> list[Line2D]:
    return [line for line in ax.get_lines() if (line.get_gid() or "").startswith("curve-")]


def test_lines_that_print_the_same_are_one_and_lines_that_touch_both_show(tmp_path: Path) -> None:
    """The Adam + L2 curve of the defaults and of weight_decay=1.0 differ at round-off (1e-12): one line,
    "defaults (2 seeds) = weight_decay=1.0 (2 seeds)". AdamW's two settings differ (1e-5 a step) but lie on
    each other at the panel's scale: both drawn, the later dashed, and the legend says what dashed means."""
    fig = drawn(adamw_sweep(), tmp_path, "lines")
    by_title = {ax.get_title(loc="left").split(" — ")[0]: ax for ax in panels(fig)}
    l2 = by_title["w/w0, zero gradient, w0=1 (Adam + L2)"]
    assert len(curve_lines(l2)) == 2
    assert "defaults (2 seeds) = weight_decay=1.0 (2 seeds)" in legend_texts(l2)
    adamw = by_title["w/w0, zero gradient, w0=1 (the decay arm)"]
    lines = curve_lines(adamw)
    assert len(lines) == 3
    styles = [line.get_linestyle() for line in lines]
    assert styles[0] == "-" and styles[1] == "-" and styles[2] != "-"  # the third lies on the second
    assert "dashed: a line lying on one above it" in legend_texts(adamw)


def bench_bars(ax: Axes) -> list[str]:
    return sorted(p.get_gid() or "" for p in ax.patches if (p.get_gid() or "").startswith("bench-"))


@pytest.mark.parametrize(
    ("plugin", "swept", "once"),
    [
        ("adamw", SWEPT, "decay, weight_decay"),
        ("seq2seq", [{}, {"lr": 0.003}, {"lr": 0.03}], "lr"),
        ("seq2seq", [{}, {"hidden": 32}, {"hidden": 128}], None),
    ],
    ids=["adamw-reads-no-knob", "seq2seq-lr-not-read", "seq2seq-hidden-read"],
)
def test_the_bench_is_drawn_once_when_the_bench_reads_no_swept_knob(
    tmp_path: Path, plugin: str, swept: list[dict[str, Any]], once: str | None
) -> None:
    """adamw's bench stage reads no knob (`KnobReaders`): its 13.4 ms and 33.2 ms at two settings are the
    machine's noise, so the bench is drawn once, at the defaults, and the title says why. seq2seq's bench
    reads its sizes (``hidden``) but not ``lr``: once across learning rates, a bar per size."""
    records = [
        record(seed, settings, plugin=plugin, bench_ms=(13.4, 33.2, 20.0)[n])
        for n, settings in enumerate(swept)
        for seed in (0, 1)
    ]
    fig = drawn(records, tmp_path, f"bench-{plugin}")
    (bench,) = panels(fig)
    if once:
        assert bench_bars(bench) == ["bench-0-0"]
        assert f"drawn once: the bench does not read {once}" in one_line(bench.get_title(loc="left"))
        assert ", defaults (2 seeds)" in one_line(bench.get_title(loc="left"))
    else:
        assert bench_bars(bench) == ["bench-0-0", "bench-1-0", "bench-2-0"]
        assert "drawn once" not in bench.get_title(loc="left")


def test_the_claim_panel_says_held_or_not_held_and_the_legend_explains_the_hollow_marker(
    tmp_path: Path,
) -> None:
    """On the threshold line, each setting's seeds that held it ("held 2/2", "not held 0/2"); the legend
    has a filled marker for an asserted mean and a hollow one for a mean reported without being asserted."""
    fig = drawn(adamw_sweep(), tmp_path, "held")
    distance = next(ax for ax in panels(fig) if shown(DISTANCE) in one_line(ax.get_title(loc="left")))
    held = {t.get_gid(): t.get_text() for t in distance.texts if (t.get_gid() or "").startswith("held-")}
    assert held == {"held-0-0": "held 2/2", "held-0-1": "held 2/2", "held-0-2": "not held 0/2"}
    legend = distance.get_legend()
    assert legend is not None
    markers = {
        one_line(text.get_text()): handle
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True)
        if isinstance(handle, Line2D) and handle.get_marker() == "o"
    }
    faces = {label.split("(")[1].split(":")[0]: h.get_markerfacecolor() for label, h in markers.items()}
    assert set(faces) == {"filled", "hollow"}
    assert faces["hollow"] in ("white", (1.0, 1.0, 1.0, 1.0)) and faces["filled"] != faces["hollow"]
    # what a hollow mean is, and not "a quick run": a quick run at the defaults asserts its claim, filled
    assert any("hollow: reported, not asserted: knobs turned" in label for label in markers)
    assert not any("quick" in label for label in markers)


def test_the_held_words_sit_beside_each_error_bar_never_over_it(tmp_path: Path) -> None:
    """Issue 94, item 14: "held 2/2" was drawn centred on the mean's x, over its error bar and caps. Each
    held/not held label now ends left of its bar's caps, in the saved picture's own pixels."""
    fig = drawn(adamw_sweep(), tmp_path, "held")
    distance = next(ax for ax in panels(fig) if shown(DISTANCE) in one_line(ax.get_title(loc="left")))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    caps = 5 * fig.dpi / 72  # the error bars' capsize, 5 points either side
    labels = [t for t in distance.texts if (t.get_gid() or "").startswith("held-")]
    assert len(labels) == 3
    for text in labels:
        gid = text.get_gid()
        assert gid is not None
        x = int(gid.rsplit("-", 1)[1])
        bar_x = distance.transData.transform((x, 0))[0]
        box = text.get_window_extent(renderer)
        assert box.x1 <= bar_x - caps, (text.get_text(), box.x1, bar_x)


@pytest.mark.parametrize(
    ("name", "quantity"),
    [
        (DISTANCE, "|w/w0 − (1 − lr·λ)^100| from w0=1"),  # an arm of the figure's curves before the colon
        (
            "inputs ×100: test loss without / with LayerNorm, each at its best lr",
            "test loss without / with LayerNorm",
        ),
        ("ViT trained on 4000 images: test accuracy", "test accuracy"),
        ("training loss: under test", "training loss"),  # the quantity first, the arm after
        ("KL term (nats): no posterior collapse", "KL term (nats)"),
        ("w/w0, zero gradient, w0=1 (AdamW)", "w/w0"),
    ],
)
def test_an_axis_names_the_quantity_whichever_side_of_the_colon_it_is(name: str, quantity: str) -> None:
    """Shelf names put the arm or the condition before the colon ("AdamW: ...", "inputs ×100: ...") as often
    as the quantity ("training loss: ..."): the y label is the side that names a quantity."""
    arms = arms_in(["w/w0, zero gradient, w0=1 (AdamW)", "w/w0, zero gradient, w0=1 (Adam + L2)"])
    assert quantity_of(name, arms)[0] == quantity
