"""Byte-level BPE as GPT-2 describes it (Radford et al. 2019, section 2.2 "Input Representation").

The base vocabulary is the 256 byte values, so any string has an encoding and nothing is ever unknown; the
text is UTF-8 encoded and merges are learnt on the bytes. BPE is kept from merging across character
categories: the text is first cut into pieces, and merges happen only inside a piece. The pieces are those of
GPT-2's released pattern (the paper states the rule, the code fixes it):

    's|'t|'re|'ve|'m|'ll|'d | ␣?\\p{L}+ | ␣?\\p{N}+ | ␣?[^\\s\\p{L}\\p{N}]+ | \\s+(?!\\S) | \\s+

tried in that order at each position: an English contraction, or a run of letters, of digits or of other
symbols with at most one leading space attached ("the exception for spaces"), or a run of whitespace that
leaves its last space to the word after it. Letters are the Unicode categories L*, digits N*, whitespace the
Unicode White_Space property. The pattern is written out below with ``unicodedata`` instead of a regex
(Python's ``re`` has no ``\\p{L}``); the byte-to-printable-character table of GPT-2's vocabulary file is a
storage detail and is left out.

Training: count every adjacent pair of tokens inside the pieces (weighted by how often each piece occurs),
merge the most frequent pair into a new token everywhere (left to right, so "aaa" becomes "aa a"), repeat
until ``vocab_size`` tokens or nothing is left to merge. Ties go to the smallest pair (left id, right id);
token 256 + i is the i-th merge. Encoding applies the merges by rank, as GPT-2's ``bpe()`` does.
"""

from __future__ import annotations

import heapq
import itertools
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

Pair = tuple[int, int]

CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
# Unicode's White_Space property (what \s means in the regex engines GPT-2's pattern runs on); Python's
# str.isspace() also counts the separators U+001C–U+001F, which the pattern treats as symbols.
WHITESPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def _category(ch: str) -> str:
    """'s' whitespace, 'L' letter, 'N' number, 'P' anything else (punctuation, symbols, marks, controls)."""
    if ch in WHITESPACE:
        return "s"
    major = unicodedata.category(ch)[0]
    return major if major in "LN" else "P"


def pretokenize(text: str) -> list[str]:
    """Cut ``text`` into the pieces BPE may merge within; ``"".join(pieces) == text``."""
    pieces, i, n = [], 0, len(text)
    while i < n:
        contraction = next((c for c in CONTRACTIONS if text.startswith(c, i)), None)
        if contraction is not None:
            pieces.append(contraction)
            i += len(contraction)
            continue
        start = i + 1 if text[i] == " " and i + 1 < n and _category(text[i + 1]) != "s" else i
        kind = _category(text[start])
        end = start + 1
        if kind != "s":  # ␣?\p{L}+, ␣?\p{N}+ or ␣?[^\s\p{L}\p{N}]+: one category, one optional space
            while end < n and _category(text[end]) == kind:
                end += 1
        else:  # \s+(?!\S) | \s+: a whitespace run, less its last space when a word follows
            while end < n and text[end] in WHITESPACE:
                end += 1
            if end < n and end - i > 1:
                end -= 1
        pieces.append(text[i:end])
        i = end
    return pieces


def _pairs(word: list[int]) -> Counter[Pair]:
    return Counter(itertools.pairwise(word))


def _merge(word: list[int], pair: Pair, new: int) -> list[int]:
    """Replace each occurrence of ``pair`` in ``word`` by ``new``, left to right, without overlaps."""
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(new)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


@dataclass
class ByteLevelBPE:
    """A trained byte-level BPE: ``merges[i]`` is the pair that became token 256 + i."""

    merges: list[Pair]
    vocab: list[bytes] = field(init=False)  # token id → the bytes it stands for
    ranks: dict[Pair, int] = field(init=False)
    _cache: dict[str, list[int]] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.vocab = [bytes([b]) for b in range(256)]
        for a, b in self.merges:
            self.vocab.append(self.vocab[a] + self.vocab[b])
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}

    @classmethod
    def train(cls, texts: list[str], vocab_size: int) -> ByteLevelBPE:
        """Learn ``vocab_size − 256`` merges (fewer if every piece becomes one token first) from ``texts``."""
        if vocab_size < 256:
            raise ValueError(
                f"a byte-level vocabulary holds the 256 bytes, vocab_size {vocab_size} is smaller"
            )
        counts = Counter(piece for text in texts for piece in pretokenize(text))
        words = [list(piece.encode("utf-8")) for piece in counts]
        freq = list(counts.values())
        pair_count: Counter[Pair] = Counter()
        where: dict[Pair, set[int]] = {}  # pair → the words it occurs in
        for w, word in enumerate(words):
            for pair, k in _pairs(word).items():
                pair_count[pair] += k * freq[w]
                where.setdefault(pair, set()).add(w)
        heap = [(-c, pair) for pair, c in pair_count.items()]  # most frequent first, then smallest pair
        heapq.heapify(heap)
        merges: list[Pair] = []
        while len(merges) < vocab_size - 256 and heap:
            neg, pair = heapq.heappop(heap)
            if pair_count.get(pair, 0) != -neg:  # a stale entry: the count changed since it was pushed
                continue
            new = 256 + len(merges)
            merges.append(pair)
            changed: set[Pair] = set()
            for w in where.pop(pair):
                before = _pairs(words[w])
                words[w] = _merge(words[w], pair, new)
                after = _pairs(words[w])
                for p, k in before.items():
                    pair_count[p] -= k * freq[w]
                    changed.add(p)
                    if p not in after and p != pair:
                        where[p].discard(w)
                for p, k in after.items():
                    pair_count[p] += k * freq[w]
                    changed.add(p)
                    where.setdefault(p, set()).add(w)
            for p in changed:
                if pair_count[p] > 0:
                    heapq.heappush(heap, (-pair_count[p], p))
                else:
                    del pair_count[p]
        return cls(merges)

    def _encode_piece(self, piece: str) -> list[int]:
        """GPT-2's ``bpe()``: merge the lowest-ranked pair present, everywhere, until none is left."""
        word = list(piece.encode("utf-8"))
        while len(word) > 1:
            pair = min(itertools.pairwise(word), key=lambda p: self.ranks.get(p, len(self.ranks)))
            if pair not in self.ranks:
                break
            word = _merge(word, pair, 256 + self.ranks[pair])
        return word

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; any string UTF-8 can encode (so no lone surrogates), nothing unknown."""
        ids: list[int] = []
        for piece in pretokenize(text):
            if piece not in self._cache:
                self._cache[piece] = self._encode_piece(piece)
            ids.extend(self._cache[piece])
        return ids

    def decode(self, ids: list[int]) -> str:
        """The text of ``ids``; byte sequences that are not UTF-8 (ids a model sampled) decode to U+FFFD."""
        return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="replace")
