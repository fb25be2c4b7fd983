"""The GQA plugin: grouped attention on more shapes, the head-to-group mapping, mean-pooling, decoding
through the KV cache and the bytes it holds, checks that fail for a wrong head mapping, a pooling that sums
instead of averaging, a cache of every query head's copy or a decoder that forgets its cache, and a train
stage that fails when the grouped model's attention passes nothing on."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.gqa.model import (
    GroupedQueryAttention,
    KVCache,
    grouped_query_attention,
    mean_pool_kv_heads,
)

from readtrack.testing import check_catches, failures, reported_claim, run_stage


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


@pytest.mark.parametrize("kv_heads", [4, 2, 1])
def test_decoding_through_the_cache_equals_the_full_causal_pass(kv_heads: int) -> None:
    layer = GroupedQueryAttention(32, 4, kv_heads).double()
    x = torch.randn(3, 10, 32, dtype=torch.float64)
    cache, outputs = None, []
    with torch.no_grad():
        for t in range(10):
            y, cache = layer.decode_step(x[:, t : t + 1], cache)
            outputs.append(y)
        torch.testing.assert_close(torch.cat(outputs, dim=1), layer(x))
    assert cache is not None and cache.k.shape == (3, kv_heads, 10, 8)
    assert cache.nbytes() == 2 * 3 * kv_heads * 10 * 8 * 8  # keys and values, float64


def test_the_cache_counts_the_memory_its_tensors_hold() -> None:
    k = torch.zeros(1, 2, 5, 4)
    assert KVCache(k, k.clone()).nbytes() == 2 * 40 * 4
    # views of a larger tensor still hold all of it; an expanded view holds only its source
    assert KVCache(torch.zeros(1, 8, 5, 4)[:, :2], k).nbytes() == (160 + 40) * 4
    assert KVCache(k.expand(3, 2, 5, 4), k).nbytes() == 2 * 40 * 4


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


def repeats_before_caching(
    self: GroupedQueryAttention, x_t: torch.Tensor, cache: KVCache | None = None
) -> tuple[torch.Tensor, KVCache]:
    """A broken decoder: it caches the keys and values after repeating them for every query head, so the
    cache is as large as multi-head attention's (the outputs are still right)."""
    y, new = original_decode_step(self, x_t, None)
    r = self.n_heads // self.n_kv_heads
    k, v = new.k.repeat_interleave(r, dim=1), new.v.repeat_interleave(r, dim=1)  # (B, H, 1, d)
    if cache is not None:
        k, v = torch.cat([cache.k, k], dim=2), torch.cat([cache.v, v], dim=2)
    q = self.W_q(x_t).view(x_t.shape[0], 1, self.n_heads, self.d_head).transpose(1, 2)
    y = grouped_query_attention(q, k, v)
    return self.W_o(y.transpose(1, 2).reshape(x_t.shape[0], 1, -1)), KVCache(k, v)


def forgets_the_cache(
    self: GroupedQueryAttention, x_t: torch.Tensor, cache: KVCache | None = None
) -> tuple[torch.Tensor, KVCache]:
    """A broken decoder: each token attends to itself only (the cache is kept but never read)."""
    y, new = original_decode_step(self, x_t, None)
    if cache is not None:
        new = KVCache(torch.cat([cache.k, new.k], dim=2), torch.cat([cache.v, new.v], dim=2))
    return y, new


original_decode_step = GroupedQueryAttention.decode_step


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [
        (repeats_before_caching, "the cache decoding builds holds G/H"),
        (forgets_the_cache, "decoding token by token"),
    ],
)
def test_the_check_stage_catches_a_cache_of_every_head_or_a_decoder_that_forgets(
    monkeypatch: pytest.MonkeyPatch, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(GroupedQueryAttention, "decode_step", broken)
    check_catches("gqa", caught_by)


def test_the_train_claim_fails_when_the_grouped_heads_pass_nothing_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The GQA arm's attention output zeroed (its shared KV heads carry nothing): the parity number (reported,
    # not asserted, at quick size) misses its claim.
    forward = GroupedQueryAttention.forward

    def silent_when_grouped(
        self: GroupedQueryAttention, x: torch.Tensor, causal: bool = True
    ) -> torch.Tensor:
        out = forward(self, x, causal)
        return out * 0 if self.n_kv_heads < self.n_heads else out

    monkeypatch.setattr(GroupedQueryAttention, "forward", silent_when_grouped)
    result = run_stage("gqa", "train")
    parity = reported_claim(result, "GQA-2 held-out loss − multi-head's (nats)")
    assert not parity.passed, parity
    assert result.verdict() == "passed", failures(result)  # the multi-head arm, untouched, still learns
