"""The conformer plugin: the convolution module against a per-tap loop, relative attention and the block on
more shapes, the receptive field and shift invariance, the task's labels, the parameter match, and checks
that fail for a block without the half steps, an attention shifted by one, a wrong sinusoid frequency, or a
convolution that looks only backwards; a train stage that fails without the convolution module."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.conformer import experiment
from readtrack_plugins.conformer.experiment import (
    D_IN,
    FACTORS,
    PHONES,
    SPEAKERS,
    _count,
    conv_by_loops,
    direct_attention,
    frames,
    functional_block,
    matched_transformer_expansion,
    randomise,
)
from readtrack_plugins.conformer.model import (
    ConformerBlock,
    ConvModule,
    FrameTagger,
    RelativeMHSA,
    conformer,
    rel_shift,
    transformer,
)

from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize(("B", "L", "D", "k"), [(2, 1, 4, 3), (1, 2, 6, 7), (3, 5, 8, 15), (2, 33, 5, 7)])
def test_the_convolution_module_equals_a_per_tap_loop(B: int, L: int, D: int, k: int) -> None:
    torch.manual_seed(L)
    m = randomise(ConvModule(D, k)).double()
    x = torch.randn(B, L, D, dtype=torch.float64)
    torch.testing.assert_close(m(x), conv_by_loops(m, x))


def test_glu_and_swish_are_torchs() -> None:
    h = torch.randn(3, 10, 7, dtype=torch.float64)
    torch.testing.assert_close(h[:, :5] * torch.sigmoid(h[:, 5:]), F.glu(h, dim=1))
    with pytest.raises(ValueError, match="odd"):
        ConvModule(4, 4)


@pytest.mark.parametrize(("B", "L", "D", "H"), [(2, 1, 8, 2), (2, 3, 12, 3), (2, 11, 16, 4), (1, 40, 8, 1)])
def test_relative_attention_and_the_block_equal_their_references(B: int, L: int, D: int, H: int) -> None:
    torch.manual_seed(L)
    x = torch.randn(B, L, D, dtype=torch.float64)
    attn = randomise(RelativeMHSA(D, H)).double()
    torch.testing.assert_close(attn(x), direct_attention(attn, x))
    block = randomise(ConformerBlock(D, H, 5)).double()
    torch.testing.assert_close(block(x), functional_block(block, x))


@pytest.mark.parametrize("L", [1, 2, 6, 13])
def test_rel_shift_puts_distance_i_minus_j_at_i_j(L: int) -> None:
    x = torch.randn(2, L, 2 * L - 1)
    out = rel_shift(x)
    for i in range(L):
        for j in range(L):
            assert torch.equal(out[:, i, j], x[:, i, L - 1 - (i - j)])


@pytest.mark.parametrize("offset", [1, 4, 17])
def test_attention_logits_depend_on_positions_only_through_their_distance(offset: int) -> None:
    torch.manual_seed(offset)
    attn = randomise(RelativeMHSA(8, 2)).double()
    x = torch.randn(1, 7, 8, dtype=torch.float64)
    before, after = torch.randn(1, offset, 8, dtype=torch.float64), torch.randn(1, 3, 8, dtype=torch.float64)
    with torch.no_grad():
        alone = attn.scores(x)[0]
        inside = attn.scores(torch.cat([before, x, after], dim=1))[0][
            ..., offset : offset + 7, offset : offset + 7
        ]
    torch.testing.assert_close(inside, alone, rtol=1e-10, atol=1e-10)


def test_the_convolution_sees_k_frames_and_the_block_sees_all() -> None:
    torch.manual_seed(0)
    conv = randomise(ConvModule(4, 5)).double().eval()
    x = torch.randn(1, 12, 4, dtype=torch.float64, requires_grad=True)
    conv(x)[0, 6].sum().backward()
    assert x.grad is not None
    assert (x.grad[0].abs().sum(-1) > 0).nonzero().flatten().tolist() == [4, 5, 6, 7, 8]
    block = randomise(ConformerBlock(4, 2, 5)).double().eval()
    y = x.detach().requires_grad_()
    block(y)[0, 0].sum().backward()
    assert y.grad is not None
    assert bool((y.grad[0].abs().sum(-1) > 0).all())  # attention: global


def test_the_frame_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(experiment, "NOISE", 0.0)  # the phones and the speaker read back exactly
    x, y = frames(64, 10, torch.Generator().manual_seed(0), "cpu")
    assert x.shape == (64, 10, D_IN) and y.shape == (64, 10)
    phones = x[..., :PHONES].argmax(-1)
    speaker = x[..., PHONES:].amax(1).argmax(-1)
    assert bool((x[..., PHONES:].sum((1, 2)) == 1).all())  # one marked frame per sequence
    for n in range(64):
        for t in range(10):
            agree = 0 < t < 9 and phones[n, t - 1] == phones[n, t + 1]
            assert int(y[n, t]) == 2 * int(speaker[n]) + int(agree)
    assert set(y.flatten().tolist()) == set(range(2 * SPEAKERS))


def test_the_transformer_has_the_conformers_parameter_count() -> None:
    e = matched_transformer_expansion()
    a, b = _count(conformer(D_IN, 24, 4, 2, 7, FACTORS)), _count(transformer(D_IN, 24, 4, 2, e, FACTORS))
    assert abs(b / a - 1) < 0.03


def full_step_ffns(self: ConformerBlock, x: torch.Tensor) -> torch.Tensor:
    """A broken block: full-step FFNs instead of the macaron half steps."""
    x = x + self.ffn1(x)
    x = x + self.mhsa(x)
    x = x + self.conv(x)
    return self.norm(x + self.ffn2(x))


def shift_by_one(x: torch.Tensor) -> torch.Tensor:
    """A broken relative shift: every key one distance off (wrapping round at the end)."""
    return rel_shift(x).roll(1, dims=-1)


def sinusoid_base_1000(distances: torch.Tensor, d: int) -> torch.Tensor:
    """A broken position encoding: the frequencies 1000^(−2k/d) instead of 10000^(−2k/d)."""
    omega = 1.0 / 1000 ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    angle = distances.double().unsqueeze(1) * omega
    return torch.cat([angle.sin(), angle.cos()], dim=-1)


def causal_depthwise(self: ConvModule, x: torch.Tensor) -> torch.Tensor:
    """A broken convolution module: the depthwise filter sees frames t − k + 1 … t (a causal window)."""
    L = x.shape[1]
    h = F.glu(self.pointwise1(self.norm(x).transpose(1, 2)), dim=1)
    k = self.depthwise.kernel_size[0]
    h = F.conv1d(F.pad(h, (k - 1, 0)), self.depthwise.weight, self.depthwise.bias, groups=h.shape[1])[..., :L]
    return self.pointwise2(F.silu(self.batch_norm(h))).transpose(1, 2)


def readout_transposed(self: FrameTagger, frames: torch.Tensor) -> torch.Tensor:
    """A broken read-out: class (s, a) at s + SPEAKERS·a, not at the labels' 2·s + a."""
    x = self.inp(frames)
    for block in self.blocks:
        x = block(x)
    return (self.out_a(x).unsqueeze(-2) + self.out_b(x).unsqueeze(-1)).flatten(-2)


