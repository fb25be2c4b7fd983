"""Classic mistakes in L-BFGS's two-loop recursion, for ``readtrack practice``: the check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from readtrack.api import mistake


@mistake("two_loop", fails="two-loop recursion vs −H g, H built densely by the BFGS update (2.6), m = 3")
def two_loop(g: Tensor, S: list[Tensor], Y: list[Tensor], rho: list[Tensor], gamma: Any) -> Tensor:
    """The loops' directions swapped (the first from the oldest pair, the second from the newest): the
    pairs are applied in the wrong order, right only when m ≤ 1."""
    m = len(S)
    alpha: list[Any] = [0.0] * m
    q = g.neg()
    for i in range(m):
        alpha[i] = S[i].dot(q) * rho[i]
        q = q - alpha[i] * Y[i]
    r = q * gamma
    for i in range(m - 1, -1, -1):
        beta = Y[i].dot(r) * rho[i]
        r = r + (alpha[i] - beta) * S[i]
    return r


@mistake("two_loop", fails="two-loop recursion vs −H g, H built densely by the BFGS update (2.6), m = 1")
def two_loop_without_scaling(
    g: Tensor, S: list[Tensor], Y: list[Tensor], rho: list[Tensor], gamma: Any
) -> Tensor:
    """Starts from H⁰ = I instead of γ I (γ = sᵀy / yᵀy of the newest pair): the step has the wrong
    length, which the paper's scaling exists to fix."""
    m = len(S)
    alpha: list[Any] = [0.0] * m
    q = g.neg()
    for i in range(m - 1, -1, -1):
        alpha[i] = S[i].dot(q) * rho[i]
        q = q - alpha[i] * Y[i]
    r = q
    for i in range(m):
        beta = Y[i].dot(r) * rho[i]
        r = r + (alpha[i] - beta) * S[i]
    return r


@mistake("two_loop", fails="two-loop recursion with no pairs (m = 0) is −γ g")
def two_loop_steepest_descent_without_pairs(
    g: Tensor, S: list[Tensor], Y: list[Tensor], rho: list[Tensor], gamma: Any
) -> Tensor:
    """With no pairs stored returns −g, plain steepest descent, where the statement says −γ g: the scale
    γ of H⁰ is dropped exactly when it is all there is (the optimizer itself passes γ = 1 then, so only a
    caller with its own γ sees the difference)."""
    m = len(S)
    if m == 0:
        return g.neg()
    alpha: list[Any] = [0.0] * m
    q = g.neg()
    for i in range(m - 1, -1, -1):
        alpha[i] = S[i].dot(q) * rho[i]
        q.add_(Y[i], alpha=-alpha[i])  # in place, as torch.optim.LBFGS rounds
    r = torch.mul(q, gamma)
    for i in range(m):
        beta = Y[i].dot(r) * rho[i]
        r.add_(S[i], alpha=alpha[i] - beta)
    return r
