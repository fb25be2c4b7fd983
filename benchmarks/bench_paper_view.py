"""How fast the paper view opens: from pressing ``p`` on a paper until its page, code and results are shown.

Target (issue 18): under 0.3 s on the shipped list. Measured in one headless app (100x30, as under Pilot) per
run, in a fresh process with a fresh READTRACK_HOME holding the shipped papers.yaml and no history: the
clock starts before the key press and stops when the view has read the plugin's page and files (the worker
has called back). Pilot's press-and-wait costs part of it. Median and worst of ``--runs``, per plugin.

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

SEED = Path(__file__).resolve().parents[1] / "readtrack" / "data" / "papers.yaml"
CHILD = """
import asyncio, sys, time
from pathlib import Path
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.paper_view import PaperView
from readtrack.tui.paper_table import PaperTable

async def main():
    app = ReadtrackApp(Path(sys.argv[1]))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        table = app.screen.query_one(PaperTable)
        while sys.argv[2] not in table.current.paper.plugins:
            await pilot.press("j")
        start = time.perf_counter()
        await pilot.press("p")
        while not (isinstance(app.screen, PaperView) and app.screen.sources):
            await pilot.pause(0.002)
        print(f"{time.perf_counter() - start:.4f}", "torch" in sys.modules)

asyncio.run(main())
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'plugin (first section)':24} {'median s':>9} {'worst s':>9}  torch imported")
    for plugin in ("adamw",):
        samples, torch_seen = [], set()
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as home:
                catalog = Path(home) / "papers.yaml"
                shutil.copy(SEED, catalog)
                env = {**os.environ, "READTRACK_HOME": home}
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, str(catalog), plugin],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                samples.append(float(out[0]))
                torch_seen.add(out[1])
        worst = max(samples)
        print(f"{plugin:24} {statistics.median(samples):9.3f} {worst:9.3f}  {', '.join(sorted(torch_seen))}")


if __name__ == "__main__":
    main()
