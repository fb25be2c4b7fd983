"""The BERT plugin: its post-LN layer and whole model against PyTorch on more shapes, bidirectional vs
causal attention through the Jacobian, and checks that fail for masking that scores unselected positions,
a model without segment embeddings, or a pre-LN layer."""

from __future__ import annotations

from functools import partial

import pytest
import readtrack_plugins.bert.experiment as experiment
import torch
import torch.nn.functional as F
from readtrack_plugins.bert.experiment import padding, randomised, reference_bert, reference_layer
from readtrack_plugins.bert.model import Bert, Layer, causal_mask

from readtrack.plugin_kit.mlm import mask_tokens
from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize(("H", "A", "n"), [(16, 2, 2), (24, 8, 5), (32, 1, 64)])
def test_layer_equals_the_builtin_post_ln_layer(H: int, A: int, n: int) -> None:
    layer = randomised(Layer(H, A)).double()
    pad = padding(n, "cpu")
    x = torch.randn(2, n, H, dtype=torch.float64)
    expected = reference_layer(layer)(x, src_key_padding_mask=pad)
    torch.testing.assert_close(layer(x, ~pad[:, None, None, :]), expected)


@pytest.mark.parametrize("n", [3, 12])
def test_bert_equals_the_reference_with_random_segments_and_three_layers(n: int) -> None:
    model = randomised(Bert(11, 16, 16, 2, 3), std=0.1).double()
    tokens = torch.randint(0, 11, (3, n))
    segments = torch.randint(0, 2, (3, n))
    no_pad = torch.zeros(3, n, dtype=torch.bool)
    torch.testing.assert_close(model(tokens, segments), reference_bert(model, tokens, segments, no_pad))


def test_bidirectional_sees_both_sides_and_causal_only_the_left() -> None:
    n, H = 6, 16
    layers = [randomised(Layer(H, 2)).double() for _ in range(2)]

    def encoder(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        for layer in layers:
            x = layer(x, mask)
        return x

    x = torch.randn(1, n, H, dtype=torch.float64)
    for mask, allowed in ((None, torch.ones(n, n)), (causal_mask(n, "cpu"), torch.ones(n, n).tril())):
        J = torch.autograd.functional.jacobian(partial(encoder, mask=mask), x)  # (1, n, H, 1, n, H)
        depends = J[0, :, :, 0].abs().amax(dim=(1, 3)) > 0  # (query i, key j)
        assert torch.equal(depends, allowed.bool())


def test_the_segment_embedding_is_trained() -> None:
    model = Bert(11, 8, 16, 2, 1)
    tokens, segments = torch.randint(0, 11, (2, 8)), torch.tensor([[0] * 4 + [1] * 4] * 2)
    F.cross_entropy(model(tokens, segments).flatten(0, 1), tokens.flatten()).backward()
    assert model.segment.weight.grad is not None and bool((model.segment.weight.grad.abs().sum(-1) > 0).all())


def scores_every_position(
    tokens: torch.Tensor, g: torch.Generator, **kw: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Broken masking: corrupts as BERT does, but labels (and so scores) every position."""
    inputs, _ = mask_tokens(tokens, g, **kw)
    return inputs, tokens.clone()


class NoSegments(Bert):
    """Broken model: the segment ids never reach the embeddings."""

    def hidden(
        self, tokens: torch.Tensor, segments: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        return super().hidden(tokens, torch.zeros_like(segments), mask)


class PreLN(Layer):
    """Broken layer: normalises before each sublayer (GPT-2's order) instead of after the residual sum."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.proj(F.gelu(self.fc(self.ln_2(x))))


@pytest.mark.parametrize(
    ("name", "broken", "caught_by"),
    [
        ("mask_tokens", scores_every_position, "80/10/10 rule: share selected"),
        ("Bert", NoSegments, "segment embeddings change the output"),
        ("Layer", PreLN, "encoder layer vs nn.TransformerEncoderLayer"),
    ],
)
def test_the_check_stage_catches_broken_masking_segments_or_layer(
    monkeypatch: pytest.MonkeyPatch, name: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(f"readtrack_plugins.bert.experiment.{name}", broken)
    check_catches("bert", caught_by)


def test_the_train_stage_fails_when_the_bidirectional_arm_loses_its_right_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Remove the idea (attention to both sides): both arms train under the causal mask, so a masked odd
    token, which only its right neighbour gives away, is out of reach and the bidirectional target fails."""
    train_one = experiment._train_one

    def always_causal(ctx: object, causal: bool, *args: object) -> dict[str, float]:
        return train_one(ctx, True, *args)

    monkeypatch.setattr(experiment, "_train_one", always_causal)
    result = run_stage("bert", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("bidirectional: held-out masked accuracy") for name in failed), failures(
        result
    )
