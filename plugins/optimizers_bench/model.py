"""The bench's model and its members' optimizers, as each paper runs them.

``model(d_model, layers, seed, device)``: the 2-block causal transformer every member trains, the same weights
for one seed. ``optimizer(member, params, lr, steps=, warmup=, momentum=, decay=)``: the member's optimizer
and its schedule (SGD with momentum, Adam and AdamW from torch with a warm-up and a cosine decay to 0 at the
last step; Schedule-Free AdamW from the official ``schedulefree`` package, warm-up only).
``at_eval_point(opt)``: where a member is judged (for Schedule-Free the average x of its iterates).
``state_bytes(opt)``: what an optimizer keeps per parameter.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import partial

import schedulefree
import torch

from readtrack.plugin_kit import rates
from readtrack.plugin_kit.transformer import TinyTransformer

VOCAB, SEQUENCE = 16, 32  # the Markov text's symbols, tokens a sequence
SGD, ADAM, ADAMW, SCHEDULE_FREE = "optimizers-bench:sgd-momentum", "adamw:adam", "adamw", "schedule-free"
#: The members in their papers' order (L-BFGS, the lineage's full-batch method, stands beside on its own).
MEMBERS = (SGD, ADAM, ADAMW, SCHEDULE_FREE)
NAMES = {SGD: "SGD with momentum", ADAM: "Adam", ADAMW: "AdamW", SCHEDULE_FREE: "Schedule-Free AdamW"}


def model(d_model: int, layers: int, seed: int, device: torch.device | str) -> TinyTransformer:
    """The bench's model, the same weights for every member given the same seed."""
    torch.manual_seed(seed)
    return TinyTransformer(VOCAB, SEQUENCE, d_model=d_model, n_heads=2, layers=layers).to(device)


def optimizer(
    member: str,
    params: list[torch.Tensor],
    lr: float,
    *,
    steps: int,
    warmup: float,
    momentum: float,
    decay: float,
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler | None]:
    """``member``'s optimizer at rate ``lr``, as its paper (and the field since) runs it: SGD (``momentum``),
    Adam and AdamW (decoupled ``decay``) with a linear warm-up over the first ``warmup`` share of ``steps``,
    then a cosine decay to 0 at the last step (they know the run's length); Schedule-Free AdamW (the official
    ``schedulefree`` package, decoupled ``decay``) with the same warm-up and no schedule."""
    warm = round(warmup * steps)
    if member == SCHEDULE_FREE:
        sf = schedulefree.AdamWScheduleFree(params, lr=lr, weight_decay=decay, warmup_steps=warm)
        sf.train()
        return sf, None
    opt: torch.optim.Optimizer
    if member == SGD:
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    elif member == ADAM:
        opt = torch.optim.Adam(params, lr=lr)
    else:
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=decay)
    factor = partial(rates.warmup_cosine, steps=steps, warmup=warmup)
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, factor)


@contextlib.contextmanager
def at_eval_point(opt: torch.optim.Optimizer) -> Iterator[None]:
    """The parameters a member is judged at: its iterate, or for Schedule-Free the average x (``eval()``),
    back to the point its gradients are taken at, y, afterwards (``train()``)."""
    switch = isinstance(opt, schedulefree.AdamWScheduleFree)
    if switch:
        opt.eval()  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if switch:
            opt.train()  # type: ignore[attr-defined]


def state_bytes(opt: torch.optim.Optimizer) -> int:
    """The bytes of the tensors an optimizer keeps per parameter (momenta, moments, iterates)."""
    return sum(t.nbytes for s in opt.state.values() for t in s.values() if isinstance(t, torch.Tensor))
