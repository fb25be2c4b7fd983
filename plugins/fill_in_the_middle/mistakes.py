"""The classic mistake in the FIM transformation, for ``readtrack practice``: its check must catch it
(tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake

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
