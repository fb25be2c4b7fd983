"""The reader's own model: TF-IDF over title and abstract, a logistic regression on what they read.

Positives are the papers read or being read (title, abstract from sync, and the reader's notes). Negatives
are the papers skipped, the papers dismissed from a feed, and the rest of the window, weighted lightly
(`WINDOW_WEIGHT`: most of a day's arXiv is simply not for this reader, but some of it is, so it counts as
weak evidence only). A paper's score is the model's probability that it belongs with the positives. Each row
says why: the read papers nearest to it (cosine similarity of their TF-IDF vectors) and the words that
weighed most in its favour (its TF-IDF value times the word's coefficient).

scikit-learn (and numpy with it) is imported inside `rank` only: `readtrack feed --add` and every other
command stay free of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

WINDOW_WEIGHT = 0.2  # the weight of each unlabelled paper of the window, as a negative
NEAREST = 2  # read papers named in a row's why
WORDS = 3  # words named in a row's why
MIN_SIMILARITY = 0.05  # a read paper less similar than this is not named as near


# words every abstract uses: never a reason to read a paper (scikit-learn's English stop words come on top)
_FILLER = """propose proposed proposes present presents introduce introduces introduced show shows shown use
uses used using method methods approach approaches paper papers work works result results new novel based time
high low large small study studies existing recent provide provides demonstrate experiments experimental
process achieve achieves order"""
FILLER = frozenset(_FILLER.split())


@dataclass
class Doc:
    key: str  # a paper id of the list, or an arXiv id
    text: str


@dataclass
class Ranked:
    key: str
    score: float
    nearest: list[tuple[str, float]] = field(default_factory=list)  # read paper id, similarity
    words: list[str] = field(default_factory=list)


def rank(
    positives: Sequence[Doc], negatives: Sequence[Doc], window: Sequence[Doc], candidates: Sequence[str]
) -> list[Ranked]:
    """The ``candidates`` (keys of ``window`` docs), best first. ``positives`` must not be empty."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    assert positives
    by_key = {d.key: d for d in window}
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    vectorizer = TfidfVectorizer(
        stop_words=sorted(ENGLISH_STOP_WORDS | FILLER),
        sublinear_tf=True,
        ngram_range=(1, 2),
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9-]+\b",
        min_df=1,
    )
    texts = [d.text for d in positives] + [d.text for d in negatives] + [d.text for d in window]
    matrix = vectorizer.fit_transform(texts)
    n_pos, n_neg = len(positives), len(negatives)
    labels = [1] * n_pos + [0] * (n_neg + len(window))
    weights = [1.0] * (n_pos + n_neg) + [WINDOW_WEIGHT] * len(window)
    if n_neg + len(window) == 0:  # one class: nothing to learn from, similarity alone ranks
        model = None
    else:
        model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000)
        model.fit(matrix, labels, sample_weight=weights)
    names = vectorizer.get_feature_names_out()
    pos_matrix = matrix[:n_pos]
    window_rows = {d.key: n_pos + n_neg + i for i, d in enumerate(window)}
    ranked: list[Ranked] = []
    for key in candidates:
        if key not in by_key:
            continue
        row = matrix[window_rows[key]]
        similarity = (pos_matrix @ row.T).toarray().ravel()  # rows are L2-normed: cosine
        order = similarity.argsort()[::-1][:NEAREST]
        nearest = [(positives[i].key, float(similarity[i])) for i in order if similarity[i] >= MIN_SIMILARITY]
        if model is None:
            score = float(similarity.max())
            words: list[str] = []
        else:
            score = float(model.predict_proba(row)[0, 1])
            weighted = row.multiply(model.coef_).tocsr()
            pairs = sorted(zip(weighted.indices, weighted.data, strict=True), key=lambda p: -p[1])
            words = _distinct([str(names[i]) for i, value in pairs if value > 0])
        ranked.append(Ranked(key, score, nearest, words))
    ranked.sort(key=lambda r: -r.score)
    return ranked


def _distinct(terms: list[str]) -> list[str]:
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
