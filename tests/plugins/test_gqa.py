"""The GQA plugin: grouped attention on more shapes, the head-to-group mapping, mean-pooling, and checks
that fail for a wrong head mapping or a pooling that sums instead of averaging."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from plugin_stages import check_catches
from readtrack_plugins.gqa.model import GroupedQueryAttention, grouped_query_attention, mean_pool_kv_heads


@pytest.mark.parametrize(("heads", "kv_heads", "n"), [(4, 4, 5), (6, 3, 9), (12, 4, 1), (5, 1, 17)])
@pytest.mark.parametrize("causal", [False, True])
def test_equals_sdpa_with_enable_gqa(heads: int, kv_heads: int, n: int, causal: bool) -> None:
    q = torch.randn(2, heads, n, 8, dtype=torch.float64)
    k, v = (torch.randn(2, kv_heads, n, 8, dtype=torch.float64) for _ in range(2))
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
    torch.testing.assert_close(grouped_query_attention(q, k, v, causal), expected)


def test_query_head_h_reads_kv_head_h_over_the_group_size() -> None:
    q = torch.randn(1, 6, 4, 8, dtype=torch.float64)
    k, v = torch.randn(1, 2, 4, 8, dtype=torch.float64), torch.randn(1, 2, 4, 8, dtype=torch.float64)
    out = grouped_query_attention(q, k, v)
    for h in range(6):
        alone = grouped_query_attention(q[:, h : h + 1], k[:, h // 3 : h // 3 + 1], v[:, h // 3 : h // 3 + 1])
        torch.testing.assert_close(out[:, h : h + 1], alone)


def test_groupings_that_do_not_divide_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot be split"):
        grouped_query_attention(torch.randn(1, 6, 2, 4), torch.randn(1, 4, 2, 4), torch.randn(1, 4, 2, 4))
    with pytest.raises(ValueError, match="do not divide"):
        GroupedQueryAttention(64, 8, 3)


def test_mean_pooling_averages_each_groups_key_and_value_heads() -> None:
    mha = GroupedQueryAttention(16, 4, 4).double()
    gqa = mean_pool_kv_heads(mha, 2)
    d = mha.d_head
    expected = mha.W_k.weight.view(2, 2, d, 16).mean(dim=1).reshape(-1, 16)
    torch.testing.assert_close(gqa.W_k.weight, expected)
    assert gqa.kv_cache_elements(1, 10) * 2 == mha.kv_cache_elements(1, 10)


def wrong_mapping(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False) -> torch.Tensor:
    """A broken grouping: KV heads tiled (h mod G) instead of repeated per group (h // (H/G))."""
    H, G = q.shape[1], k.shape[1]
    return grouped_query_attention(q, k.repeat(1, H // G, 1, 1), v.repeat(1, H // G, 1, 1), causal)


def summed_pooling(mha: GroupedQueryAttention, n_kv_heads: int) -> GroupedQueryAttention:
    """A broken conversion: sums the heads of a group instead of averaging them."""
    gqa = mean_pool_kv_heads(mha, n_kv_heads)
    with torch.no_grad():
        group = mha.n_kv_heads // n_kv_heads
        gqa.W_k.weight.mul_(group), gqa.W_v.weight.mul_(group)
    return gqa


@pytest.mark.parametrize(
    ("name", "broken", "caught_by"),
    [
        ("grouped_query_attention", wrong_mapping, "GQA vs SDPA"),
        ("mean_pool_kv_heads", summed_pooling, "mean-pool"),
    ],
)
def test_the_check_stage_catches_a_broken_grouping_or_pooling(
    monkeypatch: pytest.MonkeyPatch, name: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(f"readtrack_plugins.gqa.experiment.{name}", broken)
    check_catches("gqa", caught_by)
