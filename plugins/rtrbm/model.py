"""The Recurrent Temporal Restricted Boltzmann Machine (Sutskever, Hinton and Taylor, NIPS 2008): an RBM
trained by contrastive divergence, and its temporal extension whose hidden biases at time t are set by the
expected hidden state of time t − 1.

The equations, by content (the paper's own equation numbers could not be checked here, so none are quoted;
v visible, h hidden, both binary; W is (hidden, visible)):

RBM:
    P(v, h) = exp(hᵀ W v + b_Vᵀ v + b_Hᵀ h) / Z                                        (the joint)
    P(h_j = 1 | v) = σ(W v + b_H)_j,   P(v_i = 1 | h) = σ(Wᵀ h + b_V)_i                 (the conditionals)
    F(v) = −b_Vᵀ v − Σ_j log(1 + exp((W v + b_H)_j)),  P(v) = exp(−F(v)) / Z         (the free energy)
    CD-k: ∂ log P(v)/∂θ ≈ −∂F(v)/∂θ + ∂F(ṽ)/∂θ, ṽ after k Gibbs steps v → h → v from the data

RTRBM: at time t an RBM whose hidden bias is b_H + W′ r_{t−1},
    P(v_t, h_t | r_{t−1}) = exp(h_tᵀ W v_t + b_Vᵀ v_t + (b_H + W′ r_{t−1})ᵀ h_t) / Z(r_{t−1})
    r_t = σ(W v_t + b_H + W′ r_{t−1}),  r_1 = σ(W v_1 + b_init)         (the expected hidden state)
and log P(v_1 … v_T) = Σ_t log P(v_t | r_{t−1}) is maximised by CD for each time step's RBM (the gradient
with respect to its parameters and its hidden bias) and backpropagation through time of the bias gradient
into W′, W, b_H and b_init through the r's. ``RTRBM.surrogate`` is a loss whose autograd
gradient is exactly that estimate: Σ_t F(v_t | r_{t−1}) − F(ṽ_t | r_{t−1}), ṽ_t held fixed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class RBM(nn.Module):
    """A binary RBM: W (hidden, visible), b_V (visible,), b_H (hidden,). Every method takes a hidden-bias
    shift ``bias`` (batch, hidden) (or 0) so that the RTRBM can reuse them with b_H + W′ r_{t−1}."""

    def __init__(self, visible: int, hidden: int) -> None:
        super().__init__()
        self.W = nn.Parameter(0.01 * torch.randn(hidden, visible))
        self.b_V = nn.Parameter(torch.zeros(visible))
        self.b_H = nn.Parameter(torch.zeros(hidden))

    def p_h(self, v: torch.Tensor, bias: torch.Tensor | float = 0.0) -> torch.Tensor:
        """P(h = 1 | v), (batch, hidden)."""
        return torch.sigmoid(v @ self.W.T + self.b_H + bias)

    def p_v(self, h: torch.Tensor) -> torch.Tensor:
        """P(v = 1 | h), (batch, visible)."""
        return torch.sigmoid(h @ self.W + self.b_V)

    def free_energy(self, v: torch.Tensor, bias: torch.Tensor | float = 0.0) -> torch.Tensor:
        """F(v) = −b_Vᵀ v − Σ_j softplus(W v + b_H + bias)_j, (batch,): hidden units summed out."""
        return -(v @ self.b_V) - F.softplus(v @ self.W.T + self.b_H + bias).sum(-1)

    @torch.no_grad()
    def gibbs(
        self, v: torch.Tensor, k: int, g: torch.Generator | None, bias: torch.Tensor | float = 0.0
    ) -> torch.Tensor:
        """k steps of block Gibbs sampling v → h → v (the CD-k chain), from v (batch, visible)."""
        for _ in range(k):
            h = torch.bernoulli(self.p_h(v, bias), generator=g)
            v = torch.bernoulli(self.p_v(h), generator=g)
        return v

    def cd_loss(self, v: torch.Tensor, k: int, g: torch.Generator | None = None) -> torch.Tensor:
        """Mean of F(v) − F(ṽ): its gradient is the CD-k estimate of −∂ log P(v)/∂θ."""
        v_neg = self.gibbs(v, k, g)
        return (self.free_energy(v) - self.free_energy(v_neg)).mean()


class RTRBM(nn.Module):
    """The RTRBM: an RBM (W, b_V, b_H), the temporal weights W′ (hidden, hidden) and b_init (hidden,).
    ``temporal=False`` is the ablation: W′ = 0 and every frame an independent RBM."""

    def __init__(self, visible: int, hidden: int, temporal: bool = True) -> None:
        super().__init__()
        self.rbm = RBM(visible, hidden)
        self.temporal = temporal
        self.W_prime = nn.Parameter(torch.zeros(hidden, hidden), requires_grad=temporal)
        self.b_init = nn.Parameter(torch.zeros(hidden), requires_grad=temporal)

    def biases(self, v: torch.Tensor) -> torch.Tensor:
        """The hidden-bias shifts of every frame, (batch, T, hidden): b_init − b_H for t = 1 and W′ r_{t−1}
        after, with r_t = σ(W v_t + b_H + shift_t)."""
        B, T, _ = v.shape
        if not self.temporal:
            return v.new_zeros(B, T, self.W_prime.shape[0])
        shift = (self.b_init - self.rbm.b_H).expand(B, -1)  # (B, hidden): frame 1 uses b_init
        shifts = []
        for t in range(T):
            shifts.append(shift)
            r = self.rbm.p_h(v[:, t], shift)  # r_t = σ(W v_t + b_H + W′ r_{t−1})
            shift = r @ self.W_prime.T  # W′ r_t, the next frame's shift
        return torch.stack(shifts, dim=1)  # (B, T, hidden)

    def surrogate(self, v: torch.Tensor, k: int, g: torch.Generator | None = None) -> torch.Tensor:
        """Σ_t F(v_t | r_{t−1}) − F(ṽ_t | r_{t−1}) averaged over the batch, ṽ_t from CD-k in the RBM of
        time t: its gradient is the paper's (CD for each RBM, backpropagation through time via the r's)."""
        B, T, V = v.shape
        bias = self.biases(v)  # (B, T, hidden), differentiable through r
        flat_v, flat_b = v.reshape(B * T, V), bias.reshape(B * T, -1)  # (B·T, ·): each frame its own RBM
        v_neg = self.rbm.gibbs(flat_v, k, g, flat_b.detach())
        per_frame = self.rbm.free_energy(flat_v, flat_b) - self.rbm.free_energy(v_neg, flat_b)
        return per_frame.sum() / B

    @torch.no_grad()
    def predict_next(self, v: torch.Tensor, steps: int = 10) -> torch.Tensor:
        """The expected next frame after every prefix: for each t ≥ 2, mean-field iterations
        v̂ ← σ(Wᵀ σ(W v̂ + b_H + W′ r_{t−1}) + b_V) from v̂ = v_{t−1}. v (batch, T, visible) →
        (batch, T − 1, visible), frame t predicted from frames 1 … t − 1."""
        B, T, V = v.shape
        bias = self.biases(v)[:, 1:].reshape(B * (T - 1), -1)  # the shift of frames 2 … T
        v_hat = v[:, :-1].reshape(B * (T - 1), V)  # (B·(T−1), V): start from the previous frame
        for _ in range(steps):
            v_hat = self.rbm.p_v(self.rbm.p_h(v_hat, bias))
        return v_hat.view(B, T - 1, V)