def test_the_readouts_cross_entropy_is_the_sum_of_its_heads() -> None:
    torch.manual_seed(0)
    tagger = randomise(conformer(D_IN, 8, 2, 1, 3, FACTORS)).double()
    x = torch.randn(3, 6, D_IN, dtype=torch.float64)
    y = torch.randint(0, 2 * SPEAKERS, (3, 6))
    h = x @ tagger.inp.weight.T + tagger.inp.bias
    for block in tagger.blocks:
        h = block(h)
    joint = F.cross_entropy(tagger(x).flatten(0, 1), y.flatten())
    speaker = F.cross_entropy(tagger.out_a(h).flatten(0, 1), (y // 2).flatten())
    agree = F.cross_entropy(tagger.out_b(h).flatten(0, 1), (y % 2).flatten())
    torch.testing.assert_close(joint, speaker + agree)


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        (
            "readtrack_plugins.conformer.model.ConformerBlock.forward",
            full_step_ffns,
            "Conformer block vs eq. 1",
        ),
        ("readtrack_plugins.conformer.model.rel_shift", shift_by_one, "relative MHSA vs R_(i−j)"),
        ("readtrack_plugins.conformer.model.sinusoid", sinusoid_base_1000, "relative MHSA vs R_(i−j)"),
        (
            "readtrack_plugins.conformer.model.ConvModule.forward",
            causal_depthwise,
            "convolution module: frame t",
        ),
        ("readtrack_plugins.conformer.model.FrameTagger.forward", readout_transposed, "read-out: logit"),
    ],
)
def test_the_check_stage_catches_missing_half_steps_a_shifted_distance_or_a_causal_window(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("conformer", caught_by)


def test_the_train_stage_fails_without_the_convolution_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the idea (the convolution module adds nothing to the residual stream): the Conformer is left a
    macaron Transformer, which does not learn the local pattern in the budget, and both targets fail."""
    monkeypatch.setattr(
        "readtrack_plugins.conformer.model.ConvModule.forward", lambda self, x: torch.zeros_like(x)
    )
    result = run_stage("conformer", "train")
    assert result.verdict() == "failed"
    failed = {t.name for t in result.targets if not t.passed}
    assert {"frame accuracy, Conformer", "frame accuracy, Conformer minus Transformer"} <= failed, failures(
        result
    )
