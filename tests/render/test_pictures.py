"""The pictures ``plot`` and ``run --plot`` save (issue 73): records built directly (no training), drawn by
`readtrack.render.pictures`, saved as SVG and read back as XML, panel by panel."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path
from typing import Any

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

SVG = "{http://www.w3.org/2000/svg}"
SETTINGS: list[dict[str, Any]] = [{}, {"norm": "layer"}, {"norm": "none"}]


def run(
    seed: int,
    settings: dict[str, Any],
    curves: dict[str, list[tuple[int, float]]],
    *,
    sweep: str | None = None,
    ratio: float | None = None,
    bench: bool = False,
) -> RunRecord:
    """One run of the toy plugin: its curves, the claim's ratio (asserted at the defaults, reported with the
    threshold otherwise, as ``RunContext.target`` does) and two bench rows, one of them noisy."""
    train = StageResult("train", "passed", curves=curves)
    if ratio is not None and settings:
        train.measured.append(Measured("test loss ratio", ratio, claim_note(2.0, True, calibrated=False)))
    elif ratio is not None:
        train.targets.append(Target("test loss ratio", ratio, 2.0))
    stages = [train]
    if bench:
        rows = [
            BenchRow("reference", 2e-3 * (1 + 0.1 * seed), 1e-4, 20, baseline=True),
            BenchRow("ours", 1e-3, 8e-4, 20, noisy=True),
        ]
        stages.append(StageResult("bench", "passed", bench=rows))
    ident = f"{sweep or 'run'}{len(settings)}{seed}{len(str(settings))}"
    info = RunInfo(ident, "toy", "toy", "cpu", ["train"], True, seed, "2026-11-21T10:00:00")
    info.settings, info.sweep_id = settings, sweep
    return RunRecord(info, "passed", 1.0, stages)


def sweep_records() -> list[RunRecord]:
    """A sweep of ``norm`` over 3 settings × 2 seeds: the network under test's curve changes with the
    setting, the reference's (spiking 70× at step 0) does not."""
    records = []
    for n, settings in enumerate(SETTINGS):
        for seed in (0, 1):
            under_test = [(s, (1 + n) * (1 + seed) * 0.97**s) for s in range(60)]
            reference = [(s, 70.0 if s == 0 else (1.1 + 0.1 * seed) * 0.96**s) for s in range(60)]
            curves = {"training loss: under test": under_test, "training loss: reference": reference}
            ratio = 4.0 + seed if n == 0 else 1.0 + 0.1 * seed
            records.append(run(seed, settings, curves, sweep="sw1", ratio=ratio, bench=True))
    return records


def saved(records: list[RunRecord], tmp_path: Path, *, group: bool = True) -> ET.Element:
    entries = pictures.by_setting(records) if group else list(records)
    path = pictures.save(pictures.figure(entries), tmp_path / "picture.svg")
    return ET.parse(path).getroot()


def axes_of(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if re.fullmatch(r"axes_\d+", g.get("id") or "")]


def ids(element: ET.Element) -> list[str]:
    return [g.get("id") or "" for g in element.iter(f"{SVG}g")]


def texts(element: ET.Element) -> str:
    return " ".join(t.text or "" for t in element.iter(f"{SVG}text"))


