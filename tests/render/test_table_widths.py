"""Every table keeps its ids and verdict words whole at any width from 80 to 200 columns and in a pipe (issue
84): names and numbers wrap, ids (a run's, a group's, a sweep's, a plugin's, a knob's) and verdicts
(passed, held 3/3, not asserted, same, ✓ → †) never; a footnote only when its mark is in the table.

The real CLI in a subprocess at a given width (``COLUMNS``; empty: a pipe, rich's 80) on records made by
hand (tests/made_records.py): runs of adamw (one of them with knobs turned: its claim not asserted), a
multi-seed run, a sweep of two knobs over three seeds, a failed run of the plugin with the longest name.
The end of a sweep (`render_sweep`) and a run's report (`render_record`) are drawn after a run only: the real
functions on a console of that width, the sweep's tables made from its stored runs."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import pytest
from cli_runner import run_cli
from made_records import make_record, store
from rich.console import Console

from readtrack.batch.resume import sweep_outcomes
from readtrack.batch.sweep import tables
from readtrack.history import runs as history
from readtrack.history.runs import SweepPlan
from readtrack.history.spread import GroupRecord
from readtrack.plugins.records import BenchRow, Measured, RunRecord, Target, claim_note
from readtrack.render.runs import render_record
from readtrack.render.sweep import render_sweep

#: The widths every table is drawn at; "" is a pipe (no COLUMNS: rich draws 80 columns).
WIDTHS = ["80", "100", "110", "119", "120", "160", "200", ""]
CLAIM = "w/w0 ratio, L2 over decoupled"
SWEEP = "5eef1234abcd"
#: What the sweep set out to run: the defaults and two settings of two knobs (long names: they wrap)
SETTINGS: list[dict[str, object]] = [
    {},
    {"weight_decay": 0.3, "decay": "l2"},
    {"weight_decay": 0.01, "decay": "none"},
]


def adamw(
    run_id: str,
    started: str,
    *,
    settings: dict[str, object] | None = None,
    seed: int = 3,
    claim: float = 2.5e5,
    loss: float = 0.6773,
    drift: float = 5.4e-32,
    max_abs: float = 5.551e-17,
    sweep_id: str | None = None,
) -> RunRecord:
    """A run of adamw: its claim a target of the defaults (reported, not asserted, with knobs turned), a loss,
    a drift at round-off, a bench of long names."""
    record = make_record("adamw", run_id=run_id, started_at=started, max_abs=max_abs)
    record.info.paper_id, record.info.seed, record.info.threads = "adamw", seed, 2
    record.info.settings, record.info.sweep_id = settings or {}, sweep_id
    train = record.stages[1]
    if settings:
        train.targets = []
        train.measured = [Measured(CLAIM, claim, claim_note(2e5, True, calibrated=False))]
    else:
        train.targets = [Target(CLAIM, claim, 2e5)]
        train.measured = []
    train.measured += [Measured("final loss", loss), Measured("drift at round-off", drift)]
    record.stages[2].bench = [
        BenchRow("torch.optim.AdamW", 0.0123, 0.001, 20, baseline=True, ratio=1.0),
        BenchRow("ours decoupled (foreach, fused)", 0.0101, 0.001, 20, ratio=0.82),
    ]
    return record


def make_history() -> None:
    """The records every test here reads (module docstring)."""
    failed = make_record("rethinking-generalization", run_id="0badc0de9999", status="failed")
    failed.info.started_at = "2026-01-01T09:00:00+00:00"
    failed.stages[1].status = "failed"
    store(failed)
    store(adamw("3f40ec7a1b2c", "2026-01-02T10:00:00+00:00"))
    store(
        adamw(
            "9b12cd34ef56", "2026-01-03T10:00:00+00:00", settings=SETTINGS[1], claim=1.7e5, max_abs=6.661e-16,
            drift=5.551e-17,
        )
    )  # fmt: skip
    runs = [adamw(f"a{s}aaaaaaaaaa", f"2026-01-04T10:00:0{s}+00:00", seed=s) for s in range(3)]
    history.record_group(
        GroupRecord("g1f00d2e3a4b", "adamw", [0, 1, 2], runs[0].info.started_at, "passed", 9.0, runs)
    )
    plan = SweepPlan(SWEEP, "adamw", SETTINGS, [0, 1, 2], "2026-01-05T10:00:00+00:00")
    claims = [[2.5e5, 2.6e5, 2.4e5], [1.7e5, 1.8e5, 1.6e5], [2.4e5, 2.7e5, 2.5e5]]  # held; differs; within
    # every setting's loss prints 0.6773 (one a last bit apart); the drift is round-off in every one
    losses = [0.6773, math.nextafter(0.6773, 1.0), 0.6773]
    for i, turned in enumerate(SETTINGS):
        runs = [
            adamw(
                f"s{i}{s}bbbbbbbbbb", f"2026-01-05T10:0{i}:0{s}+00:00", settings=turned, seed=s,
                sweep_id=SWEEP, claim=claims[i][s], loss=losses[i], drift=5.551e-17 if turned else 5.4e-32,
            )
            for s in range(3)
        ]  # fmt: skip
        group = GroupRecord(
            f"sg{i}00000000", "adamw", [0, 1, 2], runs[0].info.started_at, "passed", 9.0, runs
        )
        history.record_group(group, plan)
    history.sweep_ended(SWEEP, "finished", 30.0)


def shown(*args: str, width: str) -> list[str]:
    """The lines `readtrack ARGS` prints at ``width`` (checked: exit 0, no line wider than the terminal)."""
    result = run_cli(*args, env={"COLUMNS": width})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= int(width or 80), result.stdout
    return lines


def drawn(width: str, draw: object) -> list[str]:
    """What ``draw(console)`` prints on a console of ``width`` columns (a pipe's 80)."""
    console = Console(width=int(width or 80), record=True, highlight=False, file=open("/dev/null", "w"))  # noqa: SIM115
    draw(console)  # type: ignore[operator]
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= int(width or 80)
    return lines


def assert_whole(lines: Sequence[str], words: Sequence[str]) -> None:
    """Each of ``words`` whole on one line of a table (a row starts with a space: the table's edge)."""
    rows = [line for line in lines if line.startswith(" ")]
    text = "\n".join(lines)
    for word in words:
        assert any(word in row for row in rows), f"{word!r} not whole on one line:\n{text}"


def assert_footnote_with_its_mark(lines: Sequence[str], mark: str = "†") -> None:
    """The footnote of ``mark`` under a table only when the mark is in the table."""
    marked = any(mark in line for line in lines if line.startswith(" "))
    noted = any(line.startswith(f"{mark} ") for line in lines)
    assert marked == noted, "\n".join(lines)


@pytest.mark.parametrize("width", WIDTHS)
def test_history_keeps_every_id_status_and_word_whole(width: str) -> None:
    """`history` at 100 to 120 columns dropped the run id (or cut it: "3f40ec"), split the status ("statu /
    s", "passe / d"); at 80 a sweep of two knobs printed a literal \\n between them."""
    make_history()
    lines = shown("history", width=width)
    ids = ["0badc0de", "3f40ec7a", "9b12cd34", "g1f00d2e", SWEEP[:8], "rethinking-generalization", "adamw"]
    assert_whole(lines, [*ids, "2026-01-05 10:00", "status", "passed", "failed", "run id"])
    assert not any("\\n" in line for line in lines), "\n".join(lines)
    lines = shown("history", "adamw", width=width)
    assert_whole(lines, ["3f40ec7a", "9b12cd34", "g1f00d2e", SWEEP[:8], "passed", "weight_decay=0.3"])
    assert not any("\\n" in line for line in lines), "\n".join(lines)


@pytest.mark.parametrize("width", ["30", "44", "60"])
def test_history_narrower_than_any_table_is_a_few_lines_an_entry_each_id_whole(width: str) -> None:
    """Issue 94: at 30 columns the id column went and each setting stood one letter a line. Ids never go."""
    make_history()
    lines = shown("history", width=width)
    text = "\n".join(lines)
    for ident in ["0badc0de", "3f40ec7a", "9b12cd34", "g1f00d2e", SWEEP[:8], "rethinking-generalization"]:
        assert any(ident in line for line in lines), f"{ident} not whole:\n{text}"
    assert not [line for line in lines if len(line.strip()) == 1], text  # no word a letter a line


def test_the_footer_of_history_explains_only_what_its_table_shows() -> None:
    """Issue 94: the footer listed every glyph (⏱ timeout, ⊘ cancelled ...) whatever the table showed."""
    make_history()
    lines = shown("history", width="200")
    table = "\n".join(line for line in lines if line.startswith(" "))
    (footer,) = [line for line in lines if line.startswith("c/t/b:")]
    for glyph, status in (
        ("✓", "passed"),
        ("✗", "failed"),
        ("!", "error"),
        ("⏱", "timeout"),
        ("⊘", "cancelled"),
    ):
        assert (f"{glyph} {status}" in footer) == (f" {glyph}" in table or f"{glyph} " in table), (
            glyph,
            footer,
        )


@pytest.mark.parametrize("width", WIDTHS)
def test_compare_keeps_its_pass_column_and_footnotes_only_what_it_shows(width: str) -> None:
    """`compare` at 80 columns dropped its pass column yet kept the † footnote; a ratio of two round-off
    values printed as 1027962962962963.00×."""
    make_history()
    lines = shown("compare", "adamw", "3f40ec7a", "9b12cd34", "--all", width=width)
    assert_whole(lines, ["pass", "✓ → †", "✓ → ✓", "both ≈ 0", "decoupled*", "torch.optim.AdamW", "0.68×"])
    assert_footnote_with_its_mark(lines)
    assert not any(len(word) > 12 and word.endswith("×") for line in lines for word in line.split())
    two_defaults = shown("compare", "adamw", "3f40ec7a", "a0aaaaaa", "--all", width=width)
    assert_whole(two_defaults, ["pass", "✓ → ✓"])
    assert_footnote_with_its_mark(two_defaults)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_sweep_in_history_and_lined_up_keeps_its_ids_and_verdicts(width: str) -> None:
    """`history SWEEP_ID` (a group id a setting) and `compare SWEEP_ID` (each value with its ✓ or †)."""
    make_history()
    settings = shown("history", SWEEP[:8], width=width)
    assert_whole(settings, ["sg000000", "sg100000", "sg200000", "passed", "3/3"])
    lined = shown("compare", SWEEP[:8], "--all", width=width)
    assert_whole(lined, ["2.500e+05 ✓", "1.700e+05 †", "2.533e+05 †", "decoupled*"])
    assert_footnote_with_its_mark(lined)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_sweeps_tables_keep_their_verdicts_and_claims_whole(width: str) -> None:
    """The end of a sweep: "held 3/3" and "not asserted" were cut ("held 3", "not / assert"); the setting
    wraps instead. Its verdicts: same (0.6773 beside 0.6773 a last bit apart; two round-off errors),
    differs, within."""
    make_history()
    found = tables(sweep_outcomes(SWEEP))
    lines = drawn(width, lambda console: render_sweep("adamw", found, console))
    assert_whole(lines, ["held 3/3", "not asserted", "same", "differs", "within", "vs defaults", "claim"])
    verdicts = {(n.name, r.settings): r.verdict for n in found for r in n.rows}
    assert verdicts[("final loss", "weight_decay=0.3 decay=l2")] == "same"
    assert verdicts[("final loss", "weight_decay=0.01 decay=none")] == "same"
    assert verdicts[("drift at round-off", "weight_decay=0.3 decay=l2")] == "same"
    assert verdicts[(CLAIM, "weight_decay=0.3 decay=l2")] == "differs"
    assert verdicts[(CLAIM, "weight_decay=0.01 decay=none")] == "within"


@pytest.mark.parametrize("width", WIDTHS)
def test_plugins_keep_every_name_and_status_whole_and_no_stray_line(width: str) -> None:
    """`plugins`: every plugin's name whole; at 80 columns a "paper adamw" line stood alone like a row."""
    make_history()
    lines = shown("plugins", width=width)
    names = [line.split()[0] for line in lines if line.startswith(" ") and line.split()[1:2] != []]
    assert {"adamw", "schedule-free", "rethinking-generalization", "flashattention"} <= set(names)
    assert_whole(lines, ["name", "status", "rethinking-generalization", "schedule-free", "failed"])
    alone = [line for line in lines if line.startswith(" ") and line.split()[:1] == ["paper"]]
    assert not any(len(line.split()) == 2 for line in alone), "\n".join(lines)  # beside a claim, fine
    assert any(
        "paper adamw" in line for line in lines
    )  # schedule-free's paper: said, beside its claim or below


@pytest.mark.parametrize("width", WIDTHS)
def test_knobs_keep_every_knob_whole(width: str) -> None:
    lines = shown("knobs", "adamw", width=width)
    assert_whole(lines, ["decay", "weight_decay", "group_size", "noise", "steps"])


@pytest.mark.parametrize("width", WIDTHS)
def test_a_runs_bench_keeps_its_names_whole(width: str) -> None:
    """A run's report: "torch.optim.AdamW" was split ("torch.optim.Ad / amW") beside wide throughputs."""
    record = adamw("3f40ec7a1b2c", "2026-01-02T10:00:00+00:00")
    wide: dict[str, Any] = {
        "peak_mem_bytes": 1 << 20,
        "shape": "(1024, 1024)",
        "dtype": "float32",
        "noisy": True,
    }
    record.stages[2].bench = [
        BenchRow("torch.optim.AdamW", 0.0123, 0.001, 20, True, 1.76e4, "tokens/s", tflops=1.234, **wide),
        BenchRow(
            "ours decoupled (foreach, fused)", 0.0101, 0.001, 20, False, 2.1e4, "tokens/s", ratio=0.82, **wide
        ),
    ]
    lines = drawn(width, lambda console: render_record(record, console))
    assert_whole(lines, ["torch.optim.AdamW", "baseline ?", "0.82× ?", "✓"])


def test_mean_and_sd_print_with_the_same_decimals() -> None:
    """Issue 94, item 14: a sweep's column printed "4.282 ± 0.285" beside "4.855 ± 0.2925" (each number at its
    own 4 significant digits). The sd now takes the mean's decimals, which the "same" verdict reads."""
    from readtrack.render.cells import mean_sd

    assert mean_sd(4.282, 0.285) == "4.282 ± 0.285"
    assert mean_sd(4.855, 0.2925) in ("4.855 ± 0.292", "4.855 ± 0.293")
    assert mean_sd(12.0, 0.5) == "12.00 ± 0.50"
    assert mean_sd(1.0, 2e-5) == "1.000 ± 2.000e-05"  # an sd below the last decimal keeps its digits
    assert mean_sd(0.6773, float("nan")) == "0.6773"  # one value: no spread
    assert mean_sd(2.5e5, 1e3) == "2.500e+05 ± 1000"


@pytest.mark.parametrize("width", ["80", "120"])
def test_a_sweeps_mean_and_sd_share_their_decimals_in_every_row(width: str) -> None:
    make_history()
    found = tables(sweep_outcomes(SWEEP))
    lines = drawn(width, lambda console: render_sweep("adamw", found, console))
    cells = [
        m.groups() for line in lines for m in re.finditer(r"(-?\d+(?:\.(\d+))?) ± (\d+(?:\.(\d+))?)\b", line)
    ]
    assert cells, lines
    for mean, mean_decimals, sd, sd_decimals in cells:
        assert len(mean_decimals or "") == len(sd_decimals or ""), (mean, sd)


@pytest.mark.parametrize("width", ["100", "110", "120"])
def test_a_sweeps_setting_in_history_takes_a_few_lines_not_a_word_a_line(width: str) -> None:
    """Issue 94, item 13: at 100 columns the full table left the setting 12 columns, and a sweep's setting
    wrapped over 6 lines (a word a line) beside a device column with room to spare. The setting now asks
    `SETTING_ROOM` columns (or its widest line) of the full table, else the narrow one is drawn."""
    from readtrack.render.runs import SETTING_ROOM

    make_history()
    lines = shown("history", "adamw", width=width)
    header = next(line for line in lines if " setting" in line)
    setting, seeds = header.index("setting"), header.index("seeds")
    assert seeds - setting >= SETTING_ROOM, "\n".join(lines)
    start = next(i for i, line in enumerate(lines) if SWEEP[:8] in line)
    rest = lines[start + 1 :]
    more = next(
        (n for n, line in enumerate(rest) if line[: setting - 1].strip() or not line.strip()), len(rest)
    )
    assert 1 + more <= 4, "\n".join(lines)  # the sweep's entry: its row and the lines it wraps onto
