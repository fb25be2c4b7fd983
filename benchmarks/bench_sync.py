"""What `readtrack sync` costs, measured against the fake arXiv on 127.0.0.1 (tests/fakearxiv.py).

Targets (issue 3):
- metadata for 250 papers takes 3 API requests (at most 100 ids each);
- a second sync with everything cached takes no request at all;
- 100 PDFs from a non-arXiv host, 50 ms server latency, delay 0: ``--jobs 8`` at least 4x faster than
  ``--jobs 1`` (median of ``--runs``);
- a 20 MB PDF cut off at 60% completes by fetching only the remaining 40% (bytes the server sent).

Request and byte counts are exact; times depend on the machine. Runs in-process through
`readtrack.arxiv.sync.sync` with a fresh data dir per scenario.

Run: python benchmarks/bench_sync.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakearxiv import FakeArxiv, FakePaper  # noqa: E402

from readtrack.arxiv.sync import SyncOptions, SyncReport, sync  # noqa: E402
from readtrack.plugins.links import load  # noqa: E402

MB = 1_000_000


@contextmanager
def fresh_home(server: FakeArxiv) -> Iterator[Path]:
    """A new READTRACK_HOME and the environment pointed at ``server``."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as home:
        os.environ.update(server.env(READTRACK_HOME=home, READTRACK_TIMEOUT="10,30"))
        try:
            yield Path(home)
        finally:
            os.environ.clear()
            os.environ.update(saved)


def write_catalog(path: Path, papers: list[tuple[str, str, str]]) -> None:
    """papers: (id, key, value) with key ``arxiv`` or ``url``."""
    lines = ["version: 1", "sections:", "  - name: Bench", "    papers:"]
    for paper_id, key, value in papers:
        lines += [f"      - id: {paper_id}", f'        {key}: "{value}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_sync(catalog_path: Path, **options: object) -> tuple[SyncReport, float]:
    catalog = load(catalog_path)
    start = time.perf_counter()
    report = sync(catalog, options=SyncOptions.from_env(**options))
    elapsed = time.perf_counter() - start
    assert report.exit_code == 0, [p.reasons for p in report.failed]
    return report, elapsed


def bench_metadata_and_second_run() -> list[tuple[str, str, str]]:
    with FakeArxiv.running(pdf_size=20_000) as server, fresh_home(server) as home:
        catalog = home / "papers.yaml"
        write_catalog(catalog, [(f"p{n}", "arxiv", f"2101.{n:05d}") for n in range(250)])
        run_sync(catalog, pdf=False)
        metadata_requests = server.requests["/api/query"]
        run_sync(catalog)  # the 250 PDFs too, so that the next run has everything
        server.reset_counters()
        _, elapsed = run_sync(catalog)
        second = server.total_requests
    return [
        ("metadata for 250 papers: API requests", str(metadata_requests), "3"),
        ("second sync, all cached (250 papers + PDFs): requests", f"{second} ({elapsed:.2f} s)", "0"),
    ]


def bench_parallel_downloads(runs: int) -> list[tuple[str, str, str]]:
    times: dict[int, list[float]] = {1: [], 8: []}
    with FakeArxiv.running() as arxiv, FakeArxiv.running(latency=0.05, pdf_size=100_000) as web:
        for _ in range(runs):
            for jobs in (1, 8):
                with fresh_home(arxiv) as home:
                    catalog = home / "papers.yaml"
                    write_catalog(
                        catalog, [(f"w{n}", "url", f"{web.base_url}/web/paper-{n}.pdf") for n in range(100)]
                    )
                    report, elapsed = run_sync(catalog, jobs=jobs)
                    assert report.count("synced") == 100
                    times[jobs].append(elapsed)
    one, eight = statistics.median(times[1]), statistics.median(times[8])
    return [
        ("100 web PDFs, 50 ms latency: --jobs 1", f"{one:.2f} s", ""),
        ("100 web PDFs, 50 ms latency: --jobs 8", f"{eight:.2f} s", ""),
        ("speed-up --jobs 8 over --jobs 1", f"{one / eight:.1f}x", ">= 4x"),
    ]


def bench_resume() -> list[tuple[str, str, str]]:
    size = 20 * MB
    with FakeArxiv.running() as server, fresh_home(server) as home:
        server.add(FakePaper("2205.14135", pdf_size=size))
        catalog = home / "papers.yaml"
        write_catalog(catalog, [("fa", "arxiv", "2205.14135")])
        run_sync(catalog, pdf=False)
        server.reset_counters()
        server.fail("/pdf/", "disconnect", fraction=0.6)
        run_sync(catalog)
        served = [server.bytes_served[path] for path in server.bytes_served if path.startswith("/pdf/")]
        ranges = [e["headers"].get("Range") for e in server.log]
    first = int(size * 0.6)
    resumed = sum(served) - first
    return [
        ("20 MB PDF cut at 60%: bytes before the cut", f"{first:,}", ""),
        ("  then fetched with " + str(ranges[-1]), f"{resumed:,} ({resumed / size:.0%})", "40%"),
        ("  total bytes served / file size", f"{sum(served) / size:.3f}", "1.000"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of the parallel-download scenario")
    args = parser.parse_args()
    rows = bench_metadata_and_second_run() + bench_parallel_downloads(args.runs) + bench_resume()
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'result':>22}  target")
    print("-" * (width + 34))
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>22}  {target}")


if __name__ == "__main__":
    main()
