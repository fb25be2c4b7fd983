"""Classic mistakes in the explain-simulate-score pipeline, for ``readtrack practice``: its check must catch
them (tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake

from .model import CLASS_SIZE, Explanation


@mistake("correlation_score", fails="correlation score vs plain-Python reference, 1 simulations × 1 neurons")
def correlation_score(simulated: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """The cosine similarity: the rows are normalised but not centred, so a simulation that fires a little
    everywhere scores well and shifting the 0-10 scale changes the score."""
    s = simulated / simulated.norm(dim=-1, keepdim=True).clamp_min(1e-30)
    r = real / real.norm(dim=-1, keepdim=True).clamp_min(1e-30)
    return s @ r.T


@mistake("simulate", fails="simulator on a hand-made text: prev")
def simulate(e: Explanation, tokens: torch.Tensor) -> torch.Tensor:
    """The shift the wrong way round: "right after a" reads the next token, x_{t+1}, not x_{t−1}."""
    following = torch.cat([tokens[:, 1:], torch.full_like(tokens[:, :1], -1)], dim=1)
    if e.kind == "token":
        hit = tokens == e.args[0]
    elif e.kind == "class":
        hit = tokens // CLASS_SIZE == e.args[0]
    elif e.kind == "prev":
        hit = following == e.args[0]
    elif e.kind == "bigram":
        hit = (following == e.args[0]) & (tokens == e.args[1])
    elif e.kind == "position":
        hit = (torch.arange(tokens.shape[1], device=tokens.device) >= e.args[0]).expand_as(tokens)
    else:
        raise ValueError(f"unknown explanation kind {e.kind!r}")
    return 10.0 * hit.to(torch.float64)
