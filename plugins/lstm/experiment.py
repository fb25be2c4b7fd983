"""The LSTM at toy scale: exact against ``nn.LSTM``, the constant error carousel, and the adding problem at
a length where a plain RNN fails.

check: ``LSTM`` loads a randomly initialised ``nn.LSTM``'s state_dict and equals it, output, h_n and c_n,
       forward and the gradients with respect to the input, h0, c0 and every parameter, float64 then
       float32: T = 1, one sequence, two layers, time-major input, with and without (h0, c0). Property:
       the carousel. With the recurrent weights at zero, ∂c_T/∂c_0 is exactly diag(∏_t f_t): the cell
       state passes back through products of gates only, no weight matrix and no squashing.
train: the adding problem (T = 30, values in [0, 1], target the sum of the two marked ones): our LSTM
       (forget bias 1) against ``nn.RNN`` (tanh), same seed, same batches, each at its own best learning
       rate from the same grid (the full run sweeps it, 800 steps; the quick run uses fixed rates, at most
       800 steps, each run stopped once solved); test MSE and the steps to solve (mean batch MSE over 20
       steps ≤ 0.01). The full run adds the forget-gate bias A/B, 1 against 0, on three seeds, reported
       as measured: the steps to solve. The quick run leaves it out: our Python-loop LSTM trains 3× slower
       than nn.LSTM and more LSTM runs break its budget.
bench: forward + backward of our LSTM (a Python loop over time) against ``nn.LSTM`` (a fused C++ loop),
       for T growing ×4: both linear in T.
"""

from __future__ import annotations

import torch
from torch import nn

from readtrack.context import RunContext, dtype_name
from readtrack.plugin_kit.recurrent import (
    ADDING_LENGTH,
    QUICK_BUDGET,
    SOLVED,
    LastStep,
    bench_recurrent,
    compare_recurrent,
    fit_scored,
    set_forget_bias,
)

from .model import LSTM

HIDDEN = 32
LR_GRID = (3e-3, 1e-2, 3e-2)
QUICK_LR = {
    "LSTM": 2e-2,
    "RNN": 1e-2,
}  # LSTM: the validation pick of 1e-2 / 2e-2 / 3e-2 at 400 quick steps (seeds 0-4)


def against_nn_lstm(I: int, H: int, layers: int, batch_first: bool) -> tuple[nn.Module, nn.Module]:
    """Our LSTM and an ``nn.LSTM`` (its own random initialisation, copied into ours by name)."""
    ref = nn.LSTM(I, H, layers, batch_first=batch_first)
    ours = LSTM(I, H, layers, batch_first=batch_first)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def check(ctx: RunContext) -> None:
    compare_recurrent(ctx, "nn.LSTM", against_nn_lstm, states=2)
    _check_carousel(ctx)


def _check_carousel(ctx: RunContext) -> None:
    """With W_hh = 0 the gates see only the input, and c_T = (∏ f_t) c_0 + terms free of c_0: the Jacobian
    ∂c_T/∂c_0 must be diagonal with the products of the forget gates, computed here from the gates alone."""
    T, I, H = 25, 3, 5
    model = LSTM(I, H).to(ctx.device, ctx.exact_dtype)
    with torch.no_grad():
        model.get_parameter("weight_hh_l0").zero_()
        model.get_parameter("bias_ih_l0")[H : 2 * H] += (
            2.0  # forget gates near 0.9, so that the product is not negligible
        )
    x = torch.randn(1, T, I, dtype=ctx.exact_dtype, device=ctx.device)
    h0 = torch.randn(1, 1, H, dtype=ctx.exact_dtype, device=ctx.device)
    c0 = torch.randn(1, 1, H, dtype=ctx.exact_dtype, device=ctx.device)
    J = torch.autograd.functional.jacobian(lambda c: model(x, (h0, c))[1][1][0, 0], c0)[:, 0, 0]  # (H, H)
    W_if = model.get_parameter("weight_ih_l0")[H : 2 * H]
    b_f = model.get_parameter("bias_ih_l0")[H : 2 * H] + model.get_parameter("bias_hh_l0")[H : 2 * H]
    f = torch.sigmoid(x[0] @ W_if.T + b_f)  # (T, H): the forget gates, σ(W_if x_t + b_f)
    ctx.check_close(
        f"the carousel: ∂c_T/∂c_0 = diag(∏_t f_t) with W_hh = 0 (T = {T}, {dtype_name(ctx.exact_dtype)})",
        J,
        torch.diag(f.prod(dim=0)),
    )


