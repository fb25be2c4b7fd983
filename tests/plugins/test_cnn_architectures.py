"""The cnn-architectures plugin: im2col and LRN against torch on more shapes, every network's output shape
and cost, receptive fields of deeper stacks, inception's channel bookkeeping, and checks that fail for a
flipped kernel (true convolution instead of the cross-correlation CNNs compute) or torch's LRN α."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.cnn_architectures.experiment import conv2d_loop, receptive_field
from readtrack_plugins.cnn_architectures.model import (
    GoogLeNet,
    Inception,
    analytic_cost,
    architectures,
    conv2d_im2col,
    local_response_norm,
)
from torch import nn

from readtrack.plugin_kit.vision import ShapesLeNet
from readtrack.runner import run_plugin
from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize(
    ("B", "C", "H", "W", "C_out", "k", "s", "p"),
    [(1, 1, 2, 3, 1, 2, 1, 0), (2, 5, 11, 7, 3, 3, 3, 2), (1, 2, 6, 6, 4, 6, 1, 0), (4, 1, 8, 8, 2, 1, 2, 0)],
)
def test_im2col_and_the_loop_equal_conv2d(
    B: int, C: int, H: int, W: int, C_out: int, k: int, s: int, p: int
) -> None:
    g = torch.Generator().manual_seed(k)
    x = torch.randn(B, C, H, W, generator=g, dtype=torch.float64)
    w = torch.randn(C_out, C, k, k, generator=g, dtype=torch.float64)
    b = torch.randn(C_out, generator=g, dtype=torch.float64)
    expected = F.conv2d(x, w, b, stride=s, padding=p)
    torch.testing.assert_close(conv2d_im2col(x, w, b, stride=s, padding=p), expected)
    torch.testing.assert_close(conv2d_loop(x, w, b, s, p), expected)


@pytest.mark.parametrize(("channels", "n"), [(1, 5), (4, 3), (10, 5), (6, 4)])
def test_lrn_is_torchs_with_alpha_times_n(channels: int, n: int) -> None:
    a = 2 * torch.randn(2, channels, 3, 3, dtype=torch.float64)
    ref = nn.LocalResponseNorm(n, alpha=0.05 * n, beta=0.75, k=2.0)(a)
    torch.testing.assert_close(local_response_norm(a, n=n, k=2.0, alpha=0.05, beta=0.75), ref)


def test_every_network_classifies_a_batch_and_counts_its_cost() -> None:
    x = torch.randn(5, 1, 16, 16)
    for name, model in architectures().items():
        assert model(x).shape == (5, 4), name
        params, flops = analytic_cost(model, x)
        assert params == sum(p.numel() for p in model.parameters())
        assert flops % 5 == 0 and analytic_cost(model, x[:1])[1] * 5 == flops  # linear in the batch


def test_receptive_fields_of_deeper_stacks() -> None:
    assert receptive_field([3] * 4, 2, torch.float64, "cpu") == (9, 9)
    assert receptive_field([3, 5], 2, torch.float64, "cpu") == (7, 7)
    assert receptive_field([1, 1], 2, torch.float64, "cpu") == (1, 1)


def test_inception_channels_and_the_naive_module_grows() -> None:
    reduced, naive = Inception(16, 8, 8, 12, 4, 4, 4), Inception(16, 8, 8, 12, 4, 4, 4, reduce=False)
    x = torch.randn(2, 16, 5, 5)
    assert reduced(x).shape == (2, 28, 5, 5) and naive(x).shape == (2, 8 + 12 + 4 + 16, 5, 5)
    assert sum(p.numel() for p in naive.parameters()) > sum(p.numel() for p in reduced.parameters())
    assert GoogLeNet(reduce=False)(torch.randn(1, 1, 16, 16)).shape == (1, 4)


def flipped_kernel(x, weight, bias, stride=1, padding=0):  # type: ignore[no-untyped-def]
    """A true convolution (kernel flipped), not the cross-correlation CNN layers compute."""
    return conv2d_im2col(x, weight.flip(-1, -2), bias, stride, padding)


def torch_alpha(a, n=5, k=2.0, alpha=1e-4, beta=0.75):  # type: ignore[no-untyped-def]
    """LRN with torch's convention (α / n) taken for the paper's."""
    return local_response_norm(a, n, k, alpha / n, beta)


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        (
            "readtrack_plugins.cnn_architectures.experiment.conv2d_im2col",
            flipped_kernel,
            "convolution (im2col)",
        ),
        ("readtrack_plugins.cnn_architectures.experiment.local_response_norm", torch_alpha, "local response"),
    ],
)
def test_the_check_stage_catches_a_flipped_kernel_or_a_wrong_alpha(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("cnn-architectures", caught_by)


def test_the_check_stage_compares_float32_with_the_exact_answer_at_two_threads() -> None:
    # A bias gradient whose exact value is 0 came out of F.conv2d's float32 backward as 6.1e-5 at two
    # threads; compared with float64 references, the float32 im2col passes however torch splits its sums.
    threads = torch.get_num_threads()
    try:
        (result,) = run_plugin("cnn-architectures", device="cpu", quick=True, only="check", threads=2).stages
    finally:
        torch.set_num_threads(threads)
    assert result.verdict() == "passed", failures(result)


def test_the_train_stage_fails_when_tanh_cannot_saturate(monkeypatch: pytest.MonkeyPatch) -> None:
    # The saturation targets are about tanh: with a non-saturating unit in its place (ReLU), the "tanh"
    # network's mean derivative no longer collapses when the weights grow, and the stage must fail.
    monkeypatch.setattr(
        "readtrack_plugins.cnn_architectures.experiment.LeNet5",
        lambda activation="relu", **kw: ShapesLeNet(activation="relu", **kw),
    )
    result = run_stage("cnn-architectures", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any("tanh's mean derivative" in name for name in failed), failures(result)
