"""The sliding-window-attention plugin: the chunked O(N·W) computation on more shapes, its limits, and
checks that fail for a window off by one or a cache that does not roll."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.sliding_window_attention.experiment import band_sdpa
from readtrack_plugins.sliding_window_attention.model import RollingKVCache, sliding_window_attention

from readtrack.testing import check_catches


@pytest.mark.parametrize(("n", "window"), [(2, 1), (5, 2), (17, 3), (64, 16), (100, 7), (9, 9), (9, 10)])
def test_chunked_attention_equals_the_masked_reference(n: int, window: int) -> None:
    q, k, v = (torch.randn(2, 3, n, 5, dtype=torch.float64) for _ in range(3))
    torch.testing.assert_close(sliding_window_attention(q, k, v, window), band_sdpa(q, k, v, window))


def test_limits_window_one_is_the_values_and_a_wide_window_is_causal_attention() -> None:
    q, k, v = (torch.randn(1, 2, 12, 4, dtype=torch.float64) for _ in range(3))
    torch.testing.assert_close(sliding_window_attention(q, k, v, 1), v)
    causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(sliding_window_attention(q, k, v, 12), causal)
    torch.testing.assert_close(sliding_window_attention(q, k, v, 1000), causal)


def test_a_position_outside_the_window_has_no_influence() -> None:
    q, k, v = (torch.randn(1, 1, 20, 4, dtype=torch.float64) for _ in range(3))
    out = sliding_window_attention(q, k, v, 5)
    k2, v2 = k.clone(), v.clone()
    k2[..., 10, :], v2[..., 10, :] = 100.0, 100.0  # position 10 is visible from 10 … 14 only
    moved = (sliding_window_attention(q, k2, v2, 5) - out).abs().amax(dim=(0, 1, 3))
    assert torch.equal(moved.nonzero().flatten(), torch.arange(10, 15))


def test_the_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        sliding_window_attention(*(torch.randn(1, 3, 2) for _ in range(3)), 0)


def test_the_cache_keeps_only_the_last_window() -> None:
    x = torch.zeros(1)
    cache = RollingKVCache(1, 1, 3, 2, like=x)
    for i in range(7):
        cache.append(torch.full((1, 1, 2), float(i)), torch.full((1, 1, 2), float(i)))
    assert sorted(cache.k[0, 0, :, 0].tolist()) == [4.0, 5.0, 6.0]


def off_by_one(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int) -> torch.Tensor:
    """A broken window: i − W ≤ j ≤ i, one key too many."""
    return sliding_window_attention(q, k, v, window + 1)


def no_roll(self: RollingKVCache, k: torch.Tensor, v: torch.Tensor) -> None:
    """A broken cache: once full it keeps overwriting the last slot, so older entries never leave."""
    slot = min(self.filled, self.window - 1)
    self.k[:, :, slot], self.v[:, :, slot] = k, v
    self.filled += 1


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        (
            "readtrack_plugins.sliding_window_attention.experiment.sliding_window_attention",
            off_by_one,
            "windowed",
        ),
        ("readtrack_plugins.sliding_window_attention.model.RollingKVCache.append", no_roll, "rolling buffer"),
    ],
)
def test_the_check_stage_catches_a_broken_window_or_cache(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("sliding-window-attention", caught_by)
