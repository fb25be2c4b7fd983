"""The FlashAttention-2 Triton kernels against attention computed naively in float64.

Without a GPU the kernels run under Triton's interpreter (``TRITON_INTERPRET=1``: numpy on the CPU, the
same kernel code, masks and block loops). Triton reads that variable when it is imported, and other test
modules may import Triton first in this pytest process, so the interpreter cases run in one subprocess
that has the variable in its environment: this file executed as a script (``__main__`` below). It
prints one JSON line with the measured errors; the tests here assert on them case by case.

Error metric, per tensor: max|actual − exact| / max|exact|, the largest error relative to the largest
exact value (exact = the float64 reference computed from the same, already rounded, inputs). Where the
exact tensor is all zeros (N_k = 1: a softmax over one key has zero gradient in q and k) it is the
absolute max|actual|. Bounds: fp32 1e-5 (seen: below 1e-6); fp16 2e-3 (seen: below 1e-3); bf16 2e-2
(seen: up to 1.0e-2; bf16 keeps 8 significant bits, a rounding error of 2⁻⁸ ≈ 3.9e-3, and naive attention
computed by PyTorch in bf16 errs by up to 9.9e-3 on the same kind of inputs).

With a CUDA GPU the same comparisons run in this process on the compiled kernels at full size and on
random shapes; they are skipped on machines without one.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import interpreted
import pytest

pytest.importorskip("triton", reason="triton is not installed (pip install 'readtrack[triton]')")
pytest.importorskip("numpy", reason="Triton's interpreter (TRITON_INTERPRET=1) needs numpy")
import torch
import triton
import triton.language as tl

KERNEL_MODULE = "readtrack_plugins.flashattention.triton_kernel"
TOLERANCE = {"float32": 1e-5, "float16": 2e-3, "bfloat16": 2e-2}
# On a GPU, fp32 runs with the hardware's approximate exp2 and over longer rows than here.
GPU_TOLERANCE = {**TOLERANCE, "float32": 1e-4}


@dataclass(frozen=True)
class Case:
    """One kernel run: batch 2, heads 2, q (2, 2, n_q, d), k and v (2, 2, n_k, d)."""

    dtype: str
    n_q: int
    n_k: int
    head_dim: int
    causal: bool
    layout: str = "bhnd"  # "bnhd": q, k, v are transposed views of (B, N, H, d) tensors (strided heads)
    upstream: str = "random"  # "sum": out.sum() sends an expanded gradient with stride 0

    @property
    def id(self) -> str:
        mask = "causal" if self.causal else "full"
        extra = "".join(f"-{x}" for x in (self.layout, self.upstream) if x not in ("bhnd", "random"))
        return f"{self.dtype}-q{self.n_q}-k{self.n_k}-d{self.head_dim}-{mask}{extra}"


# The interpreter tiles are B_r = 32, B_c = 16 (forward and dQ) and 16 × 32 (dK/dV): 17 and 100 end in
# partial blocks, 64 does not, 1 is a single partial block; 40 is a head dim that is not a power of two.
CASES = [
    Case("float32", 1, 1, 16, False),
    Case("float32", 1, 1, 16, True),
    Case("float32", 17, 17, 32, False),
    Case("float32", 17, 17, 32, True),
    Case("float32", 17, 17, 64, False),
    Case("float32", 17, 17, 128, True),
    Case("float32", 64, 64, 32, True),
    Case("float32", 100, 100, 16, True),
    Case("float32", 100, 100, 64, False),
    Case("float32", 100, 100, 64, True),
    Case("float32", 33, 70, 40, True),
    Case("float32", 70, 33, 32, True),
    Case("float32", 17, 40, 32, False, layout="bnhd", upstream="sum"),
    Case("float16", 17, 17, 32, True),
    Case("float16", 100, 100, 64, False),
    Case("float16", 100, 100, 64, True),
    Case("bfloat16", 17, 17, 32, True),
    Case("bfloat16", 100, 100, 64, False),
    Case("bfloat16", 100, 100, 64, True),
]


def reference_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, scale: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(scale·QKᵀ)V and the row log-sum-exp, materialising S; causal is top-left aligned."""
    s = scale * q @ k.transpose(-2, -1)  # (B, H, N_q, N_k)
    if causal:
        visible = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=q.device).tril()
        s = s.masked_fill(~visible, float("-inf"))
    return torch.softmax(s, dim=-1) @ v, torch.logsumexp(s, dim=-1)


