"""The transformer-xl plugin: the relative shift and attention on more shapes, the recurrence, and checks
that fail for a shift off by one or memories taken from the wrong place."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.transformer_xl.experiment import direct_attention
from readtrack_plugins.transformer_xl.model import RelativeAttention, TransformerXL, rel_shift

from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize(("L", "M"), [(1, 1), (3, 0), (6, 2), (2, 9)])
def test_attention_equals_the_per_pair_version(L: int, M: int) -> None:
    layer = RelativeAttention(24, 3).double()
    with torch.no_grad():
        layer.u.normal_(), layer.v.normal_()
    h = torch.randn(2, L, 24, dtype=torch.float64)
    memory = torch.randn(2, M, 24, dtype=torch.float64) if M else None
    torch.testing.assert_close(layer(h, memory), direct_attention(layer, h, memory))


def test_scores_depend_on_distance_not_on_absolute_position() -> None:
    layer = RelativeAttention(16, 2).double()
    h = torch.randn(1, 4, 16, dtype=torch.float64)
    # The same four states as the last four of a longer context: the same scores among themselves.
    alone, _ = layer.scores(h, None)
    longer, _ = layer.scores(h, torch.randn(1, 6, 16, dtype=torch.float64))
    torch.testing.assert_close(longer[..., 6:], alone)


def test_reading_many_segments_equals_one_pass_while_memory_covers_the_text() -> None:
    model = TransformerXL(16, 16, 2, layers=3, memory_len=12).double().eval()
    tokens = torch.randint(0, 16, (2, 12))
    with torch.no_grad():
        whole, _ = model(tokens)
        memories, parts = None, []
        for start in range(0, 12, 4):
            out, memories = model(tokens[:, start : start + 4], memories)
            parts.append(out)
    torch.testing.assert_close(torch.cat(parts, dim=1), whole)


def shift_off_by_one(x: torch.Tensor) -> torch.Tensor:
    """A broken relative shift: drops the last row instead of the first, so every distance is one off."""
    *lead, L, P = x.shape
    padded = torch.cat([x.new_zeros(*lead, L, 1), x], dim=-1)
    return padded.view(*lead, P + 1, L)[..., :-1, :].reshape(*lead, L, P)


def memory_of_outputs(
    self: TransformerXL, segment: torch.Tensor, memories: list[torch.Tensor] | None = None
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """A broken recurrence: each layer's memory is its output, not its input."""
    h = self.embed(segment)
    new_memories = []
    for n, layer in enumerate(self.layers):
        h = layer(h, memories[n] if memories else None)
        previous = memories[n] if memories else h[:, :0]
        new_memories.append(torch.cat([previous, h], dim=1)[:, -self.memory_len :].detach())
    return self.head(h), new_memories


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        ("readtrack_plugins.transformer_xl.model.rel_shift", shift_off_by_one, "relative attention"),
        ("readtrack_plugins.transformer_xl.model.TransformerXL.forward", memory_of_outputs, "segment 2 read"),
    ],
)
def test_the_check_stage_catches_a_broken_shift_or_memory(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("transformer-xl", caught_by)


def test_rel_shift_matches_its_documented_indexing() -> None:
    x = torch.arange(15.0).view(3, 5)
    out = rel_shift(x)
    for i in range(3):
        for j in range(5):
            if j <= i + 2:
                assert out[i, j] == x[i, j + 2 - i]


def sinusoid_wrong_frequency(distances: torch.Tensor, d: int) -> torch.Tensor:
    """ω_k = 1000^(−2k/d) instead of 10000^(−2k/d): a reference that shared ``sinusoid`` would pass it."""
    omega = 1.0 / 1000 ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    angle = distances.to(torch.float64).unsqueeze(1) * omega
    return torch.cat([angle.sin(), angle.cos()], dim=-1)


def test_the_check_stage_catches_a_wrong_frequency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("readtrack_plugins.transformer_xl.model.sinusoid", sinusoid_wrong_frequency)
    check_catches("transformer-xl", "relative attention vs per-pair")


def test_float64_layers_get_float64_positions() -> None:
    torch.manual_seed(0)
    layer = RelativeAttention(16, 2).double()
    with torch.no_grad():
        layer.u.normal_(), layer.v.normal_()
    h, memory = torch.randn(2, 5, 16, dtype=torch.float64), torch.randn(2, 3, 16, dtype=torch.float64)
    assert (layer(h, memory) - direct_attention(layer, h, memory)).abs().max() < 1e-12  # float32 R: ~1e-7


def test_the_train_stage_fails_without_the_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    original = TransformerXL.forward

    def forgetful(self: TransformerXL, segment: torch.Tensor, memories: list[torch.Tensor] | None = None):  # type: ignore[no-untyped-def]
        return original(self, segment, None)  # the recurrence removed: every segment read alone

    monkeypatch.setattr("readtrack_plugins.transformer_xl.model.TransformerXL.forward", forgetful)
    result = run_stage("transformer-xl", "train")
    failed = {t.name for t in result.targets if not t.passed}
    assert "with memory: accuracy recalling the token one segment back" in failed, failures(result)
