"""The RoPE plugin: the rotation of eq. 34 on more shapes and bases, its properties, and checks that fail
for a rotation that pairs the wrong coordinates or turns by a non-linear angle."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.rope.experiment import rotary_complex
from readtrack_plugins.rope.model import CausalSelfAttention, apply_rotary, rotary_angles

from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize("base", [10000.0, 500.0])
@pytest.mark.parametrize(("n", "d"), [(1, 2), (9, 6), (33, 128)])
def test_eq_34_equals_the_complex_form(n: int, d: int, base: float) -> None:
    x = torch.randn(3, n, d, dtype=torch.float64)
    positions = torch.randint(0, 5000, (n,))
    torch.testing.assert_close(apply_rotary(x, positions, base), rotary_complex(x, positions, base))


def test_position_zero_is_the_identity_and_batched_positions_work() -> None:
    x = torch.randn(2, 4, 8, dtype=torch.float64)
    assert torch.equal(apply_rotary(x, torch.zeros(4, dtype=torch.long)), x)
    per_row = torch.tensor([[0, 1, 2, 3], [10, 11, 12, 13]])  # (batch, N) positions
    torch.testing.assert_close(apply_rotary(x, per_row)[1], apply_rotary(x[1], per_row[1]))


def test_frequencies_follow_the_paper() -> None:
    angles = rotary_angles(torch.tensor([1.0]), 8)[0]
    torch.testing.assert_close(
        angles, torch.tensor([10000.0 ** (-2 * i / 8) for i in range(4)], dtype=torch.float64)
    )


def test_odd_head_dimension_and_unknown_position_kind_are_refused() -> None:
    with pytest.raises(ValueError, match="even head dimension"):
        apply_rotary(torch.randn(2, 5), torch.arange(2))
    with pytest.raises(ValueError, match="'rope' or 'learned'"):
        CausalSelfAttention(8, 2, positions="sinusoidal")


def test_half_precision_keeps_the_phase_of_large_positions() -> None:
    x = torch.randn(1, 4, 64)
    far = torch.arange(60000, 60004)
    exact = apply_rotary(x.double(), far)
    assert (apply_rotary(x.bfloat16(), far).double() - exact).abs().max() < 0.05  # bf16 resolution, not phase


def rotate_half(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """A rotary embedding pairing x_i with x_(i+d/2) (GPT-NeoX's layout): valid in its own right, but not
    the paper's pairing of neighbours, so it must not pass as eq. 34."""
    d = x.shape[-1]
    angles = rotary_angles(positions, d, base)
    cos, sin = (f(angles).repeat(*([1] * (angles.dim() - 1)), 2).to(x.dtype) for f in (torch.cos, torch.sin))
    half = torch.cat([-x[..., d // 2 :], x[..., : d // 2]], dim=-1)
    return x * cos + half * sin


def squared_angles(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """A rotation by m²·θ: still a rotation (norms kept) but no longer relative."""
    return rotary_complex(x, positions.to(torch.float64) ** 2, base)


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [(rotate_half, "eq. 34 vs the complex form"), (squared_angles, "relative:")],
)
def test_the_check_stage_catches_a_broken_rotation(
    monkeypatch: pytest.MonkeyPatch, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr("readtrack_plugins.rope.experiment.apply_rotary", broken)
    check_catches("rope", caught_by)


def wrong_frequencies(positions: torch.Tensor, d: int, base: float = 10000.0) -> torch.Tensor:
    """θ_i = 1000^(−2i/d): a wrong base, which a reference sharing ``rotary_angles`` would not notice."""
    i = torch.arange(d // 2, dtype=torch.float64, device=positions.device)
    return positions.to(torch.float64).unsqueeze(-1) * 1000.0 ** (-2 * i / d)


def test_the_check_stage_catches_wrong_frequencies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("readtrack_plugins.rope.model.rotary_angles", wrong_frequencies)
    check_catches("rope", "eq. 34 vs the complex form", "eq. 34 vs the rotation matrix")


def test_the_train_stage_fails_without_the_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("readtrack_plugins.rope.model.apply_rotary", lambda x, positions, base=10000.0: x)
    result = run_stage("rope", "train")
    failed = {t.name for t in result.targets if not t.passed}
    assert "RoPE: accuracy at the training positions 0…31" in failed, failures(result)
