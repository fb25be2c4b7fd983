"""AdamW: Adam with decoupled weight decay (Loshchilov and Hutter 2017, arXiv 1711.05101), Algorithm 2.

With L2 regularisation the decay term λθ is added to the gradient (line 6) and then goes through Adam's
normalisation by √v̂, so weights with large gradients are decayed less, and in the limit not at all.
AdamW instead shrinks the weights directly, outside the adaptive step (line 12):

    g_t = ∇f_t(θ_{t−1})                                      line 6, without the "+ λθ_{t−1}" of L2
    m_t = β₁ m_{t−1} + (1 − β₁) g_t                          line 7
    v_t = β₂ v_{t−1} + (1 − β₂) g_t²                         line 8
    m̂_t = m_t / (1 − β₁ᵗ),  v̂_t = v_t / (1 − β₂ᵗ)            lines 9-10
    θ_t = θ_{t−1} − η_t (α m̂_t / (√v̂_t + ε) + λ θ_{t−1})    line 12

How PyTorch's ``lr`` and ``weight_decay`` map onto Algorithm 2. The paper has a base rate α and a schedule
multiplier η_t (SetScheduleMultiplier, line 11); line 12 moves θ by η_t·α·m̂_t/(√v̂_t + ε) and decays it by
η_t·λ·θ_{t−1}, so the decay follows the schedule but not α. ``torch.optim.AdamW`` (and this class) fold α
into one scheduled rate ``lr`` = α·η_t and decay by lr·λ per step:

    θ ← θ (1 − lr·λ) − lr · m̂ / (√v̂ + ε)

so PyTorch's decay per step is lr·λ_torch = α·η_t·λ_torch, which is the paper's η_t·λ exactly when
λ_torch = λ / α. In both, the decay follows the schedule η_t; but with PyTorch's convention changing the base
rate α at a fixed ``weight_decay`` changes the decay too, while the paper sets α and λ independently (to
keep the paper's λ when changing lr, set ``weight_decay`` = λ / α). The checks and experiments here use
PyTorch's convention.

Complex parameters are optimised as pairs of real numbers, as ``torch.optim.AdamW`` does
(``torch.view_as_real``): v is kept for the real and the imaginary part separately, never as g·g.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch


class AdamW(torch.optim.Optimizer):
    """Algorithm 2 of the paper (the decoupled variant), step for step equal to ``torch.optim.AdamW``."""

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(
                f"AdamW: invalid lr={lr}, betas={betas}, eps={eps} or weight_decay={weight_decay}"
            )
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for param in group["params"]:
                if param.grad is None:
                    continue  # not part of this step's loss: no moment update, no decay (as torch does)
                if param.grad.is_sparse:
                    raise RuntimeError("AdamW does not support sparse gradients")
                theta, g = param, param.grad  # line 6
                if param.is_complex():  # a complex parameter is two real ones (g·g would be wrong)
                    theta, g = torch.view_as_real(param), torch.view_as_real(param.grad)
                state = self.state[param]
                if not state:  # line 2: t = 0, m_0 = 0, v_0 = 0
                    state["t"] = 0
                    state["m"] = torch.zeros_like(theta, memory_format=torch.preserve_format)
                    state["v"] = torch.zeros_like(theta, memory_format=torch.preserve_format)
                state["t"] += 1  # line 4
                new_theta, state["m"], state["v"] = adamw_update(
                    theta,
                    g,
                    state["m"],
                    state["v"],
                    state["t"],
                    lr=lr,
                    betas=(beta1, beta2),
                    eps=eps,
                    weight_decay=wd,
                )
                theta.copy_(new_theta)
        return loss


def adamw_update(
    theta: torch.Tensor,
    g: torch.Tensor,
    m: torch.Tensor,
    v: torch.Tensor,
    t: int,
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Lines 7-12 of Algorithm 2 for one parameter at step t ≥ 1: (θ_t, m_t, v_t), the inputs unchanged."""
    beta1, beta2 = betas
    theta = theta * (1 - lr * weight_decay)  # line 12, the decay: θ_{t−1} shrinks, the gradient never sees λ
    m = m.mul(beta1).add(g, alpha=1 - beta1)  # line 7
    v = v.mul(beta2).addcmul(g, g, value=1 - beta2)  # line 8
    m_hat = m / (1 - beta1**t)  # line 9
    v_hat = v / (1 - beta2**t)  # line 10
    theta = theta.addcdiv(m_hat, v_hat.sqrt().add(eps), value=-lr)  # line 12, the adaptive step
    return theta, m, v
