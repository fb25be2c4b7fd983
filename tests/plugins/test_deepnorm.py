"""The DeepNorm plugin: the block against its equations, α and β, the init; its check and claim can fail."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.deepnorm.experiment import _ReferenceBlock
from readtrack_plugins.deepnorm.model import (
    SCALED,
    Block,
    DeepTransformer,
    NormPosition,
    deepnorm_constants,
    deepnorm_init_,
)

from readtrack.testing import failures, run_stage


@pytest.mark.parametrize("position", ["post", "pre", "deepnorm"])
@pytest.mark.parametrize("shape", [(1, 1, 8), (2, 9, 8), (1, 4, 24)])
def test_block_equals_the_equations(position: NormPosition, shape: tuple[int, int, int]) -> None:
    torch.manual_seed(0)
    alpha = 3.7 if position == "deepnorm" else 1.0
    ours = Block(shape[-1], 2, position, alpha).double()
    with torch.no_grad():
        for p in ours.parameters():
            p.normal_(0.3, 0.5)
    ref = _ReferenceBlock(shape[-1], 2, position, alpha).double()
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    out, expected = ours(x), ref(x)
    torch.testing.assert_close(out, expected)
    dy = torch.randn_like(out)
    grads = torch.autograd.grad(out, (x, *ours.parameters()), dy)
    ref_grads = torch.autograd.grad(expected, (x, *ref.parameters()), dy)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r)


def test_the_attention_is_causal() -> None:
    block = Block(8, 2, "deepnorm", 2.0).double()
    x = torch.randn(1, 6, 8, dtype=torch.float64)
    moved = x.clone()
    moved[0, 4:] += 1.0  # change the future only
    torch.testing.assert_close(block(moved)[0, :4], block(x)[0, :4])


@pytest.mark.parametrize("layers", [1, 2, 7, 18, 100, 1000])
def test_alpha_and_beta_follow_table_1(layers: int) -> None:
    alpha, beta = deepnorm_constants(layers, "decoder")
    assert alpha == pytest.approx((2 * layers) ** 0.25, rel=1e-14)
    assert beta == pytest.approx((8 * layers) ** -0.25, rel=1e-14)
    assert alpha**4 * beta**4 == pytest.approx(0.25)  # (2N)·(8N)^(−1) = 1/4 at every depth
    assert deepnorm_constants(layers, "encoder") == (alpha, beta)


def test_the_encoder_decoder_row() -> None:
    # 18L-18L: encoder 0.81·(18⁵)^(1/16), 0.87·(18⁵)^(−1/16); decoder (3·18)^(1/4), (12·18)^(−1/4)
    enc = deepnorm_constants(18, "encoder-decoder encoder", other_layers=18)
    assert enc == pytest.approx((0.81 * 18 ** (5 / 16), 0.87 * 18 ** (-5 / 16)), rel=1e-14)
    assert deepnorm_constants(18, "encoder-decoder decoder") == pytest.approx((54**0.25, 216**-0.25))
    with pytest.raises(ValueError, match="unknown architecture"):
        deepnorm_constants(6, "decoder-encoder")


def test_init_scales_exactly_the_named_projections_by_beta() -> None:
    beta = 0.3
    blocks = []
    for b in (1.0, beta):
        torch.manual_seed(0)
        block = Block(32, 4, "deepnorm", 2.0)
        deepnorm_init_(block, b)
        blocks.append(block)
    plain, scaled = (dict(block.named_parameters()) for block in blocks)
    for name, p in plain.items():
        is_scaled = name.endswith("weight") and name.split(".")[-2] in SCALED
        torch.testing.assert_close(scaled[name], beta * p if is_scaled else p)


def test_deepnorm_with_alpha_beta_one_is_post_ln() -> None:
    tokens = torch.randint(0, 16, (3, 10))
    torch.manual_seed(1)
    post = DeepTransformer(16, 10, 16, 4, 3, "post")
    torch.manual_seed(1)
    deep = DeepTransformer(16, 10, 16, 4, 3, "deepnorm", alpha=1.0, beta=1.0)
    assert torch.equal(post(tokens), deep(tokens))
    with pytest.raises(ValueError, match="Post-LN has α = 1"):
        Block(8, 2, "post", 2.0)


def test_deepnorm_stream_keeps_the_token_through_depth() -> None:
    # At init the α-weighted residual keeps each position's own input: its cosine with the output stays
    # far higher in a 32-layer DeepNorm stack than in Post-LN's, where attention's averages take over.
    torch.manual_seed(0)
    x = torch.randn(4, 12, 32)
    cos = {}
    positions: tuple[NormPosition, ...] = ("post", "deepnorm")
    for position in positions:
        torch.manual_seed(0)
        model = DeepTransformer(16, 12, 32, 4, 32, position)
        h = x
        with torch.no_grad():
            for block in model.blocks:
                h = block(h)
        cos[position] = torch.nn.functional.cosine_similarity(h, x, dim=-1).mean().item()
    assert cos["deepnorm"] > 0.5 > cos["post"] + 0.2, cos


class AlphaOnTheSublayer(Block):
    """A broken DeepNorm: LN(x + α·G(x)), the residual weight on the wrong branch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ln1(x + self.alpha * self.attn(x))
        return self.ln2(x + self.alpha * self.ffn(x))


def scaled_everything(block: torch.nn.Module, beta: float) -> None:
    """A broken init: β on the query and key projections too."""
    for linear in block.modules():
        if isinstance(linear, torch.nn.Linear):
            torch.nn.init.xavier_normal_(linear.weight, gain=beta)
            torch.nn.init.zeros_(linear.bias)


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        ("Block", AlphaOnTheSublayer, "forward vs the equations, deepnorm"),
        ("deepnorm_init_", scaled_everything, "std of q_proj.weight"),
        ("deepnorm_constants", lambda n, kind="decoder", **_: ((2 * n) ** 0.5, (8 * n) ** -0.5), "Table 1"),
    ],
)
def test_the_check_stage_catches_a_broken_deepnorm(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(f"readtrack_plugins.deepnorm.experiment.{target}", broken)
    result = run_stage("deepnorm", "check")
    assert result.verdict() == "failed"
    assert any(caught_by in c.name for c in result.comparisons if not c.passed), failures(result)


def test_the_train_claim_fails_when_deepnorm_is_post_ln(monkeypatch: pytest.MonkeyPatch) -> None:
    # With α = β = 1 the "DeepNorm" arm is Post-LN: the same weights and batches as the baseline, a gap of 0
    # exactly, and the quick run's asserted target must fail.
    monkeypatch.setattr(
        "readtrack_plugins.deepnorm.experiment.deepnorm_constants", lambda n, kind="decoder": (1.0, 1.0)
    )
    result = run_stage("deepnorm", "train")
    assert result.verdict() == "failed"
    (claim,) = result.targets
    assert claim.name == "lr 0.01, no warm-up: test loss Post-LN − DeepNorm (nats)", claim
    assert not claim.passed, claim
