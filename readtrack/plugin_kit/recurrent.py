"""What the recurrent-network plugins (rnn, lstm, gru) share: the check of a stack of recurrent layers
against a reference on the same parameters, the adding problem's model and training loop, and the timing of
a Python loop over time against torch's fused module.

A recurrent module here is called as torch's are: ``module(x)`` or ``module(x, state)`` with x
(batch, T, input) when ``batch_first`` (else (T, batch, input)) and state h0, or (h0, c0) for an LSTM, each
(layers, batch, hidden); it returns (output, h_n) or (output, (h_n, c_n)).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.plugin_kit.tasks import adding_batch
from readtrack.runner.context import RunContext, dtype_name

# (batch, T, input size, hidden size, layers, batch_first, with an initial state)
Case = tuple[int, int, int, int, int, bool, bool]
CASES: list[Case] = [
    (3, 7, 5, 4, 1, True, False),
    (1, 1, 3, 6, 1, True, True),  # one step of one sequence
    (2, 5, 4, 3, 2, True, True),  # two layers
    (4, 9, 2, 5, 2, False, False),  # time-major
    (2, 1, 3, 4, 2, False, True),  # one step, time-major, two layers
]

# make(input size, hidden size, layers, batch_first) → (our module, the reference on the same parameters)
MakePair = Callable[[int, int, int, bool], tuple[nn.Module, Callable[..., Any]]]


def flatten(result: Any) -> torch.Tensor:
    """(output, h_n) or (output, (h_n, c_n)) as one vector, so one comparison covers all of it."""
    if isinstance(result, torch.Tensor):
        return result.flatten()
    return torch.cat([flatten(part) for part in result])


def _call(forward: Callable[..., Any], x: torch.Tensor, *state: torch.Tensor) -> torch.Tensor:
    """``forward(x)``, ``forward(x, h0)`` or ``forward(x, (h0, c0))``, flattened."""
    if not state:
        return flatten(forward(x))
    return flatten(forward(x, state[0] if len(state) == 1 else tuple(state)))


def compare_recurrent(
    ctx: RunContext,
    label: str,
    make: MakePair,
    *,
    states: int = 1,
    cases: list[Case] = CASES,
) -> None:
    """For each of ``ctx.check_dtypes`` and each case: ``make(input, hidden, layers, batch_first)`` returns
    our module and the reference to hold it against, with the same parameter values: a torch module whose
    state_dict ours loaded (its gradients are taken for its own parameters, matched by name), or a function
    computing the paper's equations on our module's parameters. Checks the output and final state(s), then
    the gradients with respect to the input, the initial state (``states`` tensors: 1 for h0, 2 for
    (h0, c0)) and every parameter."""
    outputs = "output and h_n" if states == 1 else "output, h_n, c_n"
    given = {0: "", 1: ", h0", 2: ", (h0, c0)"}
    for dtype in ctx.check_dtypes:
        for B, T, n_in, H, layers, batch_first, with_state in cases:
            ours, reference = make(n_in, H, layers, batch_first)
            ours.to(ctx.device, dtype)
            if isinstance(reference, nn.Module):
                reference.to(ctx.device, dtype)
            names = [n for n, _ in ours.named_parameters()]
            ref_module = reference if isinstance(reference, nn.Module) else ours
            x = torch.randn((B, T, n_in) if batch_first else (T, B, n_in), dtype=dtype, device=ctx.device)
            state = [torch.randn(layers, B, H, dtype=dtype, device=ctx.device) for _ in range(states)]
            inputs = [x, *state] if with_state else [x]
            got, grads = ctx.value_and_grads(partial(_call, ours), *inputs, params=list(ours.parameters()))
            # The reference runs without cuDNN: cuDNN's float32 recurrent layers are not float32-accurate
            # even with TF32 off. On an H200 (torch 2.11, cuDNN 9.19) nn.RNN/LSTM/GRU's float32 gradients
            # came up to 2.8x this check's tolerance from float64 over 30 seeds, ours and torch's own CUDA
            # kernels (cuDNN off) at most 0.06x (benchmarks/recurrent_precision.py, in RESULTS.md).
            with torch.backends.cudnn.flags(enabled=False, allow_tf32=False):
                want, ref_grads = ctx.value_and_grads(
                    partial(_call, reference), *inputs, params=[ref_module.get_parameter(n) for n in names]
                )
            shape = "(B, T, I)" if batch_first else "(T, B, I)"
            initial = given[states if with_state else 0]
            case = f"B={B} T={T} I={n_in} H={H}, {layers} layer(s), {shape}{initial} ({dtype_name(dtype)})"
            ctx.check_close(f"{outputs} vs {label}, {case}", got, want)
            what = f"gradients (input{initial}, {len(names)} parameters)"
            ctx.check_close(f"{what} vs {label}, {case}", grads, ref_grads)


# -- the adding problem --------------------------------------------------------------------------------
ADDING_LENGTH, ADDING_BATCH = 30, 64  # PLUGINS.md: a plain RNN fails at T = 30, an LSTM solves it
SOLVED = 0.01  # a mean batch MSE this low over 20 steps: solved (the constant prediction 1 scores 1/6)
# The quick runs' budget: at most this many steps, each run stopping once solved. How long a gated unit
# sits on the plateau of the constant prediction before it learns to read the marks depends on the seed,
# more than on the rate or the batch: nn.LSTM at lr 2e-2 solved seeds 8, 16 and 19 at steps 483, 485 and
# 447, past the 400 the quick runs had (seed 8 took 432, 499 and 433 at lr 3e-2, lr 5e-2 and batch 128).
# Stopping once solved keeps the usual cost near where the 400 steps were.
QUICK_BUDGET = 800


class LastStep(nn.Module):
    """A recurrent layer read out at its last step, ŷ = w·h_T + b: the adding problem's model."""

    def __init__(self, rnn: nn.Module, hidden: int) -> None:
        super().__init__()
        self.rnn, self.head = rnn, nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0][:, -1]).squeeze(-1)  # (B,)


