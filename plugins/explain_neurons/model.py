"""Explain, simulate, score (Bills et al. 2023) with programs in place of GPT-4: a tiny one-layer MLP over
token sequences with planted feature neurons, a finite language of explanations, an explainer that reads a
neuron's top-activating snippets, a simulator that predicts activations from an explanation alone, and the
correlation score (section 2.3)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

V, T, CLASS_SIZE = 32, 16, 4  # vocabulary, sequence length, tokens per token class (8 classes)


@dataclass(frozen=True)
class Explanation:
    """One sentence of the explanation language. kind: "token" (x_t = a), "class" (x_t ∈ class c, the
    tokens c·4 … c·4+3), "prev" (x_{t−1} = a), "bigram" (x_{t−1} = a and x_t = b), "position" (t ≥ k)."""

    kind: str
    args: tuple[int, ...]

    def __str__(self) -> str:
        a = self.args
        if self.kind == "token":
            return f"the token {a[0]}"
        if self.kind == "class":
            return f"tokens of class {a[0]} ({a[0] * CLASS_SIZE}–{a[0] * CLASS_SIZE + CLASS_SIZE - 1})"
        if self.kind == "prev":
            return f"tokens right after {a[0]}"
        if self.kind == "bigram":
            return f"{a[1]} right after {a[0]}"
        return f"positions {a[0]} and later"


def candidates() -> list[Explanation]:
    """The whole explanation language, in a fixed order (ties in the explainer break by it)."""
    out = [Explanation("class", (c,)) for c in range(V // CLASS_SIZE)]
    out += [Explanation("token", (a,)) for a in range(V)]
    out += [Explanation("prev", (a,)) for a in range(V)]
    out += [Explanation("position", (k,)) for k in range(1, T)]
    out += [Explanation("bigram", (a, b)) for a in range(V) for b in range(V)]
    return out


def simulate(e: Explanation, tokens: torch.Tensor) -> torch.Tensor:
    """The simulator: from the explanation and the text alone, the predicted activation of every token on
    the paper's 0–10 scale (B, T) → (B, T). A program simulator is certain: 10 where the explanation holds."""
    prev = torch.cat([torch.full_like(tokens[:, :1], -1), tokens[:, :-1]], dim=1)  # (B, T), −1 before t = 0
    if e.kind == "token":
        hit = tokens == e.args[0]
    elif e.kind == "class":
        hit = tokens // CLASS_SIZE == e.args[0]
    elif e.kind == "prev":
        hit = prev == e.args[0]
    elif e.kind == "bigram":
        hit = (prev == e.args[0]) & (tokens == e.args[1])
    elif e.kind == "position":
        hit = (torch.arange(tokens.shape[1], device=tokens.device) >= e.args[0]).expand_as(tokens)
    else:
        raise ValueError(f"unknown explanation kind {e.kind!r}")
    return 10.0 * hit.to(torch.float64)


def correlation_score(simulated: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Section 2.3: the correlation score, Pearson's ρ between simulated and real activations over all
    tokens. simulated (C, N), real (H, N) → (C, H). A constant simulation (no variance) scores 0."""
    s = simulated - simulated.mean(dim=-1, keepdim=True)  # centre each row
    r = real - real.mean(dim=-1, keepdim=True)
    s = s / s.norm(dim=-1, keepdim=True).clamp_min(1e-30)
    r = r / r.norm(dim=-1, keepdim=True).clamp_min(1e-30)
    return s @ r.T


def discretise(acts: torch.Tensor) -> torch.Tensor:
    """Activations as the explainer sees them: scaled so the neuron's maximum is 10, rounded, negatives 0."""
    return (10 * acts / acts.max().clamp_min(1e-30)).round().clamp(0, 10)


def explain(
    acts: torch.Tensor,
    tokens: torch.Tensor,
    language: list[Explanation],
    snippets: int = 20,
    proposals: int = 5,
) -> list[Explanation]:
    """The explainer: shown the `snippets` sequences (B, T) where the neuron fires most, with each token's
    discretised activation, it proposes the `proposals` explanations that best describe which tokens fire
    (activation ≥ 5 of 10) in those snippets, ranked by F1 there. Held-out text is never seen here."""
    top = acts.amax(dim=1).topk(min(snippets, acts.shape[0])).indices  # (snippets,)
    fires = (discretise(acts)[top] >= 5).flatten()  # (snippets·T,)
    f1 = []
    for e in language:
        hit = simulate(e, tokens[top]).flatten() > 0
        tp = float((hit & fires).sum())
        f1.append(2 * tp / (float(hit.sum()) + float(fires.sum()) + 1e-12))
    order = sorted(range(len(language)), key=lambda i: -f1[i])  # stable: ties keep the language's order
    return [language[i] for i in order[:proposals]]


class NeuronMLP(nn.Module):
    """A one-layer MLP over token sequences: neuron j's activation at position t is
    a_j = ReLU(W_j · [onehot(x_t), onehot(x_{t−1}), onehot(t)] + b_j)."""

    def __init__(self, n_neurons: int) -> None:
        super().__init__()
        self.W = nn.Parameter(torch.zeros(n_neurons, 2 * V + T))
        self.b = nn.Parameter(torch.zeros(n_neurons))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) → activations (B, T, H)."""
        B, n = tokens.shape
        cur = nn.functional.one_hot(tokens, V)  # (B, T, V)
        prev = torch.cat([torch.zeros_like(cur[:, :1]), cur[:, :-1]], dim=1)  # (B, T, V), zero before t = 0
        pos = nn.functional.one_hot(torch.arange(n, device=tokens.device), T).expand(B, n, T)  # (B, T, T)
        u = torch.cat([cur, prev, pos], dim=-1).to(self.W.dtype)  # (B, T, 2V + T)
        return torch.relu(u @ self.W.T + self.b)  # (B, T, H)

    @torch.no_grad()
    def plant(self, j: int, e: Explanation, noise: float, g: torch.Generator) -> None:
        """Neuron j fires (≈ 1) exactly where explanation e holds, its weights jittered by `noise`."""
        w = torch.zeros(2 * V + T, dtype=torch.float64)
        bias = 0.0
        if e.kind == "token":
            w[e.args[0]] = 1
        elif e.kind == "class":
            w[e.args[0] * CLASS_SIZE : (e.args[0] + 1) * CLASS_SIZE] = 1
        elif e.kind == "prev":
            w[V + e.args[0]] = 1
        elif e.kind == "bigram":
            w[V + e.args[0]], w[e.args[1]], bias = 1, 1, -1
        elif e.kind == "position":
            w[2 * V + e.args[0] :] = 1
        w += noise * torch.randn(2 * V + T, generator=g, dtype=torch.float64)
        self.W[j] = w.to(self.W)
        self.b[j] = bias
