"""How well `readtrack feed` ranks, and how fast: ROC AUC and precision@10 of a reader's later reads among
other papers, for readtrack's ranker (readtrack/feed/rank.py, called as the feed calls it), the anchor
(arxiv-sanity-lite's method at its best for a few hundred papers: TF-IDF over the text, every word kept, and
a linear SVM per reader, the reader's papers positive and everything else negative) and recency (newest
first); then the seconds `rank` takes for a 5,000-entry window.

The sets (benchmarks/data/feed/README.md says where the data comes from):

- **topic readers**: 840 real arXiv papers (title and abstract) of 28 days, 2026-04-01 to 2026-05-15, that
  a public daily paper digest kept for one reader's interests and sorted into five topics. Each topic is a
  reader: their reads are the topic's papers of the first 14 days; the later 14 days are cut into 7 windows
  of 2 days, and a window's papers of the topic are the reads to find among the window's other papers. Two
  histories: ``reads only`` (the list, as a new feed user has it) and ``+ dismissed`` (the earlier days'
  papers of other topics, as dismissed papers for readtrack and as untagged papers for the anchor).
- **the same readers with few reads** (`FEW`: 5, 10 and 20 of their reads, drawn ``--draws`` times each: a
  new user's list), **as titles only** (every paper a title, as a list gives it; all reads, then 10), and
  **with their reads as titles against the window's abstracts** (a list never synced, which `feed` now
  avoids by fetching the missing abstracts).
- **own list**: this repository's papers.yaml (its 4 papers marked read are too few to split, so every
  paper of the list counts as a read), titles only (the list holds no abstracts offline): the papers of
  2019 and before are the earlier reads, those of 2020 and after the later ones, hidden among the 840
  arXiv papers' titles; then random halves of the list (``--seeds``) against 400 of those titles.

Recency ties (a day's papers) are broken at random, ``--seeds`` times. The time is the median of
``--repeat`` runs after a warm-up, a window of ``--window`` entries drawn with replacement from the 840
abstracts (there are fewer real ones than 5,000), 30 reads and 10 dismissed papers.

``--windows N`` keeps each topic reader's first N windows (the smallest run of the whole script:
``--seeds 1 --repeat 1 --window 50 --windows 1 --draws 1``).

The last table says, set by set, whether readtrack's AUC and precision@10 are at least the anchor's.

Run: OMP_NUM_THREADS=1 python benchmarks/bench_feed.py [--seeds 5] [--repeat 5] [--window 5000] [--time-only]
     [--windows 7] [--draws 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from readtrack.base.words import plural  # noqa: E402
from readtrack.catalog.keys import title_key  # noqa: E402
from readtrack.catalog.reader import load  # noqa: E402
from readtrack.feed.rank import Doc, document, rank  # noqa: E402

DATA = REPO / "benchmarks" / "data" / "feed" / "reader-topics.jsonl.gz"
TRAIN_DAYS = 14
WINDOW_DAYS = 2
K = 10
SPLIT_YEAR = 2019  # own list: papers of this year and before are the earlier reads
POOL = 400  # own list, random halves: arXiv titles drawn as the other papers


@dataclass(frozen=True)
class Paper:
    key: str
    title: str
    abstract: str = ""
    day: str = ""  # YYYY-MM-DD; empty when unknown
    topic: str = ""

    def text(self, titles_only: bool = False) -> str:
        return self.title if titles_only or not self.abstract else f"{self.title}\n{self.abstract}"

    def bare(self) -> Paper:
        """The paper as a list never synced knows it: its title."""
        return Paper(self.key, self.title, "", self.day, self.topic)


@dataclass
class Case:
    """One reader and one window: what they read before, what they dismissed, the window and which of its
    papers they read."""

    reads: list[Paper]
    dismissed: list[Paper]
    window: list[Paper]
    later: set[str]  # keys of the window's papers the reader reads
    titles_only: bool = False
    name: str = ""


Scorer = Callable[[Case, int], dict[str, float]]


def load_papers(path: Path = DATA) -> list[Paper]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [
            Paper(r["id"], r["title"], r["abstract"], r["day"], r["topic"]) for r in map(json.loads, lines)
        ]


# -- the three rankers ---------------------------------------------------------------------------------


def readtrack_scores(case: Case, seed: int = 0) -> dict[str, float]:
    """readtrack's own ranker, as `readtrack feed` calls it: reads positive, dismissed negative, the window
    weighted lightly."""
    window = feed_docs(case.window, case.titles_only)
    reads, dismissed = feed_docs(case.reads, case.titles_only), feed_docs(case.dismissed, case.titles_only)
    ranked = rank(reads, dismissed, window, [d.key for d in window])
    return {r.key: r.score for r in ranked}


def feed_docs(papers: Sequence[Paper], titles_only: bool) -> list[Doc]:
    """The papers as `feed` gives them to its model (`document`: the title twice, then the abstract)."""
    return [Doc(p.key, document(p.title, None if titles_only else p.abstract)) for p in papers]


def anchor_scores(case: Case, seed: int = 0) -> dict[str, float]:
    """arxiv-sanity-lite's method (karpathy/arxiv-sanity-lite, compute.py and serve.py's svm_rank) at its best
    for a corpus of a few hundred papers: TF-IDF of words and bigrams over every paper it holds (here: the
    reads, the dismissed and the window; title and abstract, without authors), sublinear, English stop
    words, a LinearSVC with the reader's papers 1 and every other 0. Its own corpus settings (``min_df`` 5,
    ``max_df`` 0.5, 10,000 features, for its whole arXiv) cut most words of a few hundred titles (issue 94):
    here every word counts (``min_df`` 1, no ``max_df``, no cap)."""
    import numpy as np
    from sklearn import svm
    from sklearn.feature_extraction.text import TfidfVectorizer

    papers = [*case.reads, *case.dismissed, *case.window]
    vectorizer = TfidfVectorizer(
        input="content",
        encoding="utf-8",
        decode_error="replace",
        strip_accents="unicode",
        lowercase=True,
        analyzer="word",
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
        ngram_range=(1, 2),
        norm="l2",
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=True,
        min_df=1,
    )
    x = vectorizer.fit_transform([p.text(case.titles_only) for p in papers]).astype(np.float32)
    y = np.zeros(len(papers), dtype=np.float32)
    y[: len(case.reads)] = 1.0
    clf = svm.LinearSVC(class_weight="balanced", verbose=False, max_iter=10000, tol=1e-6, C=0.1)
    clf.fit(x, y)
    scores = clf.decision_function(x[len(papers) - len(case.window) :])
    return {p.key: float(s) for p, s in zip(case.window, scores, strict=True)}


def recency_scores(case: Case, seed: int = 0) -> dict[str, float]:
    """Newest first; the papers of one day in a random order (``seed``)."""
    rng = random.Random(seed)
    return {p.key: _ordinal(p.day) + rng.random() * 0.5 for p in case.window}


def _ordinal(day: str) -> float:
    from datetime import date

    return float(date.fromisoformat(day).toordinal())


# -- the metrics ---------------------------------------------------------------------------------------


def roc_auc(later: set[str], scores: dict[str, float]) -> float:
    from sklearn.metrics import roc_auc_score

    keys = sorted(scores)
    return float(roc_auc_score([k in later for k in keys], [scores[k] for k in keys]))


def precision_at(later: set[str], scores: dict[str, float], k: int = K) -> float:
    """The share of the first ``k`` papers that the reader reads (ties: the order of the keys)."""
    top = sorted(sorted(scores), key=lambda key: -scores[key])[:k]
    return sum(key in later for key in top) / len(top)


@dataclass
class Tally:
    auc: list[float] = field(default_factory=list)
    precision: list[float] = field(default_factory=list)
    positives: int = 0
    others: int = 0

    def add(self, case: Case, scores: dict[str, float]) -> None:
        self.auc.append(roc_auc(case.later, scores))
        self.precision.append(precision_at(case.later, scores))

    def cell(self, values: list[float]) -> str:
        spread = statistics.pstdev(values) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.3f} ± {spread:.3f}"


def evaluate(cases: Sequence[Case], scorers: dict[str, Scorer], seeds: int) -> dict[str, Tally]:
    """Each scorer over every case; a scorer that uses a seed (recency's ties) once a seed."""
    tallies = {name: Tally() for name in scorers}
    for case in cases:
        for name, scorer in scorers.items():
            tally = tallies[name]
            tally.positives += len(case.later)
            tally.others += len(case.window) - len(case.later)
            for seed in range(seeds if scorer is recency_scores else 1):
                tally.add(case, scorer(case, seed))
    return tallies


# -- the sets ------------------------------------------------------------------------------------------


def topic_cases(papers: Sequence[Paper], dismissed: bool, windows_kept: int | None = None) -> list[Case]:
    """Each topic a reader; its papers of the first `TRAIN_DAYS` days their reads, windows of `WINDOW_DAYS`
    days after (the first ``windows_kept`` of them; None: all)."""
    days = sorted({p.day for p in papers})
    train, test = set(days[:TRAIN_DAYS]), days[TRAIN_DAYS:]
    windows = [set(test[i : i + WINDOW_DAYS]) for i in range(0, len(test), WINDOW_DAYS)][:windows_kept]
    cases = []
    for topic in sorted({p.topic for p in papers}):
        reads = [p for p in papers if p.day in train and p.topic == topic]
        others = [p for p in papers if p.day in train and p.topic != topic] if dismissed else []
        for window_days in windows:
            window = [p for p in papers if p.day in window_days]
            later = {p.key for p in window if p.topic == topic}
            if later and len(later) < len(window):
                cases.append(Case(reads, others, window, later, name=topic))
    return cases


FEW = (5, 10, 20)  # a new user's list: this many reads, drawn from a reader's
DRAWS = 3  # draws of those reads for each reader and window


def few_reads(cases: Sequence[Case], k: int, draws: int = DRAWS) -> list[Case]:
    """Each case with ``k`` of its reads only, drawn ``draws`` times (seeded by reader, ``k`` and draw)."""
    drawn = []
    for case in cases:
        for draw in range(draws):
            rng = random.Random(f"{case.name}-{k}-{draw}")
            drawn.append(replace(case, reads=rng.sample(case.reads, min(k, len(case.reads)))))
    return drawn


def titles_only(cases: Sequence[Case]) -> list[Case]:
    """The cases as lists of titles give them: every paper, read or not, a title only."""
    return [replace(case, titles_only=True) for case in cases]


def reads_as_titles(cases: Sequence[Case]) -> list[Case]:
    """The reads as a list never synced knows them (titles), the window as arXiv gives it (abstracts)."""
    return [replace(case, reads=[p.bare() for p in case.reads]) for case in cases]


def own_list() -> list[Paper]:
    """papers.yaml's papers with a year, one per title (the list holds some paper twice)."""
    seen: dict[str, Paper] = {}
    for paper in load(REPO / "papers.yaml", cache=False).papers():
        key = title_key(paper.title)
        if paper.year and key and key not in seen:
            seen[key] = Paper(f"list:{paper.id}", paper.title, day=f"{paper.year:04d}-01-01")
    return list(seen.values())


def own_list_cases(listed: Sequence[Paper], pool: Sequence[Paper], seeds: int) -> list[Case]:
    """The year split (one case), then ``seeds`` random halves of the list against `POOL` pool titles."""
    early = [p for p in listed if int(p.day[:4]) <= SPLIT_YEAR]
    late = [p for p in listed if int(p.day[:4]) > SPLIT_YEAR]
    cases = [Case(early, [], [*late, *pool], {p.key for p in late}, titles_only=True, name="by year")]
    for seed in range(seeds):
        rng = random.Random(seed)
        shuffled = rng.sample(list(listed), len(listed))
        half = len(shuffled) // 2
        drawn = rng.sample(list(pool), min(POOL, len(pool)))
        held = shuffled[half:]
        cases.append(Case(shuffled[:half], [], [*held, *drawn], {p.key for p in held}, True, f"half {seed}"))
    return cases


# -- time ----------------------------------------------------------------------------------------------


def timed_window(papers: Sequence[Paper], size: int, seed: int = 0) -> Case:
    """A window of ``size`` entries drawn with replacement from the real abstracts, 30 reads, 10 dismissed."""
    rng = random.Random(seed)
    window = [
        Paper(f"w{i}", (p := rng.choice(papers)).title, p.abstract, p.day, p.topic) for i in range(size)
    ]
    topic = papers[0].topic
    reads = [p for p in papers if p.topic == topic][:30]
    dismissed = [p for p in papers if p.topic != topic][:10]
    return Case(reads, dismissed, window, set())


def time_rank(case: Case, repeat: int) -> dict[str, float]:
    """Median seconds of readtrack's `rank` and of each of its phases, after a warm-up."""
    reads = [Doc(p.key, p.text()) for p in case.reads]
    dismissed = [Doc(p.key, p.text()) for p in case.dismissed]
    window = [Doc(p.key, p.text()) for p in case.window]
    keys = [d.key for d in window]
    runs: list[dict[str, float]] = []
    for i in range(repeat + 1):
        clock: dict[str, float] = {}
        start = time.perf_counter()
        rank(reads, dismissed, window, keys, clock)
        clock["total"] = time.perf_counter() - start
        if i:
            runs.append(clock)
    return {phase: statistics.median(run[phase] for run in runs) for phase in runs[0]}


def time_anchor(case: Case, repeat: int) -> float:
    anchor_scores(case)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        anchor_scores(case)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


# -- the tables ----------------------------------------------------------------------------------------

SCORERS: dict[str, Scorer] = {
    "readtrack (logistic regression)": readtrack_scores,
    "anchor (arxiv-sanity-lite SVM)": anchor_scores,
    "recency (newest first)": recency_scores,
}


def print_table(title: str, tallies: dict[str, Tally], cases: int) -> None:
    first = next(iter(tallies.values()))
    print(
        f"\n{title}: {plural(cases, 'case')}, {first.positives} later reads among {first.others} other papers"
    )
    print(f"| {'ranker':<32} | {'ROC AUC':>13} | {'precision@10':>13} |")
    print(f"|{'-' * 34}|{'-' * 14}:|{'-' * 14}:|")
    for name, tally in tallies.items():
        auc = tally.cell(tally.auc) if tally.auc else "n/a"
        precision = tally.cell(tally.precision) if tally.precision else "n/a"
        print(f"| {name:<32} | {auc:>13} | {precision:>13} |")
    mine, anchor = tallies["readtrack (logistic regression)"], tallies["anchor (arxiv-sanity-lite SVM)"]
    differences = [a - b for a, b in zip(mine.auc, anchor.auc, strict=True)]
    higher = sum(d > 0 for d in differences)
    print(
        f"readtrack - anchor, case by case: AUC {statistics.mean(differences):+.3f} "
        f"± {statistics.pstdev(differences):.3f}, higher in {higher} of {len(differences)} cases"
    )


def print_topics(cases: Sequence[Case], scorers: dict[str, Scorer]) -> None:
    """readtrack and the anchor per reader (topic): mean AUC and precision@10 over its windows."""
    print(f"\n| {'reader (topic)':<28} | reads | later | readtrack AUC / P@10 | anchor AUC / P@10 |")
    print(f"|{'-' * 30}|------:|------:|---------------------:|------------------:|")
    for topic in sorted({c.name for c in cases}):
        mine = [c for c in cases if c.name == topic]
        cells = []
        for scorer in (readtrack_scores, anchor_scores):
            tally = evaluate(mine, {"": scorer}, 1)[""]
            cells.append(f"{statistics.mean(tally.auc):.3f} / {statistics.mean(tally.precision):.2f}")
        later = sum(len(c.later) for c in mine)
        print(f"| {topic:<28} | {len(mine[0].reads):>5} | {later:>5} | {cells[0]:>20} | {cells[1]:>17} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="recency tie-breaks and own-list random halves")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs after a warm-up")
    parser.add_argument("--window", type=int, default=5000, help="entries in the timed window")
    parser.add_argument("--time-only", action="store_true", help="the time alone, not the rankings")
    parser.add_argument("--windows", type=int, default=None, help="each topic reader's first N windows (all)")
    parser.add_argument("--draws", type=int, default=DRAWS, help="draws of a few-read reader's reads")
    args = parser.parse_args()
    papers = load_papers()
    if not args.time_only:
        print_rankings(papers, args.seeds, args.windows, args.draws)
    print_time(papers, args.window, args.repeat)


def print_rankings(
    papers: Sequence[Paper], seeds: int, windows: int | None = None, draws: int = DRAWS
) -> None:
    days = sorted({p.day for p in papers})
    print(f"{len(papers)} arXiv papers of {len(days)} days ({days[0]} to {days[-1]}), {DATA.name}")
    summary: list[tuple[str, dict[str, Tally]]] = []

    def table(name: str, cases: Sequence[Case], scorers: dict[str, Scorer] = SCORERS) -> dict[str, Tally]:
        tallies = evaluate(cases, scorers, seeds)
        if "recency (newest first)" not in tallies:
            tallies["recency (newest first)"] = Tally(positives=0)
        print_table(name, tallies, len(cases))
        summary.append((name, tallies))
        return tallies

    reads = topic_cases(papers, False, windows)
    table("Topic readers, reads only", reads)
    print_topics(reads, SCORERS)
    print_why(reads)
    table("Topic readers, + dismissed (earlier papers of other topics)", topic_cases(papers, True, windows))
    for k in FEW:
        table(f"Topic readers with {k} reads ({draws} draws each)", few_reads(reads, k, draws))
    table("Titles only (every paper a title, as a list gives it)", titles_only(reads))
    table(f"Titles only, 10 reads ({draws} draws each)", titles_only(few_reads(reads, 10, draws)))
    table("Reads as titles, the window with abstracts (a list never synced)", reads_as_titles(reads))
    listed = own_list()
    pool = [Paper(p.key, p.title, day=p.day) for p in papers]
    cases = own_list_cases(listed, pool, seeds)
    no_recency = {name: s for name, s in SCORERS.items() if s is not recency_scores}
    halves = plural(len(cases) - 1, "random half", "random halves")
    for name, which in (("by year", cases[:1]), (halves, cases[1:])):
        table(f"Own list (papers.yaml, {len(listed)} papers, titles), {name}", which, no_recency)
    print(
        "recency: n/a (the list's papers are years older than any arXiv window: newest first ranks them last)"
    )
    print_summary(summary)


def print_why(cases: Sequence[Case], top: int = 20) -> None:
    """What the rows' why says, over ``cases`` (readtrack's ranker as the feed calls it): the share of the
    first ``top`` rows, of every row and of the later reads that name a read paper as near, and that name
    words."""
    firsts = rows = later = near_first = near_rows = near_later = worded = 0
    for case in cases:
        window, titles = feed_docs(case.window, case.titles_only), case.titles_only
        ranked = rank(
            feed_docs(case.reads, titles), feed_docs(case.dismissed, titles), window, [d.key for d in window]
        )
        firsts += min(top, len(ranked))
        near_first += sum(bool(r.nearest) for r in ranked[:top])
        worded += sum(bool(r.words) for r in ranked[:top])
        rows += len(ranked)
        near_rows += sum(bool(r.nearest) for r in ranked)
        later += sum(r.key in case.later for r in ranked)
        near_later += sum(bool(r.nearest) for r in ranked if r.key in case.later)
    print(
        f"\nWhy (readtrack, {plural(len(cases), 'case')}): a read paper named as near in "
        f"{near_first / firsts:.0%} of the first {top} rows, {near_rows / rows:.0%} of all rows and "
        f"{near_later / later:.0%} of the later reads' rows; words named in {worded / firsts:.0%} of the "
        f"first {top} rows"
    )


def print_summary(summary: Sequence[tuple[str, dict[str, Tally]]]) -> None:
    """Every set on a line: readtrack's and the anchor's mean AUC and precision@10, and whether readtrack's
    are at least the anchor's."""
    mine, anchor = "readtrack (logistic regression)", "anchor (arxiv-sanity-lite SVM)"
    print("\n| set | readtrack AUC / P@10 | anchor AUC / P@10 | readtrack at least the anchor |")
    print("|---|---:|---:|---|")
    for name, tallies in summary:
        cells = [
            (statistics.mean(tallies[r].auc), statistics.mean(tallies[r].precision)) for r in (mine, anchor)
        ]
        at_least = [m >= a for m, a in zip(cells[0], cells[1], strict=True)]
        said = {(True, True): "both", (True, False): "AUC only", (False, True): "P@10 only"}.get(
            (at_least[0], at_least[1]), "no"
        )
        print(
            f"| {name} | {cells[0][0]:.3f} / {cells[0][1]:.2f} | {cells[1][0]:.3f} / {cells[1][1]:.2f} | "
            f"{said} |"
        )


def print_time(papers: Sequence[Paper], size: int, repeat: int) -> None:
    case = timed_window(papers, size)
    load_average = os.getloadavg()[0]
    clock = time_rank(case, repeat)
    print(
        f"\nTime to rank a window of {size:,} entries ({len(case.reads)} reads, {len(case.dismissed)} "
        f"dismissed), median of {repeat} after a warm-up; load average {load_average:.1f} on "
        f"{os.cpu_count()} CPUs when it began:"
    )
    print("| phase | seconds |")
    print("|---|---:|")
    for phase in ("vectorize", "fit", "score", "total"):
        print(f"| readtrack {phase} | {clock[phase]:.3f} |")
    print(f"| anchor (TF-IDF + LinearSVC, no why) | {time_anchor(case, repeat):.3f} |")


if __name__ == "__main__":
    main()
