"""L-BFGS (Liu and Nocedal 1989), like nanoGPT: the two-loop recursion, the scaled H₀, a strong-Wolfe line
search and a closure-based ``torch.optim.Optimizer`` with ``torch.optim.LBFGS``'s signature and choices.

Notation (the paper's section 2; Nocedal and Wright, Numerical Optimization, ch. 6-7):

    x_k the iterate, g_k = ∇f(x_k), d_k the direction, t_k the step length, x_{k+1} = x_k + t_k d_k
    s_k = x_{k+1} − x_k,  y_k = g_{k+1} − g_k,  ρ_k = 1 / (y_kᵀ s_k)
    H_{k+1} = V_kᵀ H_k V_k + ρ_k s_k s_kᵀ,  V_k = I − ρ_k y_k s_kᵀ          the BFGS update (2.6)
    L-BFGS keeps the last m pairs (s_i, y_i) and starts from H_k⁰ = γ_k I,
    γ_k = s_{k−1}ᵀy_{k−1} / y_{k−1}ᵀy_{k−1}                                  the scaling of section 2

Every vector is the flat concatenation of all parameters, shape (n,).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

Closure = Callable[[], Tensor]
Evaluate = Callable[[float], tuple[float, Tensor]]  # t ↦ (f(x + t d), ∇f(x + t d))


def two_loop(g: Tensor, S: list[Tensor], Y: list[Tensor], rho: list[Tensor], gamma: Any) -> Tensor:
    """d = −H_k g by the two-loop recursion (Nocedal and Wright alg. 7.4), without forming H_k (n × n).

    S, Y, rho: the last m pairs, oldest first; gamma: the scale of H_k⁰ = γ I."""
    m = len(S)
    alpha: list[Tensor] = [g.new_zeros(())] * m
    q = g.neg()  # the recursion run on −g gives −H g directly
    for i in range(m - 1, -1, -1):  # newest to oldest: q ← V_iᵀ q
        alpha[i] = S[i].dot(q) * rho[i]  # α_i = ρ_i s_iᵀ q
        q.add_(Y[i], alpha=-alpha[i])  # type: ignore[arg-type]  # q ← q − α_i y_i
    r = torch.mul(q, gamma)  # r = H_k⁰ q
    for i in range(m):  # oldest to newest: r ← V_i r + ρ_i s_i s_iᵀ (…)
        beta = Y[i].dot(r) * rho[i]  # β = ρ_i y_iᵀ r
        r.add_(S[i], alpha=alpha[i] - beta)  # type: ignore[arg-type]  # r ← r + (α_i − β) s_i
    return r


def dense_inverse_hessian(S: list[Tensor], Y: list[Tensor], gamma: float) -> Tensor:
    """H_k (n, n) built explicitly by the BFGS update (2.6) from γ I over the pairs, oldest first: the
    naive reference the two-loop recursion must agree with."""
    n = S[0].numel() if S else 1
    H = gamma * torch.eye(n, dtype=S[0].dtype if S else torch.float64, device=S[0].device if S else None)
    for s, y in zip(S, Y, strict=True):
        rho = 1.0 / y.dot(s)
        V = torch.eye(n, dtype=H.dtype, device=H.device) - rho * torch.outer(y, s)  # V = I − ρ y sᵀ
        H = V.T @ H @ V + rho * torch.outer(s, s)
    return H


def cubic_minimum(
    t1: Any, f1: Any, g1: Any, t2: Any, f2: Any, g2: Any, bounds: tuple[Any, Any] | None = None
) -> Any:
    """The minimiser of the cubic through (t1, f1, f1′ = g1) and (t2, f2, f2′ = g2), clipped to ``bounds``
    (the interval itself by default); the midpoint when the cubic has no minimum (Nocedal and Wright 3.59)."""
    lo, hi = bounds if bounds is not None else ((t1, t2) if t1 <= t2 else (t2, t1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (t1 - t2)
    d2_sq = d1**2 - g1 * g2
    if d2_sq < 0:
        return (lo + hi) / 2.0
    d2 = d2_sq.sqrt()
    if t1 <= t2:
        t = t2 - (t2 - t1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        t = t1 - (t1 - t2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(t, lo), hi)


def strong_wolfe(
    phi: Evaluate,
    d: Tensor,
    t: Any,
    f0: float,
    g0: Tensor,
    dphi0: Tensor,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_evals: int = 25,
) -> tuple[float, Tensor, Any, int]:
    """A step t with f(x + t d) ≤ f0 + c1 t φ′(0) (sufficient decrease) and |φ′(t)| ≤ c2 |φ′(0)| (curvature),
    φ(t) = f(x + t d): bracket then zoom (Nocedal and Wright alg. 3.5/3.6), cubic interpolation throughout.

    Returns (f, g, t, evaluations) at the accepted step."""
    d_inf = d.abs().max()
    g0 = g0.clone()
    f, g = phi(t)
    evals, tries = 1, 0
    dphi = g.dot(d)
    # A point: (t, f, g, φ′). `lo` keeps the best so far; `bracket` holds two points once found.
    t_old, f_old, g_old, dphi_old = 0, f0, g0, dphi0
    bracket: list[list[Any]] = []
    found = False
    while tries < max_evals:  # bracketing: grow t until an interval must hold a Wolfe point
        if f > f0 + c1 * t * dphi0 or (tries > 1 and f >= f_old):  # too far: [t_old, t] brackets
            bracket = [[t_old, f_old, g_old, dphi_old], [t, f, g.clone(), dphi]]
            break
        if abs(dphi) <= -c2 * dphi0:  # both Wolfe conditions hold
            bracket, found = [[t, f, g, dphi]], True
            break
        if dphi >= 0:  # slope turned positive: [t_old, t] brackets
            bracket = [[t_old, f_old, g_old, dphi_old], [t, f, g.clone(), dphi]]
            break
        t_next = cubic_minimum(t_old, f_old, dphi_old, t, f, dphi, bounds=(t + 0.01 * (t - t_old), t * 10))
        t_old, f_old, g_old, dphi_old = t, f, g.clone(), dphi
        t = t_next
        f, g = phi(t)
        evals += 1
        dphi = g.dot(d)
        tries += 1
    if tries == max_evals:
        bracket = [[0, f0, g0, None], [t, f, g, None]]

    # zoom: shrink the bracket, `lo` the end with the lower f, until the curvature condition holds.
    stalled = False
    lo, hi = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    while not found and tries < max_evals:
        a, b = bracket[0][0], bracket[1][0]
        if abs(b - a) * d_inf < tolerance_change:
            break
        t = cubic_minimum(a, bracket[0][1], bracket[0][3], b, bracket[1][1], bracket[1][3])
        # keep t at least 10% of the interval away from its ends (a safeguard against tiny progress)
        left, right = min(a, b), max(a, b)
        margin = 0.1 * (right - left)
        if min(right - t, t - left) < margin:
            if stalled or t >= right or t <= left:
                t = right - margin if abs(t - right) < abs(t - left) else left + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        f, g = phi(t)
        evals += 1
        dphi = g.dot(d)
        tries += 1
        if f > f0 + c1 * t * dphi0 or f >= bracket[lo][1]:  # t replaces the high end
            bracket[hi] = [t, f, g.clone(), dphi]
            lo, hi = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(dphi) <= -c2 * dphi0:
                found = True
            elif dphi * (bracket[hi][0] - bracket[lo][0]) >= 0:  # the slope points out: old lo becomes hi
                bracket[hi] = bracket[lo]
            bracket[lo] = [t, f, g.clone(), dphi]
    t, f, g = bracket[lo][0], bracket[lo][1], bracket[lo][2]
    return f, g, t, evals


class LBFGS(torch.optim.Optimizer):
    """L-BFGS with ``torch.optim.LBFGS``'s signature, defaults and choices: up to ``max_iter`` iterations
    (``max_eval`` closure calls) per ``step(closure)``; the first step scaled to min(1, 1/‖g‖₁)·lr; a pair
    kept only when yᵀs > 1e-10; ``line_search_fn`` None (fixed step lr) or "strong_wolfe"."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"line_search_fn must be None or 'strong_wolfe', not {line_search_fn!r}")
        max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("L-BFGS takes one parameter group")
        self.x: list[Tensor] = self.param_groups[0]["params"]

    def _gradient(self) -> Tensor:
        """g (n,): every parameter's gradient, flattened and concatenated (zeros where there is none)."""
        return torch.cat([p.new_zeros(p.numel()) if p.grad is None else p.grad.reshape(-1) for p in self.x])

    def _move(self, t: Any, d: Tensor) -> None:
        """x ← x + t d, d split back into the parameters' shapes."""
        offset = 0
        for p in self.x:
            p.add_(d[offset : offset + p.numel()].view_as(p), alpha=t)
            offset += p.numel()

    @torch.no_grad()
    def step(self, closure: Closure) -> Tensor:  # type: ignore[override]
        closure = torch.enable_grad()(closure)
        cfg = self.param_groups[0]
        state = self.state[self.x[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        first_loss = closure()
        f = float(first_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._gradient()
        if g.abs().max() <= cfg["tolerance_grad"]:  # already stationary
            return first_loss

        d, t = state.get("d"), state.get("t")
        S, Y, rho, gamma = state.get("S"), state.get("Y"), state.get("rho"), state.get("gamma")
        g_prev, f_prev = state.get("g_prev"), state.get("f_prev")
        converged = False
        for k in range(1, cfg["max_iter"] + 1):
            state["n_iter"] += 1
            if state["n_iter"] == 1:  # steepest descent, H₀ = I
                d, S, Y, rho, gamma = g.neg(), [], [], [], 1
            else:
                y = g.sub(g_prev)  # y = g_{k+1} − g_k
                s = d.mul(t)  # s = x_{k+1} − x_k = t d
                ys = y.dot(s)
                if ys > 1e-10:  # keep the pair only if the curvature yᵀs is positive
                    if len(S) == cfg["history_size"]:  # forget the oldest pair
                        S.pop(0), Y.pop(0), rho.pop(0)
                    S.append(s), Y.append(y), rho.append(1.0 / ys)
                    gamma = ys / y.dot(y)  # H⁰ = (sᵀy / yᵀy) I
                d = two_loop(g, S, Y, rho, gamma)
            g_prev = g.clone() if g_prev is None else g_prev.copy_(g)
            f_prev = f
            t = min(1.0, 1.0 / g.abs().sum()) * cfg["lr"] if state["n_iter"] == 1 else cfg["lr"]
            dphi0 = g.dot(d)  # the directional derivative gᵀd
            if dphi0 > -cfg["tolerance_change"]:  # not a descent direction (any more)
                break

            if cfg["line_search_fn"] == "strong_wolfe":
                x0 = [p.clone() for p in self.x]

                def phi(t: float, x0: list[Tensor] = x0, d: Tensor = d) -> tuple[float, Tensor]:
                    self._move(t, d)
                    value = float(closure())
                    grad = self._gradient()
                    for p, p0 in zip(self.x, x0, strict=True):
                        p.copy_(p0)
                    return value, grad

                f, g, t, ls_evals = strong_wolfe(phi, d, t, f, g, dphi0, max_evals=cfg["max_eval"] - evals)
                self._move(t, d)
                converged = bool(g.abs().max() <= cfg["tolerance_grad"])
            else:
                self._move(t, d)
                ls_evals = 0
                if k != cfg["max_iter"]:  # the next iteration's f and g (none after the last)
                    f = float(closure())
                    g = self._gradient()
                    converged = bool(g.abs().max() <= cfg["tolerance_grad"])
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if k == cfg["max_iter"] or evals >= cfg["max_eval"] or converged:
                break
            if d.mul(t).abs().max() <= cfg["tolerance_change"] or abs(f - f_prev) < cfg["tolerance_change"]:
                break  # the step or the change in f is below tolerance

        state.update(d=d, t=t, S=S, Y=Y, rho=rho, gamma=gamma, g_prev=g_prev, f_prev=f_prev)
        return first_loss