def scaled_error(actual: torch.Tensor, exact: torch.Tensor) -> float:
    """max|actual − exact| / max|exact|, or max|actual| where exact is all zeros (see module docstring)."""
    diff = (actual.double() - exact.double()).abs().max().item()
    largest = exact.abs().max().item()
    return diff / largest if largest > 0 else diff


def make_inputs(case: Case, device: str, seed: int) -> tuple[torch.Tensor, ...]:
    """q, k, v in the case's dtype and layout, plus the upstream gradient dO (or None for out.sum())."""
    gen = torch.Generator().manual_seed(seed)
    dtype = getattr(torch, case.dtype)

    def tensor(n: int) -> torch.Tensor:
        if case.layout == "bnhd":
            return torch.randn(2, n, 2, case.head_dim, generator=gen).to(device, dtype).transpose(1, 2)
        return torch.randn(2, 2, n, case.head_dim, generator=gen).to(device, dtype)

    q, k, v = tensor(case.n_q), tensor(case.n_k), tensor(case.n_k)
    do = torch.randn(2, 2, case.n_q, case.head_dim, generator=gen).to(device, dtype)
    return q, k, v, do


def measure_case(case: Case, device: str = "cpu", seed: int = 0) -> dict[str, Any]:
    """Run the kernel forward and backward; return the errors of O, L, dQ, dK, dV against float64."""
    from readtrack_plugins.flashattention.triton_kernel import flash_attention_forward, flash_attention_triton

    q, k, v, do = make_inputs(case, device, seed)
    q, k, v = (t.requires_grad_() for t in (q, k, v))
    start = time.perf_counter()
    out = flash_attention_triton(q, k, v, causal=case.causal)
    grad_out = torch.ones_like(out) if case.upstream == "sum" else do
    if case.upstream == "sum":
        out.sum().backward()
    else:
        out.backward(do)
    seconds = time.perf_counter() - start
    _, lse = flash_attention_forward(q.detach(), k.detach(), v.detach(), causal=case.causal)

    q64, k64, v64 = (t.detach().double().requires_grad_() for t in (q, k, v))
    out64, lse64 = reference_attention(q64, k64, v64, case.causal, 1.0 / math.sqrt(case.head_dim))
    out64.backward(grad_out.double())
    assert q.grad is not None and k.grad is not None and v.grad is not None
    assert q64.grad is not None and k64.grad is not None and v64.grad is not None
    return {
        "out": scaled_error(out.detach(), out64.detach()),
        "lse": scaled_error(lse, lse64.detach()),
        "dq": scaled_error(q.grad, q64.grad),
        "dk": scaled_error(k.grad, k64.grad),
        "dv": scaled_error(v.grad, v64.grad),
        "out_dtype": str(out.dtype).removeprefix("torch."),
        "seconds": seconds,
    }


def measure_model_backend() -> dict[str, Any]:
    """model.flash_attention(backend="triton") against the plugin's own PyTorch tiles (backend="torch")."""
    from readtrack_plugins.flashattention import model

    gen = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 2, 50, 32, generator=gen) for _ in range(3))
    do = torch.randn(2, 2, 50, 32, generator=gen)
    results = {}
    for backend in ("triton", "torch"):
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        out = model.flash_attention(*leaves, causal=True, backend=backend)
        out.backward(do)
        results[backend] = [out.detach(), *(t.grad for t in leaves)]
    return {
        name: scaled_error(triton_value, torch_value)
        for name, triton_value, torch_value in zip(
            ("out", "dq", "dk", "dv"), results["triton"], results["torch"], strict=True
        )
    }


# Head dims that are no power of two leave padded lanes in every (·, BLOCK_D) tile: where a kernel loads
# with a mask but no `other=`, those lanes hold whatever the hardware left there. The lengths end in
# partial blocks (rows and keys past the end are masked-out lanes too), N_q != N_k, and half precision.
POISON_CASES = [Case("float32", 17, 17, d, causal) for d in (8, 40, 80, 96) for causal in (False, True)] + [
    Case("float32", 33, 19, 40, True),
    Case("float16", 19, 33, 80, False),
    Case("bfloat16", 17, 17, 96, True),
]
_BF16_NAN_BITS = 0x7FC0  # the interpreter keeps bf16 as raw uint16 bits


