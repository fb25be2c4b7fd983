"""How fast `readtrack import` reads a large markdown list and merges it into papers.yaml.

Target (issue 19): a 2,400-paper list imports into a new papers.yaml in at most 2.9 s (the time before the
markdown-it-py parser), median of 5 runs of the real command in a subprocess.

Run: python benchmarks/bench_import.py [--runs 5] [--papers 2400]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_list(n_papers: int, per_section: int = 50) -> str:
    """A markdown reading list with ``n_papers`` items: checkboxes, nesting, links, years, venues, notes."""
    lines = ["# Benchmark reading list", "", "A generated list.", ""]
    for s in range(0, n_papers, per_section):
        lines += [f"## Section {s // per_section}", ""]
        for i in range(s, min(s + per_section, n_papers)):
            box = "x" if i % 3 == 0 else " "
            ident = f"{1000 + i % 1400:04d}.{i:05d}"
            pad = "  " if i % 5 == 4 else ""  # every fifth item nests under the one before
            lines.append(
                f"{pad}- [{box}] A paper about **topic {i}** and its consequences ({2010 + i % 15}) "
                f"[[paper](https://arxiv.org/abs/{ident})] [[code](https://github.com/u/r{i})]"
            )
            if i % 7 == 0:
                lines.append(f"{pad}  a note on paper {i}")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--papers", type=int, default=2400)
    args = parser.parse_args()
    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "list.md"
        source.write_text(make_list(args.papers), encoding="utf-8")
        env = {**os.environ, "READTRACK_HOME": tmp}
        for run in range(args.runs):
            target = Path(tmp) / f"papers-{run}.yaml"
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "readtrack", "--catalog", str(target), "import", str(source)],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            samples.append(time.perf_counter() - start)
    print(f"{'what':36} {'papers':>7} {'median s':>9}  note")
    median = statistics.median(samples)
    print(f"{'readtrack import (new papers.yaml)':36} {args.papers:>7,} {median:9.3f}  target 2.9 s")


if __name__ == "__main__":
    main()
