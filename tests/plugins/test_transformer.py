"""The Transformer plugin: eq. 1 and multi-head attention equal PyTorch's, and the model learns to reverse."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.transformer.model import (
    MultiHeadAttention,
    Transformer,
    TransformerConfig,
    scaled_dot_product_attention,
    sinusoidal_positions,
)
from torch import nn


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


def test_declaration_does_not_import_torch(modules_loaded_by) -> None:  # type: ignore[no-untyped-def]
    loaded = modules_loaded_by("readtrack_plugins.transformer")
    assert "readtrack_plugins.transformer" in loaded and "torch" not in loaded


def test_check_stage_passes(passing_stage) -> None:  # type: ignore[no-untyped-def]
    result = passing_stage("transformer", "check")
    names = " ".join(c.name for c in result.comparisons)
    assert "nn.MultiheadAttention" in names and "decoder is causal" in names and "PE(pos+7)" in names


def test_train_stage_learns_to_reverse(passing_stage) -> None:  # type: ignore[no-untyped-def]
    result = passing_stage("transformer", "train")
    accuracy = result.targets[0]
    assert accuracy.value >= 0.99
    loss = result.curves["loss"]
    assert loss[-1][1] < 0.1 * loss[0][1]


def test_bench_stage_compares_against_nn_multihead_attention(passing_stage) -> None:  # type: ignore[no-untyped-def]
    result = passing_stage("transformer", "bench")
    baseline = [row.label for row in result.bench if row.baseline]
    assert baseline == ["nn.MultiheadAttention forward"]
    assert all(row.throughput and row.unit == "tokens/s" for row in result.bench)
