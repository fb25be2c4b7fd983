"""How fast the reading list is: `readtrack list` and `readtrack mark` on large generated papers.yaml files.

Targets (issue 2): `list` on 1,000 papers at most 2x the wall time of `python -c "import typer, rich"`
(medians of 5); `mark` at most 0.5 s on 1,000 papers and 3 s on 10,000. It also compares our
node-position splicing against a ruamel.yaml round trip when ruamel.yaml is installed.

Run: python benchmarks/bench_catalog.py [--runs 5]
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


def make_catalog(n_papers: int, per_section: int = 50) -> str:
    """A papers.yaml with ``n_papers`` papers, comments and nesting, shaped like the seed list."""
    lines = ["# generated for benchmarks", "version: 1", "title: Benchmark list", "sections:"]
    for s in range(0, n_papers, per_section):
        lines += ["", f"  - name: Section {s // per_section}", "    papers:"]
        for i in range(s, min(s + per_section, n_papers)):
            lines += [
                f"      - id: paper-{i}",
                f"        title: A paper about topic {i} and its many consequences",
                f"        status: {'read' if i % 3 == 0 else 'todo'}",
                f'        arxiv: "{2000 + i % 400:04d}.{i:05d}"',
                f"        year: {2010 + i % 15}",
                "        tags: [bench, generated]",
                f"        # a comment the user wrote about paper {i}",
            ]
    return "\n".join(lines) + "\n"


def timed(cmd: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "READTRACK_HOME": tmp, "COLUMNS": "100"}
        baseline = timed([py, "-c", "import typer, rich"], env, args.runs)
        rows = [("python -c 'import typer, rich'", "-", baseline, "")]
        for n in (1_000, 10_000):
            path = Path(tmp) / f"papers-{n}.yaml"
            path.write_text(make_catalog(n))
            env_n = {**env, "READTRACK_CATALOG": str(path)}
            t_list = timed([py, "-m", "readtrack", "list"], env_n, args.runs)
            rows.append(("readtrack list", f"{n:,}", t_list, f"{t_list / baseline:.2f}x baseline"))
            t_mark = timed([py, "-m", "readtrack", "mark", f"paper-{n // 2}", "reading"], env_n, args.runs)
            target = "target 0.5 s" if n == 1_000 else "target 3 s"
            rows.append(("readtrack mark", f"{n:,}", t_mark, target))
        splice_vs_ruamel(rows, Path(tmp))
    print(f"{'what':36} {'papers':>7} {'median s':>9}  note")
    for what, papers, secs, note in rows:
        print(f"{what:36} {papers:>7} {secs:9.3f}  {note}")


def splice_vs_ruamel(rows: list[tuple[str, str, float, str]], tmp: Path) -> None:
    """The mechanism choice: one status edit by splicing vs a ruamel.yaml round trip, in-process."""
    from readtrack.catalog import edits

    text = make_catalog(10_000)
    path = tmp / "splice.yaml"
    path.write_text(text)
    start = time.perf_counter()
    edits.mark(path, "paper-5000", "read")
    rows.append(("splice edit (in-process)", "10,000", time.perf_counter() - start, ""))
    try:
        from ruamel.yaml import YAML
    except ImportError:
        rows.append(("ruamel.yaml round trip", "10,000", float("nan"), "ruamel.yaml not installed"))
        return
    import io

    yaml = YAML()
    start = time.perf_counter()
    data = yaml.load(text)
    data["sections"][100]["papers"][0]["status"] = "read"
    out = io.StringIO()
    yaml.dump(data, out)
    elapsed = time.perf_counter() - start
    changed = sum(a != b for a, b in zip(text.splitlines(), out.getvalue().splitlines(), strict=False))
    rows.append(("ruamel.yaml round trip (in-process)", "10,000", elapsed, f"{changed} lines differ"))


if __name__ == "__main__":
    main()
