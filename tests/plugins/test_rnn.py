"""The rnn plugin: Elman's network against ``nn.RNN`` on more shapes and in both directions of state_dict
loading, the temporal-XOR data, and checks that fail for a missing bias or the wrong nonlinearity."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from readtrack_plugins.rnn.experiment import without_context, xor_stream
from readtrack_plugins.rnn.model import RNN
from recurrent_testing import SHAPES, assert_same_as_reference, replaced
from torch import nn

from readtrack.plugin_kit.recurrent import adding_mse, adding_test, marked_weights
from readtrack.testing import check_catches


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_equals_nn_rnn_forward_and_backward(shape: tuple[Any, ...], act: str) -> None:
    n_in, H, layers, batch_first = shape[2:6]
    ref = nn.RNN(n_in, H, layers, nonlinearity=act, batch_first=batch_first).double()
    ours = RNN(n_in, H, layers, nonlinearity=act, batch_first=batch_first).double()
    ours.load_state_dict(ref.state_dict())  # nn.RNN's random initialisation
    assert_same_as_reference(ours, ref, list(ref.parameters()), shape)


def test_state_dicts_have_the_same_names_and_shapes_and_load_both_ways() -> None:
    ours, ref = RNN(3, 4, num_layers=2), nn.RNN(3, 4, num_layers=2, batch_first=True)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in ref.state_dict().items()
    }
    ref.load_state_dict(ours.state_dict())  # strict, the other way round
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(ours(x)[0], ref(x)[0])


def test_initialisation_is_uniform_within_one_over_root_h() -> None:
    model = RNN(3, 25)
    for p in model.parameters():
        assert float(p.detach().abs().max()) <= 1 / 5


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="batched"):
        RNN(2, 3)(torch.randn(5, 2))


def test_the_xor_stream_has_every_third_bit_the_xor_of_the_two_before() -> None:
    bits = xor_stream(64, 10, torch.Generator().manual_seed(0)).long()
    assert bits.shape == (64, 30)
    triples = bits.view(64, 10, 3)
    assert torch.equal(triples[..., 2], triples[..., 0] ^ triples[..., 1])
    assert 0.4 < bits.float().mean() < 0.6


class NoHiddenBias(RNN):
    """Broken: b_hh left out of every step (a bias that only ever appears summed is easy to drop)."""

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        with replaced(self, lambda name, p: torch.zeros_like(p) if name.startswith("bias_hh") else p):
            return super().forward(x, h0)


class WrongNonlinearity(RNN):
    """Broken: ReLU where tanh was asked for, and the other way round."""

    def __init__(self, *args: Any, nonlinearity: str = "tanh", **kwargs: Any) -> None:
        super().__init__(*args, nonlinearity="relu" if nonlinearity == "tanh" else "tanh", **kwargs)


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [(NoHiddenBias, "output and h_n vs nn.RNN"), (WrongNonlinearity, "output and h_n vs nn.RNN")],
)
def test_the_check_stage_catches_a_missing_bias_or_the_wrong_nonlinearity(
    monkeypatch: pytest.MonkeyPatch, broken: type[RNN], caught_by: str
) -> None:
    monkeypatch.setattr("readtrack_plugins.rnn.experiment.RNN", broken)
    check_catches("rnn", caught_by)


class _FromMarks(nn.Module):
    """Predicts ``far``·(first marked value) + ``near``·(second) + 0.5, read straight off the marks."""

    def __init__(self, far: float, near: float) -> None:
        super().__init__()
        self.far, self.near = far, near

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        marked = x[..., 0][x[..., 1] > 0].view(-1, 2)  # (B, 2): first, second
        return self.far * marked[:, 0] + self.near * marked[:, 1] + 0.5


@pytest.mark.parametrize(("far", "near"), [(1.0, 1.0), (0.0, 1.0), (0.3, 0.0)])
def test_marked_weights_tell_how_much_of_each_marked_value_reaches_the_prediction(
    far: float, near: float
) -> None:
    """The claim's statistic: a network that forgets the far value scores a ≈ 0 whatever it made of the near
    one, while its MSE (here 1/12 for the near value alone) moves with the near one."""
    test = adding_test(0, "cpu", size=400)
    got = marked_weights(_FromMarks(far, near), test)
    assert got == pytest.approx((far, near), abs=1e-6)  # float32 predictions
    if (far, near) == (0.0, 1.0):
        assert adding_mse(_FromMarks(far, near), test) == pytest.approx(1 / 12, rel=0.15)


def test_without_context_units_a_step_sees_its_own_input_alone_and_training_keeps_it_so() -> None:
    """The ablation switch (``--set context=false``): W_hh held at zero, out of the optimiser's reach."""
    rnn = without_context(RNN(2, 5))
    x = torch.randn(3, 6, 2)
    shifted = x.clone()
    shifted[:, :-1] = torch.randn(3, 5, 2)  # every input but the last changed
    assert torch.equal(rnn(x)[0][:, -1], rnn(shifted)[0][:, -1])
    W_hh = rnn.get_parameter("weight_hh_l0")
    assert not W_hh.requires_grad and not W_hh.any()
