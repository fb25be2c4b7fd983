"""The Pre-LN plugin: the blocks against their equations, Theorem 1's gradients; its check and claim can
fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.pre_ln.experiment import _ReferenceBlock
from readtrack_plugins.pre_ln.model import Block, NormPosition, Transformer

from readtrack.testing import failures, run_stage


@pytest.mark.parametrize("position", ["post", "pre"])
@pytest.mark.parametrize("shape", [(1, 1, 8), (2, 9, 8), (1, 4, 24)])
def test_block_equals_the_equations(position: NormPosition, shape: tuple[int, int, int]) -> None:
    torch.manual_seed(0)
    ours = Block(shape[-1], 2, position).double()
    with torch.no_grad():
        for p in ours.parameters():
            p.normal_(0.3, 0.5)
    ref = _ReferenceBlock(shape[-1], 2, position).double()
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    out, expected = ours(x), ref(x)
    torch.testing.assert_close(out, expected)
    dy = torch.randn_like(out)
    grads = torch.autograd.grad(out, (x, *ours.parameters()), dy)
    ref_grads = torch.autograd.grad(expected, (x, *ref.parameters()), dy)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r)


@pytest.mark.parametrize("position", ["post", "pre"])
def test_the_attention_is_causal(position: NormPosition) -> None:
    block = Block(8, 2, position).double()
    x = torch.randn(1, 6, 8, dtype=torch.float64)
    moved = x.clone()
    moved[0, 4:] += 1.0  # change the future only
    torch.testing.assert_close(block(moved)[0, :4], block(x)[0, :4])


def test_only_pre_ln_has_a_final_layer_norm_and_post_ln_outputs_are_normalised() -> None:
    torch.manual_seed(0)
    post, pre = Transformer(16, 8, 16, 4, 3, "post"), Transformer(16, 8, 16, 4, 3, "pre")
    assert isinstance(pre.ln_f, torch.nn.LayerNorm) and isinstance(post.ln_f, torch.nn.Identity)
    x = torch.randn(2, 5, 16) * 7 + 3
    y = post.blocks[0](x)  # LN after the sum, γ = 1 and β = 0 at init: zero mean, unit variance per token
    torch.testing.assert_close(y.mean(-1), torch.zeros(2, 5), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(-1, unbiased=False), torch.ones(2, 5), atol=1e-3, rtol=0)


def test_pre_ln_keeps_the_identity_path() -> None:
    # With the sublayers' output projections zeroed, Pre-LN is the identity; Post-LN still normalises.
    x = torch.randn(2, 5, 16, dtype=torch.float64) * 4
    for position, expect_identity in (("pre", True), ("post", False)):
        block = Block(16, 4, position).double()
        with torch.no_grad():
            for linear in (block.attn.out_proj, block.fc2):
                linear.weight.zero_()
                linear.bias.zero_()
        assert torch.allclose(block(x), x) is expect_identity


def test_post_ln_output_gradient_is_larger_at_init_at_every_depth() -> None:
    tokens = torch.randint(0, 16, (8, 12), generator=torch.Generator().manual_seed(3))
    for layers in (3, 6):
        norms = {}
        for position in ("post", "pre"):
            total = 0.0
            for seed in range(4):
                torch.manual_seed(seed)
                model = Transformer(16, 12, 32, 4, layers, position).double()
                loss = F.cross_entropy(model(tokens)[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())
                (g,) = torch.autograd.grad(loss, [model.blocks[-1].fc2.weight])
                total += g.norm().item()
            norms[position] = total
        assert norms["post"] > norms["pre"], (layers, norms)


class PostLNEverywhere(Block):
    """A broken Pre-LN: the LayerNorm after the sum whatever norm_position says."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ln1(x + self.attn(x))
        return self.ln2(x + self.ffn(x))


class NormalisedResidual(Block):
    """A broken Pre-LN: LN(x) + F(LN(x)), the residual carries the normalised stream."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        x = h + self.attn(h)
        h = self.ln2(x)
        return h + self.ffn(h)


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [(PostLNEverywhere, "forward vs the equations, pre"), (NormalisedResidual, "forward vs the equations")],
)
def test_the_check_stage_catches_a_broken_block(
    monkeypatch: pytest.MonkeyPatch, broken: type[Block], caught_by: str
) -> None:
    monkeypatch.setattr("readtrack_plugins.pre_ln.experiment.Block", broken)
    result = run_stage("pre-ln", "check")
    assert result.verdict() == "failed"
    assert any(caught_by in c.name for c in result.comparisons if not c.passed), failures(result)


def test_the_train_claim_fails_when_pre_ln_is_post_ln(monkeypatch: pytest.MonkeyPatch) -> None:
    # A Transformer that ignores norm_position builds Post-LN for the "Pre-LN" arm: the same weights and
    # batches as the baseline, a gap of exactly 0, and the quick run's asserted target must fail.
    def post_only(*args: object) -> Transformer:
        return Transformer(*args[:-1], "post")

    monkeypatch.setattr("readtrack_plugins.pre_ln.experiment.Transformer", post_only)
    result = run_stage("pre-ln", "train")
    assert result.verdict() == "failed"
    (claim,) = result.targets
    assert claim.name == "lr 0.01, no warm-up: test loss Post-LN − Pre-LN (nats)", claim
    assert not claim.passed and claim.value == 0.0, claim


def test_the_ablation_switch_reports_without_asserting() -> None:
    # norm_position=post: the "Pre-LN" arm is Post-LN, the gap is 0, reported (a turned knob asserts nothing).
    result = run_stage("pre-ln", "train", settings={"norm_position": "post", "steps": 2})
    assert result.verdict() != "failed", failures(result)
    gaps = [m for m in result.measured if m.name.endswith("test loss Post-LN − Pre-LN (nats)")]
    assert [m.value for m in gaps] == [0.0], result.measured
