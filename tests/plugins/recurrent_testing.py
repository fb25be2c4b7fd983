"""What the rnn, lstm and gru plugin tests share: more shapes than their check stages, one comparison of a
recurrent module against a reference (outputs, final states and every gradient, float64), and a way to
break a module's parameters inside its forward for the can-fail tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

# (batch, T, input size, hidden size, layers, batch_first, with an initial state)
SHAPES = [
    (1, 1, 1, 1, 1, True, False),
    (5, 3, 2, 7, 3, True, True),  # three layers
    (2, 50, 4, 8, 1, True, True),  # a long sequence
    (3, 4, 6, 2, 2, False, True),  # time-major
    (1, 11, 3, 5, 2, False, False),
]
SHAPE_NAMES = ("B", "T", "n_in", "H", "layers", "batch_first", "with_state")


def _tensors(result: Any) -> list[torch.Tensor]:
    if isinstance(result, torch.Tensor):
        return [result]
    return [t for part in result for t in _tensors(part)]


def outputs_and_grads(
    forward: Callable[..., Any], params: list[torch.Tensor], x: torch.Tensor, state: Any
) -> list[torch.Tensor]:
    """The output, the final state(s) and the gradients of a fixed random weighting of all of them with
    respect to x, the initial state (h0 or (h0, c0), if given) and ``params``."""
    outputs = _tensors(forward(x) if state is None else forward(x, state))
    # randn, not randn_like: a batch-first output of torch's modules is a transposed view, and randn_like
    # would keep its strides and so weight the elements differently
    g = torch.Generator().manual_seed(0)
    loss = sum((o * torch.randn(o.shape, dtype=o.dtype, generator=g)).sum() for o in outputs)
    leaves = [x, *([] if state is None else _tensors(state)), *params]
    return [*outputs, *torch.autograd.grad(loss, leaves)]  # type: ignore[arg-type]


def assert_same_as_reference(
    ours: nn.Module,
    reference: Callable[..., Any],
    ref_params: list[torch.Tensor],
    shape: tuple[int, int, int, int, int, bool, bool],
    states: int = 1,
) -> None:
    """``ours`` (float64) against ``reference`` on one of ``SHAPES``, with a random initial state of
    ``states`` tensors (h0, or (h0, c0)) when the shape asks for one."""
    B, T, n_in, H, layers, batch_first, with_state = shape
    x = torch.randn((B, T, n_in) if batch_first else (T, B, n_in), dtype=torch.float64, requires_grad=True)
    initial = [torch.randn(layers, B, H, dtype=torch.float64, requires_grad=True) for _ in range(states)]
    state = None if not with_state else initial[0] if states == 1 else tuple(initial)
    got = outputs_and_grads(ours, list(ours.parameters()), x, state)
    want = outputs_and_grads(reference, ref_params, x, state)
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b)


@contextmanager
def replaced(module: nn.Module, change: Callable[[str, torch.Tensor], torch.Tensor]) -> Iterator[None]:
    """Within the block, the module's forward sees ``change(name, p)`` in place of each parameter p."""
    saved = dict(module._parameters)
    for name, p in saved.items():
        module._parameters[name] = change(name, p)  # type: ignore[arg-type,assignment]
    try:
        yield
    finally:
        module._parameters.update(saved)
