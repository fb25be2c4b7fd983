"""The shared code for paper plugins (readtrack.plugin_kit), tested once for every plugin that uses it."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from torch import nn

from readtrack.plugin_kit.checks import check_causal, check_close_or_rounding, compare_modules
from readtrack.plugin_kit.models import deep_mlp
from readtrack.plugin_kit.recurrent import (
    CASES,
    LastStep,
    adding_mse,
    adding_test,
    adding_validation,
    compare_recurrent,
    fit_adding,
    set_forget_bias,
)
from readtrack.plugin_kit.tasks import (
    IGNORE,
    MarkovChain,
    MarkovText,
    accuracy,
    adding_batch,
    lagged_copy_batch,
    reversal_batch,
    teacher_classes,
)
from readtrack.plugin_kit.timing import bench_layers
from readtrack.plugin_kit.transformer import TinyTransformer
from readtrack.runner.bench import BenchHarness
from readtrack.runner.context import RunContext


@pytest.fixture
def ctx() -> RunContext:
    context = RunContext(device="cpu", quick=True, seed=0, bench=BenchHarness("cpu", quick=True))
    context.begin_stage("check")
    return context


def test_teacher_classes_are_seeded_balanced_enough_and_linearly_separable() -> None:
    X, y = teacher_classes(2048, 32, 4, seed=3)
    X2, y2 = teacher_classes(2048, 32, 4, seed=3)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    assert not torch.equal(y, teacher_classes(2048, 32, 4, seed=4)[1])
    assert X.shape == (2048, 32) and set(y.tolist()) == {0, 1, 2, 3}
    assert torch.bincount(y).min() > 2048 / 4 / 3  # no class is starved
    # Separable: least squares on one-hot targets already classifies most points.
    W = torch.linalg.lstsq(X, nn.functional.one_hot(y).double().float()).solution
    assert ((X @ W).argmax(-1) == y).float().mean() > 0.8


def test_reversal_batch_targets_are_the_reversed_sources() -> None:
    src, tgt = reversal_batch(8, 5, torch.Generator().manual_seed(0), vocab=7)
    assert src.shape == tgt.shape == (8, 5) and int(src.max()) < 7
    assert torch.equal(tgt, src.flip(-1))


def test_lagged_copy_targets_the_token_lag_steps_back_and_accuracy_skips_the_rest() -> None:
    x, y = lagged_copy_batch(4, 10, 3, torch.Generator().manual_seed(0), vocab=5)
    assert (y[:, :3] == IGNORE).all() and torch.equal(y[:, 3:], x[:, :-3]) and int(x.max()) < 5
    perfect = torch.nn.functional.one_hot(y.clamp_min(0), 5).float()
    assert accuracy(perfect, y) == 1.0
    wrong = perfect.roll(1, dims=-1)  # every scored prediction off by one class
    assert accuracy(wrong, y) == 0.0


def test_deep_mlp_keeps_the_signal_scale_through_depth() -> None:
    torch.manual_seed(0)
    net = deep_mlp(24, 256, 32, 4)
    x = torch.randn(512, 32)
    with torch.no_grad():
        hidden = net[:-1](x)  # after the last ReLU
    # He initialisation: E[h²] stays near E[x²] = 1 (PyTorch's default init would shrink it ~3x a layer).
    assert 0.3 < hidden.square().mean().item() < 3.0
    normed = deep_mlp(2, 8, 4, 3, nn.LayerNorm)
    assert [type(m).__name__ for m in normed] == ["Linear", "LayerNorm", "ReLU"] * 2 + ["Linear"]


def test_compare_modules_passes_equal_modules_and_catches_a_difference(ctx: RunContext) -> None:
    compare_modules(ctx, "nn.LayerNorm", lambda: nn.LayerNorm(8), lambda: nn.LayerNorm(8), _input)
    assert ctx.result.verdict() == "passed" and len(ctx.result.comparisons) == 4  # 2 dtypes × (fwd, grads)
    assert "gradients (input, weight, bias)" in ctx.result.comparisons[1].name

    class Off(nn.LayerNorm):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x) + 1e-3 * x  # a small error: caught in float64 and float32

    ctx.begin_stage("check")
    compare_modules(ctx, "nn.LayerNorm", lambda: Off(8), lambda: nn.LayerNorm(8), _input)
    assert [c.passed for c in ctx.result.comparisons] == [False, False, False, False]


def test_check_close_or_rounding_uses_the_tolerance_when_exact_and_the_truth_only_in_low_precision(
    ctx: RunContext,
) -> None:
    calls: list[int] = []

    def truth() -> torch.Tensor:
        calls.append(1)
        return torch.tensor([1.0, 2.0], dtype=torch.float64)

    exact = torch.tensor([1.0, 2.0], dtype=torch.float64)
    check_close_or_rounding(ctx, "exact", exact, exact + 1e-3, truth)  # float64: the tolerance decides
    assert (
        not calls and ctx.result.comparisons[-1].kind != "property" and not ctx.result.comparisons[-1].passed
    )
    ours, reference = torch.tensor([1.0, 2.001]), torch.tensor([1.0, 2.002])  # float32: 2× the reference's
    check_close_or_rounding(ctx, "low", ours, reference, truth)
    assert calls == [1] and ctx.result.comparisons[-1].passed
    assert ctx.result.comparisons[-1].name == "low: error vs float64 at most 2× the reference's"
    check_close_or_rounding(ctx, "low", reference + 0.01, reference, truth)  # 6× the reference's error
    assert not ctx.result.comparisons[-1].passed


def test_check_causal_passes_a_causal_map_and_catches_a_leak_or_a_blind_spot(ctx: RunContext) -> None:
    linear = nn.Linear(4, 3).double()
    x = torch.randn(1, 6, 4, dtype=torch.float64)
    reach = check_causal(ctx, "a running sum", lambda x: linear(x).cumsum(1), x)
    assert ctx.result.verdict() == "passed" and reach.shape == (6, 6)
    assert torch.equal(reach.triu(1), torch.zeros(6, 6, dtype=torch.float64))

    ctx.begin_stage("check")
    check_causal(ctx, "a shift left", lambda x: linear(x).roll(-1, dims=1), x)  # reads the next position
    assert [c.passed for c in ctx.result.comparisons] == [False, False]  # a leak, and i no longer reads i
    ctx.begin_stage("check")
    check_causal(ctx, "one token", lambda x: linear(x).cumsum(1), x[:, :1])  # N = 1: no j > i at all
    assert ctx.result.verdict() == "passed"


def _input(dtype: torch.dtype) -> torch.Tensor:
    return torch.randn(3, 8, dtype=dtype)


def test_bench_layers_times_forward_and_training_step_without_accumulating_grads(ctx: RunContext) -> None:
    ctx.begin_stage("bench")
    x = torch.randn(64, 32)
    layer = nn.Linear(32, 32)
    bench_layers(ctx, [("nn.Linear", layer), ("nn.LayerNorm", nn.LayerNorm(32))], x)
    rows = ctx.result.bench
    assert [r.label for r in rows] == [
        "nn.Linear forward",
        "nn.Linear forward+backward",
        "nn.LayerNorm forward",
        "nn.LayerNorm forward+backward",
    ]
    # each step against the first variant's same step: a training step's ratio is never a forward's
    assert [r.baseline for r in rows] == [True, True, False, False]
    assert rows[3].ratio == rows[3].median_s / rows[1].median_s
    assert all(r.error is None and r.median_s > 0 and r.unit == "rows/s" for r in rows)
    assert layer.weight.grad is None and x.grad is None  # gradients were returned, never accumulated


def test_markov_chain_entropy_rate_is_exact() -> None:
    # Order 1 over two symbols, p(0→1) = a, p(1→0) = b: π = (b, a)/(a + b), H = π0·h(a) + π1·h(b).
    a, b = 0.3, 0.1
    chain = MarkovChain(2, 1, torch.tensor([[1 - a, a], [b, 1 - b]], dtype=torch.float64))

    def h(p: float) -> float:
        return -(p * math.log(p) + (1 - p) * math.log(1 - p))

    assert chain.entropy_rate == pytest.approx((b * h(a) + a * h(b)) / (a + b), rel=1e-12)
    torch.testing.assert_close(chain.stationary(), torch.tensor([b, a], dtype=torch.float64) / (a + b))


def test_markov_chain_samples_follow_their_transitions_and_loss_floor() -> None:
    chain = MarkovChain.random(vocab=16, order=2, seed=0)
    assert chain.transitions.shape == (256, 16) and 0.8 < chain.entropy_rate < 1.6 < math.log(16)
    assert torch.equal(chain.transitions, MarkovChain.random(vocab=16, order=2, seed=0).transitions)
    x = chain.sample(64, 400, torch.Generator().manual_seed(1))
    assert x.shape == (64, 400) and int(x.max()) < 16
    # The true model's average loss on its own samples converges to the entropy rate.
    context = x[:, :-2] * 16 + x[:, 1:-1]
    nll = -chain.transitions[context, x[:, 2:]].log().mean().item()
    assert nll == pytest.approx(chain.entropy_rate, abs=0.05)


def test_markov_text_floor_is_the_chains_own_loss_and_the_true_model_reaches_it() -> None:
    text = MarkovText.make(seed=3, length=20, pool=64, held_out=200)
    assert text.pool.shape == (64, 20) and text.held_out.shape == (200, 20)
    assert abs(text.floor - text.chain.entropy_rate) < 0.1  # a sample mean of −log p, near H

    class TrueChain(nn.Module):
        """Predicts x_t with the chain's own probabilities given x_(t−2), x_(t−1)."""

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            context = torch.zeros_like(tokens)
            context[:, 1:] = tokens[:, :-1] * 16 + tokens[:, 1:]
            return text.chain.transitions[context].log()  # (B, N, vocab): position t predicts x_(t+1)

    assert math.isclose(text.held_out_loss(TrueChain()), text.floor, rel_tol=1e-12)
    same = text.batch(5, torch.Generator().manual_seed(0))
    assert torch.equal(same, text.batch(5, torch.Generator().manual_seed(0)))