def poisoned_masked_load(original: Any) -> Any:
    """``original`` (Triton's ``InterpreterBuilder.create_masked_load``) filling masked-out lanes of a load
    without ``other=`` with NaN. Only ``ptrs, mask, other`` are ours: the arguments after them changed
    between Triton releases (3.8: ``cache_modifier, eviction_policy, is_volatile``; 3.9: ``cache_policy,
    is_volatile``) and pass through untouched. A release that moved ``other`` is refused by name."""
    import inspect

    import numpy as np
    import triton.language as tl
    from triton.runtime import interpreter

    leading = list(inspect.signature(original).parameters)[:4]
    if leading != ["self", "ptrs", "mask", "other"]:
        raise RuntimeError(f"Triton's create_masked_load takes {leading} first: update poisoned_masked_load")

    def poisoned(self: Any, ptrs: Any, mask: Any, other: Any, *rest: Any, **options: Any) -> Any:
        if other is None:
            element = ptrs.get_element_ty()
            dtype = interpreter._get_np_dtype(element)
            if element == tl.bfloat16:
                other = interpreter.TensorHandle(
                    np.full_like(ptrs.data, _BF16_NAN_BITS, dtype=dtype), element
                )
            elif np.issubdtype(dtype, np.floating):
                other = interpreter.TensorHandle(np.full_like(ptrs.data, np.nan, dtype=dtype), element)
        return original(self, ptrs, mask, other, *rest, **options)

    return poisoned


def poison_masked_loads() -> None:
    """Make Triton's interpreter fill masked-out lanes of loads without ``other=`` with NaN instead of the
    zeros it happens to use, so a kernel that sums or multiplies undefined lanes shows NaN here, as it may
    on a GPU. (Compiled Triton leaves those lanes undefined.)"""
    from triton.runtime import interpreter

    builder = interpreter.InterpreterBuilder
    builder.create_masked_load = poisoned_masked_load(builder.create_masked_load)


@triton.jit
def _masked_sum_kernel(X, OUT, BLOCK: tl.constexpr, VALID: tl.constexpr):  # type: ignore[no-untyped-def]
    lanes = tl.arange(0, BLOCK)
    undefined = tl.load(X + lanes, mask=lanes < VALID)  # the bug: lanes VALID.. are left undefined
    defined = tl.load(X + lanes, mask=lanes < VALID, other=0.0)
    tl.store(OUT, tl.sum(undefined.to(tl.float32), 0))
    tl.store(OUT + 1, tl.sum(defined.to(tl.float32), 0))


def masked_sums() -> dict[str, list[float]]:
    """The bug in miniature, per dtype: the sum of 16 lanes of ones, 8 of them masked out, loaded without
    and with ``other=0.0``. Under the poison the first must be NaN: this shows that the poison reaches a
    kernel's loads (a Triton update that changed the interpreter's load path would otherwise turn the
    poison tests into silent no-ops)."""
    sums = {}
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        out = torch.zeros(2)
        _masked_sum_kernel[(1,)](torch.ones(16, dtype=dtype), out, BLOCK=16, VALID=8)
        sums[str(dtype).removeprefix("torch.")] = out.tolist()
    return sums


def double_backward_error() -> str:
    """What differentiating the Triton backward a second time does (once_differentiable: it raises)."""
    from readtrack_plugins.flashattention.triton_kernel import flash_attention_triton

    q, k, v = (torch.randn(1, 1, 8, 16, requires_grad=True) for _ in range(3))
    (dq,) = torch.autograd.grad(flash_attention_triton(q, k, v).square().sum(), q, create_graph=True)
    try:
        dq.sum().backward()
    except RuntimeError as exc:
        return str(exc)
    return ""


def check_stage_with_triton() -> dict[str, Any]:
    """The plugin's check stage as ``readtrack run flashattention --impl triton`` runs it (quick)."""
    from readtrack.testing import failures, run_stage

    result = run_stage("flashattention", "check", options={"impl": "triton"})
    names = [c.name for c in result.comparisons]
    return {"verdict": result.verdict(), "failures": failures(result), "names": names}


