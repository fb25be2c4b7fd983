"""The gist-tokens plugin: the mask on more shapes, gist caching on more shapes and in a batch of different
prompts, the instruction task, and a check that fails for a mask that lets one position after the gist see
the prompt."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from readtrack_plugins.gist_tokens.config import Config
from readtrack_plugins.gist_tokens.experiment import (
    GIST,
    PROMPT,
    SYMBOLS,
    TASKS,
    VOCAB,
    instruction_batch,
    naive_gist_mask,
    no_prompt_ceiling,
)
from readtrack_plugins.gist_tokens.model import cache_numbers, decode_with_gist_cache, gist_cache, gist_mask

from readtrack.plugin_kit.transformer import TinyTransformer
from readtrack.plugins.knobs import knob
from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize(("n_prompt", "k", "n_after"), [(2, 1, 2), (7, 3, 1), (1, 5, 6), (16, 2, 9)])
def test_the_mask_matches_its_definition(n_prompt: int, k: int, n_after: int) -> None:
    mask = gist_mask(n_prompt, k, n_after)
    assert torch.equal(mask, naive_gist_mask(n_prompt, k, n_after))
    assert mask.any(dim=1).all()  # every query attends somewhere (SDPA would give NaN otherwise)
    assert not mask[n_prompt + k :, :n_prompt].any() and mask[n_prompt : n_prompt + k, :n_prompt].all()


@pytest.mark.parametrize(("n_prompt", "k", "n_after"), [(3, 1, 1), (10, 2, 4), (5, 3, 11)])
def test_decoding_against_the_gist_cache_is_the_masked_forward(n_prompt: int, k: int, n_after: int) -> None:
    torch.manual_seed(0)
    model = TinyTransformer(VOCAB, n_prompt + k + n_after, 16, 2, 3).double()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.4)
    prompt = torch.randint(0, GIST, (4, n_prompt))
    x = torch.randint(0, GIST, (4, n_after))
    head = torch.cat((prompt, torch.full((4, k), GIST)), dim=1)
    full = model(torch.cat((head, x), dim=1), gist_mask(n_prompt, k, n_after))[:, n_prompt + k :]
    torch.testing.assert_close(
        decode_with_gist_cache(model, gist_cache(model, head, k), x, n_prompt + k), full
    )


def test_a_cache_from_another_prompt_gives_that_prompts_outputs() -> None:
    """What caching relies on: the outputs after the gist are a function of the gist cache and x alone."""
    torch.manual_seed(1)
    model = TinyTransformer(VOCAB, 12, 16, 2, 2).double()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.4)
    a, b = torch.randint(0, GIST, (2, 1, 6)).unbind(0)
    gists, x = torch.full((1, 2), GIST), torch.randint(0, GIST, (1, 4))
    mask = gist_mask(6, 2, 4)
    out_a = model(torch.cat((a, gists, x), dim=1), mask)[:, 8:]
    out_b = model(torch.cat((b, gists, x), dim=1), mask)[:, 8:]
    assert not torch.allclose(out_a, out_b)  # the prompt matters, through the gist
    cache_a = gist_cache(model, torch.cat((a, gists), dim=1), 2)
    torch.testing.assert_close(decode_with_gist_cache(model, cache_a, x, 8), out_a)
    assert cache_numbers(model, 2) * 4 == cache_numbers(model, 8)


def test_held_out_phrasings_are_never_trained_on_and_outputs_follow_the_task() -> None:
    permutations = torch.stack([torch.randperm(SYMBOLS) for _ in range(TASKS)])
    g = torch.Generator().manual_seed(0)
    train_prompts, x, y = instruction_batch(500, g, permutations, False, "cpu")
    test_prompts, _, _ = instruction_batch(500, g, permutations, True, "cpu")
    assert train_prompts.shape == (500, PROMPT) and (train_prompts.sum(1) % 5 != 0).all()
    assert (test_prompts.sum(1) % 5 == 0).all()
    keywords = (train_prompts >= SYMBOLS) & (train_prompts < SYMBOLS + 3 * TASKS)
    task = ((train_prompts - SYMBOLS) // 3).where(keywords, -1).max(dim=1).values  # each prompt's task
    assert keywords.any(dim=1).all() and torch.equal(y, permutations[task[:, None], x])


def test_the_no_prompt_ceiling_is_exact_on_a_small_case() -> None:
    same = torch.arange(SYMBOLS).repeat(TASKS, 1)  # every task the identity: no prompt needed
    assert no_prompt_ceiling(same) == 1.0
    shifts = torch.stack([torch.arange(SYMBOLS).roll(t) for t in range(SYMBOLS)])  # all disagree everywhere
    assert no_prompt_ceiling(shifts) == pytest.approx(1 / SYMBOLS)


def leaky_mask(n_prompt: int, k: int, n_after: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """A broken gist mask: the last position after the gist may still attend to the prompt."""
    mask = gist_mask(n_prompt, k, n_after, device)
    mask[-1, :n_prompt] = True
    return mask


def test_the_check_stage_catches_a_mask_that_lets_one_position_see_the_prompt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("readtrack_plugins.gist_tokens.experiment.gist_mask", leaky_mask)
    failed = check_catches(
        "gist-tokens",
        "gist mask = the definition",
        "decoding against the gist cache",
        "gist mask, gist states held",
    )
    assert len(failed) >= 10


def sealed_gist_mask(n_prompt: int, k: int, n_after: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """The idea removed: the gist tokens may not read the prompt either; nothing of it reaches the input."""
    mask = gist_mask(n_prompt, k, n_after, device)
    mask[n_prompt:, :n_prompt] = False
    return mask


def test_the_quick_claim_fails_when_the_gist_cannot_read_the_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    """The idea removed: the gist mask replaced by one that hides the prompt from the gist tokens too, so
    nothing of it reaches the input. The quick run's asserted target (gist k = 1 − the no-prompt ceiling
    ≥ 0.3; seed 0 reaches about 0.7 with the gist mask) fails: no knob is set, so it stays asserted; the
    steps are cut to 60 in the Config's defaults to keep the test cheap."""
    monkeypatch.setattr("readtrack_plugins.gist_tokens.experiment.gist_mask", sealed_gist_mask)
    monkeypatch.setattr("readtrack_plugins.gist_tokens.experiment.Config", _Short)
    result = run_stage("gist-tokens", "train")
    (gain,) = result.targets
    assert gain.name.startswith("gist k = 1"), failures(result)
    assert gain.value < 0.05 and gain.target == 0.3 and not gain.passed, gain
    assert "60 Adam steps" in gain.detail, gain.detail
    assert result.verdict() == "failed"


