"""The classic mistakes in the RTRBM's recurrence, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import RTRBM


@mistake("RTRBM.biases", fails="hidden biases b_init, b_H + W′ r_1, b_H + W′ r_2 vs numbers worked by hand")
def biases(self: RTRBM, v: torch.Tensor) -> torch.Tensor:
    """Off by one frame: frame t's hidden bias is set from r_t, the expected state of the frame itself,
    instead of r_{t−1} (the model then sees the frame it should predict)."""
    B, T, _ = v.shape
    if not self.temporal:
        return v.new_zeros(B, T, self.W_prime.shape[0])
    shift = (self.b_init - self.rbm.b_H).expand(B, -1)
    shifts = []
    for t in range(T):
        r = self.rbm.p_h(v[:, t], shift)
        shift = r @ self.W_prime.T
        shifts.append(shift)
    return torch.stack(shifts, dim=1)


@mistake("RTRBM.biases", fails="hidden biases b_init, b_H + W′ r_1, b_H + W′ r_2 vs numbers worked by hand")
def biases_without_recurrence(self: RTRBM, v: torch.Tensor) -> torch.Tensor:
    """r_t computed by the plain RBM, σ(W v_t + b_H), without the frame's own temporal bias: the expected
    hidden state of an RBM, not of the RTRBM, so the past reaches back one frame only."""
    B, T, _ = v.shape
    if not self.temporal:
        return v.new_zeros(B, T, self.W_prime.shape[0])
    shifts = [(self.b_init - self.rbm.b_H).expand(B, -1)]
    for t in range(T - 1):
        shifts.append(self.rbm.p_h(v[:, t]) @ self.W_prime.T)
    return torch.stack(shifts, dim=1)


@mistake("RTRBM.biases", fails="gradients of the shifts (v, W, b_H, W′, b_init) through the r's")
def biases_with_detached_states(self: RTRBM, v: torch.Tensor) -> torch.Tensor:
    """Detaches each r_t before it feeds the next frame: the shifts are right, but no gradient flows back
    through time (W′ still learns, what came before it does not)."""
    B, T, _ = v.shape
    if not self.temporal:
        return v.new_zeros(B, T, self.W_prime.shape[0])
    shift = (self.b_init - self.rbm.b_H).expand(B, -1)
    shifts = []
    for t in range(T):
        shifts.append(shift)
        r = self.rbm.p_h(v[:, t], shift).detach()
        shift = r @ self.W_prime.T
    return torch.stack(shifts, dim=1)


@mistake("RTRBM.biases", fails="the ablation (temporal=False): every shift is 0")
def biases_ignoring_the_ablation(self: RTRBM, v: torch.Tensor) -> torch.Tensor:
    """Runs the recurrence whatever self.temporal says: in the ablation (W′ = 0, b_init = 0) frame 1's shift
    is −b_H, so the plain RBM's first frame loses its hidden bias."""
    B, T, _ = v.shape
    shift = (self.b_init - self.rbm.b_H).expand(B, -1)
    shifts = []
    for t in range(T):
        shifts.append(shift)
        r = self.rbm.p_h(v[:, t], shift)
        shift = r @ self.W_prime.T
    return torch.stack(shifts, dim=1)
