"""The FlashAttention-3 ladder (plugins/flashattention/hopper_kernels.py) against attention in float64.

As in test_flashattention_triton.py, the interpreter cases run in one subprocess with ``TRITON_INTERPRET=1``
(this file as a script): the forward and backward (FlashAttention-2's backward from the rung's O and L) of
every rung that computes differently there, on shapes that end in partial blocks, cross the causal diagonal
and need a padded head dim; the fp8 rung's forward with and without the Hadamard rotation on inputs with
outliers. The interpreter runs tensor descriptors, fp8 conversions and fp8 dots; ``num_stages`` and
``warp_specialize`` are scheduling hints it ignores, so ``stages`` and ``ws`` compute there exactly as
``tma`` and ``persistent``, and are checked on a GPU only (with every other rung).

Metric: max|actual − exact| / max|exact| (exact: float64 from the same rounded inputs). Bounds as the
FlashAttention-2 tests: fp32 1e-5, fp16 2e-3, bf16 2e-2; fp8 0.25 (e4m3 keeps 3 mantissa bits, 2⁻⁴ ≈ 6 % per
operand; seen: 0.08-0.15 without the rotation, 0.06-0.09 with it, inputs with 1 % outliers; the benchmark's
WRONG OUTPUT mark for fp8 rows is the same 0.25). A broken variant of each kind is caught: a causal kernel
checked against full attention, and fp8 operands read with another block's scales.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import interpreted
import pytest

pytest.importorskip("triton", reason="triton is not installed (pip install 'readtrack[triton]')")
pytest.importorskip("numpy", reason="Triton's interpreter (TRITON_INTERPRET=1) needs numpy")
import torch

MODULE = "readtrack_plugins.flashattention.hopper_kernels"
TOLERANCE = {"float32": 1e-5, "float16": 2e-3, "bfloat16": 2e-2}
GPU_TOLERANCE = {**TOLERANCE, "float32": 1e-4}
FP8_TOLERANCE = 0.25
RUNGS = ["tma", "stages", "overlap", "persistent", "ws"]  # fa2: test_flashattention_triton.py
# The interpreter ignores num_stages and warp_specialize, so there `stages` computes exactly as `tma` and `ws`
# as `persistent`: checking them again would add time, not coverage. The GPU tests take every rung.
INTERPRETED = ["tma", "overlap", "persistent"]


@dataclass(frozen=True)
class Case:
    """q (batch, heads, n_q, d), k and v (batch, heads, n_k, d)."""

    dtype: str
    n_q: int
    n_k: int
    head_dim: int
    causal: bool
    batch: int = 2
    heads: int = 2

    @property
    def id(self) -> str:
        return f"{self.dtype}-q{self.n_q}-k{self.n_k}-d{self.head_dim}-{'causal' if self.causal else 'full'}"


# Interpreter tiles: B_r = 32, B_c = 16. 70 and 100 end in partial blocks (and so read the next head's rows
# through the (B·H·N, d) view), 64 does not; 37 × 100 is cross-attention; d = 20 in bf16 is 40 bytes a row,
# not a multiple of 16, so the TMA path pads it.
CASES = [
    Case("float32", 70, 70, 40, True),
    Case("float32", 37, 100, 24, False),
    Case("float32", 64, 64, 32, True),
    Case("bfloat16", 100, 100, 64, True),
    Case("bfloat16", 70, 70, 20, False),
    Case("float16", 70, 70, 32, True),
]
FP8_CASES = [Case("bfloat16", 100, 100, 64, True), Case("bfloat16", 70, 130, 32, False)]


def reference(q: Any, k: Any, v: Any, causal: bool) -> Any:
    q, k, v = (t.double() for t in (q, k, v))
    s = (q @ k.transpose(-2, -1)) / q.shape[-1] ** 0.5
    if causal:
        s = s.masked_fill(torch.ones(s.shape[-2:], dtype=torch.bool, device=s.device).triu(1), float("-inf"))
    return torch.softmax(s, -1) @ v


def error(actual: Any, exact: Any) -> float:
    return float((actual.detach().double() - exact).abs().max() / exact.abs().max())


def inputs(case: Case, device: str, seed: int, outliers: bool = False) -> tuple[Any, ...]:
    gen = torch.Generator(device=device).manual_seed(seed)
    dtype = getattr(torch, case.dtype)

    def draw(n: int) -> Any:
        shape = (case.batch, case.heads, n, case.head_dim)
        x = torch.randn(shape, device=device, generator=gen)
        if outliers:  # 1 % of the entries ten times larger: what the rotation is for
            big = torch.rand(shape, device=device, generator=gen) < 0.01
            x = torch.where(big, 10 * torch.randn(shape, device=device, generator=gen), x)
        return x.to(dtype)

    return draw(case.n_q), draw(case.n_k), draw(case.n_k), draw(case.n_q)


def measure(
    rung: str, case: Case, device: str = "cpu", seed: int = 0, checked_causal: bool | None = None
) -> dict:
    """Errors of the rung's output and of its gradients (through FlashAttention-2's backward)."""
    import importlib

    hk = importlib.import_module(MODULE)
    q, k, v, do = inputs(case, device, seed)
    qg, kg, vg = (t.clone().requires_grad_() for t in (q, k, v))
    out = hk.flash_attention_rung(qg, kg, vg, case.causal, kernel=rung)
    grads = torch.autograd.grad(out, (qg, kg, vg), do)
    causal = case.causal if checked_causal is None else checked_causal
    q64, k64, v64 = (t.double().requires_grad_() for t in (q, k, v))
    exact = reference(q64, k64, v64, causal)
    exact_grads = torch.autograd.grad(exact, (q64, k64, v64), do.double())
    _, lse = hk.rung_forward(q, k, v, case.causal, kernel=rung)
    s = (q.double() @ k.double().transpose(-2, -1)) / case.head_dim**0.5
    if causal:
        s = s.masked_fill(torch.ones(s.shape[-2:], dtype=torch.bool, device=s.device).triu(1), float("-inf"))
    return {
        "out_dtype": str(out.dtype).removeprefix("torch."),
        "out": error(out, exact.detach()),
        "lse": float((lse.double() - torch.logsumexp(s, -1)).abs().max()),
        **{name: error(g, e) for name, g, e in zip(("dq", "dk", "dv"), grads, exact_grads, strict=True)},
    }


def measure_fp8(
    case: Case, device: str = "cpu", seed: int = 0, rotate: bool = False, broken: bool = False
) -> float:
    import importlib

    hk = importlib.import_module(MODULE)
    q, k, v, _ = inputs(case, device, seed, outliers=True)
    with torch.no_grad():
        if broken:  # each key block read with another block's scale (the blocks' order reversed)
            (q8, k8, vt8), (q_scale, k_scale, v_scale), width = hk.quantize_fp8(q, k, v, block=32)
            shape = (case.batch, case.heads, case.n_q, case.n_k, width)
            scales = (q_scale, k_scale.flip(-1).contiguous(), v_scale)
            scale = case.head_dim**-0.5
            out = hk.fp8_attention(
                q8, k8, vt8, scales, shape, case.head_dim, case.causal, scale, q.dtype, 32
            )[0]
        else:
            out = hk.fp8_forward(q, k, v, case.causal, rotate=rotate)[0]
    return error(out, reference(q, k, v, case.causal))


def check_stage(kernel: str) -> dict[str, Any]:
    """The plugin's check stage as ``readtrack run flashattention --impl triton --set kernel=K`` runs it."""
    from readtrack.testing import failures, run_stage

    result = run_stage("flashattention", "check", settings={"kernel": kernel}, options={"impl": "triton"})
    names = [c.name for c in result.comparisons]
    return {"verdict": result.verdict(), "failures": failures(result), "names": names}