def test_adding_batch_marks_one_value_in_each_half_and_targets_their_sum() -> None:
    x, y = adding_batch(500, 31, torch.Generator().manual_seed(0))
    assert x.shape == (500, 31, 2) and y.shape == (500,) and x.dtype == y.dtype == torch.float32
    values, marks = x[..., 0], x[..., 1]
    assert bool(((values >= 0) & (values <= 1)).all())
    assert set(marks.unique().tolist()) == {0.0, 1.0}
    first, second = marks[:, :15], marks[:, 15:]  # halves: t < length // 2 = 15, and the rest
    assert torch.equal(first.sum(1), torch.ones(500)) and torch.equal(second.sum(1), torch.ones(500))
    torch.testing.assert_close(y, (values * marks).sum(1))
    # Every position of each half gets marked sometimes; predicting the mean scores Var = 1/6.
    assert bool((marks.sum(0) > 0).all())
    assert abs(y.var().item() - 1 / 6) < 0.03 and abs(y.mean().item() - 1) < 0.05
    same, _ = adding_batch(500, 31, torch.Generator().manual_seed(0))
    assert torch.equal(x, same)


def test_adding_batch_handles_the_shortest_length_and_refuses_shorter() -> None:
    x, y = adding_batch(8, 2, torch.Generator().manual_seed(1), "cpu")
    assert torch.equal(x[..., 1], torch.ones(8, 2))
    torch.testing.assert_close(y, x[..., 0].sum(1))
    with pytest.raises(ValueError, match="length"):
        adding_batch(8, 1, torch.Generator().manual_seed(1))


