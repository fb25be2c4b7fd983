"""The explain-neurons plugin: the correlation score on more shapes, the simulator and explainer on
constructed neurons, and checks that fail for a score without centring or a simulator that does not predict
from the explanation alone."""

from __future__ import annotations

import random

import pytest
import torch
from readtrack_plugins.explain_neurons.experiment import _random_explanation, _reference_correlation
from readtrack_plugins.explain_neurons.model import (
    Explanation,
    NeuronMLP,
    T,
    V,
    candidates,
    correlation_score,
    discretise,
    explain,
    simulate,
)

from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize(("c", "h", "n"), [(1, 1, 3), (2, 5, 17), (6, 1, 250)])
def test_correlation_score_equals_the_reference(c: int, h: int, n: int) -> None:
    sim, real = torch.rand(c, n, dtype=torch.float64), torch.randn(h, n, dtype=torch.float64)
    ref = torch.tensor(
        [[_reference_correlation(s.tolist(), r.tolist()) for r in real] for s in sim], dtype=torch.float64
    )
    torch.testing.assert_close(correlation_score(sim, real), ref)
    assert torch.allclose(correlation_score(real, real).diagonal(), torch.ones(h, dtype=torch.float64))


def test_the_language_is_complete_and_distinct() -> None:
    language = candidates()
    assert len(language) == len(set(language)) == 8 + V + V + (T - 1) + V * V
    text = torch.randint(0, V, (50, T))
    for e in random.Random(0).sample(language, 40):
        out = simulate(e, text)
        assert set(out.unique().tolist()) <= {0.0, 10.0}


@pytest.mark.parametrize("kind", ["token", "class", "prev", "bigram", "position"])
def test_explainer_and_pipeline_recover_planted_neurons(kind: str) -> None:
    g, rng = torch.Generator().manual_seed(1), random.Random(1)
    e = _random_explanation(kind, rng)
    model = NeuronMLP(1).double()
    model.plant(0, e, 0.05, g)
    text = torch.randint(0, V, (300, T), generator=g)
    with torch.no_grad():
        acts = model(text)[..., 0]
    proposals = explain(acts, text, candidates())
    assert proposals[0] == e
    # and scoring on the text keeps it: no other proposal's simulation correlates better
    scores = correlation_score(
        torch.stack([simulate(p, text).flatten() for p in proposals]), acts.flatten()[None]
    )
    assert int(scores.argmax()) == 0 and float(scores[0, 0]) > 0.5


def test_discretise_maps_the_maximum_to_10() -> None:
    acts = torch.tensor([[0.0, 0.26, 1.3], [-0.5, 0.65, 0.1]])
    assert discretise(acts).tolist() == [[0.0, 2.0, 10.0], [0.0, 5.0, 1.0]]
    assert str(Explanation("bigram", (4, 9))) == "9 right after 4"


def uncentred_score(simulated: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Broken: cosine similarity, the centring forgotten."""
    s = simulated / simulated.norm(dim=-1, keepdim=True).clamp_min(1e-30)
    return s @ (real / real.norm(dim=-1, keepdim=True).clamp_min(1e-30)).T


def peeking_simulator(e: Explanation, tokens: torch.Tensor) -> torch.Tensor:
    """Broken: predicts the activations of a hidden neuron (here: a fixed token-7 detector) rather than
    reading the explanation."""
    return 10.0 * (tokens == 7).to(torch.float64)


@pytest.mark.parametrize(
    ("module", "name", "broken", "caught_by"),
    [
        ("experiment", "correlation_score", uncentred_score, "correlation score vs"),
        ("experiment", "simulate", peeking_simulator, "simulator on a hand-made text"),
    ],
)
def test_the_check_stage_catches_a_broken_score_or_simulator(
    monkeypatch: pytest.MonkeyPatch, module: str, name: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(f"readtrack_plugins.explain_neurons.{module}.{name}", broken)
    check_catches("explain-neurons", caught_by)


def test_the_train_a_b_fails_when_the_simulation_ignores_the_explanation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The idea removed: simulated activations that do not come from the explanation. The explainer still
    ranks the planted rule first on its snippets (so the recovery fraction, near-circular, may still pass),
    but the score no longer tells planted neurons from random ones: the planted − random target fails."""
    monkeypatch.setattr("readtrack_plugins.explain_neurons.experiment.simulate", peeking_simulator)
    result = run_stage("explain-neurons", "train")
    assert result.verdict() == "failed"
    failed = {t.name for t in result.targets if not t.passed}
    assert "mean score, planted − random neurons" in failed, failures(result)
