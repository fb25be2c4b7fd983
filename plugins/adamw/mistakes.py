"""Classic mistakes in AdamW, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake


@mistake("adamw_update", fails="parameters after 20 steps vs torch.optim.AdamW")
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
    """Adam with L2 regularisation: λθ added to the gradient, so √v̂ normalises the decay away (line 6's
    "+ λθ", the coupling the paper removes)."""
    beta1, beta2 = betas
    g = g + weight_decay * theta
    m = m.mul(beta1).add(g, alpha=1 - beta1)
    v = v.mul(beta2).addcmul(g, g, value=1 - beta2)
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return theta.addcdiv(m_hat, v_hat.sqrt().add(eps), value=-lr), m, v


@mistake("adamw_update", fails="parameters after 20 steps vs torch.optim.AdamW")
def adamw_update_without_bias_correction(
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
    """No bias correction (lines 9-10 left out): m_t and v_t, started at 0, are used as if unbiased."""
    beta1, beta2 = betas
    m = m.mul(beta1).add(g, alpha=1 - beta1)
    v = v.mul(beta2).addcmul(g, g, value=1 - beta2)
    theta = theta * (1 - lr * weight_decay)
    return theta.addcdiv(m, v.sqrt().add(eps), value=-lr), m, v
