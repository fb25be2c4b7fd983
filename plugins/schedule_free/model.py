"""Schedule-Free AdamW (Defazio et al., arXiv 2405.15682, Algorithm 1), written from the paper's equations.

Three sequences per parameter: z (the base SGD/Adam iterate), x (the average the paper evaluates at) and
y (where the gradient is taken). The parameter tensor holds y in train mode and x in eval mode.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.optim.optimizer import ParamsT


def schedule_free_update(
    y: torch.Tensor,
    z: torch.Tensor,
    x: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    t: int,
    lr_t: float,
    c: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One step of one parameter: (y, z, x, v) at t−1 and the gradient g taken at y -> at t."""
    v = beta2 * v + (1 - beta2) * g * g  # v_t = β2 v_{t−1} + (1 − β2) g_t²
    v_hat = v / (1 - beta2**t)  # bias correction of the second moment only
    d = g / (v_hat.sqrt() + eps) + weight_decay * y  # decay taken at y
    z = z - lr_t * d  # z_{t+1} = z_t − γ_t d_t
    x = (1 - c) * x + c * z  # x_{t+1} = (1 − c_{t+1}) x_t + c_{t+1} z_{t+1}
    y = (1 - beta1) * z + beta1 * x  # y_{t+1} = (1 − β1) z_{t+1} + β1 x_{t+1}
    return y, z, x, v


class AdamWScheduleFree(torch.optim.Optimizer):
    def __init__(
        self,
        params: ParamsT,  # tensors, or parameter groups (dicts) with their own lr
        lr: float = 0.0025,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        warmup_steps: int = 0,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, warmup_steps=warmup_steps)
        super().__init__(params, defaults)
        for group in self.param_groups:
            group.update(t=0, lr_sq_sum=0.0, train_mode=True)

    def averaging_weight(self, group: dict, lr_t: float) -> float:
        """c_{t+1} = γ_t² / Σ_{i≤t} γ_i²: steps taken at a small (warm-up) lr count less in the average."""
        group["lr_sq_sum"] += lr_t**2
        return lr_t**2 / group["lr_sq_sum"]

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            if not group["train_mode"]:
                raise RuntimeError("AdamWScheduleFree.step() in eval mode: call .train() first")
            beta1, beta2 = group["betas"]
            t = group["t"] + 1
            lr_t = group["lr"] * min(1.0, t / group["warmup_steps"]) if group["warmup_steps"] else group["lr"]
            c = self.averaging_weight(group, lr_t)
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["z"], state["x"] = p.clone(), p.clone()  # z_1 = x_1 = y_1
                    state["exp_avg_sq"] = torch.zeros_like(p)
                y, z, x, v = schedule_free_update(
                    p,
                    state["z"],
                    state["x"],
                    state["exp_avg_sq"],
                    p.grad,
                    t,
                    lr_t,
                    c,
                    beta1,
                    beta2,
                    group["eps"],
                    group["weight_decay"],
                )
                p.copy_(y)
                state["z"].copy_(z)
                state["x"].copy_(x)
                state["exp_avg_sq"].copy_(v)
            group["t"] = t
        return loss

    @staticmethod
    def _y(z: torch.Tensor, x: torch.Tensor, beta1: float) -> torch.Tensor:
        return (1 - beta1) * z + beta1 * x

    @torch.no_grad()
    def eval(self) -> None:
        """Put x, the average, in the parameters: what the paper evaluates."""
        for group in self.param_groups:
            if group["train_mode"]:
                for p in group["params"]:
                    if "x" in self.state[p]:
                        p.copy_(self.state[p]["x"])
                group["train_mode"] = False

    @torch.no_grad()
    def train(self) -> None:
        """Put y, the gradient point, back (recomputed exactly as step() computed it)."""
        for group in self.param_groups:
            if not group["train_mode"]:
                for p in group["params"]:
                    state = self.state[p]
                    if "x" in state:
                        p.copy_(self._y(state["z"], state["x"], group["betas"][0]))
                group["train_mode"] = True
