"""The vae plugin: the bound's terms against torch.distributions on more shapes, the reparameterised sample's
distribution, the importance-weighted bound tightening with K, and checks that fail for a KL without its ½
or a reparameterisation with σ² in place of σ."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.vae.model import VAE, bernoulli_log_likelihood, gaussian_kl, reparameterise

from readtrack.plugin_kit.images import bars
from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize("shape", [(1,), (4, 1), (2, 3, 17), (64, 8)])
def test_the_terms_equal_torch_distributions(shape: tuple[int, ...]) -> None:
    g = torch.Generator().manual_seed(len(shape))
    mu, logvar = (
        torch.randn(shape, generator=g, dtype=torch.float64),
        3 * torch.randn(shape, generator=g).double(),
    )
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    torch.testing.assert_close(gaussian_kl(mu, logvar), torch.distributions.kl_divergence(q, p).sum(-1))
    logits = 40 * torch.randn(shape, generator=g, dtype=torch.float64)  # past softplus's threshold
    x = (torch.rand(shape, generator=g) < 0.5).double()
    ref = torch.distributions.Bernoulli(logits=logits).log_prob(x).sum(-1)
    torch.testing.assert_close(bernoulli_log_likelihood(logits, x), ref, rtol=0, atol=1e-12)


def test_the_reparameterised_sample_has_the_right_distribution() -> None:
    mu, logvar = torch.tensor([1.0, -2.0]), torch.tensor([0.0, 2.0])
    z = reparameterise(mu, logvar, torch.randn(200_000, 2, generator=torch.Generator().manual_seed(0)))
    torch.testing.assert_close(z.mean(0), mu, atol=0.02, rtol=0)
    torch.testing.assert_close(z.var(0), logvar.exp(), atol=0.0, rtol=0.02)


def test_the_bound_holds_and_importance_weighting_tightens_it() -> None:
    torch.manual_seed(0)
    model = VAE(d_z=2, d_hidden=32).double()
    x = bars(8, torch.Generator().manual_seed(0)).flatten(1).double()
    with torch.no_grad():
        elbo = torch.stack([model.elbo(x, samples=200)[0] for _ in range(5)]).mean(0)
        k1 = torch.stack([model.importance_weighted_log_likelihood(x, 1) for _ in range(1000)]).mean(0)
        k1000 = model.importance_weighted_log_likelihood(x, 1000)
    assert bool((k1000 > elbo).all()) and float(k1000.mean() - elbo.mean()) > 0.1
    torch.testing.assert_close(k1, elbo, atol=0.3, rtol=0)  # K = 1 is the ELBO in expectation
    assert bool((model.elbo(x)[1] > 0).all())  # the KL term of a Gaussian against N(0, I) is positive


def test_the_score_function_surrogate_has_the_bound_as_its_value_and_trains_the_encoder() -> None:
    torch.manual_seed(0)
    model = VAE(d_z=3, d_hidden=16)
    x = bars(16, torch.Generator().manual_seed(1)).flatten(1)
    surrogate, bound = model.score_function_elbo(x)
    assert surrogate.shape == bound.shape == (16,)
    grads = torch.autograd.grad(surrogate.mean(), list(model.encoder.parameters()))
    assert all(bool(g.abs().sum() > 0) for g in grads)


def kl_without_half(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -(1 + logvar - mu.square() - logvar.exp()).sum(dim=-1)


def sigma_squared(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    return mu + torch.exp(logvar) * eps  # σ² where σ belongs


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        ("readtrack_plugins.vae.experiment.gaussian_kl", kl_without_half, "KL term of eq. 10 vs"),
        (
            "readtrack_plugins.vae.experiment.reparameterise",
            sigma_squared,
            "reparameterised gradient of E[z²] is unbiased",
        ),
    ],
)
def test_the_check_stage_catches_a_wrong_kl_or_reparameterisation(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("vae", caught_by)


def test_the_train_stage_fails_without_the_reparameterisation(monkeypatch: pytest.MonkeyPatch) -> None:
    # Both arms trained with the score-function gradient: no gap left to claim.
    from readtrack_plugins.vae import experiment

    fit = experiment._fit
    monkeypatch.setattr(experiment, "_fit", lambda ctx, variant, *a: fit(ctx, "score-function", *a))
    result = run_stage("vae", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("−ELBO, score-function minus reparameterised") for name in failed), failures(
        result
    )
