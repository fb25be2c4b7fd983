"""`readtrack next` on the sample list (63 papers, 20 of them marked read) against a local Semantic Scholar:
from an empty cache and from a warm one, requests made and seconds, as a reader runs it (the CLI in a
subprocess).

The server is tests/fakes2.py's sample graph of the list (a real HTTP server on 127.0.0.1; the transformer
paper has 2,507 citations, so its citations are capped at the default 1,000 a paper). Each case starts from a
fresh data dir. ``--delay`` is ``READTRACK_S2_DELAY``: 1 s is what readtrack waits between two requests to
the real API by default (its shared rate limit); 0 shows readtrack's own cost. The 20 papers marked read are
the first 20 of the list that have an arXiv id (duplicates of the list included, as a reader's list has
them).

Run: python benchmarks/bench_next.py [--delay 1 --delay 0] [--read 20]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from fakes2 import FakeS2  # noqa: E402

from readtrack.catalog.reader import load  # noqa: E402

READTRACK = [sys.executable, "-m", "readtrack"]


def command(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(READTRACK + args, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stderr


def requests_said(stderr: str) -> int:
    found = re.search(r"readtrack: (\d+) requests? to Semantic Scholar", stderr)
    assert found, stderr
    return int(found.group(1))


def case(delay: float, read: int) -> list[tuple[str, float, int, int]]:
    """Cold and warm `next` with this delay: (which, seconds, requests the CLI counted, the server saw)."""
    with tempfile.TemporaryDirectory() as tmp, FakeS2.sample(REPO / "papers.yaml") as server:
        home = Path(tmp)
        catalog = home / "papers.yaml"
        shutil.copy(REPO / "papers.yaml", catalog)
        env = {
            **os.environ,
            "READTRACK_HOME": str(home),
            "READTRACK_CATALOG": str(catalog),
            "READTRACK_S2_URL": server.url,
            "READTRACK_S2_RECS_URL": server.recs_url,
            "READTRACK_S2_DELAY": str(delay),
            "NO_COLOR": "1",
        }
        marked = [p.id for p in load(catalog, cache=False).papers() if p.arxiv][:read]
        for paper in marked:
            command(["mark", paper, "read"], env)
        rows = []
        for which in ("empty cache", "warm cache"):
            before = server.count()
            seconds, stderr = command(["next", "-n", "20"], env)
            rows.append((which, seconds, requests_said(stderr), server.count() - before))
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, action="append", help="READTRACK_S2_DELAY (repeatable)")
    parser.add_argument("--read", type=int, default=20, help="papers marked read first")
    args = parser.parse_args()
    delays = args.delay or [1.0, 0.0]
    print(f"`readtrack next -n 20` on the sample list, {args.read} papers read, local server on 127.0.0.1")
    print(f"{'delay':>6}  {'cache':<12}  {'seconds':>8}  {'requests':>8}  {'server saw':>10}")
    for delay in delays:
        for which, seconds, counted, seen in case(delay, args.read):
            print(f"{delay:>5g}s  {which:<12}  {seconds:>8.2f}  {counted:>8}  {seen:>10}")


if __name__ == "__main__":
    main()
