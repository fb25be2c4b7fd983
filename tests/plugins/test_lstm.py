"""The lstm plugin: the LSTM against ``nn.LSTM`` on more shapes and in both directions of state_dict loading,
the carousel, and checks that fail for the input and forget gates swapped or the 1997 cell without a forget
gate."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from readtrack_plugins.lstm.config import Config
from readtrack_plugins.lstm.experiment import make_model
from readtrack_plugins.lstm.model import LSTM
from recurrent_testing import SHAPES, assert_same_as_reference, replaced
from torch import nn

from readtrack.testing import check_catches

State = tuple[torch.Tensor, torch.Tensor]


@pytest.mark.parametrize("shape", SHAPES)
def test_equals_nn_lstm_forward_and_backward(shape: tuple[Any, ...]) -> None:
    n_in, H, layers, batch_first = shape[2:6]
    ref = nn.LSTM(n_in, H, layers, batch_first=batch_first).double()
    ours = LSTM(n_in, H, layers, batch_first=batch_first).double()
    ours.load_state_dict(ref.state_dict())  # nn.LSTM's random initialisation
    assert_same_as_reference(ours, ref, list(ref.parameters()), shape, states=2)


def test_state_dicts_have_the_same_names_and_shapes_and_load_both_ways() -> None:
    ours, ref = LSTM(3, 4, num_layers=2), nn.LSTM(3, 4, num_layers=2, batch_first=True)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in ref.state_dict().items()
    }
    ref.load_state_dict(ours.state_dict())  # strict, the other way round
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(ours(x)[1][1], ref(x)[1][1])


def test_a_forget_gate_held_open_and_an_input_gate_held_shut_keep_the_cell_for_200_steps() -> None:
    """The carousel at its limit: f = σ(+1000) = 1 and i = σ(−1000) = 0 exactly, so c_T = c_0 bit for bit."""
    H = 4
    model = LSTM(3, H).double()
    with torch.no_grad():
        model.get_parameter("bias_ih_l0")[:H] = -1000.0  # i
        model.get_parameter("bias_ih_l0")[H : 2 * H] = 1000.0  # f
    c0 = torch.randn(1, 2, H, dtype=torch.float64)
    _, (_, c_n) = model(torch.randn(2, 200, 3, dtype=torch.float64), (torch.zeros_like(c0), c0))
    assert torch.equal(c_n, c0)


def test_a_2d_input_is_refused() -> None:
    with pytest.raises(ValueError, match="batched"):
        LSTM(2, 3)(torch.randn(5, 2))


def swap_input_and_forget(name: str, p: torch.Tensor) -> torch.Tensor:
    i, f, g, o = p.chunk(4)
    return torch.cat([f, i, g, o])


def forget_gate_open(name: str, p: torch.Tensor) -> torch.Tensor:
    """The 1997 cell: f ≡ 1 (zero forget-gate weights, a bias of +1000)."""
    i, f, g, o = p.chunk(4)
    f = torch.full_like(f, 1000.0) if name.startswith("bias_ih") else torch.zeros_like(f)
    return torch.cat([i, f, g, o])


class GatesSwapped(LSTM):
    """Broken: the weights read in the order f, i, g, o instead of PyTorch's i, f, g, o."""

    def forward(self, x: torch.Tensor, hc0: State | None = None) -> tuple[torch.Tensor, State]:
        with replaced(self, swap_input_and_forget):
            return super().forward(x, hc0)


class NoForgetGate(LSTM):
    """Broken (as a copy of nn.LSTM): the original 1997 cell, whose state only accumulates."""

    def forward(self, x: torch.Tensor, hc0: State | None = None) -> tuple[torch.Tensor, State]:
        with replaced(self, forget_gate_open):
            return super().forward(x, hc0)


@pytest.mark.parametrize("broken", [GatesSwapped, NoForgetGate])
def test_the_check_stage_catches_swapped_gates_or_a_missing_forget_gate(
    monkeypatch: pytest.MonkeyPatch, broken: type[LSTM]
) -> None:
    monkeypatch.setattr("readtrack_plugins.lstm.experiment.LSTM", broken)
    check_catches("lstm", "output, h_n, c_n vs nn.LSTM", "the carousel")


def test_the_cell_switch_puts_a_plain_rnn_in_the_lstms_arm_so_the_two_arms_are_alike() -> None:
    """``--set cell=rnn``: the ablation of the cell; the default keeps our LSTM and its forget bias."""
    turned = make_model("LSTM", 3, "cpu", Config(cell="rnn"))
    plain = make_model("RNN", 3, "cpu", Config())
    assert isinstance(turned.rnn, nn.RNN)
    turned_state, plain_state = turned.state_dict(), plain.state_dict()
    assert turned_state.keys() == plain_state.keys()
    assert all(torch.equal(turned_state[k], plain_state[k]) for k in plain_state)
    lstm = make_model("LSTM", 3, "cpu", Config(forget_bias=2.5))
    assert isinstance(lstm.rnn, LSTM)
    H = Config().hidden
    assert torch.all(lstm.rnn.get_parameter("bias_ih_l0")[H : 2 * H] == 2.5)
