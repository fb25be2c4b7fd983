"""The classic mistakes in weak-to-strong's confidence loss, for ``readtrack practice``: its check must catch
them (tests/practice/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.api import mistake

from .model import hardened_targets


@mistake("hardened_targets", fails="confidence loss vs hand-written reference")
def hardened_targets_argmax(logits: torch.Tensor, weak_probs: torch.Tensor) -> torch.Tensor:
    """Hardened by the argmax (t = 0.5) instead of the threshold that keeps the weak labels' class
    balance: on an unbalanced task the student's own guesses pull it to one class."""
    p0 = logits.softmax(dim=-1)[:, 0]
    return torch.stack([p0 >= 0.5, p0 < 0.5], dim=1).to(logits.dtype).detach()


@mistake("confidence_loss", fails="confidence loss vs hand-written reference")
def confidence_loss(logits: torch.Tensor, weak_probs: torch.Tensor, alpha: float) -> torch.Tensor:
    """The weights swapped, α on the weak labels and 1 − α on the hardened predictions: α = 0 would then
    train the student on its own guesses alone."""
    target = alpha * weak_probs + (1 - alpha) * hardened_targets(logits, weak_probs)
    return F.cross_entropy(logits, target)


@mistake("hardened_targets", fails="hardened targets are one-hot (n, 2) in the logits' dtype")
def hardened_targets_as_indices_one_hot(logits: torch.Tensor, weak_probs: torch.Tensor) -> torch.Tensor:
    """The right classes through F.one_hot, which returns int64: the targets are not in the logits' dtype,
    and F.cross_entropy reads an integer (n, 2) target as class indices."""
    p0 = logits.softmax(dim=-1)[:, 0]
    t = torch.quantile(p0, weak_probs[:, 1].mean())
    return F.one_hot((p0 < t).long(), 2)
