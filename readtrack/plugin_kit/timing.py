"""Timing layers the way training uses them, through the run's one harness (``ctx.bench``)."""

from __future__ import annotations

import torch
from torch import nn

from readtrack.runner.context import RunContext


def bench_layers(
    ctx: RunContext, variants: list[tuple[str, nn.Module]], x: torch.Tensor, *, unit: str = "rows/s"
) -> None:
    """For each (label, module): its forward pass without autograd, and a training step's work: forward,
    then the gradients of the output with respect to the input and the parameters (``torch.autograd.grad``,
    so nothing accumulates in ``.grad`` from one timed call to the next). The first variant is the baseline
    of each (a training step's ratio is against the first variant's training step, never a forward pass);
    ``x`` is (rows, features) and throughput counts rows."""
    x = x.detach().requires_grad_()
    for i, (label, module) in enumerate(variants):
        module = module.to(ctx.device, x.dtype)
        inputs = [x, *module.parameters()]
        with torch.no_grad():
            grad_out = torch.randn_like(module(x))  # a fixed upstream gradient, as a loss would send

        def forward(module: nn.Module = module) -> torch.Tensor:
            with torch.no_grad():
                return module(x)

        def training_step(
            module: nn.Module = module, inputs: list[torch.Tensor] = inputs, grad_out: torch.Tensor = grad_out
        ) -> object:
            return torch.autograd.grad(module(x), inputs, grad_out)

        for step, fn in (("forward", forward), ("forward+backward", training_step)):
            ctx.bench.measure(
                f"{label} {step}",
                fn,
                baseline=i == 0,
                group=step,
                tokens=x.shape[0],
                unit=unit,
                shape=tuple(x.shape),
                dtype=x.dtype,
            )
