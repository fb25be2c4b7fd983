"""The reader's own model: TF-IDF over title and abstract, a logistic regression on what they read.

Positives are the papers read or being read (title, abstract from sync, and the reader's notes). Negatives
are the papers skipped and the papers dismissed from a feed, counted in full, and the rest of the window,
weighted lightly (`WINDOW_WEIGHT`: most of a day's arXiv is simply not for this reader, but some of it is,
so it counts as weak evidence only). Every text is a `document`: its title counts twice (`TITLE_TIMES`), the
words a reader chose a paper by. A paper's score is the model's probability that it belongs with the
positives; the feed shows its rank in the window instead, which a person can read. Each row says why: the
read papers nearest to it (cosine similarity of their TF-IDF vectors, named when the pair stands out among
the window's: `near_threshold`) and the words that weighed most in its favour (its TF-IDF value times the
word's coefficient) among the words the reader's reads carry (`telling`): in at least `MIN_READS` of them,
and `MIN_LIFT` times as often as in the window. No stop list decides them: "models" or "significantly" is in
the reads no more often than in any day's arXiv.

scikit-learn (and numpy with it) is imported inside `rank` only: `readtrack feed --add` and every other
command stay free of it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise
from typing import Any

WINDOW_WEIGHT = 0.2  # the weight of each unlabelled paper of the window, as a negative
TITLE_TIMES = 2  # a title counts twice (benchmarks/bench_feed.py: AUC +0.0 to +0.009 a set, none lower)
MIN_READS = 2  # a why-word is in at least this many read papers (or in all of them, when fewer)
MIN_LIFT = 2.0  # ... and in this many times the share of the reads as of the window's papers
NEAREST = 2  # read papers named in a row's why
WORDS = 3  # words named in a row's why
NEAR_PERCENTILE = 95.0  # a read paper is named as near when the pair is this similar among the window's pairs
MIN_SIMILARITY = 0.01  # ... and at least this similar (cosine): a window of near-empty texts names nothing


# words every abstract uses: never a reason to read a paper (scikit-learn's English stop words come on top)
_FILLER = """propose proposed proposes present presents introduce introduces introduced show shows shown use
uses used using method methods approach approaches paper papers work works result results new novel based time
high low large small study studies existing recent provide provides demonstrate experiments experimental
process achieve achieves order"""
FILLER = frozenset(_FILLER.split())
# a word: a letter, then letters or digits. A hyphen splits words, so that "long-context" and "long context"
# are the same pair: benchmarks/bench_feed.py's topic readers, 0.856 AUC with hyphenated words whole, 0.865
# split (arxiv-sanity-lite's SVM, which splits them, 0.868)
TOKEN = r"(?u)\b[a-zA-Z][a-zA-Z0-9]+\b"
_TOKEN = re.compile(TOKEN)


@dataclass
class Doc:
    key: str  # a paper id of the list, or an arXiv id
    text: str  # a `document`


def document(title: str | None, *rest: str | None) -> str:
    """The text the model reads for a paper: its title `TITLE_TIMES` times, then the rest (abstract, notes),
    each part on a line of its own, the empty ones left out."""
    return "\n".join(p for p in [*([title] * TITLE_TIMES), *rest] if p)


@dataclass
class Ranked:
    key: str
    score: float
    nearest: list[tuple[str, float]] = field(default_factory=list)  # read paper id, similarity
    words: list[str] = field(default_factory=list)


def rank(
    positives: Sequence[Doc],
    negatives: Sequence[Doc],
    window: Sequence[Doc],
    candidates: Sequence[str],
    clock: dict[str, float] | None = None,
) -> list[Ranked]:
    """The ``candidates`` (keys of ``window`` docs), best first. ``positives`` must not be empty.

    ``clock``, when given, receives the seconds each phase took: ``vectorize`` (TF-IDF over every text),
    ``fit`` (the logistic regression) and ``score`` (every candidate's score and why), for
    benchmarks/bench_feed.py."""
    assert positives
    started = time.perf_counter()
    vectorizer, matrix = _vectorize([d.text for d in [*positives, *negatives, *window]])
    vectorized = time.perf_counter()
    model = _fit(matrix, len(positives), len(negatives), len(window))
    fitted = time.perf_counter()
    ranked = _score(vectorizer, matrix, model, positives, len(negatives), window, candidates)
    if clock is not None:
        clock["vectorize"] = vectorized - started
        clock["fit"] = fitted - vectorized
        clock["score"] = time.perf_counter() - fitted
    return ranked


def _vectorize(texts: list[str]) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    stop = frozenset(ENGLISH_STOP_WORDS | FILLER)
    vectorizer = TfidfVectorizer(analyzer=partial(_terms, stop=stop), sublinear_tf=True, min_df=1)
    return vectorizer, vectorizer.fit_transform(texts)


def _terms(text: str, stop: frozenset[str]) -> list[str]:
    """A text's words (lower case, no stop word) and pairs of words: what scikit-learn's analyzer gives
    with ``ngram_range=(1, 2)`` and these stop words, in two list comprehensions (a third faster)."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def _fit(matrix: Any, n_pos: int, n_neg: int, n_window: int) -> Any:
    """The logistic regression, or None with one class only (nothing to learn from: similarity ranks)."""
    if n_neg + n_window == 0:
        return None
    from sklearn.linear_model import LogisticRegression

    labels = [1] * n_pos + [0] * (n_neg + n_window)
    weights = [1.0] * (n_pos + n_neg) + [WINDOW_WEIGHT] * n_window
    model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000)
    model.fit(matrix, labels, sample_weight=weights)
    return model


