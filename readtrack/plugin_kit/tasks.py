"""Seeded synthetic tasks for the paper plugins' tiny experiments: generated, never downloaded.

Every function takes a ``torch.Generator`` (or a seed) so that two variants of an A/B experiment see the
same data, and returns CPU tensors unless given a device.
"""

from __future__ import annotations

import torch


def teacher_classes(
    n: int, d_in: int, classes: int, seed: int, *, device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` Gaussian inputs (n, d_in) labelled by the arg-max of a random linear teacher: a linearly
    separable ``classes``-way problem whose difficulty lies only in the network that learns it."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d_in, generator=g)  # (n, d_in)
    teacher = torch.randn(d_in, classes, generator=g)  # (d_in, classes)
    y = (X @ teacher).argmax(dim=-1)  # (n,)
    return X.to(device), y.to(device)


def reversal_batch(
    batch: int, length: int, g: torch.Generator, *, vocab: int = 10, device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random token sequences (batch, length) from ``vocab`` symbols and their reversal, the target.

    Reversal needs every output position to attend to a different input position: content alone cannot
    solve it, which is why attention papers like it as a smoke test."""
    src = torch.randint(0, vocab, (batch, length), generator=g)  # (B, T)
    return src.to(device), src.flip(-1).to(device)


#: Target value that ``F.cross_entropy(..., ignore_index=IGNORE)`` and :func:`accuracy` leave out.
IGNORE = -100


def lagged_copy_batch(
    batch: int,
    length: int,
    lag: int,
    g: torch.Generator,
    *,
    vocab: int = 16,
    device: str | torch.device = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random tokens (batch, length) and the target "the token ``lag`` steps back", y_t = x_(t−lag); the first
    ``lag`` positions have nothing to copy and are ``IGNORE``d. It needs attention to a fixed relative
    offset: a probe of position encodings and receptive fields."""
    x = torch.randint(0, vocab, (batch, length), generator=g)
    y = torch.full_like(x, IGNORE)
    y[:, lag:] = x[:, :-lag]
    return x.to(device), y.to(device)


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Share of the scored targets (not ``IGNORE``) whose arg-max prediction is right; logits (..., vocab)."""
    scored = y != IGNORE
    return (logits.argmax(-1)[scored] == y[scored]).float().mean().item()