def set_forget_bias(lstm: nn.Module, value: float) -> nn.Module:
    """b_f = ``value`` in every layer of an LSTM named as ``nn.LSTM`` (gates i, f, g, o): the input bias's
    forget slice at ``value``, the hidden bias's at 0, as Gers et al. (2000) and Jozefowicz et al. (2015)
    start it at 1."""
    H = lstm.get_parameter("weight_hh_l0").shape[1]  # weight_hh: (4H, H)
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            if name.startswith("bias_"):
                p[H : 2 * H] = value if name.startswith("bias_ih") else 0.0
    return lstm


def fit_adding(
    model: nn.Module,
    lr: float,
    steps: int,
    *,
    seed: int,
    device: str,
    log: Callable[[int, float], None] | None = None,
    stop_when_solved: bool = False,
    clip: float = 1.0,
    keep_best: tuple[torch.Tensor, torch.Tensor] | None = None,
    length: int = ADDING_LENGTH,
    batch: int = ADDING_BATCH,
) -> int:
    """Adam with gradient-norm clipping on fresh batches (``batch`` sequences of ``length``) of the adding
    problem drawn from ``seed`` (so every model sees the same ones); ``log(step, loss)`` every 20 steps.
    Returns the steps to solve: the first step at which the mean batch MSE of the last 20 is at most
    ``SOLVED`` (``steps``: not solved); training stops there if ``stop_when_solved``.

    With ``keep_best`` (validation sequences), the model ends at its checkpoint with the lowest MSE on them,
    of those every ``CHECKPOINT_EVERY`` steps and the last: early stopping, so a model is scored at the best
    it reached, not at a late spike of the loss."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    recent: list[float] = []
    solved_at = steps
    best = _Best(model, keep_best)
    for step in range(steps):
        if step % CHECKPOINT_EVERY == 0:
            best.consider()
        x, y = adding_batch(batch, length, g, device)
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        recent = [*recent[-19:], loss.item()]
        if log is not None and step % 20 == 0:
            log(step, recent[-1])
        if solved_at == steps and len(recent) == 20 and sum(recent) / 20 <= SOLVED:
            solved_at = step
            if stop_when_solved:
                break
    best.consider()
    best.restore()
    return solved_at


class Scored(NamedTuple):
    """What `fit_scored` measures of one trained model."""

    validation: float  # MSE on the validation sequences, where rates are chosen
    test: float  # MSE on the test sequences, what is reported
    solved_at: int  # the steps to solve (the budget: not solved)
    far: float  # the weight of the first (far) marked value in the prediction on the test sequences
    near: float  # and of the second (near) one: `marked_weights`


def fit_scored(
    ctx: RunContext,
    model: nn.Module,
    lr: float,
    steps: int,
    label: str,
    seed: int,
    *,
    stop_when_solved: bool = False,
    length: int = ADDING_LENGTH,
    batch: int = ADDING_BATCH,
) -> Scored:
    """`fit_adding` on the batches of ``seed``, its loss curve recorded as ``train MSE (label)`` when ``seed``
    is the run's own, ending at its checkpoint with the lowest MSE on ``seed``'s validation sequences, then
    scored on ``seed``'s test sequences."""
    log = partial(ctx.metric, f"train MSE ({label})") if seed == ctx.seed else None
    validation = adding_validation(seed, ctx.device, length=length)
    solved_at = fit_adding(
        model,
        lr,
        steps,
        seed=seed,
        device=ctx.device,
        log=log,
        stop_when_solved=stop_when_solved,
        keep_best=validation,
        length=length,
        batch=batch,
    )
    test = adding_test(seed, ctx.device, length=length)
    far, near = marked_weights(model, test)
    return Scored(adding_mse(model, validation), adding_mse(model, test), solved_at, far, near)