def run_interpreter_cases() -> dict[str, Any]:
    """The subprocess's work: every case, the model wiring, is_available(), the check stage with
    ``--impl triton``, then the cases again with poisoned masked loads, as one JSON-able dict."""
    from readtrack_plugins.flashattention.triton_kernel import is_available

    results: dict[str, Any] = {
        "cases": {case.id: measure_case(case) for case in CASES},
        "model_backend": measure_model_backend(),
        "is_available": is_available(),
        "double_backward_error": double_backward_error(),
        "check_stage": check_stage_with_triton(),
        "masked_sums": masked_sums(),
    }
    poison_masked_loads()
    results["poisoned_masked_sums"] = masked_sums()
    results["poisoned"] = {case.id: measure_case(case) for case in POISON_CASES}
    return results


# -- the tests -------------------------------------------------------------------------------------


# One worker runs this file's tests (pytest --dist loadgroup, in pyproject.toml): the module's fixture below
# is 23 s of interpreted kernels, and spread over two workers it ran twice.
pytestmark = pytest.mark.xdist_group("triton-interpreter")


@pytest.fixture(scope="module")
def interpreter_results() -> dict[str, Any]:
    """Run this file as a script with TRITON_INTERPRET=1 and read back the errors it measured."""
    return interpreted.interpreter_results(__file__, timeout=240)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_forward_matches_float64_attention_under_the_interpreter(
    interpreter_results: dict[str, Any], case: Case
) -> None:
    errors = interpreter_results["cases"][case.id]
    assert errors["out_dtype"] == case.dtype
    assert errors["out"] <= TOLERANCE[case.dtype], errors
    # L is kept in fp32 whatever the inputs, so it is as exact as the fp32 arithmetic.
    assert errors["lse"] <= 1e-5, errors


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_gradients_match_float64_attention_under_the_interpreter(
    interpreter_results: dict[str, Any], case: Case
) -> None:
    errors = interpreter_results["cases"][case.id]
    for grad in ("dq", "dk", "dv"):
        assert errors[grad] <= TOLERANCE[case.dtype], (grad, errors)


@pytest.mark.parametrize("case", POISON_CASES, ids=[case.id for case in POISON_CASES])
def test_no_kernel_reads_a_masked_out_lane_even_when_it_holds_nan(
    interpreter_results: dict[str, Any], case: Case
) -> None:
    errors = interpreter_results["poisoned"][case.id]
    for name in ("out", "lse", "dq", "dk", "dv"):
        assert math.isfinite(errors[name]) and errors[name] <= TOLERANCE[case.dtype], (name, errors)


def test_the_poison_reaches_the_loads_of_a_kernel(interpreter_results: dict[str, Any]) -> None:
    # Unpoisoned, the interpreter fills masked-out lanes with zeros (why the bug went unseen); poisoned,
    # a load without other= sums to NaN while other=0.0 keeps the sum defined.
    for dtype, (without_other, with_other) in interpreter_results["masked_sums"].items():
        assert (without_other, with_other) == (8.0, 8.0), dtype
    for dtype, (without_other, with_other) in interpreter_results["poisoned_masked_sums"].items():
        assert math.isnan(without_other) and with_other == 8.0, dtype


class _Handle:
    """Just enough of the interpreter's TensorHandle for the poison: data and an element type."""

    def __init__(self, data: Any, element: Any) -> None:
        self.data, self.element = data, element

    def get_element_ty(self) -> Any:
        return self.element


def _load_triton_3_8(
    self: Any, ptrs: Any, mask: Any, other: Any, cache_modifier: Any, eviction_policy: Any, is_volatile: Any
) -> Any:
    return ("3.8", other, cache_modifier, eviction_policy, is_volatile)


def _load_triton_3_9(self: Any, ptrs: Any, mask: Any, other: Any, cache_policy: Any, is_volatile: Any) -> Any:
    return ("3.9", other, cache_policy, is_volatile)


@pytest.mark.parametrize("original", [_load_triton_3_8, _load_triton_3_9], ids=["triton-3.8", "triton-3.9"])
def test_the_poison_fits_the_masked_load_of_each_supported_triton(original: Any) -> None:
    """The dependency range admits Triton 3.8 (torch 2.14) and 3.9 (torch 2.13), whose interpreters pass
    different arguments after ``other``: the poison passes them through and fills ``other`` either way
    (the interpreter test above runs the installed release for real)."""
    import numpy as np
    import triton.language as tl

    poisoned = poisoned_masked_load(original)
    ptrs = _Handle(np.zeros(4, dtype=np.int64), tl.float32)
    rest = ("ca", "evict", False) if original is _load_triton_3_8 else ("policy", False)
    version, other, *passed = poisoned(None, ptrs, None, None, *rest)
    assert version == original(None, None, None, None, *rest)[0]
    assert tuple(passed) == rest
    assert np.isnan(other.data).all()
    given = _Handle(np.ones(4, dtype=np.float32), tl.float32)
    assert poisoned(None, ptrs, None, given, *rest)[1] is given  # an explicit other= is left alone


