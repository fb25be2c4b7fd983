"""The gan plugin: the losses against binary cross-entropy at extreme logits, Proposition 1 on a 1-d grid,
the saturation of eq. 1's generator loss, the model's shapes, and checks that fail for a generator loss with
the wrong sign inside the log or a wrong optimal discriminator."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.gan.model import GAN, discriminator_loss, generator_loss, optimal_discriminator, value

from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize("n", [1, 3, 257])
def test_the_losses_are_binary_cross_entropy_even_at_extreme_logits(n: int) -> None:
    g = torch.Generator().manual_seed(n)
    real, fake = (
        40 * torch.randn(n, generator=g, dtype=torch.float64),
        40 * torch.randn(n, generator=g).double(),
    )
    ones, zeros = torch.ones_like(real), torch.zeros_like(real)
    bce = F.binary_cross_entropy_with_logits
    torch.testing.assert_close(discriminator_loss(real, fake), bce(real, ones) + bce(fake, zeros))
    torch.testing.assert_close(generator_loss(fake), bce(fake, ones))
    torch.testing.assert_close(generator_loss(fake, saturating=True), -bce(fake, zeros))
    torch.testing.assert_close(value(real, fake), -discriminator_loss(real, fake))
    assert all(math.isfinite(float(t)) for t in (discriminator_loss(real, fake), generator_loss(fake)))


def test_proposition_1_on_a_one_dimensional_grid() -> None:
    """Two Gaussians on a grid: D* maximises V pointwise, so any perturbation of it lowers V."""
    x = torch.linspace(-3, 3, 301, dtype=torch.float64)  # p_g stays far above underflow
    p_data, p_g = torch.exp(-0.5 * x**2), torch.exp(-0.5 * ((x - 1) / 0.5) ** 2)
    p_data, p_g = p_data / p_data.sum(), p_g / p_g.sum()
    d = optimal_discriminator(p_data, p_g)

    def v(d: torch.Tensor) -> float:
        return float((p_data * d.log() + p_g * (1 - d).log()).sum())

    for delta in (1e-3, -1e-3, 0.1):
        assert v(d) > v((d + delta * torch.sin(7 * x)).clamp(1e-9, 1 - 1e-9))


def test_the_saturating_loss_stops_pushing_where_d_rejects() -> None:
    a = torch.tensor([-20.0, 0.0, 20.0], dtype=torch.float64, requires_grad=True)
    (sat,) = torch.autograd.grad(generator_loss(a, saturating=True), a)
    (non_sat,) = torch.autograd.grad(generator_loss(a), a)
    assert abs(float(sat[0])) < 1e-8 and abs(float(non_sat[0]) + 1 / 3) < 1e-8
    assert abs(float(sat[2]) + 1 / 3) < 1e-8 and abs(float(non_sat[2])) < 1e-8


def test_the_model_shapes() -> None:
    model = GAN(d_z=3, d_hidden=16)
    samples = model.sample(5)
    assert samples.shape == (5, 2) and model.discriminate(samples).shape == (5,)


def log_one_plus_d(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """A wrong sign: log(1 + D(G(z))) in place of log(1 − D(G(z)))."""
    if saturating:
        return torch.log1p(torch.sigmoid(fake_logits)).mean()
    return -F.logsigmoid(fake_logits).mean()


def swapped(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    return p_g / (p_data + p_g)


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        ("readtrack_plugins.gan.experiment.generator_loss", log_one_plus_d, "losses (−V, saturating"),
        ("readtrack_plugins.gan.experiment.optimal_discriminator", swapped, "Proposition 1"),
    ],
)
def test_the_check_stage_catches_a_wrong_loss_or_optimal_discriminator(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("gan", caught_by)


def test_the_train_stage_fails_without_the_non_saturating_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the idea (section 3's non-saturating loss): G always minimises E log(1 − D(G(z))), and the
    gradient-ratio target must fail."""

    def always_saturating(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
        return generator_loss(fake_logits, saturating=True)

    monkeypatch.setattr("readtrack_plugins.gan.experiment.generator_loss", always_saturating)
    result = run_stage("gan", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("G's gradient at the start") for name in failed), failures(result)