def run_interpreter_cases() -> dict[str, Any]:
    import importlib

    hk = importlib.import_module(MODULE)
    results: dict[str, Any] = {
        "check_stage": {kernel: check_stage(kernel) for kernel in ("overlap", "fp8")},
        "rungs": {rung: {case.id: measure(rung, case) for case in CASES} for rung in INTERPRETED},
        "fp8": {case.id: measure_fp8(case) for case in FP8_CASES},
        "fp8_rotated": {case.id: measure_fp8(case, rotate=True) for case in FP8_CASES},
        "fp8_broken": measure_fp8(FP8_CASES[0], broken=True),
        "causal_checked_as_full": measure("overlap", CASES[0], checked_causal=False)["out"],
    }
    try:
        q = torch.randn(1, 1, 8, 16, requires_grad=True)
        hk.flash_attention_rung(q, q, q, kernel="fp8")
        results["fp8_grad_refusal"] = ""
    except ValueError as exc:
        results["fp8_grad_refusal"] = str(exc)
    try:
        hk.flash_attention_rung(q, q, q, kernel="nope")
    except ValueError as exc:
        results["unknown_rung"] = str(exc)
    return results


pytestmark = pytest.mark.xdist_group("triton-interpreter")


@pytest.fixture(scope="module")
def interpreter_results() -> dict[str, Any]:
    """This file run as a script with TRITON_INTERPRET=1: the errors it measured."""
    return interpreted.interpreter_results(__file__, timeout=300)


@pytest.mark.parametrize("rung", INTERPRETED)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_every_rung_matches_float64_attention_under_the_interpreter(
    interpreter_results: dict[str, Any], rung: str, case: Case
) -> None:
    errors = interpreter_results["rungs"][rung][case.id]
    assert errors["out_dtype"] == case.dtype
    for name in ("out", "dq", "dk", "dv"):
        assert errors[name] <= TOLERANCE[case.dtype], (name, errors)
    assert errors["lse"] <= 1e-5, errors  # L in fp32, natural log: what FlashAttention-2's backward reads


@pytest.mark.parametrize("case", FP8_CASES, ids=[case.id for case in FP8_CASES])
def test_the_fp8_rung_is_within_e4m3s_error_and_the_rotation_keeps_it_there(
    interpreter_results: dict[str, Any], case: Case
) -> None:
    assert interpreter_results["fp8"][case.id] <= FP8_TOLERANCE
    assert interpreter_results["fp8_rotated"][case.id] <= FP8_TOLERANCE


