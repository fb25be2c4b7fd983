"""A byte-level BPE tokenizer (Sennrich et al. 2016, on bytes as GPT-2 uses it) for plugins whose paper is
about what tokens do to a model, not the tokenizer itself (integer tokenization, byte-level models against
subwords).

The base vocabulary is the 256 byte values, so every string has an encoding and nothing is unknown. Text is
first cut into pieces (a simplified GPT-2 pattern: a run of letters, of digits or of other symbols, each with
at most one leading space, or a run of whitespace) and merges stay inside a piece:

    PATTERN = " ?[A-Za-z]+ | ?[0-9]+ | ?[^\\sA-Za-z0-9]+ |\\s+"        (tried in that order, leftmost first)

With ``split_digits=True`` every digit is a piece of its own (as LLaMA and PaLM do), so no token ever holds
two digits. Training: count the adjacent pairs of tokens inside the pieces (weighted by how often each piece
occurs), merge the most frequent pair everywhere, left to right, into token 256 + k; ties go to the
smallest pair (left id, right id), which is also the rule of Hugging Face's ``BpeTrainer`` on text whose
characters are ASCII. Encoding applies the merges by rank, lowest first.

Plain Python, no torch: a plugin's ``experiment.py`` imports it.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TypeVar

Pair = tuple[int, int]
B = TypeVar("B", bound="BPE")

PATTERN = r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+"
DIGITS_SPLIT = r" ?[A-Za-z]+| ?[0-9]| ?[^\sA-Za-z0-9]+|\s+"  # " 1", "2", "3": one digit per piece
_PIECES = {False: re.compile(PATTERN), True: re.compile(DIGITS_SPLIT)}


def pieces(text: str, split_digits: bool = False) -> list[str]:
    """Cut ``text`` into the pieces BPE merges within; ``"".join(pieces(text)) == text`` for any string."""
    return _PIECES[split_digits].findall(text)


def merge(word: list[int], pair: Pair, new: int) -> list[int]:
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
class BPE:
    """A trained byte-level BPE: ``merges[k]`` is the pair of token ids that became token 256 + k."""

    merges: list[Pair]
    split_digits: bool = False
    vocab: list[bytes] = field(init=False)  # token id → the bytes it stands for
    ranks: dict[Pair, int] = field(init=False, repr=False)
    _cache: dict[str, list[int]] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.vocab = [bytes([b]) for b in range(256)]
        for a, b in self.merges:
            self.vocab.append(self.vocab[a] + self.vocab[b])
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}

    @staticmethod
    def cut(text: str, split_digits: bool = False) -> list[str]:
        """The pieces merges stay inside (``pieces``); a subclass may cut text by another rule (GPT-2's
        released pattern in the gpt2 plugin) and keep the same training and encoding."""
        return pieces(text, split_digits)

    @classmethod
    def train(cls: type[B], texts: list[str], vocab_size: int, split_digits: bool = False) -> B:
        """Learn ``vocab_size − 256`` merges from ``texts`` (fewer if every piece is one token first)."""
        if vocab_size < 256:
            raise ValueError(
                f"a byte-level vocabulary holds the 256 bytes, vocab_size {vocab_size} is smaller"
            )
        counts = Counter(p for text in texts for p in cls.cut(text, split_digits))
        words = [list(p.encode("utf-8")) for p in counts]
        freq = list(counts.values())
        pair_count: Counter[Pair] = Counter()
        where: dict[Pair, set[int]] = {}  # pair → the words it occurs in
        for w, word in enumerate(words):
            for pair in itertools.pairwise(word):
                pair_count[pair] += freq[w]
                where.setdefault(pair, set()).add(w)
        heap = [(-c, pair) for pair, c in pair_count.items()]  # most frequent first, then the smallest pair
        heapq.heapify(heap)
        merges: list[Pair] = []
        while len(merges) < vocab_size - 256 and heap:
            neg, pair = heapq.heappop(heap)
            if pair_count.get(pair, 0) != -neg:  # stale: the count changed after this entry was pushed
                continue
            new = 256 + len(merges)
            merges.append(pair)
            changed: set[Pair] = set()
            for w in where.pop(pair):
                before = Counter(itertools.pairwise(words[w]))
                words[w] = merge(words[w], pair, new)
                after = Counter(itertools.pairwise(words[w]))
                for p in before.keys() | after.keys():
                    delta = (after[p] - before[p]) * freq[w]
                    if delta:
                        pair_count[p] += delta
                        changed.add(p)
                    if after[p]:
                        where.setdefault(p, set()).add(w)
                    elif p in where:
                        where[p].discard(w)
            for p in changed:
                if pair_count[p] > 0:
                    heapq.heappush(heap, (-pair_count[p], p))
                else:
                    del pair_count[p]
        return cls(merges, split_digits)

    def encode_piece(self, piece: str) -> list[int]:
        """Merge the lowest-ranked pair present, everywhere, until no pair of the piece has a rank."""
        word = list(piece.encode("utf-8"))
        while len(word) > 1:
            pair = min(itertools.pairwise(word), key=lambda p: self.ranks.get(p, len(self.ranks)))
            if pair not in self.ranks:
                break
            word = merge(word, pair, 256 + self.ranks[pair])
        return word

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (any string UTF-8 can encode, so no lone surrogates); nothing is unknown."""
        ids: list[int] = []
        for p in self.cut(text, self.split_digits):
            if p not in self._cache:
                self._cache[p] = self.encode_piece(p)
            ids.extend(self._cache[p])
        return ids

    def decode(self, ids: list[int]) -> str:
        """The text of ``ids``; bytes that are not UTF-8 (ids a model produced) decode to U+FFFD."""
        return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="replace")

    def token_strings(self, ids: list[int]) -> list[str]:
        """Each token of ``ids`` as text, to show a segmentation ("12|34")."""
        return [self.vocab[i].decode("utf-8", errors="replace") for i in ids]
