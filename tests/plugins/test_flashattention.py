"""The FlashAttention plugin: tiled attention equals PyTorch's SDPA, backward included, in linear memory; its
check fails for a shifted causal mask or a missing scale."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.flashattention.model import _causal_mask, flash_attention, standard_attention

from readtrack.testing import failures, run_stage


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


def _saved_bytes(attention: Callable[..., torch.Tensor], n: int) -> int:
    sizes: list[int] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        sizes.append(t.nbytes)
        return t

    q, k, v = (torch.randn(1, 2, n, 16, requires_grad=True) for _ in range(3))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
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
        return flash_attention(q, k, v, False, **kw)
    shifted = (
        torch.cat([k[..., 1:, :], k[..., -1:, :]], dim=-2),
        torch.cat([v[..., 1:, :], v[..., -1:, :]], dim=-2),
    )
    return flash_attention(q, *shifted, True, **kw)


def unscaled(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False, **kw: object
) -> torch.Tensor:
    """A broken softmax: the 1/√d scale left out."""
    return flash_attention(q * q.shape[-1] ** 0.5, k, v, causal, **kw)


def forward_without_rescale(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, tau: float, block_r: int, block_c: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """A broken online softmax: Algorithm 1 without the rescaling e^(m_i − m_new) of lines 11-12, so what
    earlier key tiles summed keeps its old maximum when a later tile raises it (all query rows at once)."""
    out = torch.zeros(*q.shape[:-1], v.shape[-1], dtype=q.dtype)
    row_sum = torch.zeros(*q.shape[:-1], 1, dtype=q.dtype)
    row_max = torch.full((*q.shape[:-1], 1), float("-inf"), dtype=q.dtype)
    for j0 in range(0, k.shape[-2], block_c):
        K_j, V_j = k[..., j0 : j0 + block_c, :], v[..., j0 : j0 + block_c, :]
        S = tau * q @ K_j.transpose(-2, -1)
        if causal:
            S = S.masked_fill(_causal_mask(q.shape[-2], K_j.shape[-2], 0, j0, q.device), float("-inf"))
        new_max = torch.maximum(row_max, S.amax(dim=-1, keepdim=True))
        P = torch.exp(S - new_max)
        new_sum = row_sum + P.sum(dim=-1, keepdim=True)  # should be e^(m − m_new)·ℓ + rowsum(P)
        out = (row_sum * out + P @ V_j) / new_sum  # should be (e^(m − m_new)·ℓ·O + P V_j) / ℓ_new
        row_sum, row_max = new_sum, new_max
    return out, row_max + torch.log(row_sum)


@pytest.mark.parametrize("broken", [causal_off_by_one, unscaled, forward_without_rescale])
def test_the_check_stage_catches_a_broken_flash_attention(
    monkeypatch: pytest.MonkeyPatch, broken: object
) -> None:
    if broken is forward_without_rescale:  # inside the tiles: flash_attention itself calls it
        monkeypatch.setattr("readtrack_plugins.flashattention.model.flash_forward", broken)
    else:
        monkeypatch.setattr("readtrack_plugins.flashattention.experiment.flash_attention", broken)
    result = run_stage("flashattention", "check")
    assert result.verdict() == "failed"
    failed = [c.name for c in result.comparisons if not c.passed]
    assert any(name.startswith(("forward vs torch SDPA", "dQ, dK, dV vs SDPA")) for name in failed), failures(
        result
    )


def _fake_triton_kernel(attention: Callable[..., torch.Tensor]) -> types.ModuleType:
    """A stand-in for triton_kernel.py (no GPU here): ``flash_attention(backend="triton")`` imports
    ``flash_attention_triton`` from it, so the stages run whatever ``attention`` is."""
    module = types.ModuleType("readtrack_plugins.flashattention.triton_kernel")
    module.flash_attention_triton = attention  # type: ignore[attr-defined]
    return module


def _tiles(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, scale: float | None
) -> torch.Tensor:
    return flash_attention(q, k, v, causal, scale, block_r=32, block_c=16)


def _tiles_with_doubled_dv(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, scale: float | None
) -> torch.Tensor:
    """A kernel with a right forward and a wrong backward: v + (v − v.detach()) is v, but dV comes out ×2."""
    return _tiles(q, k, v + (v - v.detach()), causal, scale)


@pytest.mark.parametrize("kernel", [_tiles, _tiles_with_doubled_dv])
def test_with_impl_triton_the_check_stage_checks_the_kernels_gradients(
    monkeypatch: pytest.MonkeyPatch, kernel: Callable[..., torch.Tensor]
) -> None:
    monkeypatch.setitem(
        sys.modules, "readtrack_plugins.flashattention.triton_kernel", _fake_triton_kernel(kernel)
    )
    result = run_stage("flashattention", "check", options={"impl": "triton"})
    checked = [c for c in result.comparisons if c.name.startswith("backend=triton")]
    assert len(checked) == 8, [c.name for c in result.comparisons]  # 2 shapes × causal or not × O, grads
    if kernel is _tiles:
        assert result.verdict() == "passed", failures(result)
    else:
        assert result.verdict() == "failed"
        failed = {c.name for c in result.comparisons if not c.passed}
        assert failed == {c.name for c in checked if "dQ, dK, dV" in c.name}, failures(result)


def test_with_impl_triton_training_goes_through_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def counted(
        q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, scale: float | None
    ) -> torch.Tensor:
        calls.append(q.shape)
        return _tiles(q, k, v, causal, scale)

    monkeypatch.setitem(
        sys.modules, "readtrack_plugins.flashattention.triton_kernel", _fake_triton_kernel(counted)
    )
    result = run_stage("flashattention", "train", options={"impl": "triton"})
    assert result.verdict() == "passed", failures(result)
    assert len(calls) == 90 + 1  # every quick training step, then the accuracy on new sequences
    assert any("flash backend triton" in t.detail for t in result.targets)


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

    from readtrack.runner.context import RunContext

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


def test_the_check_stage_catches_tiles_that_accumulate_in_half_precision(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without float32 accumulation the bfloat16/float16 errors are 1.6-3.3× SDPA's: the low-precision
    comparison must fail (the float64 and float32 comparisons cannot see it)."""
    monkeypatch.setattr("readtrack_plugins.flashattention.model._accumulator_dtype", lambda dtype: dtype)
    result = run_stage("flashattention", "check")
    assert result.verdict() == "failed"
    failed = [c.name for c in result.comparisons if not c.passed]
    assert failed and all("against float64 no worse than SDPA's" in name for name in failed), failed
