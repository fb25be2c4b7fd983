"""The GPT-3 plugin: the naive forward against TinyTransformer on more shapes, the Bayes ceiling against brute
force on more domains, an oracle that reads the prompt scoring the ceiling through the plugin's evaluator,
the prompts of an A/B sharing their queries, and checks that fail for a leaky mask or a wrong ceiling."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.gpt3 import experiment
from readtrack_plugins.gpt3.model import accuracy_by_shots, bayes_ceiling, causal_mask, prompts

from readtrack.testing import check_catches, failures, run_stage

PLUGIN = "readtrack_plugins.gpt3"


@pytest.mark.parametrize(("layers", "n"), [(1, 2), (1, 11), (2, 5), (3, 18), (3, 1)])
def test_tiny_transformer_equals_the_naive_forward(layers: int, n: int) -> None:
    torch.manual_seed(n)
    model = experiment._model(torch.float64, "cpu", layers=layers)
    tokens = torch.randint(0, experiment.VOCAB, (2, n))
    torch.testing.assert_close(model(tokens, causal_mask(n)), experiment.naive_forward(model, tokens))


@pytest.mark.parametrize(("n_x", "n_y", "k"), [(2, 2, 4), (4, 2, 2), (3, 4, 2), (1, 3, 2), (5, 2, 1)])
def test_the_ceiling_formula_equals_brute_force_bayes(n_x: int, n_y: int, k: int) -> None:
    assert bayes_ceiling(k, n_x, n_y) == pytest.approx(
        float(experiment.brute_force_bayes(k, n_x, n_y)), abs=1e-12
    )


class Oracle:
    """The Bayes predictor as a "model": after each query, all the mass on the answer shown for that x
    earlier in the prompt, if any (an unshown x gets equal logits: the first answer)."""

    def __call__(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        B, N = tokens.shape
        logits = torch.zeros(B, N, experiment.VOCAB, dtype=torch.float64)
        for b in range(B):
            shown: dict[int, int] = {}
            for i in range(0, N, 2):
                x = int(tokens[b, i])
                if x in shown:
                    logits[b, i, shown[x]] = 1.0
                if i + 1 < N:
                    shown[x] = int(tokens[b, i + 1])
        return logits


def test_an_oracle_reading_the_prompt_scores_the_ceiling_through_the_evaluator() -> None:
    n_x, n_y = experiment.N_X, experiment.N_Y
    tokens, answers = prompts(3000, 8, n_x, n_y, torch.Generator().manual_seed(0))
    accuracy = accuracy_by_shots(Oracle(), tokens, answers, n_x, n_y)
    ceiling = torch.tensor([bayes_ceiling(k, n_x, n_y) for k in range(9)], dtype=torch.float64)
    assert (accuracy - ceiling).abs().max() < 0.03  # 3000 prompts: a standard error below 0.01


def test_an_a_b_pair_of_prompt_sets_shares_its_queries_and_a_fixed_map_is_one_map() -> None:
    fixed = torch.tensor([3, 1, 4, 1, 5, 0, 2, 6])
    fresh, _ = prompts(256, 8, 8, 8, torch.Generator().manual_seed(5))
    same, answers = prompts(256, 8, 8, 8, torch.Generator().manual_seed(5), fixed_map=fixed)
    assert torch.equal(fresh[:, 0::2], same[:, 0::2])
    assert torch.equal(answers, fixed[same[:, 0::2]])
    assert not torch.equal(fresh[:, 1::2], same[:, 1::2])


def leaky_mask(n: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """One position too many: i also sees i + 1."""
    return torch.ones(n, n, dtype=torch.bool, device=device).tril(1)


def test_the_check_catches_a_mask_that_leaks_the_next_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{PLUGIN}.experiment.causal_mask", leaky_mask)
    monkeypatch.setattr(f"{PLUGIN}.model.causal_mask", leaky_mask)
    check_catches(
        "gpt3",
        "TinyTransformer with causal_mask",
        "causal: no output of the model",
        "answer logits read in one pass",
    )


def test_the_check_catches_a_ceiling_off_by_one_shot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        f"{PLUGIN}.experiment.bayes_ceiling", lambda k, n_x, n_y: bayes_ceiling(k + 1, n_x, n_y)
    )
    check_catches("gpt3", "Bayes ceiling formula")


def test_the_train_targets_fail_without_in_context_learning(monkeypatch: pytest.MonkeyPatch) -> None:
    """The idea removed: trained on one fixed map, the demonstrations carry nothing the weights do not
    already know, so the model never learns to read them; the shots A/B and the ceiling targets fail."""
    fixed = torch.randint(0, 8, (8,), generator=torch.Generator().manual_seed(7))
    train = experiment._train
    monkeypatch.setattr(
        f"{PLUGIN}.experiment._train",
        lambda ctx, steps, lr, label, fixed_map=None: train(ctx, steps, lr, label, fixed_map=fixed),
    )
    result = run_stage("gpt3", "train")
    assert result.verdict() == "failed"
    failed = {t.name for t in result.targets if not t.passed}
    assert "the A/B: the same model with 8 shots − with none" in failed, failures(result)
    assert "largest shortfall from the Bayes ceiling over k = 0, 1, 2, 4, 8" in failed, failures(result)
