"""benchmarks/bench_feed.py's core on small sets whose answer is known: the metrics agree with counting by
hand and with scikit-learn, the splits never show a ranker what it must find, and the rankers find a
reader's papers that recency cannot. No absolute time is asserted."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_feed", REPO / "benchmarks" / "bench_feed.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_feed"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_auc_is_the_share_of_read_other_pairs_in_the_right_order_as_sklearn_says(bench: ModuleType) -> None:
    from sklearn.metrics import roc_auc_score

    scores = {"a": 0.9, "b": 0.1, "c": 0.5, "d": 0.5, "e": 0.3, "f": 0.8}
    later = {"b", "c", "f"}
    pairs = [(r, o) for r in later for o in scores if o not in later]
    by_hand = sum(1.0 if scores[r] > scores[o] else 0.5 if scores[r] == scores[o] else 0.0 for r, o in pairs)
    assert bench.roc_auc(later, scores) == pytest.approx(by_hand / len(pairs))
    keys = list(scores)  # another order of the same papers gives the same number
    assert bench.roc_auc(later, scores) == pytest.approx(
        roc_auc_score([k in later for k in reversed(keys)], [scores[k] for k in reversed(keys)])
    )


def test_precision_at_k_counts_the_reads_among_the_first_k(bench: ModuleType) -> None:
    from sklearn.metrics import precision_score

    scores = {f"p{i}": float(i) for i in range(20)}  # p19 first
    later = {"p19", "p17", "p3"}
    top = sorted(scores, key=lambda k: -scores[k])[:10]
    assert bench.precision_at(later, scores) == pytest.approx(2 / 10)
    assert bench.precision_at(later, scores) == pytest.approx(
        precision_score([k in later for k in top], [1] * 10)
    )
    assert bench.precision_at(later, scores, k=3) == pytest.approx(2 / 3)


def test_topic_windows_come_after_the_reads_and_hold_both_kinds(bench: ModuleType) -> None:
    papers = bench.load_papers()
    assert len(papers) > 500 and all(p.title and p.abstract and p.day and p.topic for p in papers)
    cases = bench.topic_cases(papers, dismissed=True)
    assert len(cases) >= 20
    for case in cases:
        last_read = max(p.day for p in case.reads + case.dismissed)
        assert all(p.day > last_read for p in case.window)  # nothing of a window was seen before it
        assert {p.topic for p in case.reads} == {case.name}
        assert case.name not in {p.topic for p in case.dismissed}
        assert case.later == {p.key for p in case.window if p.topic == case.name}
        assert 0 < len(case.later) < len(case.window)


def test_own_list_hides_the_later_papers_among_the_pool_and_never_among_the_reads(bench: ModuleType) -> None:
    listed = bench.own_list()
    assert len(listed) > 40 and len({p.title for p in listed}) == len(listed)
    pool = [bench.Paper(f"pool{i}", f"Pool paper {i}", day="2026-04-06") for i in range(500)]
    by_year, *halves = bench.own_list_cases(listed, pool, seeds=2)
    assert all(p.day < "2020" for p in by_year.reads) and by_year.later
    assert all(p.day >= "2020" for p in by_year.window if p.key in by_year.later)
    for case in [by_year, *halves]:
        assert case.titles_only
        assert not {p.key for p in case.reads} & {p.key for p in case.window}
        assert case.later <= {p.key for p in case.window}
    assert len(halves) == 2 and halves[0].later != halves[1].later
    assert all(len(c.window) == len(c.later) + bench.POOL for c in halves)


def known_case(bench: ModuleType) -> Any:
    """Reads about attention kernels; a window of two days in which three papers are about them and six are
    not, the attention ones the oldest (so that newest first gets them last)."""
    paper = bench.Paper
    reads = [
        paper("r1", "Tiled attention kernels in GPU shared memory for long sequences"),
        paper("r2", "IO-aware exact attention: fewer reads of GPU memory, longer sequences"),
        paper("r3", "Sparse attention kernels for long sequences on GPUs"),
    ]
    window = [
        paper("a1", "Faster attention kernels with tiling in GPU shared memory", day="2026-05-01"),
        paper("a2", "Memory-efficient attention for very long sequences on GPUs", day="2026-05-01"),
        paper("a3", "Block-sparse attention kernels: long sequences at GPU speed", day="2026-05-01"),
        *(
            paper(f"o{i}", title, day="2026-05-02")
            for i, title in enumerate(
                [
                    "Protein folding with equivariant graph networks",
                    "A survey of reinforcement learning for robot grasping",
                    "Causal inference with instrumental variables in economics",
                    "Speech recognition for low-resource languages",
                    "Molecular property prediction from SMILES strings",
                    "Traffic forecasting with spatio-temporal graphs",
                ]
            )
        ),
    ]
    return bench.Case(reads, [], window, {"a1", "a2", "a3"}, name="attention")


def test_both_rankers_put_the_readers_papers_first_and_recency_cannot(bench: ModuleType) -> None:
    case = known_case(bench)
    tallies = bench.evaluate([case], bench.SCORERS, seeds=3)
    mine = tallies["readtrack (logistic regression)"]
    anchor = tallies["anchor (arxiv-sanity-lite SVM)"]
    recency = tallies["recency (newest first)"]
    assert mine.auc == [1.0] and anchor.auc == [1.0]
    assert bench.precision_at(case.later, bench.readtrack_scores(case), k=3) == 1.0
    assert len(recency.auc) == 3 and max(recency.auc) == 0.0  # the reader's papers are the older day's
    assert mine.positives == 3 and mine.others == 6


def test_the_timed_window_is_drawn_from_the_real_abstracts_and_rank_says_each_phase(
    bench: ModuleType,
) -> None:
    papers = bench.load_papers()
    case = bench.timed_window(papers, 300)
    assert len(case.window) == 300 and len({p.key for p in case.window}) == 300
    assert {p.abstract for p in case.window} <= {p.abstract for p in papers}
    clock = bench.time_rank(case, repeat=1)
    assert set(clock) == {"vectorize", "fit", "score", "total"}
    assert all(seconds > 0 for seconds in clock.values())
    assert clock["total"] >= clock["vectorize"] + clock["fit"] + clock["score"] - 1e-3


def test_few_read_readers_draw_from_their_own_reads_and_title_sets_drop_the_abstracts(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 94's sets: a new user's few reads, lists of titles, a list never synced."""
    papers = bench.load_papers()
    cases = bench.topic_cases(papers, dismissed=False, windows_kept=1)
    drawn = bench.few_reads(cases, 5, draws=2)
    assert len(drawn) == 2 * len(cases)
    for case, (first, second) in zip(cases, zip(drawn[::2], drawn[1::2], strict=True), strict=True):
        assert len(first.reads) == 5 and {p.key for p in first.reads} <= {p.key for p in case.reads}
        assert first.reads != second.reads and first.window == case.window and first.later == case.later
    assert [c.reads for c in bench.few_reads(cases, 5, draws=2)] == [c.reads for c in drawn]  # seeded
    titles = bench.titles_only(cases)[0]
    assert titles.titles_only and all(p.text(True) == p.title for p in titles.window)
    bare = bench.reads_as_titles(cases)[0]
    assert all(not p.abstract for p in bare.reads) and all(p.abstract for p in bare.window)
    summary = [("a set", bench.evaluate([known_case(bench)], bench.SCORERS, seeds=1))]
    bench.print_summary(summary)
    assert "| a set | 1.000 / 0.33 | 1.000 / 0.33 | both |" in capsys.readouterr().out  # 3 of the 9 papers
