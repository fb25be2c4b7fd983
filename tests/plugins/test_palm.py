"""The PaLM plugin: multi-query attention and RoPE on more shapes, the parallel block's fused projection,
the serial block sharing its weights, and checks that fail for a peeking mask, mispaired rotations or a
parallel block whose MLP skips the layer norm."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.palm import experiment
from readtrack_plugins.palm.model import PaLM, PaLMBlock, multi_query_attention, rotary

from readtrack.testing import failures, reported_claim, run_stage

PLUGIN = "readtrack_plugins.palm"


@pytest.mark.parametrize(("heads", "n", "d"), [(1, 1, 2), (3, 5, 8), (8, 64, 16), (2, 17, 6)])
def test_multi_query_attention_equals_sdpa_over_one_kv_head(heads: int, n: int, d: int) -> None:
    q = torch.randn(2, heads, n, d, dtype=torch.float64)
    k, v = (torch.randn(2, 1, n, d, dtype=torch.float64) for _ in range(2))
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    torch.testing.assert_close(multi_query_attention(q, k, v), expected)


@pytest.mark.parametrize(("n", "d"), [(1, 2), (9, 6), (300, 32)])
def test_rope_is_the_complex_rotation_and_scores_depend_on_offsets_only(n: int, d: int) -> None:
    x = torch.randn(1, 2, n, d, dtype=torch.float64)
    torch.testing.assert_close(rotary(x), experiment._rotary_complex(x))
    torch.testing.assert_close(rotary(x).norm(dim=-1), x.norm(dim=-1))  # a rotation keeps the norm
    same = torch.randn(d, dtype=torch.float64).expand(1, 1, n, d)  # one vector at every position
    rotated = rotary(same)[0, 0]
    scores = rotated @ rotated.T  # ⟨R(x, m), R(x, n)⟩ depends on n − m only: constant along diagonals
    for offset in range(min(n, 5)):
        diagonal = scores.diagonal(offset)
        torch.testing.assert_close(diagonal, diagonal[:1].expand_as(diagonal))


def test_the_serial_block_uses_the_parallel_blocks_weights_and_only_adds_a_layer_norm() -> None:
    torch.manual_seed(0)
    parallel = PaLMBlock(32, 4, 64)
    torch.manual_seed(0)
    serial = PaLMBlock(32, 4, 64, serial=True)
    shared = {n: p for n, p in serial.named_parameters() if not n.startswith("norm_mlp")}
    assert all(torch.equal(p, shared[n]) for n, p in parallel.named_parameters())
    assert [n for n, _ in serial.named_parameters() if n not in shared] == ["norm_mlp.weight"]
    x = torch.randn(2, 5, 32)
    assert not torch.allclose(parallel(x), serial(x))  # two different formulations


def test_the_model_has_one_embedding_matrix_and_no_bias() -> None:
    model = PaLM(16, 32, 4, layers=2)
    names = [n for n, _ in model.named_parameters()]
    assert not [n for n in names if "bias" in n]
    assert [n for n, p in model.named_parameters() if p.shape[0] == 16] == ["embed.weight"]
    tokens = torch.randint(0, 16, (2, 7))
    model(tokens).sum().backward()
    assert model.embed.weight.grad is not None  # reached from the input and from the output


def peeking_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """A broken mask: each position also sees the next one."""
    n = q.shape[-2]
    future = torch.ones(n, n, dtype=torch.bool, device=q.device).triu(2)
    scores = (q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5).masked_fill(future, float("-inf"))
    return scores.softmax(dim=-1) @ v


def halves_rotary(x: torch.Tensor) -> torch.Tensor:
    """A common mix-up: rotating the pairs (x_i, x_{i+d/2}) (GPT-NeoX's layout) instead of (x_2i, x_2i+1)."""
    n, d = x.shape[-2], x.shape[-1]
    theta = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angles = torch.arange(n, dtype=torch.float64)[:, None] * theta  # (N, d/2)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class MlpWithoutNorm(PaLMBlock):
    """A parallel block whose MLP reads x itself instead of LN(x)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.serial:
            return super().forward(x)
        q, k, v, _, _ = self.W_in(self.norm(x)).split(self.splits, dim=-1)
        _, _, _, a, b = self.W_in(x).split(self.splits, dim=-1)
        return x + self.attention(q, k, v) + self.mlp(a, b)


@pytest.mark.parametrize(
    ("patches", "caught_by"),
    [
        (
            {
                f"{PLUGIN}.experiment.multi_query_attention": peeking_attention,
                f"{PLUGIN}.model.multi_query_attention": peeking_attention,
            },
            (
                "multi-query attention vs",
                "its gradients vs",
                "parallel block",
                "serial block",
                "causal: no output of the model",
            ),
        ),
        (
            {f"{PLUGIN}.experiment.rotary": halves_rotary},
            ("RoPE vs",),
        ),
        ({f"{PLUGIN}.experiment.PaLMBlock": MlpWithoutNorm}, ("parallel block",)),
    ],
    ids=["mask sees the next token", "rotation pairs mixed up", "parallel MLP without its layer norm"],
)
def test_the_check_stage_catches_a_broken_palm(
    monkeypatch: pytest.MonkeyPatch, patches: dict[str, object], caught_by: tuple[str, ...]
) -> None:
    for target, broken in patches.items():
        monkeypatch.setattr(target, broken)
    result = run_stage("palm", "check")
    assert result.verdict() == "failed"
    failed = [c.name for c in result.comparisons if not c.passed]
    assert failed and all(name.startswith(caught_by) for name in failed), failures(result)


def parallel_without_attention(self: PaLMBlock, x: torch.Tensor) -> torch.Tensor:
    """A parallel block that lost its attention branch: y = x + MLP(LN(x)); the serial block is untouched."""
    if self.serial:
        return PARALLEL_FORWARD(self, x)
    *_, a, b = self.W_in(self.norm(x)).split(self.splits, dim=-1)
    return x + self.mlp(a, b)


PARALLEL_FORWARD = PaLMBlock.forward


def test_the_train_stage_fails_when_the_parallel_block_loses_a_sublayer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(f"{PLUGIN}.model.PaLMBlock.forward", parallel_without_attention)
    result = run_stage("palm", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("both models learnt the chain") for name in failed), failures(result)
    # parallel − serial is reported, not asserted, at quick size: the number itself must miss its claim
    parity = reported_claim(result, "parallel − serial held-out loss")
    assert not parity.passed, parity
