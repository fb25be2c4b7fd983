"""The classic mistake in the FIM transformation, for ``readtrack practice``: its check must catch it
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import sentinels


@mistake("fim_transform", fails="PSM and SPM = the paper's formulas, all 1 split pairs of a 0-token document")
def fim_transform(
    docs: torch.Tensor, i: torch.Tensor, j: torch.Tensor, spm: torch.Tensor, vocab: int
) -> torch.Tensor:
    """SPM read as <SUF> suffix <PRE> prefix <MID> middle (section 3's first wording) instead of the
    appendix D variant the paper trains, <PRE> <SUF> suffix <MID> prefix middle: the sentinels' order differs
    even for an empty document."""
    PRE, SUF, MID, EOT = (torch.tensor([s], device=docs.device) for s in sentinels(vocab))
    rows = []
    for x, a, b, s in zip(docs, i.tolist(), j.tolist(), spm.tolist(), strict=True):
        prefix, middle, suffix = x[:a], x[a:b], x[b:]
        if s:
            rows.append(torch.cat([SUF, suffix, PRE, prefix, MID, middle, EOT]))
        else:
            rows.append(torch.cat([PRE, prefix, SUF, suffix, MID, middle, EOT]))
    return torch.stack(rows)


@mistake("fim_transform", fails="fim_transform returns int64 token ids")
def fim_transform_into_a_float_buffer(
    docs: torch.Tensor, i: torch.Tensor, j: torch.Tensor, spm: torch.Tensor, vocab: int
) -> torch.Tensor:
    """Fills a buffer made with torch.zeros(B, L + 4), whose dtype is torch's default float32: every id is in
    its place, but as a float, which no embedding takes."""
    PRE, SUF, MID, EOT = (torch.tensor([s], device=docs.device) for s in sentinels(vocab))
    B, L = docs.shape
    out = torch.zeros(B, L + 4, device=docs.device)
    for row, (x, a, b, s) in enumerate(zip(docs, i.tolist(), j.tolist(), spm.tolist(), strict=True)):
        prefix, middle, suffix = x[:a], x[a:b], x[b:]
        if s:
            out[row] = torch.cat([PRE, SUF, suffix, MID, prefix, middle, EOT])
        else:
            out[row] = torch.cat([PRE, prefix, SUF, suffix, MID, middle, EOT])
    return out