def _score(
    vectorizer: Any,
    matrix: Any,
    model: Any,
    positives: Sequence[Doc],
    n_neg: int,
    window: Sequence[Doc],
    candidates: Sequence[str],
) -> list[Ranked]:
    """Every candidate's score, nearest read papers and words, in one product each (a row at a time cost
    0.4 ms a candidate: 2 s of a 5,000-entry window)."""
    import numpy as np

    n_pos = len(positives)
    window_rows = {d.key: n_pos + n_neg + i for i, d in enumerate(window)}
    keys = [key for key in candidates if key in window_rows]
    if not keys:
        return []
    rows = matrix[[window_rows[key] for key in keys]]
    similarity = (rows @ matrix[:n_pos].T).toarray()  # (candidates, positives); rows are L2-normed: cosine
    near = near_threshold(similarity)
    if model is None:
        scores = similarity.max(axis=1)
        weighted = None
    else:
        scores = model.predict_proba(rows)[:, 1]
        # each term's TF-IDF value times its weight, where the term is one the reads carry (`telling`)
        weighted = rows.multiply(model.coef_).multiply(telling(matrix, n_pos, len(window))).tocsr()
    names = _names(vectorizer.vocabulary_)
    ranked: list[Ranked] = []
    for i, key in enumerate(keys):
        order = similarity[i].argsort()[::-1][:NEAREST]
        nearest = [(positives[j].key, float(similarity[i, j])) for j in order if similarity[i, j] >= near]
        words: list[str] = []
        if weighted is not None:
            start, end = weighted.indptr[i], weighted.indptr[i + 1]
            values, terms = weighted.data[start:end], weighted.indices[start:end]
            best = np.argsort(-values, kind="stable")
            words = _distinct(str(names[terms[b]]) for b in best if values[b] > 0)
        ranked.append(Ranked(key, float(scores[i]), nearest, words))
    ranked.sort(key=lambda r: -r.score)
    return ranked


def near_threshold(similarity: Any) -> float:
    """How similar a candidate and a read paper must be for the read paper to be named as near: more than
    `NEAR_PERCENTILE` % of all the (candidate, read paper) pairs of this window, and `MIN_SIMILARITY`. A fixed
    cosine said "near nothing you read" for most rows (issue 94: 85 of 102; TF-IDF vectors of words and
    pairs meet little even between related abstracts), where what a reader wants to know is which read paper
    this one stands out as close to."""
    import numpy as np

    return max(float(np.percentile(similarity, NEAR_PERCENTILE)), MIN_SIMILARITY)


def telling(matrix: Any, n_pos: int, n_window: int) -> Any:
    """A row of 1 and 0 over the terms: 1 for a term in at least `MIN_READS` of the ``n_pos`` read papers
    (the matrix's first rows; all of them when fewer) and `MIN_LIFT` times as common among them as among
    the window's papers (its last ``n_window`` rows; a term in none of them counts as in half of one)."""
    import numpy as np

    present = matrix > 0
    in_reads = np.asarray(present[:n_pos].sum(axis=0)).ravel()
    in_window = np.asarray(present[matrix.shape[0] - n_window :].sum(axis=0)).ravel()
    read_share = in_reads / n_pos
    window_share = np.maximum(in_window, 0.5) / max(n_window, 1)
    return ((in_reads >= min(MIN_READS, n_pos)) & (read_share >= MIN_LIFT * window_share)).astype(float)


def _names(vocabulary: dict[str, int]) -> Any:
    """Each column's term (scikit-learn's get_feature_names_out sorts the vocabulary to say the same)."""
    import numpy as np

    names = np.empty(len(vocabulary), dtype=object)
    names[list(vocabulary.values())] = list(vocabulary)
    return names


def _distinct(terms: Iterable[str]) -> list[str]:
    """The first `WORDS` terms, best first, none sharing a word with one before it ("long sequences" and
    then "long" say the same thing)."""
    chosen: list[str] = []
    used: set[str] = set()
    for term in terms:
        words = set(term.split())
        if words & used:
            continue
        chosen.append(term)
        used |= words
        if len(chosen) == WORDS:
            break
    return chosen
