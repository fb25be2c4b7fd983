"""Weak-to-strong generalisation (Burns et al. 2023), the pieces the paper defines: the synthetic task with a
weak and a strong view of the same examples, the performance gap recovered (eq. 1) and the auxiliary
confidence loss (section 4.3.2, appendix A.4), written as in the paper's code (two-class logits)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class Task:
    """One split of the task. z (n, d): the latent; y (n,): the truth 1[w·z + η > 0]; h (n, d): the strong
    model's representation, z with the concept direction w made salient (scaled by λ), as pretraining makes
    a concept linearly salient in a large model; x_w (n, k): the weak model's view, z[:, :k] + σ·ε, noisy
    measurements whose noise ε the student never sees."""

    z: torch.Tensor
    y: torch.Tensor
    h: torch.Tensor
    x_w: torch.Tensor


def make_splits(
    seed: int,
    n: int,
    d: int = 32,
    k: int = 32,
    salience: float = 4.0,
    noise: float = 0.1,
    weak_noise: float = 2.0,
    device: str = "cpu",
) -> tuple[Task, Task, Task]:
    """Three seeded splits of n examples each: the weak model's training set (ground truth), the held-out set
    the weak model labels for the student, and the test set every model is scored on."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(d, generator=g, dtype=torch.float64)
    w = w / w.norm()  # the concept direction, unit length
    P = torch.eye(d, dtype=torch.float64) + (salience - 1) * torch.outer(w, w)  # λ along w, 1 across

    def split() -> Task:
        z = torch.randn(n, d, generator=g, dtype=torch.float64)
        y = (z @ w + noise * torch.randn(n, generator=g, dtype=torch.float64) > 0).long()
        x_w = z[:, :k] + weak_noise * torch.randn(
            n, k, generator=g, dtype=torch.float64
        )  # unseen by the student
        return Task(*(t.to(device) for t in (z.float(), y, (z @ P).float(), x_w.float())))

    return split(), split(), split()


def performance_gap_recovered(weak: float, w2s: float, ceiling: float) -> float:
    """Eq. 1: PGR = (weak-to-strong − weak) / (strong ceiling − weak); 0 = the student only matched its
    supervisor, 1 = it recovered the whole gap to the strong model trained on ground truth."""
    return (w2s - weak) / (ceiling - weak)


def alpha_schedule(step_frac: float, alpha_max: float = 0.75, warmup: float = 0.2) -> float:
    """Appendix A.4: α rises linearly from 0 to α_max over the first `warmup` of training, then stays."""
    return alpha_max * min(1.0, step_frac / warmup)


def hardened_targets(logits: torch.Tensor, weak_probs: torch.Tensor) -> torch.Tensor:
    """t̂(f(x)) = I[f(x) > t] as one-hot targets (n, 2), the threshold t chosen in the batch so that the
    hardened class balance matches the weak labels' (the paper's code: a quantile of p(class 0) at the weak
    labels' mean of class 1)."""
    p0 = logits.softmax(dim=-1)[:, 0]  # (n,)
    t = torch.quantile(p0, weak_probs[:, 1].mean())  # the fraction below t ≈ the weak prior of class 1
    return torch.stack([p0 >= t, p0 < t], dim=1).to(logits.dtype).detach()  # (n, 2)


def confidence_loss(logits: torch.Tensor, weak_probs: torch.Tensor, alpha: float) -> torch.Tensor:
    """L_conf(f) = (1 − α)·CE(f(x), f_w(x)) + α·CE(f(x), t̂(f(x)))   (section 4.3.2, appendix A.4).
    CE is linear in its target, so this is one CE against the mixed target (as the paper's code does)."""
    target = (1 - alpha) * weak_probs + alpha * hardened_targets(logits, weak_probs)  # (n, 2)
    return F.cross_entropy(logits, target)


def fit_linear(
    x: torch.Tensor,
    targets: torch.Tensor,
    steps: int,
    lr: float,
    seed: int,
    alpha_max: float = 0.0,
    batch: int = 256,
) -> nn.Linear:
    """A linear model (a probe on the given features) trained by minibatch SGD on soft targets (n, 2): plain
    CE when alpha_max = 0, the confidence loss with the warm-up schedule otherwise. Same seed, same
    batches."""
    torch.manual_seed(seed)
    model = nn.Linear(x.shape[1], 2).to(x.device)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    for step in range(steps):
        idx = torch.randint(0, x.shape[0], (batch,), generator=g).to(x.device)
        logits = model(x[idx])
        if alpha_max > 0:
            loss = confidence_loss(logits, targets[idx], alpha_schedule(step / steps, alpha_max))
        else:
            loss = F.cross_entropy(logits, targets[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def accuracy(model: nn.Module, task: Task, features: str) -> float:
    with torch.no_grad():
        return float((model(getattr(task, features)).argmax(-1) == task.y).float().mean())
