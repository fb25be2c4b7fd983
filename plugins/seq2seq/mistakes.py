"""Classic mistakes in beam search, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import BOS, Seq2Seq


@mistake("beam_search", fails="exhaustive beam search finds the best")
@torch.no_grad()
def beam_search(
    model: Seq2Seq, source: torch.Tensor, length: int, beam: int, reverse: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """The hypotheses are reordered but the decoder state is not: after the first pruning each kept
    hypothesis continues from another hypothesis's LSTM state (width 1 hides it: it is greedy)."""
    batch, vocab = source.shape[0], model.head.out_features
    h, c = model.encode(source, reverse)
    scores = source.new_zeros(batch, 1, dtype=h.dtype)
    sequences = source.new_zeros(batch, 1, 0)
    token = torch.full((batch,), BOS, dtype=torch.long, device=source.device)
    state = (h, c)
    for _ in range(length):
        logp, state = model.step(token, state)
        k = scores.shape[1]
        total = (scores[:, :, None] + logp.view(batch, k, vocab)).view(batch, k * vocab)
        scores, best = total.topk(min(beam, k * vocab), dim=1)
        parent, token = best // vocab, best % vocab
        kept = torch.gather(sequences, 1, parent[..., None].expand(-1, -1, sequences.shape[2]))
        sequences = torch.cat((kept, token[..., None]), dim=2)
        k_new = scores.shape[1]
        if k_new != k:  # the state only grows to the new number of rows, its order is never fixed
            state = (
                state[0].repeat_interleave(k_new // k, dim=1),
                state[1].repeat_interleave(k_new // k, dim=1),
            )
        token = token.flatten()
    return sequences[:, 0], scores[:, 0]


@mistake("beam_search", fails="with reverse=False, a beam's score is its sequence's log-probability")
@torch.no_grad()
def beam_search_always_reversed(
    model: Seq2Seq, source: torch.Tensor, length: int, beam: int, reverse: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Encodes the source reversed whatever reverse says (the paper's trick hard-coded): a model trained on
    sources in order is decoded from the wrong encoding."""
    batch, vocab = source.shape[0], model.head.out_features
    state = model.encode(source, True)
    scores = source.new_zeros(batch, 1, dtype=state[0].dtype)
    sequences = source.new_zeros(batch, 1, 0)
    token = torch.full((batch,), BOS, dtype=torch.long, device=source.device)
    for _ in range(length):
        logp, state = model.step(token, state)
        k = scores.shape[1]
        total = (scores[:, :, None] + logp.view(batch, k, vocab)).view(batch, k * vocab)
        scores, best = total.topk(min(beam, k * vocab), dim=1)
        parent, token = best // vocab, best % vocab
        kept = torch.gather(sequences, 1, parent[..., None].expand(-1, -1, sequences.shape[2]))
        sequences = torch.cat((kept, token[..., None]), dim=2)
        rows = (parent + torch.arange(batch, device=source.device)[:, None] * k).flatten()
        state = (state[0][:, rows], state[1][:, rows])
        token = token.flatten()
    return sequences[:, 0], scores[:, 0]
