"""Masked language modelling (BERT, arXiv 1810.04805, section 3.1 and appendix A.1) and a toy task that
needs the right context, shared by the masked-LM plugins (``bert``, ``roberta``).

The corruption (BERT's "80/10/10" rule): each position is *selected* independently with probability
p = 0.15; a selected token is replaced by ``[MASK]`` with probability 0.8, by a uniformly random token with
probability 0.1, and left unchanged with probability 0.1. The loss is the cross-entropy of the original
token at the selected positions only; unselected positions are never changed and never scored.
(BERT's code selects round(0.15 · n) positions per sequence; independent selection is used here so that
the exact ceiling below holds position by position.)

The task: ``right_copy_batch`` draws tokens in which every odd position t copies its right neighbour
x_(t+1), so the pairs (1, 2), (3, 4), … hold one token each and position 0 stands alone. An odd position is
predictable only from its right, an even one only from its left: a causal model can never recover a masked
odd token, a bidirectional one can whenever its partner is visible. ``ceiling`` gives the exact Bayes
accuracy under the 80/10/10 corruption for each case.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.plugin_kit.tasks import IGNORE

__all__ = ["IGNORE", "ceiling", "mask_tokens", "masked_accuracy", "mlm_loss", "right_copy_batch"]

#: BERT's rates: the share of positions selected; of those, the shares set to [MASK] and to a random token.
SELECT, TO_MASK, TO_RANDOM = 0.15, 0.8, 0.1


def right_copy_batch(
    batch: int, length: int, g: torch.Generator, *, vocab: int = 16, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """Tokens (batch, length) from ``vocab`` symbols with x_t = x_(t+1) at every odd t; ``length`` must be
    odd, so that every odd position has a right neighbour (the pairs are (1, 2), …, (length−2, length−1))."""
    if length % 2 == 0:
        raise ValueError(f"length must be odd so that every odd position has a right neighbour, got {length}")
    x = torch.randint(0, vocab, (batch, length), generator=g)  # (B, N)
    x[:, 1::2] = x[:, 2::2]  # odd t ← t + 1
    return x.to(device)


def mask_tokens(
    tokens: torch.Tensor, g: torch.Generator, *, mask_id: int, vocab: int, p: float = SELECT
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's corruption of ``tokens`` (B, N): returns (inputs, labels), both (B, N). ``labels`` holds the
    original token at the selected positions and ``IGNORE`` elsewhere; ``inputs`` equals ``tokens`` at
    every unselected position. Random replacements are drawn from [0, ``vocab``) (the real tokens, not
    ``[MASK]``). The draws come from ``g`` on the CPU, so a seed gives the same masks on any device."""
    shape = tokens.shape
    selected = (torch.rand(shape, generator=g) < p).to(tokens.device)
    u = torch.rand(shape, generator=g).to(tokens.device)  # which of the three replacements
    random_tokens = torch.randint(0, vocab, shape, generator=g).to(tokens.device)
    inputs = torch.where(selected & (u < TO_MASK), torch.full_like(tokens, mask_id), tokens)
    inputs = torch.where(selected & (u >= TO_MASK) & (u < TO_MASK + TO_RANDOM), random_tokens, inputs)
    labels = torch.where(selected, tokens, torch.full_like(tokens, IGNORE))
    return inputs, labels


def mlm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the selected positions (labels ≠ IGNORE); logits (B, N, V), labels (B, N)."""
    return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE)


def masked_accuracy(logits: torch.Tensor, labels: torch.Tensor, positions: slice = slice(None)) -> float:
    """Share of the selected positions (labels ≠ IGNORE) among ``positions`` of the sequence predicted
    right by the arg-max; e.g. ``slice(1, None, 2)`` scores the odd positions only."""
    labels = labels[:, positions]
    scored = labels != IGNORE
    return (logits[:, positions].argmax(-1)[scored] == labels[scored]).float().mean().item()


def ceiling(vocab: int, *, sees_partner: bool, p: float = SELECT) -> float:
    """Exact Bayes accuracy of predicting a selected token x (uniform over ``vocab``) under the 80/10/10
    corruption, from its own corrupted observation o and, if ``sees_partner``, its partner's observation
    o' (the same token, itself selected with probability ``p``). Nothing else in the sequence carries
    information about x. Enumerates Σ_(o, o') max_x P(x) P(o | x, selected) P(o' | x).

    A bidirectional model at an odd position sees its partner; a causal one does not (its partner is to the
    right), nor does position 0 (it has no partner)."""
    V = vocab
    eye = torch.eye(V, dtype=torch.float64)
    # Rows: observation (V real tokens, then [MASK]); columns: the true token x.
    selected = torch.cat(
        [TO_RANDOM / V + (1 - TO_MASK - TO_RANDOM) * eye, torch.full((1, V), TO_MASK, dtype=torch.float64)]
    )
    joint = selected / V  # P(o, x | selected)
    if sees_partner:
        partner = (1 - p) * torch.cat(
            [eye, torch.zeros(1, V, dtype=torch.float64)]
        ) + p * selected  # P(o' | x)
        joint = joint[:, None, :] * partner[None, :, :]  # (o, o', x)
    return float(joint.amax(dim=-1).sum())
