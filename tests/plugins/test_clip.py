"""The clip plugin: figure 3's loss against the loop reference on more shapes, the temperature's clip, the
task's held-out combinations and prompts, and checks that fail for a one-directional loss or a loss that
forgets to normalise the embeddings."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.clip.experiment import loop_loss, pairs, prompts, quadrant
from readtrack_plugins.clip.model import CLIP, CLIPConfig, clip_loss

from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize(("n", "d", "scale"), [(1, 1, 1.0), (2, 3, 100.0), (5, 7, 0.01), (12, 4, 14.3)])
def test_the_loss_equals_the_loop_reference(n: int, d: int, scale: float) -> None:
    g = torch.Generator().manual_seed(n)
    I_e = F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=-1).requires_grad_()
    T_e = F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=-1).requires_grad_()
    s = torch.tensor(scale, dtype=torch.float64, requires_grad=True)
    ours, ref = clip_loss(I_e, T_e, s), loop_loss(I_e, T_e, s)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(
        torch.autograd.grad(ours, (I_e, T_e, s)), torch.autograd.grad(ref, (I_e, T_e, s))
    )


def test_perfectly_matched_pairs_at_high_scale_give_almost_zero_loss() -> None:
    E = torch.eye(6, dtype=torch.float64)
    assert clip_loss(E, E, torch.tensor(100.0, dtype=torch.float64)) < 1e-30
    assert math.isclose(clip_loss(E, E, torch.tensor(0.0, dtype=torch.float64)).item(), math.log(6))


def test_the_temperature_is_log_parameterised_and_clipped() -> None:
    model = CLIP(CLIPConfig())
    assert math.isclose(model.logit_scale().item(), 1 / 0.07, rel_tol=1e-6)
    with torch.no_grad():
        model.t.fill_(10.0)
    assert model.logit_scale().item() == 100.0
    assert not CLIP(CLIPConfig(learn_temperature=False)).t.requires_grad


def test_held_out_combinations_and_prompts() -> None:
    _, captions, labels = pairs(2000, torch.Generator().manual_seed(0), "cpu")
    assert torch.equal(captions[:, 0], labels)
    assert set(quadrant(captions).tolist()) == {0, 1, 2, 3}
    assert ((quadrant(captions) == labels).float().mean() - 0.25).abs() < 0.05  # what training leaves out
    ensembles = prompts("cpu")
    assert len(ensembles) == 4 and all(
        p.shape == (12, 4) and (p[:, 0] == c).all() for c, p in enumerate(ensembles)
    )


def test_zero_shot_uses_the_prompt_embeddings() -> None:
    model = CLIP(CLIPConfig())
    images, _, _ = pairs(10, torch.Generator().manual_seed(1), "cpu")
    predicted = model.zero_shot(images, prompts("cpu"))
    assert predicted.shape == (10,) and predicted.max() < 4


def image_to_text_only(I_e: torch.Tensor, T_e: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """A broken loss: only the image → text direction (rows), not figure 3's average of both."""
    logits = scale * I_e @ T_e.T
    return F.cross_entropy(logits, torch.arange(len(logits)))


def test_the_check_catches_a_one_directional_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("readtrack_plugins.clip.experiment.clip_loss", image_to_text_only)
    monkeypatch.setattr("readtrack_plugins.clip.model.clip_loss", image_to_text_only)
    check_catches("clip", "symmetric loss vs loops", "model loss and every gradient")


def test_the_check_catches_unnormalised_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CLIP, "encode_image", lambda self, x: self.W_i(self.image_encoder(x)))
    check_catches("clip", "invariant to the encoders' output scale")


def test_the_train_stage_fails_without_the_image_caption_pairing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the idea (learning from which caption goes with which image): the contrastive loss sees every
    image beside another image's caption, so nothing ties a shape to its word and zero-shot must fail."""

    def mismatched(I_e: torch.Tensor, T_e: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return clip_loss(I_e, T_e.roll(1, dims=0), scale)

    monkeypatch.setattr("readtrack_plugins.clip.model.clip_loss", mismatched)
    result = run_stage("clip", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("zero-shot accuracy by prompts") for name in failed), failures(result)
