"""The gru plugin: PyTorch's form against ``nn.GRU`` and the paper's against the step-by-step reference on
more shapes, the two forms against each other, and checks that fail for the reset gate in the wrong place
or the update gate the wrong way round."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
import torch
from readtrack_plugins.gru.config import Config
from readtrack_plugins.gru.experiment import cho_gru, make_model
from readtrack_plugins.gru.model import GRU
from recurrent_testing import SHAPES, assert_same_as_reference, replaced
from torch import nn

from readtrack.testing import check_catches


@pytest.mark.parametrize("shape", SHAPES)
def test_the_default_form_equals_nn_gru_forward_and_backward(shape: tuple[Any, ...]) -> None:
    n_in, H, layers, batch_first = shape[2:6]
    ref = nn.GRU(n_in, H, layers, batch_first=batch_first).double()
    ours = GRU(n_in, H, layers, batch_first=batch_first).double()
    ours.load_state_dict(ref.state_dict())  # nn.GRU's random initialisation
    assert_same_as_reference(ours, ref, list(ref.parameters()), shape)


@pytest.mark.parametrize("shape", SHAPES)
def test_the_papers_form_equals_the_step_by_step_reference(shape: tuple[Any, ...]) -> None:
    n_in, H, layers, batch_first = shape[2:6]
    ours = GRU(n_in, H, layers, batch_first=batch_first, reset_after=False).double()
    assert_same_as_reference(ours, partial(cho_gru, ours), list(ours.parameters()), shape)


def test_the_two_forms_differ_unless_the_reset_gate_is_open() -> None:
    H = 6
    pytorch_form = GRU(3, H).double()
    paper_form = GRU(3, H, reset_after=False).double()
    paper_form.load_state_dict(pytorch_form.state_dict())
    x = torch.randn(4, 10, 3, dtype=torch.float64)
    with torch.no_grad():
        assert (pytorch_form(x)[0] - paper_form(x)[0]).abs().max() > 1e-2
        for module in (pytorch_form, paper_form):
            module.get_parameter("bias_ih_l0")[:H] = 1000.0  # r ≡ 1
        torch.testing.assert_close(pytorch_form(x)[0], paper_form(x)[0])


def test_an_update_gate_held_at_one_keeps_the_state() -> None:
    """z = σ(+1000) = 1 exactly: h_t = h_(t−1), in both forms, for 100 steps."""
    H = 5
    for reset_after in (True, False):
        model = GRU(2, H, reset_after=reset_after).double()
        with torch.no_grad():
            model.get_parameter("bias_ih_l0")[H : 2 * H] = 1000.0
        h0 = torch.randn(1, 3, H, dtype=torch.float64)
        out, h_n = model(torch.randn(3, 100, 2, dtype=torch.float64), h0)
        assert torch.equal(h_n, h0) and torch.equal(out[:, 0], h0[0])


def test_state_dicts_load_both_ways_and_a_2d_input_is_refused() -> None:
    ours, ref = GRU(3, 4, num_layers=2), nn.GRU(3, 4, num_layers=2, batch_first=True)
    ref.load_state_dict(ours.state_dict())  # strict, the other way round
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(ours(x)[1], ref(x)[1])
    with pytest.raises(ValueError, match="batched"):
        ours(torch.randn(5, 3))


class ResetInTheOtherPlace(GRU):
    """Broken: each form computes the other's candidate (the reset gate before the matmul in PyTorch's
    form, after it in the paper's)."""

    def __init__(self, *args: Any, reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, reset_after=not reset_after, **kwargs)


def negate_update(name: str, p: torch.Tensor) -> torch.Tensor:
    r, z, n = p.chunk(3)
    return torch.cat([r, -z, n])  # σ(−a) = 1 − σ(a): z and 1 − z trade places


class UpdateReversed(GRU):
    """Broken: h_t = z ⊙ ñ + (1 − z) ⊙ h_(t−1), the interpolation the wrong way round."""

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        with replaced(self, negate_update):
            return super().forward(x, h0)


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [
        (ResetInTheOtherPlace, ["output and h_n vs nn.GRU", "output and h_n vs Cho et al."]),
        (UpdateReversed, ["output and h_n vs nn.GRU", "output and h_n vs Cho et al."]),
    ],
)
def test_the_check_stage_catches_a_misplaced_reset_or_a_reversed_update(
    monkeypatch: pytest.MonkeyPatch, broken: type[GRU], caught_by: list[str]
) -> None:
    monkeypatch.setattr("readtrack_plugins.gru.experiment.GRU", broken)
    check_catches("gru", *caught_by)


@pytest.mark.parametrize(
    ("unit", "kind", "reset_after"), [("gru", GRU, True), ("paper", GRU, False), ("rnn", nn.RNN, None)]
)
def test_the_unit_switch_picks_what_stands_in_the_grus_arm(
    unit: str, kind: type, reset_after: bool | None
) -> None:
    """``--set unit=…``: PyTorch's form (the default), the paper's form, or a tanh unit with neither gate."""
    model = make_model("GRU", 0, "cpu", Config(unit=unit))
    assert isinstance(model.rnn, kind)
    if reset_after is not None:
        assert isinstance(model.rnn, GRU) and model.rnn.reset_after is reset_after
    assert isinstance(make_model("RNN", 0, "cpu", Config(unit=unit)).rnn, nn.RNN)  # the other arms stay
