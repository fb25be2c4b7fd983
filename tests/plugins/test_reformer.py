"""The reformer plugin: LSH attention against its brute-force definition on more shapes, what the duplicate
correction and self-masking do, the reversible stack, and checks that fail for a dropped round, an
unmasked self or a gradient the reversible backward loses."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.reformer.experiment import _layers, dense_reference, duplication_batch
from readtrack_plugins.reformer.model import (
    LSHSelfAttention,
    full_attention,
    lsh_attention,
    lsh_buckets,
    random_rotations,
    residual,
    reversible,
)

from readtrack.testing import check_catches, failures, run_stage


def inputs(n: int, d: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(2, 2, n, d, generator=g, dtype=torch.float64) for _ in range(2))  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("n", "chunk", "rounds", "buckets", "causal"),
    [
        (2, 1, 1, 2, False),
        (7, 2, 2, 4, True),
        (31, 4, 6, 8, False),
        (31, 8, 3, 16, True),
        (24, 6, 2, 2, False),
    ],
)
def test_lsh_attention_equals_its_brute_force_definition(
    n: int, chunk: int, rounds: int, buckets: int, causal: bool
) -> None:
    qk, v = inputs(n)
    rotations = random_rotations(6, buckets, rounds, generator=torch.Generator().manual_seed(n), like=qk)
    torch.testing.assert_close(
        lsh_attention(qk, v, rotations, chunk, causal), dense_reference(qk, v, rotations, chunk, causal)
    )


def test_a_repeated_round_counts_each_pair_once() -> None:
    qk, v = inputs(29)
    once = random_rotations(6, 4, 1, generator=torch.Generator().manual_seed(1), like=qk)
    torch.testing.assert_close(lsh_attention(qk, v, once.repeat(3, 1, 1), 5), lsh_attention(qk, v, once, 5))


def test_one_bucket_and_a_whole_chunk_is_full_attention_with_self_masking() -> None:
    qk, v = inputs(12)
    one_bucket = random_rotations(6, 1, 1, like=qk)
    torch.testing.assert_close(lsh_attention(qk, v, one_bucket, 12, causal=True), full_attention(qk, v, True))
    out = full_attention(qk, v, causal=True)
    torch.testing.assert_close(out[..., 0, :], v[..., 0, :])  # nothing else to attend: itself
    weights = full_attention(qk, torch.eye(12, dtype=torch.float64).expand(2, 2, 12, 12))
    assert float(weights.diagonal(dim1=-2, dim2=-1).max()) < 1e-30  # otherwise never itself


def test_hashing_depends_on_direction_only_and_uses_every_bucket() -> None:
    qk, _ = inputs(400, d=8)
    rotations = random_rotations(8, 8, 2, generator=torch.Generator().manual_seed(2), like=qk)
    buckets = lsh_buckets(qk, rotations)
    assert buckets.shape == (2, 2, 2, 400)
    assert set(buckets.unique().tolist()) == set(range(8))
    assert torch.equal(lsh_buckets(3.5 * qk, rotations), buckets)
    assert torch.equal(lsh_buckets(-qk, rotations), (buckets + 4) % 8)  # argmax([xR; −xR]) flips halves


def test_the_module_with_one_bucket_matches_lsh_attention_with_one_bucket() -> None:
    torch.manual_seed(0)
    layer = LSHSelfAttention(16, 2, n_buckets=4, n_rounds=2, chunk=4).double()
    x = torch.randn(3, 10, 16, dtype=torch.float64)
    full = layer(x, n_buckets=1)
    qk = layer.qk(x).view(3, 10, 2, 8).transpose(1, 2)
    v = layer.v(x).view(3, 10, 2, 8).transpose(1, 2)
    y = lsh_attention(qk, v, random_rotations(8, 1, 1, like=qk), chunk=10, causal=True)
    torch.testing.assert_close(full, layer.out(y.transpose(1, 2).reshape(3, 10, 16)))
    assert layer(x).shape == (3, 10, 16)


def test_the_reversible_stack_matches_the_residual_one_for_any_depth() -> None:
    for depth in (1, 5):
        layers = _layers(8, depth, torch.float64, "cpu")
        x1, x2 = (torch.randn(2, 3, 8, dtype=torch.float64, requires_grad=True) for _ in range(2))
        params = [p for f, g in layers for m in (f, g) for p in m.parameters()]
        outs, grads = [], []
        for stack in (reversible, residual):
            y1, y2 = stack(x1, x2, layers)
            outs.append(torch.cat((y1, y2)))
            grads.append(torch.autograd.grad((y1.sin() + y2).sum(), (x1, x2, *params)))
        torch.testing.assert_close(outs[0], outs[1])
        for ours, ref in zip(*grads, strict=True):
            torch.testing.assert_close(ours, ref)


def test_the_duplication_data_repeats_its_word() -> None:
    tokens = duplication_batch(64, torch.Generator().manual_seed(0), "cpu")
    assert tokens.shape == (64, 32)
    assert bool((tokens[:, 0] == 0).all() and (tokens[:, 16] == 0).all())
    assert torch.equal(tokens[:, 1:16], tokens[:, 17:])
    assert bool((tokens[:, 1:16] > 0).all())


def first_round_only(
    qk: torch.Tensor, v: torch.Tensor, rotations: torch.Tensor, chunk: int, causal: bool = False
) -> torch.Tensor:
    """Broken multi-round attention: every round but the first dropped."""
    return lsh_attention(qk, v, rotations[:1], chunk, causal)


def detached_second_input(
    x1: torch.Tensor, x2: torch.Tensor, layers: list[tuple[torch.nn.Module, torch.nn.Module]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """A broken reversible backward: no gradient reaches x2."""
    return reversible(x1, x2.detach(), layers)


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        ("readtrack_plugins.reformer.experiment.lsh_attention", first_round_only, "LSH attention vs"),
        ("readtrack_plugins.reformer.model.SELF_SCORE", 0.0, "LSH attention vs"),
        ("readtrack_plugins.reformer.experiment.reversible", detached_second_input, "gradients recomputed"),
    ],
)
def test_the_check_stage_catches_a_dropped_round_self_attention_or_a_lost_gradient(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("reformer", caught_by)


def test_the_train_claim_fails_when_hashing_ignores_the_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The idea removed: every rotation 0, so every vector hashes to bucket 0 and LSH's pairs are chunks of
    positions, blind to content. Its pairs then hold only their share of the attention mass, more rounds
    add nothing, and the duplication task's LSH evaluation cannot find the first w."""
    from readtrack_plugins.reformer import experiment, model

    def zero_rotations(*args: object, **kwargs: object) -> torch.Tensor:
        return torch.zeros_like(random_rotations(*args, **kwargs))

    monkeypatch.setattr(experiment, "random_rotations", zero_rotations)
    monkeypatch.setattr(model, "random_rotations", zero_rotations)
    result = run_stage("reformer", "train")
    assert result.verdict() == "failed"
    failed = {t.name for t in result.targets if not t.passed}
    assert failed == {t.name for t in result.targets if t.name != "copy accuracy, full attention"}, failures(
        result
    )