def test_the_checks_catch_a_broken_kernel(interpreter_results: dict[str, Any]) -> None:
    """The bounds above would fail a causal kernel checked as full attention, or fp8 blocks mis-scaled."""
    assert interpreter_results["causal_checked_as_full"] > 10 * TOLERANCE["float32"]
    assert interpreter_results["fp8_broken"] > FP8_TOLERANCE


def test_fp8_refuses_gradients_and_an_unknown_rung_is_named(interpreter_results: dict[str, Any]) -> None:
    assert "forward-only" in interpreter_results["fp8_grad_refusal"]
    assert (
        "'nope'" in interpreter_results["unknown_rung"] and "overlap" in interpreter_results["unknown_rung"]
    )


@pytest.mark.parametrize("kernel", ["overlap", "fp8"])
def test_the_check_stage_checks_the_chosen_kernel(interpreter_results: dict[str, Any], kernel: str) -> None:
    """``--impl triton --set kernel=K``: the plugin's own check runs that rung (fp8: its forward alone)."""
    stage = interpreter_results["check_stage"][kernel]
    assert stage["verdict"] == "passed", stage["failures"]
    ours = [name for name in stage["names"] if f"kernel={kernel}" in name]
    assert len(ours) == (4 if kernel == "fp8" else 8), stage["names"]


def test_the_kernel_knob_offers_every_rung() -> None:
    """The knob's choices are written out in config.py (listing knobs imports no torch): they must be the
    ladder's rungs, in order."""
    import importlib

    from readtrack_plugins.flashattention.config import Config

    from readtrack.plugins.knobs import knobs_of

    (knob,) = [k for k in knobs_of(Config) if k.name == "kernel"]
    assert list(knob.choices) == list(importlib.import_module(MODULE).RUNGS)


def test_each_rung_adds_one_technique_to_the_rung_it_stands_on() -> None:
    """The ladder reads as the paper's ablation: every rung but the bottom names the rung below it, and
    differs from it in exactly one switch."""
    import importlib

    ladder = importlib.import_module(MODULE).RUNGS

    switches = ("tma", "deep_pipeline", "overlap", "persistent", "warp_specialize", "fp8")
    for rung in ladder.values():
        if rung.over is None:
            assert rung.name == "fa2"
            continue
        below = ladder[rung.over]
        changed = [s for s in switches if getattr(rung, s) != getattr(below, s)]
        assert len(changed) == 1, (rung.name, changed)
        assert rung.section and rung.buys


@pytest.mark.slow
def test_the_ladder_builds_for_hopper_on_the_cpu() -> None:
    """Triton's compiler with an sm_90 target needs no GPU: the overlap and fp8 rungs build within shared
    memory, with the warpgroup MMA and TMA copies (fp8: e4m3 operands). Every rung and candidate: ``python
    benchmarks/flashattention_compile.py --ladder`` (benchmarks/RESULTS.md)."""
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "flashattention_compile.py"
    spec = importlib.util.spec_from_file_location("flashattention_compile", script)
    assert spec is not None and spec.loader is not None
    compile_script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = compile_script
    spec.loader.exec_module(compile_script)
    hk = compile_script.ladder_module()
    for rung in ("overlap", "fp8"):
        config = hk.candidates(hk.RUNGS[rung], 8 if rung == "fp8" else 16, 64)[0]
        build = compile_script.compile_rung(rung, 90, "bf16", 64, True, config)
        assert build.ok, build
        assert {"wgmma", "tma"} <= set(build.features.split(", ")), build.features
        assert ("fp8" in build.features) == (rung == "fp8"), build.features


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
GPU_CASES = [
    Case("bfloat16", n, n, d, causal, batch=2, heads=4)
    for n in (1000, 2048)
    for d in (64, 128)
    for causal in (False, True)
] + [Case("bfloat16", 777, 1500, 40, False), Case("float16", 1024, 1024, 128, True)]


@needs_cuda
@pytest.mark.slow
@pytest.mark.parametrize("rung", RUNGS)
@pytest.mark.parametrize("case", GPU_CASES, ids=[case.id for case in GPU_CASES])
def test_every_rung_matches_float64_attention_on_the_gpu(rung: str, case: Case) -> None:
    errors = measure(rung, case, device="cuda")
    for name in ("out", "dq", "dk", "dv"):
        assert errors[name] <= GPU_TOLERANCE[case.dtype], (name, errors)
    assert errors["lse"] <= 1e-4, errors


@needs_cuda
@pytest.mark.slow
@pytest.mark.parametrize("case", GPU_CASES[:8], ids=[case.id for case in GPU_CASES[:8]])
def test_the_fp8_rung_matches_float64_attention_on_the_gpu(case: Case) -> None:
    assert measure_fp8(case, device="cuda") <= FP8_TOLERANCE
    assert measure_fp8(case, device="cuda", rotate=True) <= FP8_TOLERANCE


if __name__ == "__main__":
    interpreted.find_builtins_once()
    torch.manual_seed(0)
    print(json.dumps(run_interpreter_cases()))
