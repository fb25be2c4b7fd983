"""A lineage drawn in time (issue 92, `readtrack.render.lineage_picture`): records made by hand for the
built-in recurrent family, drawn, saved as SVG and PNG as the CLI saves them, and read back."""

from __future__ import annotations

import math
import re
from pathlib import Path

from cli_runner import run_cli
from made_records import make_record, store
from matplotlib.image import imread
from matplotlib.text import Text

from readtrack.catalog.reader import load
from readtrack.history import lineages as view
from readtrack.plugins import discovery
from readtrack.plugins.lineages import declared
from readtrack.plugins.records import Measured, RunRecord, StageResult, Target
from readtrack.render import lineage_picture, lineages, pictures

SEED_LIST = Path(__file__).resolve().parents[2] / "papers.yaml"
GRU = "GRU: test MSE on the adding problem"
LSTM = "LSTM − nn.RNN: the far value's weight, same initialisation and batches"


def recorded(plugin: str, name: str, value: float, threshold: float, higher: bool) -> RunRecord:
    record = make_record(plugin, run_id=f"{plugin}-1")
    record.stages = [StageResult("train", "passed", 1.0, targets=[Target(name, value, threshold, higher)])]
    return record


def recurrent() -> view.LineageView:
    found = discovery.discovery(include_user=False)
    plugins = {p.name: p.info for p in found.plugins if isinstance(p, discovery.LoadedPlugin)}
    records = {
        "gru": [recorded("gru", GRU, 0.004, 0.05, False)],
        "lstm": [recorded("lstm", LSTM, -0.2, 0.0, True)],
    }
    family = declared(found.hooks).lineages["recurrent"]
    return view.view(family, plugins, load(SEED_LIST), lambda p: records.get(p, []))


def test_each_member_is_a_point_in_time_each_step_an_arrow_coloured_by_its_verdict(tmp_path: Path) -> None:
    fig = lineage_picture.figure(recurrent())
    svg = pictures.save(fig, tmp_path / "recurrent.svg").read_text(encoding="utf-8")
    ids = set(re.findall(r'id="((?:member|step|label)-[^"]+)"', svg))
    assert {"member-rnn", "member-lstm", "member-gru", "member-mamba:s4", "member-mamba"} <= ids
    assert {"step-lstm-rnn", "step-gru-lstm", "step-mamba-mamba:s4"} <= ids
    assert not any(i.startswith("step-mamba:s4") or i.startswith("step-rnn") for i in ids)  # no predecessor
    points = {line.get_gid(): line.get_color() for ax in fig.axes for line in ax.get_lines()}
    colours = lineage_picture.COLOURS
    assert points["member-gru"] == colours["held"] and points["member-lstm"] == colours["not held"]
    assert points["member-rnn"] == colours["not run"] and points["member-mamba:s4"] == colours[None]
    texts = " ".join(" ".join(t.get_text().split()) for t in fig.findobj(Text))
    assert "1 held, 1 not held, 2 not run" in texts
    assert "over lstm: the LSTM's long memory with two gates instead of three" in texts
    assert "held, 0.004 (≤ 0.05)" in texts and "not held, -0.2 (≥ 0)" in texts
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["rnn", "lstm", "gru", "s4", "mamba"]  # oldest at the top
    members = [line for line in fig.axes[0].get_lines() if (line.get_gid() or "").startswith("member")]
    xs = [float(line.get_xydata()[0][0]) for line in members]  # type: ignore[index, arg-type]
    assert xs == sorted(xs)  # placed by date


def test_every_word_lies_within_the_figure_and_no_two_members_words_touch(tmp_path: Path) -> None:
    fig = lineage_picture.figure(recurrent())
    pictures.save(fig, tmp_path / "recurrent.png")
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    edge = fig.bbox
    boxes = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip():
            continue
        box = text.get_window_extent(renderer)
        assert edge.x0 - 1 <= box.x0 and box.x1 <= edge.x1 + 1, f"{text.get_text()!r} clipped at the side"
        assert edge.y0 - 1 <= box.y0 and box.y1 <= edge.y1 + 1, f"{text.get_text()!r} clipped"
        if (text.get_gid() or "").startswith("label-"):
            boxes.append(box)
    assert len(boxes) == 5
    assert all(not a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    height, width = imread(tmp_path / "recurrent.png").shape[:2]
    assert (width, height) == (round(fig.get_figwidth() * 150), round(fig.get_figheight() * 150))


def test_the_cli_saves_each_file_it_is_given_and_refuses_a_wrong_suffix_before_anything(
    tmp_path: Path,
) -> None:
    store(recorded("gru", GRU, 0.004, 0.05, False))
    done = run_cli(
        "lineage", "recurrent", "--plot", str(tmp_path / "a.svg"), "--plot", str(tmp_path / "a.png")
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "a.svg").read_text(encoding="utf-8").startswith("<?xml")
    assert imread(tmp_path / "a.png").shape[1] == round(lineage_picture.WIDTH * 150)
    assert "Recurrent networks" in done.stdout  # the chain is printed too
    wrong = run_cli("lineage", "recurrent", "--plot", str(tmp_path / "a.pdf"))
    assert wrong.returncode == 2 and "a plot is saved as .svg or .png" in wrong.stderr and wrong.stdout == ""
    alone = run_cli("lineage", "--plot", str(tmp_path / "b.svg"))
    assert alone.returncode == 2 and "--plot takes one lineage" in alone.stderr
    assert not (tmp_path / "b.svg").exists()


def test_a_bench_value_off_the_axis_is_named_not_dropped(tmp_path: Path) -> None:
    """A member that never reached the bench's loss in its budget (inf), or diverged (NaN), has no place on
    the panel's axis: the panel's title names it, the others are points."""
    found = discovery.discovery(include_user=False)
    plugins = {p.name: p.info for p in found.plugins if isinstance(p, discovery.LoadedPlugin)}
    steps = "steps to 1.2 nats above the chain's entropy rate"
    bench = make_record("optimizers-bench", run_id="bench-1")
    bench.stages = [
        StageResult(
            "train",
            "passed",
            1.0,
            measured=[
                Measured(f"optimizers-bench:sgd-momentum: {steps}", math.inf),
                Measured(f"adamw:adam: {steps}", 120.0),
                Measured(f"adamw: {steps}", 110.0),
                Measured(f"schedule-free: {steps}", math.nan),
            ],
        )
    ]
    family = declared(found.hooks).lineages["optimizers"]
    records = {"optimizers-bench": [bench]}
    lineage = view.view(family, plugins, load(SEED_LIST), lambda p: records.get(p, []))
    fig = lineage_picture.figure(lineage)
    pictures.save(fig, tmp_path / "optimizers.svg")
    (panel,) = [ax for ax in fig.axes if steps in ax.get_title(loc="left")]
    title = " ".join(panel.get_title(loc="left").split())
    assert "(off the axis: optimizers-bench:sgd-momentum, schedule-free)" in title
    (points,) = [line for line in panel.get_lines() if (line.get_gid() or "").startswith("bench-")]
    ys = [float(y) for y in points.get_ydata()]  # type: ignore[union-attr, arg-type]
    assert sorted(ys) == [110.0, 120.0]
    text = " ".join(" ".join(lineages.chain(lineage, 200)).split())  # as `readtrack lineage` prints it
    assert f"{steps}: optimizers-bench:sgd-momentum — · adamw:adam 120 · adamw 110 · schedule-free —" in text
