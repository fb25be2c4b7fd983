"""Classic mistakes in the explain-simulate-score pipeline, for ``readtrack practice``: its check must catch
them (tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

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


@mistake("correlation_score", fails="a constant neuron (a dead ReLU) scores 0")
def correlation_score_clamping_only_the_simulations(
    simulated: torch.Tensor, real: torch.Tensor
) -> torch.Tensor:
    """Guards the simulations' norm against 0 but not the neurons': a neuron that never fires (a dead ReLU,
    no variance) gets NaN for every simulation instead of 0."""
    s = simulated - simulated.mean(dim=-1, keepdim=True)
    r = real - real.mean(dim=-1, keepdim=True)
    s = s / s.norm(dim=-1, keepdim=True).clamp_min(1e-30)
    return s @ (r / r.norm(dim=-1, keepdim=True)).T


@mistake("correlation_score", fails="correlation score in the inputs' dtype: float32 in")
def correlation_score_in_float64(simulated: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Computes in float64 "for accuracy" and returns that: float32 activations get a float64 score, which
    the comparisons against a float64 reference alone cannot tell apart."""
    s = simulated.double() - simulated.double().mean(dim=-1, keepdim=True)
    r = real.double() - real.double().mean(dim=-1, keepdim=True)
    s = s / s.norm(dim=-1, keepdim=True).clamp_min(1e-30)
    r = r / r.norm(dim=-1, keepdim=True).clamp_min(1e-30)
    return s @ r.T


def _hits(e: Explanation, tokens: torch.Tensor) -> torch.Tensor | None:
    """The model solution's (B, T) bool of where ``e`` holds, None for an unknown kind."""
    prev = torch.cat([torch.full_like(tokens[:, :1], -1), tokens[:, :-1]], dim=1)
    rules = {
        "token": lambda: tokens == e.args[0],
        "class": lambda: tokens // CLASS_SIZE == e.args[0],
        "prev": lambda: prev == e.args[0],
        "bigram": lambda: (prev == e.args[0]) & (tokens == e.args[1]),
        "position": lambda: (torch.arange(tokens.shape[1], device=tokens.device) >= e.args[0]).expand_as(
            tokens
        ),
    }
    return rules[e.kind]() if e.kind in rules else None


@mistake("simulate", fails="simulator returns float64")
def simulate_in_float32(e: Explanation, tokens: torch.Tensor) -> torch.Tensor:
    """10 * hit.float(): the right 0s and 10s, in float32, which the float64 activations the score compares
    them with cannot be multiplied by."""
    hit = _hits(e, tokens)
    if hit is None:
        raise ValueError(f"unknown explanation kind {e.kind!r}")
    return 10 * hit.float()


@mistake("simulate", fails="simulator raises ValueError for an unknown kind")
def simulate_unknown_kind_as_silence(e: Explanation, tokens: torch.Tensor) -> torch.Tensor:
    """An unknown kind predicts 0 everywhere instead of raising: a misspelt explanation ("postion") is scored
    as if it said nothing, silently."""
    hit = _hits(e, tokens)
    if hit is None:
        hit = torch.zeros_like(tokens, dtype=torch.bool)
    return 10.0 * hit.to(torch.float64)
