"""Elman's recurrent network at toy scale: exact against ``nn.RNN``, the temporal XOR it learns, and the
vanishing gradient that keeps it from the adding problem an LSTM solves.

check: ``RNN`` loads a randomly initialised ``nn.RNN``'s state_dict and equals it, output and h_n, forward
       and the gradients with respect to the input, h0 and every parameter, float64 then float32: T = 1,
       one sequence, two layers, time-major input, ReLU, with and without h0. Properties: an output depends
       on no later input (the Jacobian is lower triangular in time), and with the recurrent matrix's
       largest singular value σ < 1, ‖∂h_T/∂h_0‖ ≤ σ^T (tanh' ≤ 1): the bound behind the vanishing gradient.
train: (1) Elman's temporal XOR: a bit stream in which every third bit is the XOR of the two before it;
       trained to predict the next bit, the error falls at the predictable positions only (RMS error by
       position, as in Elman's figure 3). (2) The adding problem (T = 30): our RNN against ``nn.LSTM``
       (forget bias 1), same seed and batches (the quick run: at most 600 steps, each stopped once
       solved). The claim's statistic: the weight a of the first (far) marked value in the least-squares
       fit ŷ ≈ a·v_first + b·v_second + c on the test sequences, 1 for a network that carries it over the
       lag, 0 for one that forgets it, whatever it made of the near value (which moves the MSE). Then
       ‖∂loss/∂x_t‖ against t for both trained models: the LSTM's reaches the start of the sequence; the
       RNN's falls by orders of magnitude on most seeds, not all, so it is reported, not a target. Knobs:
       ``config.py`` (``context=false`` holds W_hh at zero: Elman's idea switched off).
bench: forward + backward of our RNN (a Python loop over time) against ``nn.RNN`` (a fused loop), for T
       growing ×4: both linear in T.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext
from readtrack.plugin_kit.recurrent import (
    CASES,
    LastStep,
    MakePair,
    adding_test,
    bench_recurrent,
    compare_recurrent,
    fit_scored,
    set_forget_bias,
)

from .config import Config
from .model import RNN

RNN_LR, LSTM_LR, LR_GRID = (
    1e-2,
    2e-2,
    (3e-3, 1e-2, 3e-2),
)  # LSTM: the validation pick of 1e-2/2e-2/3e-2 at 400 quick steps
XOR_HIDDEN, XOR_TRIPLES, XOR_LR = 8, 10, 1e-2
CARRIED = 0.5  # the far marked value's weight in the prediction: above, more than half of it is carried


def against_nn_rnn(nonlinearity: str) -> MakePair:
    """Our RNN and an ``nn.RNN`` (its own random initialisation, copied into ours by name)."""

    def make(I: int, H: int, layers: int, batch_first: bool) -> tuple[nn.Module, nn.Module]:
        ref = nn.RNN(I, H, layers, nonlinearity=nonlinearity, batch_first=batch_first)
        ours = RNN(I, H, layers, nonlinearity=nonlinearity, batch_first=batch_first)
        ours.load_state_dict(ref.state_dict())
        return ours, ref

    return make


def check(ctx: RunContext) -> None:
    compare_recurrent(ctx, "nn.RNN", against_nn_rnn("tanh"))
    compare_recurrent(ctx, "nn.RNN (ReLU)", against_nn_rnn("relu"), cases=CASES[:3])
    _check_causality(ctx)
    _check_gradient_bound(ctx)


def _check_causality(ctx: RunContext) -> None:
    """h_t is a function of x_1 … x_t only: ∂output_t/∂x_s is zero for every s > t and non-zero otherwise."""
    T = 8
    model = RNN(3, 5, num_layers=2).to(ctx.device, ctx.exact_dtype)
    x = torch.randn(1, T, 3, dtype=ctx.exact_dtype, device=ctx.device)
    J = torch.autograd.functional.jacobian(lambda x: model(x)[0], x)  # (1, T, H, 1, T, I)
    depends = J.abs().sum(dim=(0, 2, 3, 5)) > 0  # (T outputs, T inputs)
    lower = torch.ones(T, T, dtype=torch.bool, device=ctx.device).tril()
    ctx.check_property(
        f"output t depends on inputs 1 … t only (Jacobian, T = {T}, two layers)",
        bool(torch.equal(depends, lower)),
        f"{int(depends.sum())} dependencies, expected {int(lower.sum())}",
    )


def _check_gradient_bound(ctx: RunContext) -> None:
    """∂h_T/∂h_0 = ∏_t diag(1 − h_t²)·W_hh, so with |tanh'| ≤ 1 its norm is at most σ_max(W_hh)^T: a
    recurrent matrix with σ_max < 1 makes the gradient vanish at least exponentially with the distance."""
    T, sigma = 20, 0.8
    model = RNN(3, 6).to(ctx.device, ctx.exact_dtype)
    with torch.no_grad():
        W = model.get_parameter("weight_hh_l0")
        W.mul_(sigma / torch.linalg.matrix_norm(W, ord=2))  # largest singular value σ
    x = torch.randn(1, T, 3, dtype=ctx.exact_dtype, device=ctx.device)
    h0 = torch.randn(1, 1, 6, dtype=ctx.exact_dtype, device=ctx.device)
    J = torch.autograd.functional.jacobian(lambda h: model(x, h)[1][0, 0], h0)[:, 0, 0]  # (H, H)
    norm = float(torch.linalg.matrix_norm(J, ord=2))
    ctx.check_property(
        f"‖∂h_T/∂h_0‖ ≤ σ_max(W_hh)^T (σ = {sigma}, T = {T}): the vanishing-gradient bound",
        norm <= sigma**T * (1 + 1e-9),
        f"‖∂h_T/∂h_0‖ = {norm:.2e} ≤ σ^T = {sigma**T:.2e}",
        value=norm,
    )


# -- train ---------------------------------------------------------------------------------------------
def xor_stream(size: int, triples: int, g: torch.Generator, device: str = "cpu") -> torch.Tensor:
    """Elman's temporal XOR: ``size`` streams of ``triples`` triples (a, b, a XOR b), a and b random bits,
    as floats (size, 3·triples). Every third bit is predictable from the two before it; the others are not."""
    ab = torch.randint(0, 2, (size, triples, 2), generator=g)
    return torch.cat([ab, ab[..., :1] ^ ab[..., 1:]], dim=-1).flatten(1).float().to(device)


def without_context(rnn: nn.Module) -> nn.Module:
    """The ablation of Elman's idea: the recurrent matrix held at zero, so h_t sees x_t alone."""
    W_hh = rnn.get_parameter("weight_hh_l0")
    with torch.no_grad():
        W_hh.zero_()
    W_hh.requires_grad_(False)
    return rnn


