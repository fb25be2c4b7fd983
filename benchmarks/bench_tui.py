"""How fast the TUI is: first paint and filtering, on the shipped list and on 1,000 and 10,000 papers.

Targets (issue 5): first paint at most 0.6 s with the shipped list, 1 s with 1,000 papers and 2.5 s with
10,000; filtering under 100 ms per keystroke.

- first paint: wall time from starting ``readtrack --catalog LIST`` on a pseudo-terminal of 100x30 (a real
  terminal to Textual, tests/terminal.py) until the first section's first title has been written to it. Median
  of ``--runs``; the first run of each list also builds the catalog's parse cache, as the first start after
  an edit does. For scale, the same is measured for a bare Textual app (Header, Static, Footer): what
  Textual itself costs on this machine.
- filter keystroke: in one process, the time from pressing a key in the filter box until the screen has
  been redrawn with the new matches, for each letter of a query typed one by one (median and worst). This
  goes through Pilot, whose press-and-wait-for-idle costs about 0.1 s by itself (see the 63-paper row), so
  the filtering work alone (`IncrementalFilter.rows`, what the app does per key) is measured too.

Run: python benchmarks/bench_tui.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]
from bench_catalog import make_catalog  # noqa: E402
from terminal import Terminal  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "papers.yaml"
TARGETS = {"shipped": 0.6, 1_000: 1.0, 10_000: 2.5}
QUERY = "topic 99 conse"  # "topic" is in every generated title: the first keys scan all 10,000 papers

BARE_TEXTUAL = """
from textual.app import App
from textual.widgets import Footer, Header, Static

class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]
    def compose(self):
        yield Header()
        yield Static("painted-bare")
        yield Footer()

Bare().run()
"""


def first_paint(path: Path | None, env: dict[str, str], runs: int) -> float:
    """Median seconds from spawning ``readtrack --catalog path`` on a terminal until its first section's first
    title is on the screen (``path`` None: a bare Textual app until its text is)."""
    if path is None:
        argv, painted = [sys.executable, "-c", BARE_TEXTUAL], "painted-bare"
    else:
        from readtrack.plugins.links import load

        first = next(load(path).papers())
        argv = [str(Path(sys.executable).with_name("readtrack")), "--catalog", str(path)]
        painted = first.title[:16]
    samples = []
    for _ in range(runs):
        term = Terminal(argv, env, columns=100, lines=30)
        try:
            samples.append(term.wait_for(painted, timeout=60))
        finally:
            term.close(timeout=0)
    return statistics.median(samples)


def filter_keystrokes(path: Path, query: str) -> list[float]:
    """Seconds from each key press in the filter box until the redraw, typing ``query`` letter by letter."""
    from readtrack.tui.app import ReadtrackApp

    async def main() -> list[float]:
        app = ReadtrackApp(path)
        times = []
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.press("slash")
            for letter in query:
                start = time.perf_counter()
                await pilot.press(letter)
                await pilot.pause()
                times.append(time.perf_counter() - start)
            await pilot.press("escape")
        return times

    return asyncio.run(main())


def filter_work(path: Path, query: str) -> list[float]:
    """Seconds the app's filter takes per key (no screen), typing ``query`` letter by letter after "/"."""
    from readtrack.plugins.links import load
    from readtrack.tui.widgets.rows import IncrementalFilter

    live = IncrementalFilter(list(load(path).papers()), {})
    live.prepare()  # the app does this when "/" is pressed
    times = []
    for end in range(1, len(query) + 1):
        start = time.perf_counter()
        live.rows(query[:end])
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows: list[tuple[str, str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["READTRACK_HOME"] = tmp
        env = {**os.environ}
        rows.append(("first paint, bare Textual app", "-", first_paint(None, env, args.runs), "for scale"))
        lists: dict[str | int, Path] = {"shipped": SEED}
        for n in (1_000, 10_000):
            lists[n] = Path(tmp) / f"papers-{n}.yaml"
            lists[n].write_text(make_catalog(n))
        for size, path in lists.items():
            label = f"{size:,}" if isinstance(size, int) else "63"
            paint = first_paint(path, env, args.runs)
            rows.append(("first paint", label, paint, f"target {TARGETS[size]} s"))
        for size in ("shipped", 10_000):
            times = filter_keystrokes(lists[size], QUERY)
            label = f"{size:,}" if isinstance(size, int) else "63"
            rows.append(("filter keystroke, Pilot (median)", label, statistics.median(times), "target 0.1 s"))
            rows.append(("filter keystroke, Pilot (worst)", label, max(times), ""))
            work = filter_work(lists[size], QUERY)
            rows.append(("filter work per key (median)", label, statistics.median(work), ""))
            rows.append(("filter work per key (worst)", label, max(work), ""))
    print(f"{'what':32} {'papers':>7} {'seconds':>8}  note")
    for what, papers, secs, note in rows:
        print(f"{what:32} {papers:>7} {secs:8.3f}  {note}")


if __name__ == "__main__":
    main()
