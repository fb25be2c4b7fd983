"""How fast full-text search is (issue 30): a 10,000-paper list with 1,000 PDFs of 20 pages indexed.

Targets: the CLI's query (the no-op index check and the FTS5 query) median at most 50 ms; the whole
``readtrack search`` command at most 1.5x ``readtrack list``; the index update after marking one paper at
most 50 ms; PDF text extraction at least 0.5x the pages per second of poppler's ``pdftotext``; the TUI's
first paint on the seed list at most 0.35 s (it never waits for the index: the search screen builds it).

- The PDFs are made with fpdf2 (tests/pdfgen.py): ``--distinct`` different 20-page papers of ~350 words a
  page, drawn Zipf-like from a 4,000-word vocabulary, copied to the 1,000 papers' cache names; the index
  reads every copy (it does not know they repeat).
- query: in one process, `readtrack.search.query.search` (refresh, which finds nothing changed, then the
query)
  for each query below, ``--runs`` times; median and worst over all.
- command: wall time of ``readtrack search QUERY`` and ``readtrack list`` in a subprocess, median of runs.
- update: `edits.mark` one paper, then `search_index.refresh` on the catalog it returns; median of 5.
- extraction: `readtrack.arxiv.pdftext.extract` on the distinct PDFs vs ``pdftotext FILE -`` (one process per
  file, as it is used), pages per second.
- first paint: benchmarks/bench_tui.py's measurement (`readtrack --catalog LIST` on a pseudo-terminal, spawn
  until the first title is on the screen), on the seed list.

Needs poppler-utils for the pdftotext row (skipped when absent). Run:
    python benchmarks/bench_search.py [--papers 10000 --pdfs 1000 --pages 20 --distinct 20 --runs 5]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]
from bench_catalog import make_catalog, timed  # noqa: E402
from bench_tui import SEED, first_paint  # noqa: E402

QUERIES = [
    "attention",
    '"residual gradient"',
    "kern*",
    "memory AND scaling",
    "pdf:vocab123 status:read",
    "topic 99",
]


def vocabulary(size: int) -> list[str]:
    rng = random.Random(0)
    common = ["attention", "gradient", "residual", "memory", "scaling", "kernel", "token", "layer", "norm"]
    made = {
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 10)))
        for _ in range(size)
    }
    return common + [f"vocab{i}" for i in range(200)] + sorted(made)


def make_pdfs(folder: Path, distinct: int, pages: int) -> list[Path]:
    import pdfgen

    words = vocabulary(4000)
    weights = [1 / (rank + 1) for rank in range(len(words))]  # Zipf-like, as in running text
    made = []
    for n in range(distinct):
        rng = random.Random(n)
        texts = []
        for p in range(pages):
            body = " ".join(rng.choices(words, weights, k=350))
            texts.append(f"# {p + 1} Section {p + 1}\n{body}")
        made.append(pdfgen.article(folder / f"distinct-{n}.pdf", texts, title=f"Paper {n}"))
    return made


def pdftotext_rate(pdfs: list[Path], pages: int) -> float | None:
    if shutil.which("pdftotext") is None:
        return None
    start = time.perf_counter()
    for pdf in pdfs:
        subprocess.run(["pdftotext", str(pdf), "-"], check=True, stdout=subprocess.DEVNULL)
    return len(pdfs) * pages / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--pdfs", type=int, default=1_000)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--distinct", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="bench-search-"))
    os.environ["READTRACK_HOME"] = str(home)
    catalog_path = home / "papers.yaml"
    catalog_path.write_text(make_catalog(args.papers), encoding="utf-8")
    os.environ["READTRACK_CATALOG"] = str(catalog_path)
    env = {**os.environ, "NO_COLOR": "1"}

    from readtrack.arxiv.pdftext import extract
    from readtrack.catalog import edits
    from readtrack.catalog.pdfcache import arxiv_file_name, cache_path
    from readtrack.plugins.links import load
    from readtrack.search import index as search_index
    from readtrack.search import query as search

    rows: list[tuple[str, str, str, str]] = []
    made = make_pdfs(home, args.distinct, args.pages)
    catalog = load(catalog_path)
    for n, paper in enumerate(list(catalog.papers())[: args.pdfs]):
        assert paper.arxiv
        shutil.copyfile(made[n % len(made)], cache_path(arxiv_file_name(paper.arxiv)))

    start = time.perf_counter()
    built = search_index.refresh(catalog)
    build_s = time.perf_counter() - start
    rows.append(
        (
            "index build",
            f"{build_s:.1f} s",
            f"{built.pdf_pages} pages, {built.pdf_pages / build_s:.0f} pages/s",
            "",
        )
    )

    start = time.perf_counter()
    for pdf in made:
        extract(pdf)
    ours = len(made) * args.pages / (time.perf_counter() - start)
    theirs = pdftotext_rate(made, args.pages)
    if theirs is None:
        rows.append(("extraction", f"{ours:.0f} pages/s", "pdftotext not installed", "≥ 0.5x pdftotext"))
    else:
        ratio = ours / theirs
        rows.append(
            (
                "extraction",
                f"{ours:.0f} pages/s",
                f"pdftotext {theirs:.0f} pages/s: {ratio:.2f}x",
                _ok(ratio >= 0.5),
            )
        )

    samples = []
    for _ in range(args.runs):
        for query in QUERIES:
            t0 = time.perf_counter()
            search.search(catalog, query)
            samples.append(time.perf_counter() - t0)
    median_ms = statistics.median(samples) * 1000
    rows.append(
        (
            "query (in process)",
            f"{median_ms:.1f} ms",
            f"worst {max(samples) * 1000:.1f} ms",
            _ok(median_ms <= 50),
        )
    )

    cli = [sys.executable, "-m", "readtrack"]
    search_s = timed([*cli, "search", "attention"], env, args.runs)
    list_s = timed([*cli, "list"], env, args.runs)
    ratio = search_s / list_s
    rows.append(
        ("readtrack search", f"{search_s:.3f} s", f"list {list_s:.3f} s: {ratio:.2f}x", _ok(ratio <= 1.5))
    )

    updates = []
    for n in range(5):
        changed = edits.mark(catalog_path, f"paper-{n * 7 + 1}", "reading")
        t0 = time.perf_counter()
        report = search_index.refresh(changed)
        updates.append(time.perf_counter() - t0)
        assert report.indexed == 1, report
    update_ms = statistics.median(updates) * 1000
    rows.append(("update after mark", f"{update_ms:.1f} ms", "1 paper reindexed", _ok(update_ms <= 50)))

    seed = home / "seed.yaml"
    shutil.copyfile(SEED, seed)
    paint = first_paint(seed, env, args.runs)
    rows.append(("TUI first paint (seed)", f"{paint:.3f} s", "the index is not touched", _ok(paint <= 0.35)))

    size_mb = (home / "readtrack.db").stat().st_size / 1e6
    scale = f"{args.papers} papers, {args.pdfs} PDFs of {args.pages} pages ({args.distinct} distinct)"
    print(f"{scale}; database {size_mb:.0f} MB")
    width = max(len(r[0]) for r in rows)
    for name, value, detail, verdict in rows:
        print(f"{name:<{width}}  {value:>12}  {detail:<40}  {verdict}")
    shutil.rmtree(home, ignore_errors=True)


def _ok(passed: bool) -> str:
    return "ok" if passed else "MISSED"


if __name__ == "__main__":
    main()