def test_the_poison_refuses_a_masked_load_that_moved_other() -> None:
    def moved(self: Any, ptrs: Any, other: Any, mask: Any) -> Any:
        return None

    with pytest.raises(RuntimeError, match="update poisoned_masked_load"):
        poisoned_masked_load(moved)


def test_autotuning_keys_lengths_by_bucket() -> None:
    from readtrack_plugins.flashattention import triton_kernel

    assert [triton_kernel.length_bucket(n) for n in (1, 15, 16, 17, 100, 1000, 1024, 1025, 16384)] == [
        16, 16, 16, 32, 128, 1024, 1024, 2048, 16384,
    ]  # fmt: skip
    for kernel in (triton_kernel._fwd_kernel, triton_kernel._bwd_dkdv_kernel, triton_kernel._bwd_dq_kernel):
        assert "N_Q" not in kernel.keys and "N_K" not in kernel.keys
        assert {"N_Q_BUCKET", "N_K_BUCKET", "HEAD_DIM", "CAUSAL"} <= set(kernel.keys)


def test_the_autotuner_tries_a_handful_of_candidates_per_dtype_and_head_dim() -> None:
    """A first CUDA run compiles every candidate it benchmarks: each table offers at most 3 per operand
    width and head dim, and the autotuner's pruning keeps at least one that fits one program."""
    import triton as tr
    from readtrack_plugins.flashattention import triton_kernel as tk

    tables = {"fwd": (tk._FWD_CANDIDATES, tk._FWD_FOOTPRINT), "dq": (tk._DQ_CANDIDATES, tk._DQ_FOOTPRINT)}
    tables["dkdv"] = (tk._DKDV_CANDIDATES, tk._DKDV_FOOTPRINT)
    for name, (table, footprint) in tables.items():
        for bits, size in ((16, 2), (32, 4)):
            for head_dim in (16, 40, 64, 100, 128, 256):
                block_d = max(16, tr.next_power_of_2(head_dim))
                chosen = tk.candidates(table, bits, block_d)
                assert 1 <= len(chosen) <= 3, (name, bits, head_dim, chosen)
                configs = [
                    tr.Config({"BLOCK_M": m, "BLOCK_N": n}, num_warps=warps, num_stages=stages)
                    for m, n, warps, stages in chosen
                ]
                assert any(footprint.fits(c, block_d, size) for c in configs), (name, bits, head_dim)
    assert tk.candidates(tk._FWD_CANDIDATES, 32, 64) == tk._FWD_CANDIDATES[(32, 256)]  # fp32: small tiles
    assert tk.candidates(tk._FWD_CANDIDATES, 16, 128) == tk._FWD_CANDIDATES[(16, 128)]


def test_the_backward_refuses_to_be_differentiated_twice(interpreter_results: dict[str, Any]) -> None:
    # The kernels record no graph: without once_differentiable a second derivative would silently be 0.
    assert "once_differentiable" in interpreter_results["double_backward_error"]


def test_the_check_stage_with_impl_triton_checks_the_kernels_forward_and_gradients(
    interpreter_results: dict[str, Any],
) -> None:
    stage = interpreter_results["check_stage"]
    assert stage["verdict"] == "passed", stage["failures"]
    checked = [name for name in stage["names"] if name.startswith("backend=triton")]
    for shape in ("N=130×130, d=64", "N=37×130, d=40"):
        for causal in (False, True):
            for what in ("forward", "dQ, dK, dV"):
                assert any(
                    what in name and shape in name and f"causal={causal}" in name for name in checked
                ), (what, shape, causal, checked)


def test_model_backend_triton_agrees_with_the_pytorch_tiles(interpreter_results: dict[str, Any]) -> None:
    errors = interpreter_results["model_backend"]
    assert max(errors.values()) <= 1e-5, errors


def test_is_available_under_the_interpreter(interpreter_results: dict[str, Any]) -> None:
    assert interpreter_results["is_available"] is True


