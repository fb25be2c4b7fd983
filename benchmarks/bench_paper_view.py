"""How fast the paper view opens on the shipped list: from the ``p`` key's action until the view has painted
its page, code and results.

Target (issue 18): under 0.3 s. Each run is a fresh process with a fresh READTRACK_HOME holding the shipped
papers.yaml and no history, the app headless at 100x30 (as under Pilot). adamw, the list's first paper, also
names schedule-free's plugin, and ``p`` on a paper with two plugins asks which one first: the copy names
adamw's alone, so that ``p`` opens its view at once, as it did when the target was set. Two clocks:

- in-app: from ``MainScreen.action_paper_view`` to the first refresh after the view has shown what its worker
  read: what a user waits for. The first open in a process and the later ones (opened again after Esc).
- Pilot: from ``pilot.press("p")`` to the view holding its files, including Pilot's own wait for the app to
  be idle (a trivial help screen costs 0.14-0.25 s that way on a 2-core machine).

Run: python benchmarks/bench_paper_view.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SEED = Path(__file__).resolve().parents[1] / "papers.yaml"
CHILD = """
import asyncio, sys, time
from pathlib import Path
from readtrack.tui.app import MainScreen, ReadtrackApp
from readtrack.tui.screens import paper_view

marks = {}
action = MainScreen.action_paper_view
def timed_action(self):
    marks["start"] = time.perf_counter()
    return action(self)
MainScreen.action_paper_view = timed_action
show = paper_view.PaperView._show
def timed_show(self, *args):
    result = show(self, *args)
    self.call_after_refresh(lambda: marks.setdefault("painted", time.perf_counter()))
    return result
paper_view.PaperView._show = timed_show

async def main():
    app = ReadtrackApp(Path(sys.argv[1]))
    in_app, pilot_times = [], []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        for _ in range(3):
            marks.clear()
            start = time.perf_counter()
            await pilot.press("p")  # the first paper, adamw
            while "painted" not in marks:
                if time.perf_counter() - start > 30:
                    raise SystemExit(f"no paper view painted 30 s after p; the screen: {app.screen!r}")
                await pilot.pause(0.001)
            pilot_times.append(time.perf_counter() - start)
            in_app.append(marks["painted"] - marks["start"])
            await pilot.press("escape")
            await pilot.pause(0.05)
    print(*in_app, pilot_times[0], "torch" in sys.modules)

asyncio.run(main())
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from readtrack.catalog.edits import set_fields

    first, later, pilot, torch_seen = [], [], [], set()
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as home:
            catalog = Path(home) / "papers.yaml"
            shutil.copy(SEED, catalog)
            set_fields(catalog, "adamw", {"plugin": "adamw"})  # one plugin: p opens the view, no question
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(catalog)],
                env={**os.environ, "READTRACK_HOME": home},
                capture_output=True,
                text=True,
                check=False,
                timeout=300,
            )
            if done.returncode != 0:
                raise SystemExit(
                    f"the paper view's process failed ({done.returncode}):\n{done.stderr[-2000:]}"
                )
            out = done.stdout.split()
        first.append(float(out[0]))
        later += [float(out[1]), float(out[2])]
        pilot.append(float(out[3]))
        torch_seen.add(out[4])
    print(f"{'paper view of adamw (shipped list)':40} {'median s':>9} {'worst s':>9}")
    for label, samples in (
        ("in-app, first open in a process", first),
        ("in-app, later opens", later),
        ("Pilot press, first open", pilot),
    ):
        print(f"{label:40} {statistics.median(samples):9.3f} {max(samples):9.3f}")
    print(f"torch imported: {', '.join(sorted(torch_seen))}")


if __name__ == "__main__":
    main()
