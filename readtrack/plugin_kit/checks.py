"""Ours against the reference: a module and an independent implementation, same parameters, same input,
forward and every gradient compared in each of the context's check dtypes."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from readtrack.context import RunContext, dtype_name


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