CHECKPOINT_EVERY = 100  # fit_adding's keep_best: the validation MSE is taken every this many steps


class _Best:
    """The parameters of ``model`` with the lowest MSE on ``validation`` of those it was shown (no-op when
    ``validation`` is None)."""

    def __init__(self, model: nn.Module, validation: tuple[torch.Tensor, torch.Tensor] | None) -> None:
        self.model, self.validation = model, validation
        self.mse = float("inf")
        self.state: dict[str, torch.Tensor] | None = None

    def consider(self) -> None:
        if self.validation is None:
            return
        mse = adding_mse(self.model, self.validation)
        if mse < self.mse:  # a NaN never wins
            self.mse = mse
            self.state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def restore(self) -> None:
        if self.state is not None:
            self.model.load_state_dict(self.state)


def adding_test(
    seed: int, device: str, size: int = 1000, length: int = ADDING_LENGTH
) -> tuple[torch.Tensor, torch.Tensor]:
    """``size`` held-out sequences of the adding problem, drawn from ``seed + 1`` (training uses ``seed``)."""
    return adding_batch(size, length, torch.Generator().manual_seed(seed + 1), device)


def adding_validation(
    seed: int, device: str, size: int = 1000, length: int = ADDING_LENGTH
) -> tuple[torch.Tensor, torch.Tensor]:
    """``size`` validation sequences, drawn from ``seed + 2``: learning rates are chosen on these, so the
    test sequences (:func:`adding_test`) report numbers nothing was tuned on."""
    return adding_batch(size, length, torch.Generator().manual_seed(seed + 2), device)


def adding_mse(model: nn.Module, test: tuple[torch.Tensor, torch.Tensor]) -> float:
    """The model's mean squared error on held-out sequences (predicting 1 scores 1/6 ≈ 0.167)."""
    with torch.no_grad():
        return F.mse_loss(model(test[0]), test[1]).item()


def marked_weights(model: nn.Module, test: tuple[torch.Tensor, torch.Tensor]) -> tuple[float, float]:
    """How much of each marked value reaches the prediction: the least-squares fit ŷ ≈ a·v_first + b·v_second
    + c over the test sequences returns (a, b). The answer is a = b = 1. A network that cannot carry a value
    over a long lag has a ≈ 0 (at T = 30 the first mark lies 15-29 steps before the last), whatever it made
    of the near one, whose share (b = 1 alone scores MSE 1/12) moves the MSE but says nothing of the lag."""
    x = test[0]
    with torch.no_grad():
        y_hat = model(x).double()  # (N,)
    marked = x[..., 0][x[..., 1] > 0].view(-1, 2).double()  # (N, 2): the first, then the second marked value
    design = torch.cat([marked, torch.ones_like(marked[:, :1])], dim=1)  # (N, 3)
    a, b, _ = torch.linalg.lstsq(design.cpu(), y_hat.cpu()[:, None]).solution.squeeze(1).tolist()
    return a, b


# -- timing --------------------------------------------------------------------------------------------
def bench_recurrent(
    ctx: RunContext, variants: Callable[[int], list[tuple[str, nn.Module]]], batch: int = 32, hidden: int = 64
) -> None:
    """Forward + backward (the gradients of the input and every parameter) of each of ``variants(hidden)``,
    built afresh under the same seed for each length T, which grows ×4 (the quick run: 8 and 32, else 16,
    64, 256). The first variant at the first length is the baseline."""
    lengths = (8, 32) if ctx.quick else (16, 64, 256)
    for T in lengths:
        x = torch.randn(batch, T, hidden, device=ctx.device, requires_grad=True)
        torch.manual_seed(0)
        for i, (label, module) in enumerate(variants(hidden)):
            module = module.to(ctx.device)

            def step(module: nn.Module = module, x: torch.Tensor = x) -> object:
                out, _ = module(x)
                return torch.autograd.grad(out.square().mean(), [x, *module.parameters()])

            ctx.bench.measure(
                f"{label}, forward+backward, T = {T}",
                step,
                baseline=i == 0 and lengths[0] == T,
                tokens=batch * T,
                shape=(batch, T, hidden),
                dtype=x.dtype,
            )
