"""The Transformer plugin: eq. 1 and multi-head attention equal PyTorch's on more shapes, positions of any
width, the paper's optimiser and learning-rate schedule, checkpoint averaging, and a check that fails for a
missing scale or a peeking mask."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.transformer.experiment import average_checkpoints, noam_rate, paper_optimizer
from readtrack_plugins.transformer.model import (
    FeedForward,
    MultiHeadAttention,
    Transformer,
    TransformerConfig,
    scaled_dot_product_attention,
    sinusoidal_positions,
)
from torch import nn

from readtrack.testing import failures, run_stage


@pytest.mark.parametrize(("L", "S"), [(1, 1), (7, 7), (5, 12), (12, 5)])
def test_attention_equals_torch_for_every_mask_kind(L: int, S: int) -> None:
    g = torch.Generator().manual_seed(L * 100 + S)
    q = torch.randn(2, 3, L, 8, generator=g, dtype=torch.float64)
    k, v = (torch.randn(2, 3, S, 8, generator=g, dtype=torch.float64) for _ in range(2))
    allowed = torch.rand(L, S, generator=g) < 0.6
    allowed[:, 0] = True
    for kwargs in (
        {},
        {"attn_mask": allowed},
        {"attn_mask": torch.randn(L, S, generator=g, dtype=torch.float64)},
        {"is_causal": True},
        {"scale": 0.2},
    ):
        torch.testing.assert_close(
            scaled_dot_product_attention(q, k, v, **kwargs), F.scaled_dot_product_attention(q, k, v, **kwargs)
        )


def test_boolean_mask_true_means_attend() -> None:
    q, k = torch.zeros(1, 1, 1, 4), torch.zeros(1, 1, 3, 4)
    v = torch.tensor([[[[1.0], [10.0], [100.0]]]])
    only_middle = torch.tensor([[False, True, False]])
    assert scaled_dot_product_attention(q, k, v, attn_mask=only_middle).item() == 10.0


def test_mask_and_is_causal_together_are_refused() -> None:
    q = torch.zeros(1, 2, 4)
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        scaled_dot_product_attention(q, q, q, attn_mask=torch.ones(2, 2, dtype=torch.bool), is_causal=True)


def _copied_reference(ours: MultiHeadAttention) -> nn.MultiheadAttention:
    d_model = ours.W_q.in_features
    ref = nn.MultiheadAttention(d_model, ours.num_heads, batch_first=True, dtype=ours.W_q.weight.dtype)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([ours.W_q.weight, ours.W_k.weight, ours.W_v.weight]))
        ref.in_proj_bias.copy_(torch.cat([ours.W_q.bias, ours.W_k.bias, ours.W_v.bias]))
        ref.out_proj.weight.copy_(ours.W_o.weight)
        ref.out_proj.bias.copy_(ours.W_o.bias)
    return ref


@pytest.mark.parametrize(("d_model", "heads", "L", "S"), [(16, 1, 5, 5), (32, 4, 9, 6), (24, 8, 3, 11)])
def test_multi_head_attention_equals_nn_multihead_attention(d_model: int, heads: int, L: int, S: int) -> None:
    torch.manual_seed(0)
    ours = MultiHeadAttention(d_model, heads).double()
    ref = _copied_reference(ours)
    x = torch.randn(2, L, d_model, dtype=torch.float64, requires_grad=True)
    m = torch.randn(2, S, d_model, dtype=torch.float64)
    out = ours(x, m, m)
    expected = ref(x, m, m, need_weights=False)[0]
    torch.testing.assert_close(out, expected)
    (dx,) = torch.autograd.grad(out.square().sum(), x)
    (dx_ref,) = torch.autograd.grad(expected.square().sum(), x)
    torch.testing.assert_close(dx, dx_ref)


def test_causal_self_attention_matches_nn_with_the_inverted_mask() -> None:
    torch.manual_seed(1)
    ours = MultiHeadAttention(16, 2).double()
    ref = _copied_reference(ours)
    x = torch.randn(3, 6, 16, dtype=torch.float64)
    blocked = ~torch.ones(6, 6, dtype=torch.bool).tril()  # nn.MultiheadAttention: True = blocked
    expected = ref(x, x, x, attn_mask=blocked, need_weights=False)[0]
    torch.testing.assert_close(ours(x, x, x, is_causal=True), expected)
    torch.testing.assert_close(ours(x, x, x, attn_mask=~blocked), expected)


def test_positional_encoding_matches_the_formula() -> None:
    pe = sinusoidal_positions(50, 16)
    pos, i = 13, 3
    assert pe[pos, 2 * i].item() == pytest.approx(math.sin(pos / 10000 ** (2 * i / 16)))
    assert pe[pos, 2 * i + 1].item() == pytest.approx(math.cos(pos / 10000 ** (2 * i / 16)))
    assert pe.abs().max() <= 1.0


def test_decoder_never_looks_ahead() -> None:
    torch.manual_seed(0)
    model = Transformer(
        TransformerConfig(src_vocab=10, tgt_vocab=11, d_model=16, num_heads=2, d_ff=32)
    ).eval()
    src = torch.randint(0, 10, (2, 8))
    tgt = torch.randint(0, 11, (2, 8))
    changed = tgt.clone()
    changed[:, 5:] = (changed[:, 5:] + 1) % 11
    with torch.no_grad():
        a, b = model(src, tgt), model(src, changed)
    torch.testing.assert_close(a[:, :5], b[:, :5], atol=0, rtol=0)
    assert not torch.allclose(a[:, 5:], b[:, 5:])


@pytest.mark.parametrize("d_model", [1, 7, 15])
def test_positional_encoding_of_an_odd_width_follows_the_formula(d_model: int) -> None:
    pe = sinusoidal_positions(20, d_model)
    for pos in (0, 3, 19):
        for column in range(d_model):
            angle = pos / 10000 ** ((column - column % 2) / d_model)
            expected = math.sin(angle) if column % 2 == 0 else math.cos(angle)
            assert pe[pos, column].item() == pytest.approx(expected, abs=1e-12)


def test_the_learning_rate_follows_eq_3_of_section_5_3() -> None:
    d, warmup = 512, 4000
    assert noam_rate(1, d, warmup) == pytest.approx(d**-0.5 * warmup**-1.5)  # rising linearly
    assert noam_rate(warmup, d, warmup) == pytest.approx(d**-0.5 * warmup**-0.5)  # the peak
    assert noam_rate(4 * warmup, d, warmup) == pytest.approx(noam_rate(warmup, d, warmup) / 2)  # ∝ step^−½
    peak = max(range(1, 3 * warmup), key=lambda step: noam_rate(step, d, warmup))
    assert peak == warmup


def test_the_optimiser_is_the_papers_adam_with_the_rate_of_eq_3_at_every_step() -> None:
    d_model, warmup = 64, 50
    w = nn.Parameter(torch.zeros(1))
    opt, schedule = paper_optimizer([w], d_model, warmup)
    assert type(opt) is torch.optim.Adam  # Adam, not AdamW: the paper has no weight decay
    assert (opt.defaults["betas"], opt.defaults["eps"], opt.defaults["weight_decay"]) == (
        (0.9, 0.98),
        1e-9,
        0,
    )
    for n in range(1, 4 * warmup):  # the n-th update
        expected = d_model**-0.5 * min(n**-0.5, n * warmup**-1.5)
        assert opt.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-12), n
        w.grad = torch.zeros(1)
        opt.step()
        schedule.step()


def test_averaged_checkpoints_are_the_mean_of_each_parameter() -> None:
    model = nn.Linear(3, 2)
    checkpoints = [[torch.full_like(p, float(i)) for p in model.parameters()] for i in (1, 2, 6)]
    average_checkpoints(model, checkpoints)
    assert all(torch.equal(p, torch.full_like(p, 3.0)) for p in model.parameters())


def unscaled_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
) -> torch.Tensor:
    """A broken eq. 1: the 1/√d_k scale forgotten."""
    return scaled_dot_product_attention(
        q * math.sqrt(q.shape[-1]), k, v, attn_mask=attn_mask, is_causal=is_causal
    )


class PeekingAttention(MultiHeadAttention):
    """A broken causal mask: position i also sees position i + 1."""

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        if is_causal:
            L = query.shape[1]
            attn_mask, is_causal = torch.ones(L, L, dtype=torch.bool, device=query.device).tril(1), False
        return super().forward(query, key, value, attn_mask, is_causal)


def gelu_feed_forward(self: FeedForward, x: torch.Tensor) -> torch.Tensor:
    """A broken eq. 2: GELU where the paper has max(0, ·)."""
    return self.W_2(torch.nn.functional.gelu(self.W_1(x)))


def positions_base_1000(max_len: int, d_model: int) -> torch.Tensor:
    """A broken section 3.5: wavelengths from 1000 instead of 10000."""
    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    angle = pos / 1000 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(angle), torch.cos(angle[:, : d_model // 2])
    return pe


PLUGIN = "readtrack_plugins.transformer"


@pytest.mark.parametrize(
    ("patches", "caught_by"),
    [
        # eq. 1 without 1/√d_k: every comparison of eq. 1 with torch's SDPA fails, and only those
        ({f"{PLUGIN}.experiment.scaled_dot_product_attention": unscaled_attention}, ("eq. 1 ",)),
        # a causal mask one position too wide, in the attention the check compares and in the model's
        # decoder: the causal comparisons with nn.MultiheadAttention and nn.TransformerDecoderLayer and the
        # decoder's Jacobian fail
        (
            {
                f"{PLUGIN}.experiment.MultiHeadAttention": PeekingAttention,
                f"{PLUGIN}.model.MultiHeadAttention": PeekingAttention,
            },
            (
                "MultiHeadAttention vs nn.MultiheadAttention, causal self-attention",
                "gradients (inputs, weights) vs nn.MultiheadAttention, causal self-attention",
                "causal: no output of the decoder",
                "decoder layer vs",
                "gradients (inputs, every weight): decoder layer",
            ),
        ),
        # eq. 2 with GELU: only the layer comparisons with the built-ins see it
        (
            {f"{PLUGIN}.model.FeedForward.forward": gelu_feed_forward},
            (
                "encoder layer vs",
                "decoder layer vs",
                "gradients (inputs, every weight): encoder layer",
                "gradients (inputs, every weight): decoder layer",
            ),
        ),
        # a wrong wavelength base: the entry-by-entry formula and the rotation (whose ω is written apart)
        (
            {f"{PLUGIN}.experiment.positions": positions_base_1000},
            ("sinusoidal positions vs", "PE(pos+7) = M·PE(pos)"),
        ),
    ],
    ids=["missing 1/sqrt(d_k)", "causal mask off by one", "GELU in the FFN", "positions from base 1000"],
)
def test_the_check_stage_catches_a_broken_transformer(
    monkeypatch: pytest.MonkeyPatch, patches: dict[str, object], caught_by: tuple[str, ...]
) -> None:
    for target, broken in patches.items():
        monkeypatch.setattr(target, broken)
    result = run_stage("transformer", "check")
    assert result.verdict() == "failed"
    failed = [c.name for c in result.comparisons if not c.passed]
    assert all(any(name.startswith(prefix) for name in failed) for prefix in caught_by), failures(result)
    assert all(name.startswith(caught_by) for name in failed), failures(result)  # nothing else broke


def test_the_train_claim_fails_without_positional_encodings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without positions (section 3.5's encodings replaced by zeros) the encoder is permutation-equivariant:
    the decoder cannot tell which source digit came last, and reversal stays far below the target."""
    monkeypatch.setattr(
        f"{PLUGIN}.model.sinusoidal_positions",
        lambda max_len, d: torch.zeros(max_len, d, dtype=torch.float64),
    )
    result = run_stage("transformer", "train")
    assert result.verdict() == "failed"
    assert result.targets[0].value < 0.9, failures(result)
