"""The attention family bench: its members are the lineage's, their caches and weights are what sharing
key-value heads and a window make them, its check catches a multi-query member that keeps every head and a
window that is not applied, and its claim fails when multi-query attention keeps all 8 heads."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.attention_bench import experiment, model

from readtrack.plugins import discovery
from readtrack.plugins.lineages import declared
from readtrack.testing import check_catches, failures, run_stage

EXPERIMENT = "readtrack_plugins.attention_bench.experiment"


def test_every_member_of_the_attention_lineage_is_on_the_bench() -> None:
    family = declared(discovery.discovery(include_user=False).hooks).lineages["attention"]
    assert family.lineage.bench == "attention-bench"
    assert {m.key for m in family.members} == set(model.MEMBERS)
    mqa = next(m for m in family.members if m.key == model.MQA)
    assert mqa.source == "bench" and not mqa.full_run and mqa.number.startswith(f"{model.MQA}: ")


def test_the_caches_and_the_weights_each_member_keeps() -> None:
    d_model, layers, n = 32, 2, 10
    tokens = torch.randint(0, 16, (1, n), generator=torch.Generator().manual_seed(0))
    held, weights = {}, {}
    for name, (kv_heads, window) in {
        "mha": (8, None),
        "mqa": (1, None),
        "gqa": (2, None),
        "w4": (8, 4),
    }.items():
        net = model.network(16, n, d_model, layers, kv_heads, window, seed=0)
        with torch.no_grad():
            _, caches = model.decode(net, tokens)
        held[name], weights[name] = model.cache_bytes(caches), model.parameters(net)
    per_head = 2 * layers * n * (d_model // 8) * 4  # keys and values, float32, n tokens, one head
    assert held == {"mha": 8 * per_head, "mqa": per_head, "gqa": 2 * per_head, "w4": 8 * per_head * 4 // n}
    # the key and value projections shrink with G: 2 · (8 − G) · d_head · d_model weights a layer
    assert weights["mha"] - weights["mqa"] == layers * 2 * 7 * (d_model // 8) * d_model
    assert weights["w4"] == weights["mha"]  # a window changes no weight


def _mqa_with_every_head(monkeypatch: pytest.MonkeyPatch) -> None:
    real = experiment.network

    def network(
        vocab: int, max_len: int, d_model: int, layers: int, kv_heads: int, window: int | None, seed: int
    ) -> torch.nn.Module:
        return real(vocab, max_len, d_model, layers, model.HEADS if kv_heads == 1 else kv_heads, window, seed)

    monkeypatch.setattr(f"{EXPERIMENT}.network", network)


def test_the_check_catches_a_multi_query_member_that_keeps_every_head(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _mqa_with_every_head(monkeypatch)
    check_catches("attention-bench", "the caches decoding builds hold G/H of multi-head attention's bytes")


def test_the_check_catches_a_window_that_is_not_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    def unwindowed(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)  # every earlier key, not the last W

    monkeypatch.setattr("readtrack_plugins.attention_bench.model.sliding_window_attention", unwindowed)
    check_catches(
        "attention-bench",
        "sliding window, 8 KV heads, W = 8: the bench's attention vs SDPA with a band mask",
        "sliding window, 8 KV heads, W = 8: decoding token by token",
    )


def test_the_claim_fails_when_multi_query_attention_keeps_every_head(monkeypatch: pytest.MonkeyPatch) -> None:
    # the "multi-query" member given all 8 key-value heads: its cache is multi-head attention's, so the
    # family's asserted claim (an 8× smaller cache) must fail, and with it the run
    _mqa_with_every_head(monkeypatch)
    result = run_stage("attention-bench", "train")
    (cache,) = [t for t in result.targets if t.name.startswith(f"{model.MQA}: KV cache bytes per token")]
    assert cache.value == 1 and not cache.passed, failures(result)
    assert result.verdict() == "failed"
