"""The classic mistake in GPT-3's few-shot evaluation, for ``readtrack practice``: its check must catch it
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake
from readtrack.plugin_kit.transformer import TinyTransformer

from .model import causal_mask, pair_token


@mistake("answer_logits", fails="answer logits read in one pass vs each prompt cut after its query")
def answer_logits(model: TinyTransformer, tokens: torch.Tensor, n_x: int, n_y: int) -> torch.Tensor:
    """Reads the answer's logits at the answer's own position (odd positions) instead of the query's: those
    logits predict the NEXT query, and were computed with the answer already in view."""
    logits = model(tokens, mask=causal_mask(tokens.shape[1], tokens.device))
    queries = tokens[:, 0::2]
    candidates = pair_token(queries.unsqueeze(-1), torch.arange(n_y, device=tokens.device), n_x, n_y)
    return logits[:, 1::2].gather(-1, candidates)


@mistake("answer_logits", fails="answer logits vs each prompt cut after its query, |X| = 3 ≠ |Y| = 5")
def answer_logits_striding_by_the_queries(
    model: TinyTransformer, tokens: torch.Tensor, n_x: int, n_y: int
) -> torch.Tensor:
    """Writes the candidates' tokens out as n_x + x·|X| + y, the stride |X| where pair_token has |Y|: the
    same tokens while |X| = |Y| (the task's 8 and 8), other pairs' tokens as soon as they differ."""
    logits = model(tokens, mask=causal_mask(tokens.shape[1], tokens.device))
    queries = tokens[:, 0::2]
    candidates = n_x + queries.unsqueeze(-1) * n_x + torch.arange(n_y, device=tokens.device)
    return logits[:, 0::2].gather(-1, candidates)
