"""The classic mistake in GPT-2's pre-LN block, for ``readtrack practice``: its check must catch it
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import Block


@mistake("Block.forward", fails="pre-LN block vs nn.TransformerEncoderLayer, N = 1")
def forward(self: Block, x: torch.Tensor) -> torch.Tensor:
    """Normalises the residual stream itself before each sub-block (x = LN(x); x = x + Attn(x)) instead of
    only the sub-block's input: the identity path is no longer an identity."""
    if self.pre_ln:
        x = self.ln1(x)
        x = x + self.attn(x)
        x = self.ln2(x)
        return x + self.mlp(x)
    x = self.ln1(x + self.attn(x))
    return self.ln2(x + self.mlp(x))


@mistake("merge", fails="BPE merges = the naive recount-and-merge loop")
def merge(word: list[int], pair: tuple[int, int], new: int) -> list[int]:
    """Lets occurrences overlap: after a match it moves on by one token, not two, so "aaa" with the pair
    (a, a) becomes two new tokens (one byte counted twice) and encoding no longer decodes back."""
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(new)
        else:
            out.append(word[i])
        i += 1
    return out


@mistake("merge", fails="merge returns a new list, the word left as it is")
def merge_in_place(word: list[int], pair: tuple[int, int], new: int) -> list[int]:
    """Merges inside the list it is given (word[i : i + 2] = [new]) and returns it: right merges, but the
    caller's word is changed under it, which the statement rules out."""
    i = 0
    while i < len(word) - 1:
        if (word[i], word[i + 1]) == pair:
            word[i : i + 2] = [new]
        i += 1
    return word
