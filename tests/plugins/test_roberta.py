"""The RoBERTa plugin: the encoder against the naive attention on more shapes, the two masking schedules,
checks that fail for "dynamic" masking that secretly reuses one mask or "static" masks that change, and a
train claim that fails when the dynamic arm is masked statically (patched in, or with its knob)."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.roberta.experiment import naive_encoder
from readtrack_plugins.roberta.model import DynamicMasks, StaticMasks

from readtrack.plugin_kit.mlm import IGNORE, mask_tokens, right_copy_batch
from readtrack.plugin_kit.transformer import TinyTransformer
from readtrack.runner import run_plugin
from readtrack.testing import check_catches, reported_claim, run_stage


@pytest.mark.parametrize(("d", "heads", "layers", "n"), [(8, 1, 1, 2), (24, 6, 3, 9), (16, 2, 2, 30)])
def test_encoder_equals_naive_attention(d: int, heads: int, layers: int, n: int) -> None:
    model = TinyTransformer(7, 32, d, heads, layers).double()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    tokens = torch.randint(0, 7, (3, n))
    allowed = torch.rand(3, n, n) < 0.7
    allowed[:, :, 0] = True  # every query sees at least one key
    torch.testing.assert_close(model(tokens, allowed[:, None]), naive_encoder(model, tokens, allowed))


def test_static_masks_repeat_every_ten_epochs_and_dynamic_ones_never() -> None:
    tokens = right_copy_batch(256, 17, torch.Generator().manual_seed(0))
    static = StaticMasks(tokens, torch.Generator().manual_seed(1), mask_id=16, vocab=16)
    assert static.inputs.shape == (10, 256, 17)
    for e in range(3):
        assert torch.equal(static.epoch(e)[0], static.epoch(e + 10)[0])
        assert torch.equal(static.epoch(e)[1], static.epoch(e + 30)[1])
        assert not torch.equal(static.epoch(e)[1], static.epoch(e + 1)[1])
    dynamic = DynamicMasks(tokens, torch.Generator().manual_seed(1), mask_id=16, vocab=16)
    first = dynamic.epoch(0)
    assert torch.equal(first[0], static.epoch(0)[0])  # the same stream gives the same first draw
    assert not torch.equal(dynamic.epoch(10)[1], first[1])
    for inputs, labels in (static.epoch(4), dynamic.epoch(4)):
        kept = labels == IGNORE
        assert torch.equal(inputs[kept], tokens[kept])


class ReusedMask(DynamicMasks):
    """Broken "dynamic" masking: draws one mask and serves it every epoch."""

    def epoch(self, e: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not hasattr(self, "first"):
            self.first = mask_tokens(self.tokens, self.g, mask_id=self.mask_id, vocab=self.vocab)
        return self.first


class ChangingStatic(StaticMasks):
    """Broken "static" masking: copy e mod 10 for the first ten epochs, then whatever comes next."""

    def epoch(self, e: int) -> tuple[torch.Tensor, torch.Tensor]:
        c = (e + e // len(self.inputs)) % len(self.inputs)
        return self.inputs[c], self.labels[c]


@pytest.mark.parametrize(
    ("name", "broken", "caught_by"),
    [
        ("DynamicMasks", ReusedMask, "dynamic: a fresh mask every epoch"),
        ("StaticMasks", ChangingStatic, "static: epoch e and e + 10"),
    ],
)
def test_the_check_stage_catches_a_reused_dynamic_mask_or_a_changing_static_one(
    monkeypatch: pytest.MonkeyPatch, name: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(f"readtrack_plugins.roberta.experiment.{name}", broken)
    check_catches("roberta", caught_by)


def test_the_train_claim_fails_when_dynamic_masking_is_static(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the idea: "dynamic" masking that is the static schedule (10 fixed copies); the two arms are then
    the same run, and the quick run's asserted claim (dynamic's held-out loss at least 0.01 nats below
    static's) fails with a gap of exactly 0."""
    monkeypatch.setattr("readtrack_plugins.roberta.experiment.DynamicMasks", StaticMasks)
    result = run_stage("roberta", "train")
    (gain,) = [t for t in result.targets if t.name.startswith("static − dynamic held-out masked-LM loss")]
    assert gain.value == 0 and not gain.passed, gain
    assert result.verdict() == "failed"


def test_the_masking_knob_set_to_static_makes_the_two_arms_one_run() -> None:
    """``--set masking=static``: the arm under test gets the static arm's copies, so both arms give the same
    held-out numbers and the claim, reported, misses its threshold."""
    record = run_plugin(
        "roberta",
        device="cpu",
        quick=True,
        only="train",
        settings={"masking": "static", "steps": 20},
        keep_history=False,
    )
    (stage,) = record.stages
    assert not stage.targets
    gain = reported_claim(stage, "static − dynamic held-out masked-LM loss")
    assert gain.value == 0 and not gain.passed, gain