def _lstm_pair(n_in: int, H: int, layers: int, batch_first: bool) -> tuple[nn.Module, nn.Module]:
    ours = nn.LSTM(n_in, H, layers, batch_first=batch_first)
    ref = nn.LSTM(n_in, H, layers, batch_first=batch_first)
    ref.load_state_dict(ours.state_dict())
    return ours, ref


def test_compare_recurrent_passes_equal_modules_with_either_state_and_catches_a_difference(
    ctx: RunContext,
) -> None:
    compare_recurrent(ctx, "nn.LSTM", _lstm_pair, states=2)
    names = [c.name for c in ctx.result.comparisons]
    assert ctx.result.verdict() == "passed" and len(names) == 2 * 2 * len(CASES)  # dtypes × cases × 2
    assert names[0].startswith("output, h_n, c_n vs nn.LSTM, B=3 T=7") and "float64" in names[0]
    assert any(
        "(T, B, I), (h0, c0)" in n and n.startswith("gradients (input, (h0, c0), 8 parameters)")
        for n in names
    )

    class OnlyHIsWrong(nn.LSTM):
        def forward(self, x: Any, state: Any = None) -> Any:
            out, (h, c) = super().forward(x, state)
            return out, (h * 1.001, c)  # the final h_n off by 0.1 %, the output and c_n right

    def broken_pair(n_in: int, H: int, layers: int, batch_first: bool) -> tuple[nn.Module, nn.Module]:
        ours = nn.LSTM(n_in, H, layers, batch_first=batch_first)
        ref = OnlyHIsWrong(n_in, H, layers, batch_first=batch_first)
        ref.load_state_dict(ours.state_dict())
        return ours, ref

    ctx.begin_stage("check")
    compare_recurrent(ctx, "broken", broken_pair, states=2, cases=CASES[:2])
    assert [c.passed for c in ctx.result.comparisons] == [False] * 8


