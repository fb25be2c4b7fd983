"""How fast `readtrack import` brings in a large library: a 5,000-entry ``.bib``, a 5,000-item Zotero library.

Targets (issue 43): a 5,000-entry BibTeX file imports in at most 5 s, a 5,000-item Zotero data directory in at
most 10 s, and importing either again adds nothing and writes nothing (papers.yaml and the database keep their
bytes). Each time is the real command in a subprocess (start-up included), into a copy of the seed list,
median of ``--runs`` runs, wall time and (beside it) the CPU time the command used: on a shared machine the
wall time grows with the load, the CPU time much less. Both libraries hold what real ones hold: LaTeX in
titles and authors, arXiv ids, DOIs, keywords, abstracts and notes; the Zotero one nested collections, tags,
HTML notes, and one in ten items with a stored PDF (so 500 PDFs are verified and copied into the cache).

Run: python benchmarks/bench_library_import.py [--runs 3] [--items 5000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from zotero_db import ZoteroLibrary, tiny_pdf  # noqa: E402

ACCENTED = ['Sch{\\"o}n', "G{\\'e}rard", "Erd{\\H{o}}s", "Stra{\\ss}e", "{\\L}ukasz", 'Na{\\"i}ve']
WORDS: tuple[str, ...] = ("sparse", "dense", "graph", "kernel", "vision", "language", "policy")
WORDS += ("reward", "token", "memory", "scaling", "robust", "causal", "latent")


def topic(i: int) -> str:
    """Four words that differ from one item to the next, as real titles do (ids are made from them)."""
    return " ".join(WORDS[(i // 14**k) % 14].title() for k in range(4))


def make_bib(n: int, folder: Path) -> str:
    """A BibTeX library of ``n`` entries in Better BibTeX's style; one in ten names a PDF in ``folder``."""
    entries = []
    for i in range(n):
        word = ACCENTED[i % len(ACCENTED)]
        ident = f"{1500 + i % 900:04d}.{10000 + i:05d}"
        fields = [
            "  title = {" + topic(i) + " with {" + word + "} and {{BERT}}: Study " + str(i) + "}",
            f'  author = {{M{{\\"u}}ller, Hans and Doe, Jane and {word}, Ann}}',
            f"  year = {{{2000 + i % 25}}}",
            "  keywords = {Computer Science - Machine Learning,transformers,benchmark}",
            "  abstract = {We study a thing at scale, with \\emph{care} and $O(n^2)$ memory; results hold.}",
        ]
        if i % 2 == 0:
            fields += [f"  eprint = {{{ident}}}", "  archiveprefix = {arXiv}"]
        else:
            fields += [f"  doi = {{10.5555/bench.{i}}}", "  journaltitle = {Journal of Benchmarks}"]
        if i % 7 == 0:
            fields.append("  annotation = {A note: read section 3 \\& the appendix.}")
        if i % 10 == 0:
            pdf = folder / "storage" / f"K{i:07d}" / f"paper {i}.pdf"
            pdf.parent.mkdir(parents=True, exist_ok=True)
            pdf.write_bytes(tiny_pdf(f"paper {i}"))
            fields.append(f"  file = {{Full Text PDF:{pdf}:application/pdf}}")
        entries.append(f"@article{{key{i},\n" + ",\n".join(fields) + "\n}\n")
    return "\n".join(entries)


def make_zotero(n: int, folder: Path) -> None:
    """A Zotero data directory with ``n`` regular items in nested collections, with notes, tags and PDFs."""
    z = ZoteroLibrary(folder, 129)
    tops = [z.collection(f"Topic {t}") for t in range(10)]
    subs = [z.collection(f"Sub {s}", tops[s % 10]) for s in range(40)]
    for i in range(n):
        values = {"date": f"{2000 + i % 25}-01-01 {2000 + i % 25}", "abstractNote": "We study a thing."}
        if i % 2 == 0:
            values |= {"archiveID": f"arXiv:{1500 + i % 900:04d}.{20000 + i:05d}", "repository": "arXiv"}
            kind = "preprint"
        else:
            values |= {"DOI": f"10.5555/zotero.{i}", "publicationTitle": "Journal of Benchmarks"}
            kind = "journalArticle"
        if i % 5 == 0:
            values["extra"] = "Read_Status: Read"
        item = z.item(
            kind,
            title=f"{topic(i)}: Study {i} of Things",
            creators=[("Ann", f"Author{i % 300}"), ("Bo", "Coauthor")],
            tags=["benchmark", f"tag{i % 50}"],
            collections=[subs[i % 40]] if i % 3 else [tops[i % 10], subs[i % 40]],
            **values,
        )
        if i % 4 == 0:
            z.note(item, f"<p>Note on <b>item {i}</b>: see &amp; check.</p>")
        if i % 10 == 0:
            z.pdf(item, f"item {i}.pdf", tiny_pdf(f"item {i}"))
    z.close()


def digest(*paths: Path) -> str:
    hashes = hashlib.sha256()
    for path in paths:
        hashes.update(path.read_bytes() if path.exists() else b"-")
    return hashes.hexdigest()


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the command, first line of its report)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "readtrack", *args], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise SystemExit(f"readtrack {' '.join(args)} failed: {done.stderr}")
    return elapsed, cpu, done.stdout.splitlines()[0].split(" (new section")[0] if done.stdout else ""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--items", type=int, default=5000)
    args = parser.parse_args()
    rows = []
    load = f"{os.getloadavg()[0]:.2f}"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bib = root / "library.bib"
        bib.write_text(make_bib(args.items, root / "bibfiles"), encoding="utf-8")
        make_zotero(args.items, root / "Zotero")
        for name, source in (("BibTeX", [str(bib)]), ("Zotero", ["--zotero", str(root / "Zotero")])):
            first, again, first_cpu, again_cpu = [], [], [], []
            for run in range(args.runs):
                home = root / f"home-{name}-{run}"
                home.mkdir()
                catalog = home / "papers.yaml"
                shutil.copy(REPO / "papers.yaml", catalog)
                env = {**os.environ, "READTRACK_HOME": str(home), "READTRACK_CATALOG": str(catalog)}
                seconds, cpu, line = timed(["import", *source], env)
                first.append(seconds)
                first_cpu.append(cpu)
                before = digest(catalog, home / "readtrack.db")
                seconds, cpu, again_line = timed(["import", *source], env)
                again.append(seconds)
                again_cpu.append(cpu)
                unchanged = digest(catalog, home / "readtrack.db") == before
            rows.append(
                (
                    name,
                    f"{statistics.median(first):.2f} s ({statistics.median(first_cpu):.2f} s CPU)",
                    line,
                    f"{statistics.median(again):.2f} s ({statistics.median(again_cpu):.2f} s CPU)",
                    again_line,
                    unchanged,
                )
            )
    print(f"load average before and after: {load} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(
        f"| library ({args.items} items) | first import | what it did | again | what it did "
        "| files unchanged |"
    )
    print("|---|---|---|---|---|---|")
    for name, first_s, line, again_s, again_line, unchanged in rows:
        print(f"| {name} | {first_s} | {line} | {again_s} | {again_line} | {unchanged} |")


if __name__ == "__main__":
    main()