def _import_compiled_kernels() -> Any:
    """The kernel module in this process, where TRITON_INTERPRET is normally unset."""
    import importlib

    module = importlib.import_module(KERNEL_MODULE)
    if module._INTERPRET:
        pytest.skip("TRITON_INTERPRET is set in the test process; these tests need the compiled path")
    return module


def test_cpu_tensors_are_refused_without_the_interpreter() -> None:
    kernels = _import_compiled_kernels()
    assert kernels.is_available() == torch.cuda.is_available()
    q = torch.randn(1, 1, 8, 16)
    with pytest.raises(ValueError, match="need a CUDA device"):
        kernels.flash_attention_triton(q, q, q)


def test_mismatched_shapes_are_refused_with_the_shapes_named() -> None:
    kernels = _import_compiled_kernels()
    q, k = torch.randn(1, 2, 8, 16), torch.randn(1, 3, 8, 16)
    with pytest.raises(ValueError, match=r"\(1, 2, 8, 16\), \(1, 3, 8, 16\)"):
        kernels.flash_attention_triton(q, k, k)
    with pytest.raises(ValueError, match="one dtype"):
        kernels.flash_attention_triton(q, q.double(), q)


# -- the CUDA benchmark's parts that need no GPU ----------------------------------------------------


def test_benchmark_flop_count_is_the_papers() -> None:
    from readtrack_plugins.flashattention.cuda_bench import attention_flops

    forward = 4 * 2 * 3 * 1024**2 * 64  # 4·B·H·N²·d
    assert attention_flops(2, 3, 1024, 64, causal=False, mode="fwd") == forward
    assert attention_flops(2, 3, 1024, 64, causal=True, mode="fwd") == forward / 2
    assert attention_flops(2, 3, 1024, 64, causal=False, mode="fwd+bwd") == 3.5 * forward


def test_benchmark_knows_the_peak_only_of_parts_it_can_name() -> None:
    from readtrack_plugins.flashattention.cuda_bench import dense_bf16_peak_tflops

    assert dense_bf16_peak_tflops("NVIDIA H200") == pytest.approx(989, rel=0.01)
    assert dense_bf16_peak_tflops("NVIDIA H100 80GB HBM3") == pytest.approx(989, rel=0.01)
    for other in ("NVIDIA H200 NVL", "NVIDIA H100 PCIe", "NVIDIA A100-SXM4-80GB", "NVIDIA GeForce RTX 4090"):
        assert dense_bf16_peak_tflops(other) is None


def test_benchmark_loop_runs_on_the_cpu_and_turns_failures_into_rows() -> None:
    """The benchmark's loop, timing, FLOP rate, output check and error rows, on a tiny CPU workload."""
    from readtrack_plugins.flashattention.cuda_bench import (
        Options,
        attention_flops,
        markdown_table,
        run_benchmark,
    )

    _import_compiled_kernels()  # the triton rows below must take the compiled path, which refuses the CPU
    options = Options(
        seq_lens=[32],
        head_dims=[16],
        causal=[True],
        modes=["fwd", "fwd+bwd"],
        impls=["naive", "triton"],
        quick=True,
        tokens=64,
        hidden=32,
        device="cpu",
    )
    rows = run_benchmark(options)

    assert [(r.impl, r.mode) for r in rows] == [
        ("naive", "fwd"),
        ("naive", "fwd+bwd"),
        ("triton", "fwd"),
        ("triton", "fwd+bwd"),
    ]
    assert rows[0].grad_err is None and rows[1].grad_err is not None and rows[1].grad_err < 2e-2
    for row, mode in zip(rows[:2], ("fwd", "fwd+bwd"), strict=True):
        assert (row.batch, row.heads, row.note) == (2, 2, "")
        assert row.median_ms is not None and row.median_ms > 0
        flops = attention_flops(2, 2, 32, 16, True, mode)
        assert row.tflops == pytest.approx(flops / (row.median_ms / 1e3) / 1e12)
        assert row.max_err is not None and row.max_err < 2e-2  # against PyTorch's SDPA on the same inputs
    for row in rows[2:]:
        assert row.median_ms is None and "need a CUDA device" in row.note
    assert len(markdown_table(rows).splitlines()) == 2 + len(rows)


