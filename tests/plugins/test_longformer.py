"""The longformer plugin: chunked window-plus-global attention against the dense-mask definition on more
shapes, the global projections, the [CLS] task's data, and checks that fail for a window off by one or for
global keys that nobody attends."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.longformer.experiment import CLS, TARGET, contains_batch, dense_reference
from readtrack_plugins.longformer.model import Classifier, LongformerSelfAttention, longformer_attention

from readtrack.testing import check_catches, failures, run_stage


def qkv(b: int, n: int, d: int = 5) -> list[torch.Tensor]:
    return [torch.randn(b, 3, n, d, dtype=torch.float64) for _ in range(3)]


@pytest.mark.parametrize(
    ("n", "window"), [(1, 0), (1, 3), (2, 1), (7, 0), (17, 3), (33, 8), (64, 16), (100, 7), (9, 8), (9, 30)]
)
def test_window_only_equals_the_dense_band(n: int, window: int) -> None:
    q, k, v = qkv(2, n)
    torch.testing.assert_close(longformer_attention(q, k, v, window), dense_reference(q, k, v, window, None))


@pytest.mark.parametrize(("n", "window"), [(2, 1), (17, 3), (50, 4), (64, 16), (13, 20)])
def test_window_plus_global_equals_the_dense_mask_with_separate_global_projections(
    n: int, window: int
) -> None:
    q, k, v = qkv(4, n)
    global_qkv = tuple(qkv(4, n))
    global_mask = torch.rand(4, n) < 0.2
    global_mask[0] = False  # a row with no global position at all
    global_mask[1, 0] = True
    global_mask[2] = True  # a row where every position is global
    ours = longformer_attention(q, k, v, window, global_mask, global_qkv)
    ref = dense_reference(q, k, v, window, global_mask, global_qkv)
    torch.testing.assert_close(ours, ref)


def test_the_global_projections_reach_the_global_rows_only() -> None:
    q, k, v = qkv(1, 30)
    global_mask = torch.zeros(1, 30, dtype=torch.bool)
    global_mask[0, [0, 11]] = True
    base = longformer_attention(q, k, v, 2, global_mask, (q, k, v))
    other = longformer_attention(q, k, v, 2, global_mask, (q.flip(2), k, v))
    moved = (base - other).abs().amax(dim=(0, 1, 3)) > 0
    assert moved.nonzero().flatten().tolist() == [0, 11]


def test_a_global_position_is_seen_from_everywhere_and_sees_everything() -> None:
    q, k, v = qkv(1, 40)
    global_mask = torch.zeros(1, 40, dtype=torch.bool)
    global_mask[0, 0] = True
    out = longformer_attention(q, k, v, 3, global_mask)
    v2 = v.clone()
    v2[..., 0, :] += 10.0  # every row attends position 0
    assert bool(((longformer_attention(q, k, v2, 3, global_mask) - out).abs().amax(dim=(0, 1, 3)) > 0).all())
    v3 = v.clone()
    v3[..., 39, :] += 10.0  # the far end is seen by its window and by the global row 0 only
    moved = (longformer_attention(q, k, v3, 3, global_mask) - out).abs().amax(dim=(0, 1, 3)) > 0
    assert moved.nonzero().flatten().tolist() == [0, 36, 37, 38, 39]


def test_the_module_uses_its_global_projections_only_with_a_global_mask() -> None:
    torch.manual_seed(0)
    layer = LongformerSelfAttention(16, 2, window=2).double()
    x = torch.randn(2, 12, 16, dtype=torch.float64)
    without = layer(x)
    with torch.no_grad():
        layer.qkv_global.weight.add_(1.0)
    torch.testing.assert_close(layer(x), without)  # no global positions: Q_g, K_g, V_g unused
    global_mask = torch.zeros(2, 12, dtype=torch.bool)
    global_mask[:, 0] = True
    assert not torch.allclose(layer(x, global_mask), without)


def test_the_cls_task_data_says_whether_the_target_occurs() -> None:
    tokens, labels = contains_batch(512, torch.Generator().manual_seed(3), "cpu")
    assert bool((tokens[:, 0] == CLS).all())
    assert torch.equal((tokens == TARGET).any(dim=1).long(), labels)
    assert 0.4 < labels.float().mean().item() < 0.6


def off_by_one(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int, *rest: object) -> torch.Tensor:
    """A broken window: |i − j| ≤ w + 1."""
    return longformer_attention(q, k, v, window + 1, *rest)


def globals_unseen(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    window: int,
    global_mask: torch.Tensor | None = None,
    *rest: object,
) -> torch.Tensor:
    """Broken global attention: the global rows see everything, but the other rows do not see them."""
    out = longformer_attention(q, k, v, window)
    if global_mask is None:
        return out
    full = longformer_attention(q, k, v, window, global_mask, *rest)
    return torch.where(global_mask[:, None, :, None], full, out)


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [
        (off_by_one, "Longformer vs SDPA with the dense mask, window only"),
        (globals_unseen, "output i depends"),
    ],
)
def test_the_check_stage_catches_a_broken_window_or_global_attention(
    monkeypatch: pytest.MonkeyPatch, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr("readtrack_plugins.longformer.experiment.longformer_attention", broken)
    check_catches("longformer", caught_by)


def test_the_train_claim_fails_without_global_attention(monkeypatch: pytest.MonkeyPatch) -> None:
    """The idea removed: [CLS] never global (the classifier ignores ``global_cls``), so it reads only its
    window and misses every 7 beyond it; both train targets fail."""
    forward = Classifier.forward
    monkeypatch.setattr(
        Classifier, "forward", lambda self, tokens, global_cls=True: forward(self, tokens, False)
    )
    result = run_stage("longformer", "train")
    assert result.verdict() == "failed"
    assert all(not t.passed for t in result.targets), failures(result)