@dataclass(frozen=True)
class _Short(Config):
    steps: int = knob(60, help="steps")


def test_the_mask_knob_removes_the_idea_nothing_of_the_prompt_reaches_the_input() -> None:
    """``--set mask=sealed`` (the ablation switch of config.py) trains and decodes the gist model under a mask
    that hides the prompt from the gist tokens too: its outputs are then the same, bit for bit, whatever the
    prompt, so its gain over the no-prompt ceiling is gone (reported, not asserted: a knob off its default),
    while the gist mask's outputs follow the prompt. A run with the switch turned trains another model."""
    from readtrack_plugins.gist_tokens.experiment import INPUT, _logits

    from readtrack.plugins.knobs import knobs_of
    from readtrack.runner import run_plugin

    names = {"mask", "steps", "init_scale", "lr", "batch", "d_model", "keyword_rate"}
    assert {k.name for k in knobs_of(Config)} >= names
    torch.manual_seed(0)
    model = TinyTransformer(VOCAB, PROMPT + 1 + INPUT, 16, 4, 2)
    x = torch.randint(0, SYMBOLS, (5, INPUT))
    one, other = (torch.randint(SYMBOLS, GIST, (5, PROMPT)) for _ in range(2))
    with torch.no_grad():
        sealed = [_logits(model, "gist", 1, prompt, x, sealed=True) for prompt in (one, other)]
        gist = [_logits(model, "gist", 1, prompt, x) for prompt in (one, other)]
    assert torch.equal(*sealed) and not torch.allclose(*gist)

    tiny = {"steps": 11, "batch": 8, "d_model": 8, "layers": 2}  # with one layer the input reads the gist's
    # embedding alone, which knows nothing of the prompt under either mask
    curves = {}
    for mask in ("sealed", "gist"):
        record = run_plugin(
            "gist-tokens", device="cpu", quick=True, only="train", settings={**tiny, "mask": mask},
            keep_history=False,
        )  # fmt: skip
        assert record.info.settings.get("mask", "gist") == mask  # the default is not recorded
        assert record.status == "passed"  # nothing asserted
        (stage,) = record.stages
        assert stage.targets == []
        curves[mask] = stage.curves["train loss (gist, k = 1)"]
        if mask == "sealed":
            (gain,) = [m for m in stage.measured if m.name.startswith("gist k = 1")]
            assert gain.value < 0.05 and gain.claim == (0.3, True), gain
    assert len(curves["gist"]) == 2 and curves["sealed"] != curves["gist"]
