"""The FlashAttention plugin: tiled attention equals PyTorch's SDPA, backward included, in linear memory; its
check fails for a shifted causal mask or a missing scale."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from plugin_stages import failures, run_stage
from readtrack_plugins.flashattention.model import flash_attention, standard_attention


def _qkv(
    n_q: int, n_k: int, d: int = 16, dtype: torch.dtype = torch.float64, seed: int = 0
) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    shapes = [(2, 3, n_q, d), (2, 3, n_k, d), (2, 3, n_k, d)]
    return [torch.randn(s, generator=g, dtype=dtype).requires_grad_() for s in shapes]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("block", [32, 64])
@pytest.mark.parametrize("n", [1, 37, 130])
def test_forward_and_gradients_equal_sdpa_for_any_length(n: int, block: int, causal: bool) -> None:
    q, k, v = _qkv(n, n)
    dO = torch.randn(2, 3, n, 16, dtype=torch.float64)
    out = flash_attention(q, k, v, causal, block_r=block, block_c=block)
    grads = torch.autograd.grad(out, (q, k, v), dO)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    ref_grads = torch.autograd.grad(ref, (q, k, v), dO)
    torch.testing.assert_close(out, ref, atol=1e-12, rtol=1e-10)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("causal", [False, True])
def test_unequal_tiles_and_lengths_match_sdpa_alignment(causal: bool) -> None:
    # N_q != N_k: SDPA's causal mask is top-left aligned (query i sees keys 0..i), and so is ours.
    q, k, v = _qkv(37, 130)
    out = flash_attention(q, k, v, causal, scale=0.3, block_r=16, block_c=48)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=0.3)
    torch.testing.assert_close(out, ref, atol=1e-12, rtol=1e-10)


def test_hand_written_backward_passes_gradcheck() -> None:
    q, k, v = _qkv(19, 23, d=4)
    for causal in (False, True):
        assert torch.autograd.gradcheck(
            lambda q, k, v: flash_attention(q, k, v, causal, block_r=8, block_c=5),  # noqa: B023
            (q, k, v),
            fast_mode=True,
        )


def test_causal_output_ignores_future_keys() -> None:
    q, k, v = _qkv(40, 40)
    out = flash_attention(q, k, v, causal=True, block_r=16, block_c=16)
    k2, v2 = k.detach().clone(), v.detach().clone()
    k2[..., 20:, :] += 5.0  # change only keys and values after position 19
    v2[..., 20:, :] -= 3.0
    out2 = flash_attention(q, k2, v2, causal=True, block_r=16, block_c=16)
    torch.testing.assert_close(out[..., :20, :], out2[..., :20, :], atol=0, rtol=0)
    assert not torch.allclose(out[..., 20:, :], out2[..., 20:, :])


def test_half_precision_accumulates_in_float32() -> None:
    q, k, v = (t.detach() for t in _qkv(100, 100, dtype=torch.float32))
    out = flash_attention(q.bfloat16(), k.bfloat16(), v.bfloat16(), block_r=32, block_c=32)
    assert out.dtype == torch.bfloat16
    exact = F.scaled_dot_product_attention(q.bfloat16().float(), k.bfloat16().float(), v.bfloat16().float())
    assert (out.float() - exact).abs().max() < 1e-2  # one bf16 rounding of the output, not of every tile


def test_standard_attention_is_the_naive_reference() -> None:
    q, k, v = _qkv(33, 33)
    for causal in (False, True):
        torch.testing.assert_close(
            standard_attention(q, k, v, causal), F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        )


def _saved_bytes(attention, n: int) -> int:  # type: ignore[no-untyped-def]
    sizes: list[int] = []
    q, k, v = (torch.randn(1, 2, n, 16, requires_grad=True) for _ in range(3))
    with torch.autograd.graph.saved_tensors_hooks(lambda t: sizes.append(t.nbytes) or t, lambda t: t):
        attention(q, k, v)
    return sum(sizes)


def test_memory_saved_for_backward_is_linear_in_length() -> None:
    flash = [_saved_bytes(flash_attention, n) for n in (128, 256, 512)]
    naive = [_saved_bytes(standard_attention, n) for n in (128, 256, 512)]
    assert flash[1] / flash[0] == pytest.approx(2, rel=0.02) and flash[2] / flash[1] == pytest.approx(
        2, rel=0.02
    )
    assert naive[2] / naive[1] > 3.5
    assert flash[2] * 8 < naive[2]


def test_unknown_backend_is_a_clear_error() -> None:
    q, k, v = (t.detach() for t in _qkv(4, 4))
    with pytest.raises(ValueError, match=r"unknown backend 'cuda'.*'torch' or 'triton'"):
        flash_attention(q, k, v, backend="cuda")


def causal_off_by_one(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False, **kw: object
) -> torch.Tensor:
    """A broken causal mask: each query also sees the next key (the mask shifted by one)."""
    if not causal:
        return flash_attention(q, k, v, False, **kw)  # type: ignore[arg-type]
    shifted = (
        torch.cat([k[..., 1:, :], k[..., -1:, :]], dim=-2),
        torch.cat([v[..., 1:, :], v[..., -1:, :]], dim=-2),
    )
    return flash_attention(q, *shifted, True, **kw)  # type: ignore[arg-type]


def unscaled(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False, **kw: object
) -> torch.Tensor:
    """A broken softmax: the 1/√d scale left out."""
    return flash_attention(q * q.shape[-1] ** 0.5, k, v, causal, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("broken", [causal_off_by_one, unscaled])
def test_the_check_stage_catches_a_broken_flash_attention(
    monkeypatch: pytest.MonkeyPatch, broken: object
) -> None:
    monkeypatch.setattr("readtrack_plugins.flashattention.experiment.flash_attention", broken)
    result = run_stage("flashattention", "check")
    assert result.verdict() == "failed"
    failed = [c.name for c in result.comparisons if not c.passed]
    assert any(name.startswith(("forward vs torch SDPA", "dQ, dK, dV vs SDPA")) for name in failed), failures(
        result
    )


@pytest.mark.parametrize(
    ("device", "impl", "triton_installed", "expected"),
    [
        ("cpu", None, True, "torch"),
        ("cuda:0", None, True, "triton"),  # the fused kernel is the default on CUDA when Triton is there
        ("cuda:0", None, False, "torch"),
        ("cuda:0", "torch", True, "torch"),  # --impl decides
        ("cpu", "triton", False, "triton"),
    ],
)
def test_implementation_choice(
    device: str, impl: str | None, triton_installed: bool, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from readtrack_plugins.flashattention import experiment

    from readtrack.context import RunContext

    # No GPU here: the choice reads only the device string and whether Triton is importable, the latter
    # faked so that both branches run whatever is installed.
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: (
            real_find_spec(name, *a) if name != "triton" else (object() if triton_installed else None)
        ),
    )
    ctx = RunContext(device=device, quick=True, seed=0, options={"impl": impl} if impl else {})
    assert experiment.implementation(ctx) == expected