def _train_xor(ctx: RunContext, cfg: Config) -> None:
    steps = cfg.xor_steps  # quick: 450; at 300 steps seeds 7 and 15 missed 0.2 (0.25, 0.22)
    torch.manual_seed(ctx.seed)
    rnn, head = RNN(1, XOR_HIDDEN).to(ctx.device), nn.Linear(XOR_HIDDEN, 1).to(ctx.device)
    if not cfg.context:
        without_context(rnn)
    opt = torch.optim.Adam([p for p in [*rnn.parameters(), *head.parameters()] if p.requires_grad], lr=XOR_LR)
    g = torch.Generator().manual_seed(ctx.seed)
    for step in range(steps):
        bits = xor_stream(32, XOR_TRIPLES, g, ctx.device)
        logits = head(rnn(bits[:, :-1, None])[0]).squeeze(-1)  # predict bit t + 1 from bits ≤ t
        loss = F.binary_cross_entropy_with_logits(logits, bits[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 20 == 0:
            ctx.metric("train loss (temporal XOR)", step, loss.item())
    bits = xor_stream(1000, XOR_TRIPLES, torch.Generator().manual_seed(ctx.seed + 1), ctx.device)
    with torch.no_grad():
        p = torch.sigmoid(head(rnn(bits[:, :-1, None])[0]).squeeze(-1))
    error = (p - bits[:, 1:]).square()  # (1000, 3·triples − 1): the error predicting bit t + 1
    rms = error.mean(dim=0).sqrt()
    for t in range(12):  # Elman's figure 3: RMS error over 12 consecutive predictions
        ctx.metric("RMS error predicting bit t (temporal XOR)", t + 1, rms[t].item())
    predictable = torch.arange(1, bits.shape[1], device=ctx.device) % 3 == 2  # the XOR bits
    at_xor = error[:, predictable].mean().sqrt().item()
    elsewhere = error[:, ~predictable].mean().sqrt().item()
    detail = f"RNN with {XOR_HIDDEN} hidden units, {steps} Adam steps on streams of {XOR_TRIPLES} triples"
    ctx.measured("RMS error predicting a random bit (chance is 0.5)", elsewhere, detail)
    ctx.target("RMS error predicting a XOR bit", at_xor, 0.2, higher_is_better=False, detail=detail)


def make_model(kind: str, seed: int, device: str, cfg: Config) -> LastStep:
    """Our RNN (without its context units when ``cfg.context`` is off), or ``nn.LSTM`` with the forget
    gate's bias at 1, seeded alike."""
    torch.manual_seed(seed)
    H = cfg.hidden
    if kind == "RNN":
        rnn = RNN(2, H)
        return LastStep(rnn if cfg.context else without_context(rnn), H).to(device)
    return LastStep(set_forget_bias(nn.LSTM(2, H, batch_first=True), 1.0), H).to(device)


def gradient_by_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """‖∂loss/∂x_t‖ for t = 1 … T (the norm over the batch and both channels): how much the loss can learn
    from each step of the input."""
    x = x.detach().clone().requires_grad_()
    (grad,) = torch.autograd.grad(F.mse_loss(model(x), y), x)  # (B, T, 2)
    return torch.linalg.vector_norm(grad, dim=(0, 2))  # (T,)


def _train_adding(ctx: RunContext, cfg: Config) -> None:
    steps, T = cfg.steps, cfg.length  # quick: at most `steps`, each run stopped once solved
    fit = partial(fit_scored, ctx, steps=steps, stop_when_solved=ctx.quick, length=T, batch=cfg.batch)
    test = adding_test(ctx.seed, ctx.device, length=T)
    rnn_lr, lstm_lr = (cfg.lr, cfg.lr) if cfg.lr else (RNN_LR, LSTM_LR)
    if not ctx.quick and not cfg.lr:  # the plain RNN's own best learning rate from a grid
        scores = {}
        for lr in LR_GRID:
            model = make_model("RNN", ctx.seed, ctx.device, cfg)
            scores[lr] = fit(model=model, lr=lr, label=f"RNN, lr {lr:g}", seed=ctx.seed).validation
            ctx.measured(f"RNN validation MSE, lr {lr:g}", scores[lr], f"{steps} steps, T = {T}")
        rnn_lr = min(scores, key=scores.__getitem__)  # chosen on validation sequences, reported on test ones
    scored, ratio = {}, {}
    for kind, lr in (("RNN", rnn_lr), ("LSTM", lstm_lr)):
        model = make_model(kind, ctx.seed, ctx.device, cfg)
        before = gradient_by_step(model, *test)
        scored[kind] = fit(model=model, lr=lr, label=f"{kind}, lr {lr:g}", seed=ctx.seed)
        after = gradient_by_step(model, *test)
        for t, value in enumerate(after.tolist()):
            ctx.metric(f"‖∂loss/∂x_t‖ after training ({kind})", t + 1, value)
        # The first marked value lies in the first half: how much gradient reaches it, against the last step.
        ratio[kind] = (after[: T // 2].mean() / after[-1]).item()
        start = (before[: T // 2].mean() / before[-1]).item()
        ctx.measured(f"{kind}: mean ‖∂loss/∂x_t‖ over the first half / at t = T, at initialisation", start)
        ctx.progress(len(scored), 2)
    rnn, lstm = scored["RNN"], scored["LSTM"]
    budget = f"at most {steps} Adam steps, stopped once solved" if ctx.quick else f"{steps} Adam steps"
    detail = f"T = {T}, hidden {cfg.hidden}, {budget}, best validation checkpoint"
    weight = "least squares ŷ ≈ a·(first marked value) + b·(second) + c on the test sequences"
    # The claim: a plain RNN does not carry a value over the lag; an LSTM does. The far value's weight a
    # says it alone: the MSE mixes in how much of the near value a network learnt (b = 1, a = 0 scores 1/12).
    # A name is the same on every seed (a multi-seed run lines numbers up by name): the rates, which the
    # full run picks per seed, go in the details.
    ctx.target(
        "RNN: weight of the far (first) marked value in its prediction",
        rnn.far,
        CARRIED,
        higher_is_better=False,
        detail=f"lr {rnn_lr:g}; {weight}: a = 1 carries it, 0 forgets it; near value b = {rnn.near:.2f}",
    )
    ctx.target(
        "nn.LSTM: the same weight, same batches",
        lstm.far,
        CARRIED,
        detail=f"lr {lstm_lr:g}; near value b = {lstm.near:.2f}",
    )
    ctx.target(
        f"nn.LSTM (lr {lstm_lr:g}): test MSE, same batches",
        lstm.test,
        0.05,
        higher_is_better=False,
        detail=f"{detail}; predicting 1 scores 1/6",
    )
    ctx.measured(
        "RNN: test MSE on the adding problem",
        rnn.test,
        f"lr {rnn_lr:g}; {detail}; reported: from 1/12 (the near value alone) to 1/6, it mixes both values",
    )
    # Reported, not a target: the RNN's gradient vanishes on some seeds and not on others (the page's
    # calibration block), where the RNN fails the task all the same. What holds on every seed is the LSTM's.
    ctx.measured(
        "RNN after training: mean ‖∂loss/∂x_t‖ over the first half / at t = T",
        ratio["RNN"],
        "reported, not a target: it vanishes on some seeds, not on others",
    )
    ctx.target(
        "nn.LSTM after training: the same ratio",
        ratio["LSTM"],
        0.1,
        detail="the gradient reaches the first marked value",
    )


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    _train_xor(ctx, cfg)
    _train_adding(ctx, cfg)


def bench(ctx: RunContext) -> None:
    def variants(hidden: int) -> list[tuple[str, nn.Module]]:
        ref = nn.RNN(hidden, hidden, batch_first=True)
        ours = RNN(hidden, hidden)
        ours.load_state_dict(ref.state_dict())
        return [("nn.RNN", ref), ("ours", ours)]

    bench_recurrent(ctx, variants)
