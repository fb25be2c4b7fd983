"""The resnet plugin: the block against its functional composition on more shapes and options, the identity
a zeroed block computes, the shortcut options' shapes and parameters, and checks that fail for a block with
the ReLU before the addition or option A padding on the wrong side."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.resnet.experiment import _randomise, grad_at_input, reference_block, tanh_teacher
from readtrack_plugins.resnet.model import BasicBlock, DeepMLP, PadShortcut, ResNet, ResNetConfig

from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize(
    ("c_in", "c_out", "stride", "residual", "shortcut", "shape"),
    [
        (1, 1, 1, True, "A", (2, 1, 1, 1)),
        (2, 4, 2, True, "A", (2, 2, 1, 3)),
        (2, 4, 2, True, "B", (4, 2, 11, 3)),
        (5, 5, 1, True, "C", (1, 5, 4, 4)),
        (3, 8, 3, True, "A", (2, 3, 10, 7)),
        (4, 4, 1, False, "B", (3, 4, 2, 2)),
    ],
)
def test_block_equals_the_functional_composition(
    c_in: int, c_out: int, stride: int, residual: bool, shortcut: str, shape: tuple[int, ...]
) -> None:
    torch.manual_seed(0)
    block = BasicBlock(c_in, c_out, stride, residual, shortcut).double()
    _randomise(block)
    params = dict(block.named_parameters())
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    out = block(x)
    expected = reference_block(x, params, stride, residual)
    torch.testing.assert_close(out, expected)
    dy = torch.randn_like(out)
    leaves = [x, *params.values()]
    torch.testing.assert_close(
        torch.autograd.grad(out, leaves, dy, retain_graph=True), torch.autograd.grad(expected, leaves, dy)
    )


def test_option_a_subsamples_and_pads_with_zero_channels() -> None:
    x = torch.arange(2 * 3 * 5 * 5, dtype=torch.float64).view(2, 3, 5, 5)
    y = PadShortcut(3, 7, 2)(x)
    assert y.shape == (2, 7, 3, 3)
    torch.testing.assert_close(y[:, :3], x[:, :, ::2, ::2])
    assert (y[:, 3:] == 0).all()


def test_a_zeroed_residual_branch_leaves_a_relu_of_the_input() -> None:
    block = BasicBlock(3, 3).double()
    _randomise(block)
    with torch.no_grad():
        block.bn2.weight.zero_(), block.bn2.bias.zero_()
    x = torch.randn(4, 3, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(block(x), F.relu(x))  # on post-ReLU inputs this is the identity
    plain = BasicBlock(3, 3, residual=False).double()
    plain.load_state_dict(block.state_dict())
    assert (plain(x) == 0).all()  # the plain block loses its input entirely


@pytest.mark.parametrize("shortcut", ["A", "B", "C"])
def test_resnet_shapes_and_depth(shortcut: str) -> None:
    model = ResNet(ResNetConfig(n=2, width=4, shortcut=shortcut))
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) + 1 == 6 * 2 + 2  # 3×3 convs plus the read-out: depth 6n + 2
    assert model(torch.randn(3, 1, 16, 16)).shape == (3, 4)
    assert model(torch.randn(2, 1, 9, 13)).shape == (2, 4)  # any image size (global pooling)


def test_plain_and_residual_networks_have_the_same_parameters() -> None:
    plain, residual = DeepMLP(12, 16, 32, 4, False), DeepMLP(12, 16, 32, 4, True)
    assert [p.shape for p in plain.parameters()] == [p.shape for p in residual.parameters()]
    with pytest.raises(ValueError, match="even"):
        DeepMLP(5, 16, 32, 4, True)


def test_the_input_gradient_grows_with_depth_far_faster_without_shortcuts() -> None:
    plain = [grad_at_input(d, False, "cpu") for d in (4, 32)]
    residual = [grad_at_input(d, True, "cpu") for d in (4, 32)]
    assert plain[1] / plain[0] > 5 * residual[1] / residual[0]


def test_the_teacher_is_seeded_and_uses_every_class() -> None:
    X, y = tanh_teacher(512, 3, "cpu")
    X2, y2 = tanh_teacher(512, 3, "cpu")
    assert torch.equal(X, X2) and torch.equal(y, y2)
    assert torch.bincount(y, minlength=4).min() > 30


class ReluBeforeAddition(BasicBlock):
    """A broken block: σ(F(x)) + x, the ReLU before the addition instead of after it (fig. 2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out) + self.shortcut(x) if self.residual else F.relu(out)


class PadFirst(PadShortcut):
    """A broken option A: the zero channels go in front of the input's instead of after them."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, self.extra, 0))


def test_the_check_catches_the_relu_before_the_addition(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("readtrack_plugins.resnet.experiment.BasicBlock", ReluBeforeAddition)
    failed = check_catches("resnet", "block forward vs F.conv2d", "block gradients vs F.conv2d")
    assert not any("plain block" in name for name in failed)  # the plain block has no addition to misplace


def test_the_check_catches_option_a_padding_on_the_wrong_side(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("readtrack_plugins.resnet.model.PadShortcut", PadFirst)
    failed = check_catches("resnet", "block forward vs F.conv2d + BatchNorm by hand, option A")
    assert all("option A" in name for name in failed)


def test_the_train_stage_fails_without_the_identity_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the idea: every "residual" network built without its shortcut, σ(F(x)) in place of
    σ(F(x) + x); then residual-32 is a plain-32 and the cure target must fail."""

    def no_shortcut(depth: int, d_in: int, width: int, classes: int, residual: bool) -> DeepMLP:
        return DeepMLP(depth, d_in, width, classes, False)

    monkeypatch.setattr("readtrack_plugins.resnet.experiment.DeepMLP", no_shortcut)
    result = run_stage("resnet", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("the cure: residual-32 − plain-32") for name in failed), failures(result)
