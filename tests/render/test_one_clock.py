"""One clock, one precision (issue 73): the same stage's end reads the same in ``readtrack run`` and in
``readtrack practice`` (practice used to say "check: passed in 0.0 s" where run said "check passed in
7.32 ms"). The two real printers, fed the same event the runner emits, into a recording console."""

from __future__ import annotations

from rich.console import Console

from readtrack.practice.text import progress_printer
from readtrack.render.runs import live_printer


def test_a_stage_end_reads_the_same_in_run_and_in_practice() -> None:
    for seconds, shown in ((0.00732, "7.32 ms"), (6.274, "6.27 s"), (0.000041, "41 µs")):
        event = {"type": "stage", "event": "end", "stage": "check", "status": "passed", "duration_s": seconds}
        lines = []
        for printer in (live_printer, progress_printer):
            console = Console(record=True, width=80, color_system=None)
            printer(console)(event)
            lines.append(console.export_text().strip())
        assert lines[0].endswith(f"passed in {shown}") and lines[1].endswith(f"passed in {shown}"), lines