def test_compare_recurrent_runs_the_reference_without_cudnn_and_ours_as_configured(ctx: RunContext) -> None:
    """cuDNN's float32 recurrent layers err like TF32 on a GPU with TF32 off (an H200: up to 2.8x the
    check's tolerance from float64, benchmarks/recurrent_precision.py), so the reference runs on torch's own
    kernels; ours keeps the settings it was given. On the CPU the flag changes no number, so the test reads
    the flag at each call."""
    seen: dict[str, list[bool]] = {"ours": [], "reference": []}

    class Recording(nn.LSTM):
        def __init__(self, role: str, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.role = role

        def forward(self, x: Any, state: Any = None) -> Any:
            seen[self.role].append(torch.backends.cudnn.enabled)
            return super().forward(x, state)

    def pair(n_in: int, H: int, layers: int, batch_first: bool) -> tuple[nn.Module, nn.Module]:
        ours = Recording("ours", n_in, H, layers, batch_first=batch_first)
        ref = Recording("reference", n_in, H, layers, batch_first=batch_first)
        ref.load_state_dict(ours.state_dict())
        return ours, ref

    assert torch.backends.cudnn.enabled
    compare_recurrent(ctx, "recording", pair, states=2, cases=CASES[:2])
    assert ctx.result.verdict() == "passed"
    assert seen["reference"] and not any(seen["reference"])
    assert seen["ours"] and all(seen["ours"])
    assert torch.backends.cudnn.enabled  # restored


def test_the_adding_problem_helpers_train_a_last_step_regressor_and_report_when_it_is_solved() -> None:
    torch.manual_seed(0)
    lstm = set_forget_bias(nn.LSTM(2, 8, num_layers=2, batch_first=True), 1.0)
    for layer in range(2):
        assert torch.equal(lstm.get_parameter(f"bias_ih_l{layer}")[8:16], torch.ones(8))
        assert torch.equal(lstm.get_parameter(f"bias_hh_l{layer}")[8:16], torch.zeros(8))
    model = LastStep(lstm, 8)
    test = adding_test(0, "cpu", size=50)
    assert model(test[0]).shape == (50,)
    logged: list[tuple[int, float]] = []
    before = adding_mse(model, test)
    taken = fit_adding(model, 1e-2, 45, seed=0, device="cpu", log=lambda s, v: logged.append((s, v)))
    assert taken == 45  # 45 steps do not solve it: "not solved" is the budget
    assert [s for s, _ in logged] == [0, 20, 40] and adding_mse(model, test) < before
    # The same seed gives the same batches: a second model trained alike ends identical.
    torch.manual_seed(0)
    twin = LastStep(set_forget_bias(nn.LSTM(2, 8, num_layers=2, batch_first=True), 1.0), 8)
    fit_adding(twin, 1e-2, 45, seed=0, device="cpu")
    assert adding_mse(twin, test) == adding_mse(model, test)


def test_validation_and_test_sequences_of_the_adding_problem_are_different_draws() -> None:
    """Learning rates are chosen on the validation draw: it must be neither the test draw nor a training
    batch of the same seed (training draws from ``seed``, test from ``seed + 1``, validation ``seed + 2``)."""
    validation, test = adding_validation(0, "cpu", size=64), adding_test(0, "cpu", size=64)
    first_batch = adding_batch(64, validation[0].shape[1], torch.Generator().manual_seed(0), "cpu")
    assert validation[0].shape == test[0].shape
    assert not torch.equal(validation[0], test[0]) and not torch.equal(validation[0], first_batch[0])
    assert torch.equal(adding_validation(0, "cpu", size=64)[1], validation[1])  # repeatable


class _Constant(nn.Module):
    """A "recurrent" module whose last step already holds the answer: solved at once."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        total = (x[..., 0] * x[..., 1]).sum(1, keepdim=True)  # the sum of the marked values
        return total[:, None, :].expand(-1, x.shape[1], 1), None


def test_fit_adding_stops_at_the_first_step_the_mean_of_20_is_low_enough() -> None:
    model = LastStep(_Constant(), 1)
    with torch.no_grad():
        model.head.weight.fill_(1.0)
        model.head.bias.zero_()
    assert adding_mse(model, adding_test(0, "cpu")) < 1e-12
    steps = fit_adding(model, 0.0, 100, seed=0, device="cpu", stop_when_solved=True)
    assert steps == 19  # the first step with 20 losses to average


def test_markov_text_fit_trains_on_the_seeds_batches_and_logs_every_10_steps() -> None:
    text = MarkovText.make(0, vocab=8, length=16, pool=256, held_out=64)
    logged: list[tuple[int, float]] = []
    models = []
    for _ in range(2):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Embedding(8, 16), nn.Linear(16, 8))  # a bigram model
        before = text.held_out_loss(model)
        opt = torch.optim.Adam(model.parameters(), lr=3e-2)
        schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)
        text.fit(model, opt, 25, seed=3, schedule=schedule, log=lambda s, v: logged.append((s, v)))
        assert text.held_out_loss(model) < before and schedule.last_epoch == 25
        models.append(model)
    assert [s for s, _ in logged] == [0, 10, 20] * 2 and logged[:3] == logged[3:]  # same seed, same run
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(a, b)


def test_tiny_transformer_is_causal_by_default_and_takes_any_mask() -> None:
    torch.manual_seed(0)
    model = TinyTransformer(vocab=16, max_len=12, d_model=32, n_heads=4, layers=2).double()
    x = torch.randint(0, 16, (2, 9))
    changed = x.clone()
    changed[:, 5] = (changed[:, 5] + 1) % 16
    with torch.no_grad():
        out, out_changed = model(x), model(changed)
        assert torch.equal(out[:, :5], out_changed[:, :5])  # positions before 5 cannot see it
        assert not torch.allclose(out[:, 5:], out_changed[:, 5:])
        causal = torch.ones(9, 9, dtype=torch.bool).tril()
        assert torch.allclose(model(x, causal), out, atol=1e-12)  # the explicit causal mask is the default
        full = torch.ones(9, 9, dtype=torch.bool)
        assert not torch.allclose(model(x, full)[:, :5], model(changed, full)[:, :5])  # bidirectional sees it
        assert model.hidden(x).shape == (2, 9, 32)
    with pytest.raises(ValueError, match="longer than max_len 12"):
        model(torch.zeros(1, 13, dtype=torch.int64))


def test_tiny_transformer_decodes_with_a_cache_as_its_full_forward_does() -> None:
    torch.manual_seed(0)
    model = TinyTransformer(vocab=16, max_len=20, d_model=32, n_heads=4, layers=2).double()
    x = torch.randint(0, 16, (3, 11))
    with torch.no_grad():
        first, past = model.forward_cached(x[:, :6], 0)
        rest, past = model.forward_cached(x[:, 6:], 6, past)
        torch.testing.assert_close(torch.cat([first, rest], dim=1), model(x))  # causal, SDPA's path
        assert [k.shape for k, _ in past] == [(3, 4, 11, 8)] * 2
        one_by_one, past = [], []
        for t in range(11):
            logits, past = model.forward_cached(x[:, t : t + 1], t, past)
            one_by_one.append(logits)
        torch.testing.assert_close(torch.cat(one_by_one, dim=1), model(x))
        bidirectional = torch.ones(11, 11, dtype=torch.bool)
        torch.testing.assert_close(model.forward_cached(x, 0, mask=bidirectional)[0], model(x, bidirectional))


def test_tiny_transformer_uses_gpt2_init_and_learns_markov_text() -> None:
    torch.manual_seed(0)
    model = TinyTransformer(vocab=16, max_len=32, d_model=64, n_heads=4, layers=2)
    fc, proj = model.blocks[0].fc, model.blocks[1].proj
    assert isinstance(fc, nn.Linear) and isinstance(proj, nn.Linear)
    assert fc.weight.std().item() == pytest.approx(0.02, rel=0.1)
    assert proj.weight.std().item() == pytest.approx(0.02 / 2, rel=0.1)  # 1/√(2·2 layers)
    text = MarkovText.make(0, pool=1024, held_out=128)
    before = text.held_out_loss(model)
    text.fit(model, torch.optim.AdamW(model.parameters(), lr=3e-3), steps=300, seed=0)
    after = text.held_out_loss(model)
    assert before > 2.5 and after < before - 1.0  # 2.81 → 1.49 nats measured; the chain's floor is 1.19


def test_rates_train_the_grid_or_the_quick_pick_and_choose_on_validation() -> None:
    from readtrack.plugin_kit import rates

    grid = (1e-3, 3e-3, 1e-2)
    assert rates.rates(RunContext(device="cpu", quick=False, seed=0), grid, 3e-3) == grid
    assert rates.rates(RunContext(device="cpu", quick=True, seed=0), grid, 3e-3) == (3e-3,)
    grid_quick = RunContext(device="cpu", quick=True, seed=0, options={"impl": "grid"})
    assert rates.rates(grid_quick, grid, 3e-3) == grid
    loss = {1e-3: 0.5, 3e-3: 0.2, 1e-2: 0.2}
    assert rates.best(loss) == 3e-3  # the lowest; the first of the grid on a tie
    assert rates.best({1e-3: 0.5, 3e-3: 0.9}, higher_is_better=True) == 3e-3
    assert (
        rates.choice(loss, ".2f")
        == "lr 0.003, the best on validation of 0.001: 0.50, 0.003: 0.20, 0.01: 0.20"
    )


def test_warmup_cosine_rises_linearly_to_one_then_falls_to_zero_and_equals_torchs_cosine() -> None:
    from functools import partial

    from readtrack.plugin_kit import rates

    factor = partial(rates.warmup_cosine, steps=100, warmup=0.1)
    assert [factor(s) for s in range(10)] == pytest.approx([(s + 1) / 10 for s in range(10)])
    # after the warm-up: torch's CosineAnnealingLR from 1 to 0 over the remaining 90 updates
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=90)
    for s in range(10, 100):
        assert factor(s) == pytest.approx(opt.param_groups[0]["lr"], abs=1e-12)
        opt.step()
        cosine.step()
    assert factor(99) < 1e-3
    assert rates.warmup_cosine(0, steps=5, warmup=0.0) == 1.0  # at least one warm-up update
    assert rates.warmup_cosine(0, steps=1, warmup=1.0) == 1.0  # no division by zero