# -- train ---------------------------------------------------------------------------------------------
def make_model(kind: str, seed: int, device: str, forget_bias: float = 1.0) -> LastStep:
    """Our LSTM with b_f = ``forget_bias``, or ``nn.RNN``, seeded alike."""
    torch.manual_seed(seed)
    if kind == "RNN":
        return LastStep(nn.RNN(2, HIDDEN, batch_first=True), HIDDEN).to(device)
    return LastStep(set_forget_bias(LSTM(2, HIDDEN), forget_bias), HIDDEN).to(device)


def train(ctx: RunContext) -> None:
    # The quick run: at most QUICK_BUDGET steps, each run stopping once solved (the LSTM leaves the plateau
    # of the constant prediction late on some seeds); the full run trains every rate for 800 steps.
    steps = QUICK_BUDGET if ctx.quick else 800
    budget = f"at most {steps} Adam steps, stopped once solved" if ctx.quick else f"{steps} Adam steps"
    detail = f"T = {ADDING_LENGTH}, hidden {HIDDEN}, {budget}, best validation checkpoint"
    mse, solved, lr = {}, {}, dict(QUICK_LR)
    for kind in ("LSTM", "RNN"):
        runs = {}
        for rate in [lr[kind]] if ctx.quick else LR_GRID:  # the full run: each model's best rate of the grid
            model = make_model(kind, ctx.seed, ctx.device)
            runs[rate] = fit_scored(
                ctx, model, rate, steps, f"{kind}, lr {rate:g}", ctx.seed, stop_when_solved=ctx.quick
            )
            if not ctx.quick:
                ctx.measured(f"{kind} validation MSE, lr {rate:g}", runs[rate][0], detail)
        lr[kind] = min(runs, key=lambda rate: runs[rate][0])  # on validation sequences, never the test ones
        _, mse[kind], solved[kind] = runs[lr[kind]]
        ctx.progress(len(mse), 2 if ctx.quick else 3)
    # Names are the same on every seed (a multi-seed run lines numbers up by name): the full run picks the
    # rates per seed, so they go in the details.
    ctx.target(
        "LSTM (forget bias 1): test MSE on the adding problem",
        mse["LSTM"],
        0.05 if ctx.quick else 0.01,
        higher_is_better=False,
        detail=f"lr {lr['LSTM']:g}; {detail}; predicting 1 scores 1/6 ≈ 0.167",
    )
    ctx.target(
        "nn.RNN: test MSE, same batches",
        mse["RNN"],
        0.1,
        detail=f"lr {lr['RNN']:g}; the plain RNN stays near the constant prediction",
    )
    for kind in ("LSTM", "RNN"):
        ctx.measured(
            f"{kind}: steps to solve",
            solved[kind],
            f"until the mean batch MSE of 20 steps ≤ {SOLVED} ({steps}: not solved)",
        )
    if not ctx.quick:  # our LSTM trains 3× slower than nn.LSTM: more LSTM runs break the quick budget
        _forget_bias_ab(ctx, lr["LSTM"], steps, solved["LSTM"])


def _forget_bias_ab(ctx: RunContext, lr: float, steps: int, solved_at_seed: int) -> None:
    """The forget-gate bias at 0 against 1 (Gers et al. 2000; Jozefowicz et al. 2015) on seeds s, s + 1,
    s + 2: the same batches and learning rate, steps to solve (each run stops once solved), reported as
    measured: the effect is small at T = 30."""
    seeds = [ctx.seed + i for i in range(3)]
    taken: dict[float, list[int]] = {1.0: [], 0.0: []}
    for bias in (1.0, 0.0):
        for seed in seeds:
            if bias == 1.0 and seed == ctx.seed:  # the main run above, which did not stop early
                taken[bias].append(solved_at_seed)
                continue
            model = make_model("LSTM", seed, ctx.device, forget_bias=bias)
            label = f"LSTM, forget bias {bias:g}"
            taken[bias].append(fit_scored(ctx, model, lr, steps, label, seed, stop_when_solved=True)[2])
    ctx.progress(3, 3)
    for bias in (1.0, 0.0):
        ctx.measured(  # the seeds in the detail: seeds line up by name in a multi-seed run
            f"LSTM, forget bias {bias:g}: mean steps to solve (3 seeds from the run's)",
            sum(taken[bias]) / len(seeds),
            f"seeds {seeds[0]}-{seeds[-1]}: {', '.join(str(n) for n in taken[bias])}; "
            f"lr {lr:g}, budget {steps}",
        )


def bench(ctx: RunContext) -> None:
    def variants(hidden: int) -> list[tuple[str, nn.Module]]:
        ref = nn.LSTM(hidden, hidden, batch_first=True)
        ours = LSTM(hidden, hidden)
        ours.load_state_dict(ref.state_dict())
        return [("nn.LSTM", ref), ("ours", ours)]

    bench_recurrent(ctx, variants)
