"""The normalization family bench: its networks are wired as each paper says, its check catches a layer
that is not, its rows are the lineage's members, and its claim fails when BatchNorm takes no batch
statistics."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.normalization_bench import model
from torch import nn

from readtrack.plugins import discovery
from readtrack.plugins.lineages import declared
from readtrack.testing import check_catches, failures, run_stage


def test_every_member_of_the_normalization_lineage_has_a_layer_on_the_bench() -> None:
    family = declared(discovery.discovery(include_user=False).hooks).lineages["normalization"]
    assert family.lineage.bench == "normalization-bench"
    # Pre-LN is a position, not a layer: the bench's LayerNorm, RMSNorm and DyT sit where Pre-LN put them
    assert {m.key for m in family.members} == {*model.CONV_LAYERS, *model.TOKEN_LAYERS, "pre-ln"}


@pytest.mark.parametrize("layer", [*model.CONV_LAYERS, "none"])
def test_the_convnet_takes_the_layer_it_is_given(layer: str) -> None:
    net = model.ConvNet(layer)
    kinds = {type(m).__name__ for m in net.modules()}
    expected = {
        "batchnorm": "BatchNorm2d",
        "instancenorm": "InstanceNorm2d",
        "groupnorm": "GroupNorm",
        "weightnorm": "ParametrizedConv2d",
    }.get(layer)
    assert expected is None or expected in kinds
    assert net(torch.randn(3, 1, 12, 12)).shape == (3, 4)


def test_deepnorm_is_post_norm_with_the_residual_up_weighted() -> None:
    lm = model.TinyLM("deepnorm", 16, 8, layers=4)
    alpha, beta = model.deepnorm_constants(4)
    assert (alpha, beta) == pytest.approx((8**0.25, 32**-0.25))
    assert all(block.post and block.alpha == alpha for block in lm.blocks)
    assert isinstance(lm.final, nn.Identity)  # a post-norm stack ends normalised already


def test_the_check_catches_a_layer_that_reads_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    # GroupNorm swapped for BatchNorm: its images' outputs depend on their batch again
    real = model._conv_norm
    monkeypatch.setattr(
        model, "_conv_norm", lambda layer, c: nn.BatchNorm2d(c) if layer == "groupnorm" else real(layer, c)
    )
    check_catches("normalization-bench", "GroupNorm: an image's output is its own")


def test_the_check_catches_deepnorm_constants_swapped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "readtrack_plugins.normalization_bench.experiment.deepnorm_constants",
        lambda n: ((8 * n) ** -0.25, (2 * n) ** 0.25),
    )
    check_catches("normalization-bench", "DeepNorm's α, β for N = 1")


def test_the_claim_fails_when_batchnorm_takes_no_batch_statistics(monkeypatch: pytest.MonkeyPatch) -> None:
    # BatchNorm replaced by GroupNorm: no layer of the convnet reads the batch, none falls behind at batch 2
    real = model._conv_norm
    monkeypatch.setattr(
        model,
        "_conv_norm",
        lambda layer, c: nn.GroupNorm(model.GROUPS, c) if layer == "batchnorm" else real(layer, c),
    )
    monkeypatch.setattr("readtrack_plugins.normalization_bench.experiment.TOKEN_LAYERS", ())  # its half only
    result = run_stage("normalization-bench", "train")
    assert result.verdict() == "failed", failures(result)
    (claim,) = result.targets
    assert claim.name == "batchnorm: predictions changed when deployed, batch 2" and not claim.passed
