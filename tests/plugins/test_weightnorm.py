"""The WeightNorm plugin: equal to torch's weight_norm parametrization, eq. 3's gradients, the data-dependent
initialisation of section 3, and its check and claim can fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.weightnorm.model import WeightNormLinear, data_dependent_init, weight_norm_mlp
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from readtrack.plugin_kit.models import deep_mlp
from readtrack.testing import failures, run_stage


@pytest.mark.parametrize(("d_in", "d_out"), [(1, 1), (3, 1), (1, 4), (17, 9), (64, 32)])
def test_forward_and_gradients_equal_torch_weight_norm(d_in: int, d_out: int) -> None:
    torch.manual_seed(0)
    ours = WeightNormLinear(d_in, d_out).double()
    with torch.no_grad():
        ours.g.uniform_(-2, 2), ours.v.normal_(), ours.b.normal_()
    ref = weight_norm(nn.Linear(d_in, d_out), dim=0).double()
    p = ref.parametrizations.weight
    with torch.no_grad():
        p.original0.copy_(ours.g.unsqueeze(1)), p.original1.copy_(ours.v), ref.bias.copy_(ours.b)
    x = torch.randn(2, 5, d_in, dtype=torch.float64, requires_grad=True)
    out, expected = ours(x), ref(x)
    torch.testing.assert_close(out, expected)
    dy = torch.randn_like(out)
    grads = torch.autograd.grad(out, (x, ours.g, ours.v, ours.b), dy)
    ref_grads = torch.autograd.grad(expected, (x, p.original0, p.original1, ref.bias), dy)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r.view_as(g))


def test_the_weight_rows_have_length_g_whatever_v() -> None:
    layer = WeightNormLinear(10, 6).double()
    with torch.no_grad():
        layer.g.copy_(torch.arange(1, 7, dtype=torch.float64))
        layer.v.mul_(torch.logspace(-3, 3, 6, dtype=torch.float64).unsqueeze(1))  # wildly different norms
    torch.testing.assert_close(layer.weight().norm(dim=1), layer.g.detach())


def test_gradients_are_eq_3s_and_the_gradient_of_v_is_orthogonal_to_v() -> None:
    torch.manual_seed(1)
    layer = WeightNormLinear(12, 5).double()
    with torch.no_grad():
        layer.g.uniform_(0.5, 2)
    x, y = torch.randn(30, 12, dtype=torch.float64), torch.randint(0, 5, (30,))
    grad_g, grad_v = torch.autograd.grad(F.cross_entropy(layer(x), y), (layer.g, layer.v))
    w = layer.weight().detach().requires_grad_()
    (grad_w,) = torch.autograd.grad(F.cross_entropy(F.linear(x, w, layer.b), y), w)  # ∇_w L: (5, 12)
    v, g = layer.v.detach(), layer.g.detach().unsqueeze(1)
    v_norm = v.norm(dim=1, keepdim=True)
    torch.testing.assert_close(grad_g, (grad_w * v).sum(dim=1) / v_norm.squeeze(1))  # eq. 3, ∇_g L
    radial = w.detach() * (grad_w * w.detach()).sum(dim=1, keepdim=True) / g.square()  # w wᵀ ∇_w L / ‖w‖²
    torch.testing.assert_close(grad_v, g / v_norm * (grad_w - radial))  # eq. 3, ∇_v L = g/‖v‖ M_w ∇_w L
    cosine = (grad_v * v).sum(dim=1).abs() / (grad_v.norm(dim=1) * v_norm.squeeze(1))
    assert cosine.max() <= 1e-13


def test_data_dependent_init_standardises_every_layer_in_one_pass() -> None:
    torch.manual_seed(2)
    net = weight_norm_mlp(5, 16, 8, 3).double()
    batch = 50 * torch.randn(64, 8, dtype=torch.float64) - 7
    data_dependent_init(net, batch)
    seen: list[torch.Tensor] = []
    for m in net:
        if isinstance(m, WeightNormLinear):
            m.register_forward_hook(lambda m, i, o: seen.append(o.detach()))
    net(batch)
    assert len(seen) == 6
    for t in seen:
        torch.testing.assert_close(t.mean(0), torch.zeros(t.shape[1], dtype=torch.float64))
        torch.testing.assert_close(t.var(0, unbiased=False), torch.ones(t.shape[1], dtype=torch.float64))
    # and it leaves no hooks behind: a second batch is not standardised
    other = torch.randn(64, 8, dtype=torch.float64)
    assert not torch.allclose(net[0](other).mean(0), torch.zeros(16, dtype=torch.float64), atol=1e-3)


def test_a_batch_of_one_gives_the_same_output_as_a_batch_of_32() -> None:
    torch.manual_seed(3)
    net = weight_norm_mlp(3, 16, 8, 4).double()
    x = torch.randn(32, 8, dtype=torch.float64)
    data_dependent_init(net, x)
    with torch.no_grad():
        torch.testing.assert_close(torch.cat([net(x[i : i + 1]) for i in range(32)]), net(x))
        plain_bn = deep_mlp(3, 16, 8, 4, nn.BatchNorm1d).double().train()
        assert not torch.allclose(plain_bn(x[:2])[:1], plain_bn(x)[:1])


class FrobeniusNorm(WeightNormLinear):
    """A broken WeightNormLinear: one norm for the whole matrix, not one per output unit."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.g.unsqueeze(1) * self.v / self.v.norm(), self.b)


class ConstantNorm(WeightNormLinear):
    """A subtly broken WeightNormLinear: right forward, but ‖v‖ detached, so ∇_v L is not eq. 3's."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.g.unsqueeze(1) * self.v / self.v.norm(dim=1, keepdim=True).detach()
        return F.linear(x, w, self.b)


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [(FrobeniusNorm, "forward vs torch weight_norm"), (ConstantNorm, "gradients (input, g, v, b)")],
)
def test_the_check_stage_catches_a_broken_weightnorm(
    monkeypatch: pytest.MonkeyPatch, broken: type[WeightNormLinear], caught_by: str
) -> None:
    monkeypatch.setattr("readtrack_plugins.weightnorm.experiment.WeightNormLinear", broken)
    result = run_stage("weightnorm", "check")
    assert result.verdict() == "failed"
    assert any(caught_by in c.name for c in result.comparisons if not c.passed), failures(result)


def test_the_train_claim_fails_without_weight_normalisation(monkeypatch: pytest.MonkeyPatch) -> None:
    # The "WeightNorm" network replaced by the plain He-initialised one: the same network as the baseline,
    # on the same data and batches, so no gain to claim, and the quick run's asserted target must fail.
    monkeypatch.setattr(
        "readtrack_plugins.weightnorm.experiment.weight_norm_mlp",
        lambda depth, width, d_in, classes: deep_mlp(depth, width, d_in, classes),
    )
    result = run_stage("weightnorm", "train")
    assert result.verdict() == "failed"
    (claim,) = result.targets
    assert claim.name.startswith("inputs ×100: test loss without / with WeightNorm"), claim
    assert not claim.passed, claim