class _DoubledBackward(torch.autograd.Function):
    """Right forward, gradients twice too large: the kind of bug only a gradient check sees."""

    @staticmethod
    def forward(ctx: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        from readtrack_plugins.flashattention.cuda_bench import _naive_attention

        ctx.save_for_backward(q, k, v)
        out: torch.Tensor = _naive_attention(q, k, v, False)
        return out

    @staticmethod
    def backward(ctx: Any, do: torch.Tensor) -> tuple[torch.Tensor, ...]:
        from readtrack_plugins.flashattention.cuda_bench import _naive_attention

        with torch.enable_grad():
            leaves = [t.detach().requires_grad_() for t in ctx.saved_tensors]
            grads = torch.autograd.grad(_naive_attention(*leaves, False), leaves, do)
        return tuple(2 * g for g in grads)


class _NanGradient(torch.autograd.Function):
    """Identity forward; backward puts NaN in the last head-dim lane of dO, as reading an undefined padded
    lane did in the Triton backward: every gradient upstream gets NaN."""

    @staticmethod
    def forward(ctx: Any, out: torch.Tensor) -> torch.Tensor:
        return out.clone()

    @staticmethod
    def backward(ctx: Any, do: torch.Tensor) -> torch.Tensor:
        do = do.clone()
        do[..., -1] = float("nan")
        return do


def test_benchmark_flags_a_wrong_backward_instead_of_timing_it_silently(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from readtrack_plugins.flashattention import cuda_bench

    def implementations(names: list[str], tiles_block: int) -> dict[str, Any]:
        return {
            "naive": cuda_bench._naive_attention,
            "doubled": lambda q, k, v, causal: _DoubledBackward.apply(q, k, v),
            "nan": lambda q, k, v, causal: _NanGradient.apply(cuda_bench._naive_attention(q, k, v, causal)),
        }

    monkeypatch.setattr(cuda_bench, "implementations", implementations)
    options = cuda_bench.Options(
        seq_lens=[32], head_dims=[16], causal=[False], modes=["fwd", "fwd+bwd"],
        impls=["naive", "doubled", "nan"], quick=True, tokens=64, hidden=48, device="cpu",
    )  # fmt: skip
    rows = {(r.impl, r.mode): r for r in cuda_bench.run_benchmark(options)}
    good = rows["naive", "fwd+bwd"]
    assert good.grad_err is not None and good.grad_err < 2e-2 and good.note == ""  # bf16 against float64
    for impl in ("doubled", "nan"):
        bad = rows[impl, "fwd+bwd"]
        assert bad.grad_err is not None and "WRONG GRADIENTS" in bad.note, bad
        assert not bad.grad_err <= cuda_bench.WRONG_GRADIENTS
        assert bad.median_ms is not None  # still timed, but marked
        forward = rows[impl, "fwd"]  # the forward is right
        assert forward.grad_err is None and "WRONG" not in forward.note, forward
    assert 0.9 < (rows["doubled", "fwd+bwd"].grad_err or 0) < 1.1
    assert math.isnan(rows["nan", "fwd+bwd"].grad_err or 0)
    assert cuda_bench.markdown_table(list(rows.values())).count("WRONG GRADIENTS") == 2
    exported = json.loads(json.dumps([asdict(row) for row in rows.values()]))  # as main() writes it
    flagged = {(r["impl"], r["mode"]) for r in exported if "WRONG GRADIENTS" in r["note"]}
    assert flagged == {("doubled", "fwd+bwd"), ("nan", "fwd+bwd")}


def test_benchmark_says_when_it_could_not_check_gradients(monkeypatch: pytest.MonkeyPatch) -> None:
    from readtrack_plugins.flashattention import cuda_bench

    def out_of_memory(*args: Any) -> str:
        return "the float64 reference failed (CUDA out of memory)"

    monkeypatch.setattr(cuda_bench, "_reference_gradients", out_of_memory)
    options = cuda_bench.Options(
        seq_lens=[32], head_dims=[16], causal=[True], modes=["fwd+bwd"], impls=["naive"],
        quick=True, tokens=32, hidden=16, device="cpu",
    )  # fmt: skip
    (row,) = cuda_bench.run_benchmark(options)
    assert row.median_ms is not None and row.grad_err is None
    assert row.note == "gradients not checked: the float64 reference failed (CUDA out of memory)"


@pytest.mark.skipif(torch.cuda.is_available(), reason="with CUDA the command would run the whole benchmark")
def test_benchmark_command_without_cuda_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "flashattention_cuda.py"
    json_path = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, str(script), "--json", str(json_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "CUDA is not available" in proc.stderr
    assert not json_path.exists()


# -- with a GPU ------------------------------------------------------------------------------------

needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU; the interpreter tests cover the kernel code here"
)
FULL_SIZE = [
    Case(dtype, n, n, d, causal)
    for dtype in ("bfloat16", "float16")
    for n in (1024, 2048)
    for d in (64, 128)
    for causal in (False, True)
] + [Case("float32", 1024, 1024, 64, True)]


def _random_cases(count: int, seed: int) -> list[Case]:
    gen = torch.Generator().manual_seed(seed)

    def pick(options: list[Any]) -> Any:
        return options[int(torch.randint(len(options), (1,), generator=gen))]

    return [
        Case(
            pick(["bfloat16", "float16", "float32"]),
            int(torch.randint(1, 3000, (1,), generator=gen)),
            int(torch.randint(1, 3000, (1,), generator=gen)),
            pick([16, 32, 40, 64, 80, 96, 128, 256]),
            bool(pick([False, True])),
            layout=pick(["bhnd", "bnhd"]),
        )
        for _ in range(count)
    ]


@needs_cuda
@pytest.mark.slow
@pytest.mark.parametrize("case", FULL_SIZE, ids=[case.id for case in FULL_SIZE])
def test_compiled_kernels_match_float64_attention_at_full_size(case: Case) -> None:
    _import_compiled_kernels()
    errors = measure_case(case, device="cuda")
    for name in ("out", "dq", "dk", "dv"):
        assert errors[name] <= GPU_TOLERANCE[case.dtype], (name, errors)
    assert errors["lse"] <= 1e-4, errors


RANDOM_CASES = _random_cases(20, seed=2307)


@needs_cuda
@pytest.mark.slow
@pytest.mark.parametrize("case", RANDOM_CASES, ids=[case.id for case in RANDOM_CASES])
def test_compiled_kernels_match_float64_attention_on_random_shapes(case: Case) -> None:
    _import_compiled_kernels()
    errors = measure_case(case, device="cuda", seed=zlib.crc32(case.id.encode()))
    for name in ("out", "dq", "dk", "dv"):
        assert errors[name] <= GPU_TOLERANCE[case.dtype], (name, errors)


if __name__ == "__main__":
    # The interpreter subprocess (see interpreter_results): TRITON_INTERPRET=1 is already in the environment.
    interpreted.find_builtins_once()
    torch.manual_seed(0)
    print(json.dumps({**run_interpreter_cases(), "cases_run": [asdict(case) for case in CASES]}))


@pytest.mark.slow
def test_the_forward_kernel_builds_for_ampere_and_hopper_on_the_cpu() -> None:
    """Triton's compiler with a GPU target needs no GPU: the forward kernel (bf16, d = 64, causal, the first
    autotune candidate) builds for sm_80 and sm_90 with ptxas, within each GPU's shared memory. The whole
    set: ``python benchmarks/flashattention_compile.py`` (benchmarks/RESULTS.md)."""
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "flashattention_compile.py"
    spec = importlib.util.spec_from_file_location("flashattention_compile", script)
    assert spec is not None and spec.loader is not None
    compile_script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = compile_script  # its dataclass looks its module up there
    spec.loader.exec_module(compile_script)
    config = compile_script.candidates_for("fwd", "bf16", 64)[0]
    for arch in (80, 90):
        build = compile_script.compile_one("fwd", arch, "bf16", 64, True, config)
        assert build.error is None and build.ok, build
        assert 0 < build.shared <= compile_script.SHARED_LIMIT[arch]
        assert build.registers is not None and build.spill_bytes is not None  # ptxas -v was read


def test_a_first_compile_is_told_apart_per_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run says "compiling the Triton kernel for this GPU (first run only, ...)" while Triton's cache
    holds no build of the forward kernel for this GPU's compute capability."""
    from readtrack_plugins.flashattention.triton_kernel import compiled_before

    monkeypatch.setenv("TRITON_CACHE_DIR", str(tmp_path))
    assert not compiled_before(90)
    build = tmp_path / "SOMEHASH"
    build.mkdir()
    (build / "_fwd_kernel.json").write_text(json.dumps({"target": {"backend": "cuda", "arch": 80}}))
    assert compiled_before(80) and not compiled_before(90)
