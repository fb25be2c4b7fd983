"""Competence-based curriculum (Platanios et al. 2019, as used by Campos 2021) and a mastery-paced one."""

from __future__ import annotations

import torch
import torch.nn as nn


def competence(t: float, T: float, c0: float = 0.01, p: float = 2.0) -> float:
    """c(t) = min(1, (t · (1 − c0^p) / T + c0^p)^(1/p)): the share of the data, easiest first, the model
    may see at step t; p = 2 is Platanios et al.'s "sqrt" competence (c0 at t = 0, 1 from t = T on)."""
    return min(1.0, (t * (1 - c0**p) / T + c0**p) ** (1 / p))


def unigram_rarity(sequences: torch.Tensor, vocab: int) -> torch.Tensor:
    """d(s) = −Σ_k log p̂(s_k), p̂ the unigram frequencies over all ``sequences`` (M, N) → (M,) float64:
    Platanios et al.'s sentence rarity, the difficulty heuristic Campos found as good as any."""
    counts = torch.bincount(sequences.flatten(), minlength=vocab).to(torch.float64)  # (vocab,)
    log_p = (counts / counts.sum()).clamp_min(1e-300).log()
    return -log_p[sequences].sum(dim=1)  # (M,)


def difficulty_cdf(difficulty: torch.Tensor) -> torch.Tensor:
    """d̃(s) = share of examples no harder than s, in (0, 1]: the CDF of the difficulty, (M,) float64."""
    sorted_d = difficulty.sort().values
    return torch.searchsorted(sorted_d, difficulty, right=True).to(torch.float64) / len(difficulty)


class CompetenceSampler:
    """At step t, draws a batch uniformly from the examples with d̃(s) ≤ c(t) (Platanios et al.,
    algorithm 1), so the pool grows from the easiest c0 of the data to all of it at step T."""

    def __init__(self, difficulty: torch.Tensor, T: float, c0: float = 0.01) -> None:
        self.cdf = difficulty_cdf(difficulty).cpu()  # (M,)
        self.order = self.cdf.argsort(stable=True)  # (M,) easiest first; ties share one cdf value
        self.T, self.c0 = T, c0

    def eligible(self, t: int) -> int:
        """How many examples may be drawn at step t: those with d̃(s) ≤ c(t)."""
        return int((self.cdf <= competence(t, self.T, self.c0)).sum())

    def indices(self, t: int, batch: int, g: torch.Generator) -> torch.Tensor:
        k = self.eligible(t)
        if k == 0:
            raise ValueError(f"no example has d̃(s) ≤ c({t}); raise c0 or use more examples")
        return self.order[torch.randint(0, k, (batch,), generator=g)]  # (batch,)


def parity_batch(
    batch: int, length: int, g: torch.Generator, *, device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` random bit strings (batch, length) int64 and their parity x_1 ⊕ … ⊕ x_length (batch,)."""
    x = torch.randint(0, 2, (batch, length), generator=g)
    return x.to(device), (x.sum(dim=1) % 2).to(device)


class MasteryPacer:
    """Lengths paced by mastery: train at ``length``; after each step, ema ← β·ema + (1 − β)·accuracy; when
    ema > ``threshold`` the length grows by one (up to ``end``) and the ema starts again from 0."""

    def __init__(self, start: int, end: int, threshold: float = 0.97, beta: float = 0.9) -> None:
        self.length, self.end, self.threshold, self.beta, self.ema = start, end, threshold, beta, 0.0

    def update(self, accuracy: float) -> bool:
        """Record one step's accuracy; return whether the length advanced."""
        self.ema = self.beta * self.ema + (1 - self.beta) * accuracy
        if self.ema > self.threshold and self.length < self.end:
            self.length, self.ema = self.length + 1, 0.0
            return True
        return False


class ParityGRU(nn.Module):
    """Bits (B, L) → parity logits (B, 2) from a GRU's last hidden state: any length L with one model."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.embed = nn.Embedding(2, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 2)

    def forward(self, bits: torch.Tensor) -> torch.Tensor:
        h, _ = self.gru(self.embed(bits))  # (B, L, hidden)
        return self.head(h[:, -1])  # (B, 2)