def test_a_sweep_draws_its_claim_every_curve_once_and_every_settings_bench(tmp_path: Path) -> None:
    """A sweep's picture: the claim per setting (mean, interval, threshold, "not asserted" off the
    defaults), a line per setting where the knob changed the curve and one "unchanged" line where it did
    not (no axes holds two identical line paths), labelled axes, the band explained, every setting's bench
    with its spread and its noise, and a title that says it is a sweep of norm."""
    root = saved(sweep_records(), tmp_path)
    assert "toy · a sweep of norm over 3 settings × 2 seeds · cpu · quick · 2026-11-21" in texts(root)
    axes = axes_of(root)
    assert len(axes) == 4  # the claim, two curves, the bench
    for ax in axes:
        paths = [
            p.get("d")
            for g in ax.iter(f"{SVG}g")
            if re.match(r"line2d_|curve-", g.get("id") or "")
            for p in g.findall(f"{SVG}path")  # the line, not a marker's definition
        ]
        assert len(paths) == len(set(paths)), "two lines drawn on top of each other"
        for axis in (g for g in ax if (g.get("id") or "").startswith("matplotlib.axis_")):
            labels = [g for g in axis if (g.get("id") or "").startswith("text_") and texts(g).strip()]
            assert len(labels) == 1, f"{ax.get('id')} has an axis without its label"

    headline, changed, unchanged, bench = axes
    assert "the claim: test loss ratio, per setting" in texts(headline)
    for i in range(3):
        assert {f"headline-0-{i}", f"headline-interval-0-{i}"} <= set(ids(headline))
    assert "threshold-0-0" in ids(headline) and "the claim: ≥ 2" in texts(headline)
    assert texts(headline).count("(not asserted)") == 2  # norm=layer and norm=none, not the defaults

    assert sorted(i for i in ids(changed) if i.startswith("curve-")) == [
        "curve-0-0",
        "curve-0-1",
        "curve-0-2",
    ]
    assert "a line per setting of norm" in texts(changed) and "norm=layer (2 seeds)" in texts(changed)
    assert [i for i in ids(unchanged) if i.startswith("curve-")] == ["curve-1-0"]
    assert "unchanged in every setting (2 seeds)" in texts(unchanged)
    assert "norm does not change it" in texts(unchanged)
    for ax in (changed, unchanged):
        assert "band: lowest–highest of 2 seeds" in texts(ax) and "training loss" in texts(ax)

    for entry in range(3):
        assert {f"bench-{entry}-0", f"bench-{entry}-1", f"bench-spread-{entry}"} <= set(ids(bench))
    assert "noisy: IQR 80%" in texts(bench) and "interquartile range" in texts(bench)
    assert "median time per call (ms)" in texts(bench)


def test_titles_say_one_run_one_setting_or_several_runs(tmp_path: Path) -> None:
    """A run alone, one setting's seeds and unrelated runs are named as such, never "a sweep"."""
    curves = {"loss": [(s, 1.0 / (s + 1)) for s in range(10)]}
    alone = texts(saved([run(0, {}, curves)], tmp_path))
    assert "toy · one run (defaults, seed 0) · cpu · quick" in alone
    seeds = texts(saved([run(0, {}, curves), run(1, {}, curves)], tmp_path))
    assert "toy · one setting (defaults) on 2 seeds (0-1)" in seeds
    unrelated = saved([run(0, {}, curves), run(0, {"norm": "none"}, curves)], tmp_path, group=False)
    assert "toy · 2 runs · cpu" in texts(unrelated) and "a sweep" not in texts(unrelated)
    assert "unchanged in every run (seed 0)" in texts(unrelated)


def span_share(ax: ET.Element, curve: str) -> float:
    """The share of ``ax``'s height that ``curve`` takes after its first tenth of steps (the drawn polyline,
    which SVG output simplifies: the height at the cut is interpolated on its segment)."""
    frame = next(g for g in ax if (g.get("id") or "").startswith("patch_"))
    frame_ys = [
        float(y) for y in re.findall(r"[\d.]+ ([\d.]+)", next(frame.iter(f"{SVG}path")).get("d") or "")
    ]
    line = next(g for g in ax.iter(f"{SVG}g") if g.get("id") == curve)
    points = [(float(x), float(y)) for x, y in re.findall(r"([-\d.]+) ([-\d.]+)", line[0].get("d") or "")]
    cut = points[0][0] + 0.1 * (points[-1][0] - points[0][0])
    rest = [y for x, y in points if x > cut]
    (x0, y0), (x1, y1) = next((a, b) for a, b in pairwise(points) if a[0] <= cut < b[0])
    rest.append(y0 + (y1 - y0) * (cut - x0) / (x1 - x0))
    return (max(rest) - min(rest)) / (max(frame_ys) - min(frame_ys))


def test_a_warm_up_spike_does_not_flatten_the_rest_of_its_curve(tmp_path: Path) -> None:
    """A loss 70× higher at step 0 than after it, and a signed curve with the same spike: in both, the
    steps after the first tenth still fill at least a third of the panel's height (a log axis for the
    positive one, a range clipped to the rest, and the clipped point marked, for the signed one)."""
    loss = [(s, 70.0 if s == 0 else 0.98**s) for s in range(150)]
    reward = [(s, -70.0 if s == 0 else (s % 7) / 7 - 0.5) for s in range(150)]
    root = saved([run(0, {}, {"training loss": loss, "reward": reward})], tmp_path)
    loss_axes, reward_axes = axes_of(root)
    assert span_share(loss_axes, "curve-0-0") > 1 / 3
    assert span_share(reward_axes, "curve-1-0") > 1 / 3
    assert "below the axis, clipped (up to -70)" in texts(reward_axes)
