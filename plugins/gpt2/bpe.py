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

Training and encoding are the shared ``readtrack.plugin_kit.bpe.BPE`` (the same algorithm; only the pieces
differ): count every adjacent pair of tokens inside the pieces (weighted by how often each piece occurs),
merge the most frequent pair into a new token everywhere (left to right, so "aaa" becomes "aa a"), repeat
until ``vocab_size`` tokens or nothing is left to merge. Ties go to the smallest pair (left id, right id);
token 256 + i is the i-th merge. Encoding applies the merges by rank, as GPT-2's ``bpe()`` does.
"""

from __future__ import annotations

import unicodedata

from readtrack.plugin_kit.bpe import BPE

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


class ByteLevelBPE(BPE):
    """The shared byte-level BPE, cutting text into GPT-2's pieces (``pretokenize``): ``merges[i]`` is the
    pair that became token 256 + i."""

    @staticmethod
    def cut(text: str, split_digits: bool = False) -> list[str]:
        return pretokenize(text)  # GPT-2's pattern keeps digits together: split_digits does not apply
