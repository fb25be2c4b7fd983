"""Ours against the reference: a module and an independent implementation, same parameters, same input,
forward and every gradient compared in each of the context's check dtypes."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from readtrack.runner.context import RunContext, dtype_name


def compare_modules(
    ctx: RunContext,
    label: str,
    ours: Callable[[], nn.Module],
    reference: Callable[[], nn.Module],
    make_input: Callable[[torch.dtype], torch.Tensor],
) -> None:
    """For each of ``ctx.check_dtypes``: build both modules, give ours random parameters (so that a gain of
    ones or a bias of zeros cannot hide a bug) and copy them into the reference by name, then check the
    forward output and the gradients with respect to the input and every parameter.

    The two modules must name their parameters alike (``weight``, ``bias``, as torch's built-ins do)."""
    for dtype in ctx.check_dtypes:
        mine, ref = ours().to(ctx.device, dtype), reference().to(ctx.device, dtype)
        with torch.no_grad():
            for p in mine.parameters():
                p.normal_()
        ref.load_state_dict(mine.state_dict())
        x = make_input(dtype).to(ctx.device)
        out, grads = ctx.value_and_grads(mine, x, params=list(mine.parameters()))
        expected, ref_grads = ctx.value_and_grads(ref, x, params=list(ref.parameters()))
        name = dtype_name(dtype)
        ctx.check_close(f"forward vs {label} ({name})", out, expected)
        names = ", ".join(["input", *(n for n, _ in mine.named_parameters())])
        ctx.check_close(f"gradients ({names}) vs {label} ({name})", grads, ref_grads)


def check_causal(
    ctx: RunContext, what: str, fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor
) -> torch.Tensor:
    """Causality through the Jacobian: for x (1, N, …) and fn(x) (1, N, …), output i must not depend on any
    input j > i (exactly zero) and must depend on every j ≤ i. Records both as properties named after
    ``what``; returns the (N, N) matrix of Σ|∂fn(x)_i/∂x_j| (row i: an output, column j: an input)."""
    jac = torch.autograd.functional.jacobian(fn, x)  # (1, N, *out, 1, N, *in)
    n, out_dims = x.shape[1], fn(x).dim() - 2
    per_pair = jac[0].select(1 + out_dims, 0).movedim(1 + out_dims, 1)  # (N out, N in, *out, *in)
    reach = per_pair.abs().flatten(2).sum(-1)  # (N, N)
    future = torch.ones(n, n, dtype=torch.bool, device=reach.device).triu(1)
    ctx.check_property(
        f"causal: no output of {what} depends on a later position (Jacobian, N={n})",
        bool((reach[future] == 0).all()),
        f"largest summed |∂out_i/∂in_j| with j > i: {reach[future].max().item() if n > 1 else 0.0:.3g}",
        value=reach[future].max().item() if n > 1 else 0.0,
    )
    ctx.check_property(
        f"and every output of {what} depends on every position up to its own",
        bool((reach[~future] > 0).all()),
        f"smallest such sum: {reach[~future].min().item():.3g}",
    )
    return reach


def check_rounding(
    ctx: RunContext, name: str, ours: torch.Tensor, reference: torch.Tensor, truth: torch.Tensor
) -> None:
    """In a low-precision dtype, ``ours`` may be at most twice as far from ``truth`` (the same computation
    in ``ctx.exact_dtype``) as ``reference`` (the independent version, in the same low precision) is: the
    criterion FlashAttention's own tests use. For ill-conditioned cases (deep random stacks, BatchNorm over
    a handful of values) where a fixed float32 tolerance is missed by the reference itself; a real mistake
    is orders of magnitude past it."""
    ours_err = float((ours.to(truth) - truth).abs().max())
    reference_err = float((reference.to(truth) - truth).abs().max())
    ctx.check_property(
        f"{name}: error vs {dtype_name(truth.dtype)} at most 2× the reference's",
        ours_err <= 2 * reference_err,
        detail=f"max error ours {ours_err:.2e}, reference {reference_err:.2e}",
        value=ours_err,
    )


def check_close_or_rounding(
    ctx: RunContext,
    name: str,
    ours: torch.Tensor,
    reference: torch.Tensor,
    truth: Callable[[], torch.Tensor],
) -> None:
    """``ours`` against ``reference``: within the usual tolerance in ``ctx.exact_dtype``; in a low-precision
    dtype by ``check_rounding`` against ``truth()``, the same computation in the exact dtype (called only
    then). For gradients of deep random stacks, whose float32 rounding misses a fixed tolerance in the
    reference as often as in ours."""
    if ours.dtype == ctx.exact_dtype:
        ctx.check_close(name, ours, reference)
    else:
        check_rounding(ctx, name, ours, reference, truth())
