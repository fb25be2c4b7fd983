"""The flashattention plugin's CUDA benchmark: our Triton FlashAttention-2 against PyTorch's attention.

Run it with ``python benchmarks/flashattention_cuda.py`` (options: ``--help``). The workload is the one of
FlashAttention-2 §4.1 (arXiv 2307.08691): 16k tokens per batch (batch = 16384 / N) and hidden size 2048
(heads = 2048 / d), for N = 1k..16k, head dim d = 64 and 128, causal or not, bf16; forward alone and
forward + backward. The rows:

- ``triton``: ``triton_kernel.flash_attention_triton``, this plugin's FlashAttention-2 kernels;
- ``torch-tiles``: ``model.flash_attention(backend="torch")``, this plugin's readable PyTorch tiles (a
  Python loop over tiles: slow by design, so only up to ``--tiles-max-n``);
- ``naive``: softmax(QKᵀ/√d)V with the N×N matrices materialised (bf16 matmuls);
- ``sdpa-flash``, ``sdpa-efficient``, ``sdpa-cudnn``, ``sdpa-math``:
  ``torch.nn.functional.scaled_dot_product_attention`` with one backend forced through
  ``torch.nn.attention.sdpa_kernel``.

FLOPs are the paper's count: 4·B·H·N²·d for the forward pass (two N×N×d matrix products), halved when
causal; the backward pass is 2.5× the forward, so forward + backward is 3.5×. TFLOP/s = FLOPs / median
time. Where the device is known the rate is also given as a fraction of its dense bf16 peak (989 TFLOP/s
for an H100 SXM or H200 SXM, from NVIDIA's datasheets); a rate above the peak is impossible and is flagged
as a timing bug. Times come from ``readtrack.runner.bench`` (a warm-up call that also runs Triton's
autotuning, then CUDA events around each call; median and interquartile range). Memory is the allocator's peak
during one call beyond what was allocated before it. Each row's forward output is compared with
``sdpa-flash`` (or PyTorch's default SDPA) on the same inputs, and each forward + backward row's dQ, dK, dV
(of the same call, at the timed shape) with naive attention differentiated in float64 (column ``grad
err``: the worst of the three relative errors, max|grad − ref| / max|ref|). So a fast wrong kernel shows
as wrong: its note says WRONG OUTPUT or WRONG GRADIENTS (in the table and the JSON), and gradients that
could not be checked say so too.
A case that runs out of memory becomes a row saying so, and the run goes on.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import inspect
import json
import math
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

TOKENS = 16384  # batch × N, as in the paper's benchmarks
HIDDEN = 2048  # heads × d
SEQ_LENS = (1024, 2048, 4096, 8192, 16384)
HEAD_DIMS = (64, 128)
MODES = ("fwd", "fwd+bwd")
IMPLEMENTATIONS = (
    "triton",
    "torch-tiles",
    "naive",
    "sdpa-flash",
    "sdpa-efficient",
    "sdpa-cudnn",
    "sdpa-math",
)
BACKWARD_FLOP_RATIO = 2.5  # backward FLOPs / forward FLOPs (the paper's §4.1 count)
WRONG_OUTPUT = 2e-2  # max|out − reference| / max|reference| above which a row is marked wrong (bf16 outputs)
# The same for each of dQ, dK, dV against float64. Correct bf16 kernels stay near 1e-2 (the interpreter tests
# see up to 1.0e-2 at N ≤ 100: bf16 keeps 8 bits, and P and dS are rounded to bf16 before their products);
# the bugs this is for (NaN, a lost D_i or τ, a shifted mask, gradients of the wrong head) are off by O(1).
WRONG_GRADIENTS = 5e-2
# FP8 rows (ladder:fp8): e4m3 keeps 3 mantissa bits, so a correct kernel's output is off by several per cent
# of the largest output (the interpreter's tests see up to 0.15 at N ≤ 130); the bugs this is for are off by
# O(1).
WRONG_OUTPUT_FP8 = 0.25
# The gradients compared: the last batch element's last two heads, whose offsets into the tensors are the
# largest (a head's gradients depend on that head alone, so the slice is exact).
_CHECKED = (slice(-1, None), slice(-2, None))
REPO = Path(__file__).resolve().parents[2]
DEFAULT_JSON = REPO / "benchmarks" / "results" / "flashattention_cuda.json"
DEFAULT_MARKDOWN = REPO / "benchmarks" / "results" / "flashattention_cuda.md"

Attend = Callable[[Any, Any, Any, bool], Any]  # (q, k, v, causal) -> out, all (B, H, N, d)


def dense_bf16_peak_tflops(device_name: str) -> float | None:
    """The datasheet's dense bf16 tensor-core rate of a known device, or None.

    Only names whose part is unambiguous: 'NVIDIA H200' is the SXM part (the NVL part says 'NVL'), and the
    H100 SXM reports itself as 'H100 80GB HBM3'. PCIe and NVL parts run at lower clocks and power.
    """
    name = device_name.strip()
    if name == "NVIDIA H200" or "H100 80GB HBM3" in name or "H100 SXM" in name:
        return 989.4
    return None


def attention_flops(batch: int, heads: int, n: int, head_dim: int, causal: bool, mode: str) -> float:
    """The paper's FLOP count: 4·B·H·N²·d forward, halved when causal; ×3.5 for forward + backward."""
    forward = 4.0 * batch * heads * n * n * head_dim / (2 if causal else 1)
    return forward * (1 + BACKWARD_FLOP_RATIO) if mode == "fwd+bwd" else forward


@dataclass
class Row:
    """One measured (or skipped) case. Times in milliseconds, memory in GiB."""

    impl: str
    mode: str
    seq_len: int
    head_dim: int
    causal: bool
    batch: int
    heads: int
    median_ms: float | None = None
    iqr_ms: float | None = None
    runs: int = 0
    tflops: float | None = None
    peak_fraction: float | None = None
    extra_mem_gib: float | None = None
    max_err: float | None = None
    grad_err: float | None = None  # fwd+bwd rows: the worst of dQ, dK, dV relative to float64 (see _CHECKED)
    note: str = ""


# -- the implementations ---------------------------------------------------------------------------


def _naive_attention(q: Any, k: Any, v: Any, causal: bool) -> Any:
    import torch

    s = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))  # (B, H, N, N)
    if causal:
        n = q.shape[-2]
        s = s.masked_fill(torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
    return torch.softmax(s, dim=-1) @ v


LADDER = "ladder:"  # an implementation named ladder:RUNG is that rung of hopper_kernels.RUNGS


def _ladder_attend(name: str) -> Attend | str:
    """The forward of rung ``name`` (``ladder:fp8``: the kernel alone, on operands quantized once per input;
    ``ladder:fp8+quant``: quantization included in each call). The bf16 rungs are differentiable through
    FlashAttention-2's backward."""
    try:
        from . import hopper_kernels as hk
    except ImportError as exc:
        return f"not importable: {exc}"
    rung = name[len(LADDER) :]
    if rung == "fp8+quant":

        def quantizing(q: Any, k: Any, v: Any, causal: bool) -> Any:
            return hk.fp8_forward(q, k, v, causal)[0]

        return quantizing
    if rung == "fp8":
        cache: dict[tuple[int, ...], Any] = {}

        def fp8_kernel(q: Any, k: Any, v: Any, causal: bool) -> Any:
            key = (q.data_ptr(), k.data_ptr(), v.data_ptr(), *q.shape, k.shape[2])
            if key not in cache:
                cache.clear()
                cache[key] = hk.quantize_fp8(q, k, v)
            (q8, k8, vt8), scales, width = cache[key]
            batch, heads, n_q, d = q.shape
            shape = (batch, heads, n_q, k.shape[2], width)
            return hk.fp8_attention(
                q8, k8, vt8, scales, shape, d, causal, 1.0 / math.sqrt(d), q.dtype, hk.QUANT_BLOCK
            )[0]

        return fp8_kernel
    if rung not in hk.RUNGS:
        return f"no rung {rung!r} (hopper_kernels.RUNGS: {', '.join(hk.RUNGS)})"

    def attend(q: Any, k: Any, v: Any, causal: bool, _rung: str = rung) -> Any:
        return hk.flash_attention_rung(q, k, v, causal, kernel=_rung)

    return attend


def implementations(names: list[str], tiles_block: int) -> dict[str, Attend | str]:
    """Each requested implementation as a callable, or as the reason it cannot run here."""
    import torch.nn.functional as F

    found: dict[str, Attend | str] = {}
    for name in names:
        if name.startswith(LADDER):
            found[name] = _ladder_attend(name)
        elif name == "triton":
            try:
                from .triton_kernel import flash_attention_triton
            except ImportError as exc:
                found[name] = f"not importable: {exc}"
            else:
                found[name] = flash_attention_triton
        elif name == "torch-tiles":
            try:
                from .model import flash_attention
            except ImportError as exc:
                found[name] = f"not importable: {exc}"
                continue
            tiles = (
                {"block_r": tiles_block, "block_c": tiles_block}
                if "block_r" in inspect.signature(flash_attention).parameters
                else {}
            )

            def tiled(
                q: Any, k: Any, v: Any, causal: bool, _fa: Any = flash_attention, _kw: Any = tiles
            ) -> Any:
                return _fa(q, k, v, causal=causal, backend="torch", **_kw)

            found[name] = tiled
        elif name == "naive":
            found[name] = _naive_attention
        else:
            try:
                from torch.nn.attention import SDPBackend, sdpa_kernel
            except ImportError:
                found[name] = "torch.nn.attention.sdpa_kernel needs torch >= 2.3"
                continue
            member = {
                "sdpa-flash": "FLASH_ATTENTION",
                "sdpa-efficient": "EFFICIENT_ATTENTION",
                "sdpa-cudnn": "CUDNN_ATTENTION",
                "sdpa-math": "MATH",
            }[name]
            backend = getattr(SDPBackend, member, None)
            if backend is None:
                found[name] = f"this torch has no SDPBackend.{member}"
                continue

            def forced(q: Any, k: Any, v: Any, causal: bool, _backend: Any = backend) -> Any:
                with sdpa_kernel(_backend):
                    return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

            found[name] = forced
    return found


def _reference(q: Any, k: Any, v: Any, causal: bool) -> Any:
    """PyTorch's flash SDPA where it runs, else its default choice: the output each row is checked against."""
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        try:
            from torch.nn.attention import SDPBackend, sdpa_kernel

            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        except (ImportError, RuntimeError):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


# -- running ---------------------------------------------------------------------------------------


@dataclass
class Options:
    """What to measure. ``tokens`` and ``hidden`` set the workload (B = tokens / N, H = hidden / d);
    ``device`` is cuda:0 for real numbers (the CPU only exercises the plumbing)."""

    seq_lens: list[int]
    head_dims: list[int]
    causal: list[bool]
    modes: list[str]
    impls: list[str]
    tiles_max_n: int = 4096
    tiles_block: int = 128
    quick: bool = False
    tokens: int = TOKENS
    hidden: int = HIDDEN
    device: str = "cuda:0"
    bwd_kernels: list[str] | None = None  # the ladder's rungs timed forward + backward too (None: every one)


def _free_memory() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def run_benchmark(
    options: Options,
    report: Callable[[Row], None] = lambda row: None,
    log: Callable[[str], None] = lambda line: None,
) -> list[Row]:
    """Measure every requested case on ``options.device``; ``report`` sees each row once measured,
    ``log`` gets progress lines (such as the long first Triton call of each head dim and mask)."""
    import torch

    from readtrack.api import BenchHarness

    device = options.device
    peak = dense_bf16_peak_tflops(torch.cuda.get_device_name(device)) if device.startswith("cuda") else None
    harness = BenchHarness(device, quick=options.quick)
    attends = implementations(options.impls, options.tiles_block)
    rows: list[Row] = []

    def emit(row: Row) -> None:
        rows.append(row)
        report(row)

    gen = torch.Generator(device=device).manual_seed(0)
    for head_dim in options.head_dims:
        for causal in options.causal:
            for n in options.seq_lens:
                batch, heads = max(1, options.tokens // n), max(1, options.hidden // head_dim)
                shape = (batch, heads, n, head_dim)
                q, k, v, do = (
                    torch.randn(shape, device=device, dtype=torch.bfloat16, generator=gen) for _ in range(4)
                )
                reference = _reference(q, k, v, causal)
                reference_grads = (
                    _reference_gradients(q, k, v, do, causal) if "fwd+bwd" in options.modes else ""
                )
                for name in options.impls:
                    attend = attends[name]
                    case_rows = [Row(name, mode, n, head_dim, causal, batch, heads) for mode in options.modes]
                    if isinstance(attend, str) or (name == "torch-tiles" and n > options.tiles_max_n):
                        why = (
                            attend
                            if isinstance(attend, str)
                            else f"skipped: N > --tiles-max-n {options.tiles_max_n}"
                        )
                        for row in case_rows:
                            row.note = why
                            emit(row)
                        continue
                    if name == "triton" and n == options.seq_lens[0]:
                        log(f"triton, d={head_dim}, causal={causal}: compiling and autotuning (minutes)")
                    rung = name.removeprefix(LADDER)
                    if name.startswith(LADDER) and (
                        rung.startswith("fp8")  # forward-only, as FlashAttention-3's FP8
                        or (options.bwd_kernels is not None and rung not in options.bwd_kernels)
                    ):
                        case_rows = [row for row in case_rows if row.mode == "fwd"]
                    max_err = _check_output(attend, q, k, v, causal, reference)
                    grad_err, unchecked = None, ""
                    if any(row.mode == "fwd+bwd" for row in case_rows):
                        grad_err, unchecked = _check_gradients(attend, q, k, v, do, causal, reference_grads)
                    for row in case_rows:
                        row.max_err = max_err
                        if row.mode == "fwd+bwd":
                            row.grad_err = grad_err
                        _measure(harness, row, attend, q, k, v, do, causal, peak)
                        if row.mode == "fwd+bwd" and row.median_ms is not None and unchecked:
                            row.note = "; ".join(
                                filter(None, (f"gradients not checked: {unchecked}", row.note))
                            )
                        emit(row)
                        _free_memory()
                del q, k, v, do, reference, reference_grads
                _free_memory()
    return rows


def _check_output(attend: Attend, q: Any, k: Any, v: Any, causal: bool, reference: Any) -> float | None:
    import torch

    try:
        with torch.no_grad():
            out = attend(q, k, v, causal)
    except Exception:  # the timed call reports the error, OOM included
        return None
    err = float((out.float() - reference.float()).abs().max() / reference.float().abs().max())
    del out
    return err


def _reference_gradients(q: Any, k: Any, v: Any, do: Any, causal: bool) -> tuple[Any, ...] | str:
    """dQ, dK, dV of the checked slice by naive attention in float64, one head at a time (at N = 16k one
    head's N×N float64 matrices take 2 GiB each); or why they could not be computed (out of memory)."""
    import torch

    try:
        per_head = []
        for h in range(q[_CHECKED].shape[1]):
            qh, kh, vh = (t[_CHECKED][:, h : h + 1].detach().double().requires_grad_() for t in (q, k, v))
            out = _naive_attention(qh, kh, vh, causal)
            per_head.append(torch.autograd.grad(out, (qh, kh, vh), do[_CHECKED][:, h : h + 1].double()))
            del out, qh, kh, vh
        return tuple(torch.cat(grads, dim=1) for grads in zip(*per_head, strict=True))
    except RuntimeError as exc:  # out of memory: the rows say their gradients were not checked
        return f"the float64 reference failed ({str(exc).splitlines()[0][:80]})"
    finally:
        _free_memory()


def _check_gradients(
    attend: Attend, q: Any, k: Any, v: Any, do: Any, causal: bool, reference: tuple[Any, ...] | str
) -> tuple[float | None, str]:
    """The worst of dQ, dK, dV from one forward + backward call at the timed shape, each as
    max|grad − ref| / max|ref| on the checked slice against ``reference`` (float64), so that a wrong
    backward is flagged, never just timed. Returns (error, "") or (None, why it was not checked)."""
    import torch

    if isinstance(reference, str):
        return None, reference
    qg, kg, vg = (t.detach().clone().requires_grad_() for t in (q, k, v))
    try:
        grads = torch.autograd.grad(attend(qg, kg, vg, causal), (qg, kg, vg), do)
    except Exception as exc:  # the timed call reports the error, OOM included
        return None, f"the call failed ({str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__})"
    errors = []
    for grad, ref in zip(grads, reference, strict=True):
        largest = float(ref.abs().max())
        diff = float((grad[_CHECKED].double() - ref).abs().max())
        errors.append(diff / largest if largest > 0 else diff)
    del grads, qg, kg, vg
    return max(errors, key=lambda e: math.inf if math.isnan(e) else e), ""


def _measure(
    harness: Any, row: Row, attend: Attend, q: Any, k: Any, v: Any, do: Any, causal: bool, peak: float | None
) -> None:
    """Time one mode of one implementation into ``row`` (errors, OOM included, become its note)."""
    import torch

    if row.mode == "fwd":

        def call() -> Any:
            with torch.no_grad():
                return attend(q, k, v, causal)
    else:
        qg, kg, vg = (t.detach().clone().requires_grad_() for t in (q, k, v))

        def call() -> Any:
            return torch.autograd.grad(attend(qg, kg, vg, causal), (qg, kg, vg), do)

    flops = attention_flops(row.batch, row.heads, row.seq_len, row.head_dim, causal, row.mode)
    measured = harness.measure(
        f"{row.impl} {row.mode}",
        call,
        flops=flops,
        flop_formula="4·B·H·N²·d" + ("/2" if causal else "") + (" × 3.5" if row.mode == "fwd+bwd" else ""),
        shape=(row.batch, row.heads, row.seq_len, row.head_dim),
        dtype="bfloat16",
    )
    if measured.error is not None:
        row.note = "out of memory" if "out of memory" in measured.error.lower() else measured.error
        return
    row.median_ms = measured.median_s * 1e3
    row.iqr_ms = measured.iqr_s * 1e3
    row.runs = measured.runs
    row.tflops = measured.tflops
    if measured.peak_mem_bytes is not None:
        row.extra_mem_gib = measured.peak_mem_bytes / 2**30
    notes = []
    if peak is not None and row.tflops is not None:
        row.peak_fraction = row.tflops / peak
        if row.tflops > peak:
            notes.append(f"TIMING BUG: {row.tflops:.0f} TFLOP/s is above the device's peak {peak:.0f}")
    limit = WRONG_OUTPUT_FP8 if row.impl.startswith(LADDER + "fp8") else WRONG_OUTPUT
    if row.max_err is not None and not row.max_err <= limit:
        notes.append(f"WRONG OUTPUT: max error {row.max_err:.1e} against the reference")
    if row.mode == "fwd+bwd" and row.grad_err is not None and not row.grad_err <= WRONG_GRADIENTS:
        notes.append(f"WRONG GRADIENTS: dQ/dK/dV error {row.grad_err:.1e} against float64 attention")
    if row.impl == "triton":
        notes.append(_triton_configs())
    elif row.impl.startswith(LADDER) and row.impl != LADDER + "fa2":
        notes.append(_ladder_config())
    row.note = "; ".join(note for note in notes if note)


def _ladder_config() -> str:
    """The config the autotuner chose for the ladder's kernel in the last call, e.g. 'fwd 128×64 w8 s4'."""
    try:
        from . import hopper_kernels as hk
    except ImportError:
        return ""
    config = getattr(hk._ladder_fwd_kernel, "best_config", None)
    if config is None:
        return ""
    kw = config.kwargs
    return f"fwd {kw['BLOCK_M']}×{kw['BLOCK_N']} w{config.num_warps} s{config.num_stages}"


def _triton_configs() -> str:
    """The configs the autotuner chose for the last call, e.g. 'fwd 128×64 w8 s3'."""
    try:
        from . import triton_kernel as kernels
    except ImportError:
        return ""
    chosen = []
    for label, kernel in (
        ("fwd", kernels._fwd_kernel),
        ("dkdv", kernels._bwd_dkdv_kernel),
        ("dq", kernels._bwd_dq_kernel),
    ):
        config = getattr(kernel, "best_config", None)
        if config is not None:
            kw = config.kwargs
            chosen.append(f"{label} {kw['BLOCK_M']}×{kw['BLOCK_N']} w{config.num_warps} s{config.num_stages}")
    return ", ".join(chosen)


# -- reporting -------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def markdown_table(rows: list[Row]) -> str:
    """The rows as one markdown table (also what the terminal shows)."""
    head = (
        "| impl | mode | N | d | causal | B×H | median ms | IQR ms | TFLOP/s | % of peak | extra mem GiB "
        "| max err | grad err | note |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        percent = None if r.peak_fraction is None else 100 * r.peak_fraction
        lines.append(
            f"| {r.impl} | {r.mode} | {r.seq_len} | {r.head_dim} | {'yes' if r.causal else 'no'} "
            f"| {r.batch}×{r.heads} | {_fmt(r.median_ms, '.3f')} | {_fmt(r.iqr_ms, '.3f')} "
            f"| {_fmt(r.tflops, '.1f')} | {_fmt(percent, '.1f')} "
            f"| {_fmt(r.extra_mem_gib, '.2f')} | {_fmt(r.max_err, '.1e')} | {_fmt(r.grad_err, '.1e')} "
            f"| {r.note} |"
        )
    return "\n".join(lines) + "\n"


def environment() -> dict[str, Any]:
    """What the numbers were measured on."""
    import torch

    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": torch.cuda.get_device_name(0),
        "capability": ".".join(map(str, torch.cuda.get_device_capability(0))),
        "dense_bf16_peak_tflops": dense_bf16_peak_tflops(torch.cuda.get_device_name(0)),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
    }
    try:
        import triton

        info["triton"] = triton.__version__
    except ImportError:
        info["triton"] = None
    return info


def _parse(argv: list[str] | None) -> tuple[Options, Path, Path]:
    parser = argparse.ArgumentParser(
        prog="flashattention_cuda",
        description="Time FlashAttention-2 (Triton) against PyTorch's attention kernels on a CUDA GPU.",
    )
    parser.add_argument("--seq-lens", type=int, nargs="+", default=list(SEQ_LENS), metavar="N")
    parser.add_argument("--head-dims", type=int, nargs="+", default=list(HEAD_DIMS), metavar="D")
    parser.add_argument("--causal", choices=("both", "yes", "no"), default="both")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--impls", nargs="+", choices=IMPLEMENTATIONS, default=None)
    parser.add_argument(
        "--kernels",
        nargs="*",
        metavar="RUNG",
        help="the FlashAttention-3 ladder (hopper_kernels.RUNGS; none named: every rung): rows ladder:RUNG, "
        "and ladder:fp8+quant with the quantization timed too; then the ladder's table and its errors "
        "against float64. Without --impls, only sdpa-flash and sdpa-cudnn beside it",
    )
    parser.add_argument(
        "--tiles-max-n", type=int, default=4096, help="largest N for torch-tiles (default 4096)"
    )
    parser.add_argument(
        "--tiles-block", type=int, default=128, help="tile size for torch-tiles (default 128)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="shorter timing per row (readtrack.runner.bench quick)"
    )
    parser.add_argument(
        "--bwd-kernels",
        nargs="+",
        metavar="RUNG",
        default=None,
        help="with --kernels: the rungs also timed forward + backward (default: every differentiable one; "
        "their backward is FlashAttention-2's, so the rows differ by their forward alone)",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"default {DEFAULT_JSON}")
    parser.add_argument("--markdown", type=Path, default=DEFAULT_MARKDOWN, help=f"default {DEFAULT_MARKDOWN}")
    args = parser.parse_args(argv)
    causal = {"both": [False, True], "yes": [True], "no": [False]}[args.causal]
    options = Options(
        seq_lens=args.seq_lens,
        head_dims=args.head_dims,
        causal=causal,
        modes=args.modes,
        impls=_impls(args.impls, args.kernels),
        bwd_kernels=args.bwd_kernels,
        tiles_max_n=args.tiles_max_n,
        tiles_block=args.tiles_block,
        quick=args.quick,
    )
    return options, args.json, args.markdown


def _impls(impls: list[str] | None, kernels: list[str] | None) -> list[str]:
    if kernels is None:
        return impls or list(IMPLEMENTATIONS)
    if not kernels:
        from . import hopper_kernels as hk

        kernels = list(hk.RUNGS)
    ladder = [LADDER + k for k in kernels] + ([LADDER + "fp8+quant"] if "fp8" in kernels else [])
    return ladder + (impls if impls is not None else ["sdpa-flash", "sdpa-cudnn"])


def ladder_table(rows: list[Row]) -> str:
    """The ladder as the FlashAttention-3 paper's ablation: per head dim, mask and mode, each rung's
    TFLOP/s and the factor it adds over the rung it stands on (``Rung.over``), beside SDPA's flash and
    cuDNN backends."""
    from . import hopper_kernels as hk

    rates = {(r.impl, r.mode, r.seq_len, r.head_dim, r.causal): r.tflops for r in rows}
    impls = list(dict.fromkeys(r.impl for r in rows))
    order = [LADDER + name for name in hk.RUNGS] + [LADDER + "fp8+quant"]
    rungs = sorted(
        (i for i in impls if i.startswith(LADDER)), key=lambda i: order.index(i) if i in order else 99
    )
    others = [i for i in impls if i in ("sdpa-flash", "sdpa-cudnn", "triton")]
    lines: list[str] = []
    for d, causal, mode in dict.fromkeys((r.head_dim, r.causal, r.mode) for r in rows):
        ns = sorted({r.seq_len for r in rows if (r.head_dim, r.causal, r.mode) == (d, causal, mode)})
        cols = [i for i in rungs + others if any(rates.get((i, mode, n, d, causal)) for n in ns)]
        if not cols:
            continue
        lines += [
            f"\n{mode}, d = {d}, {'causal' if causal else 'not causal'}: "
            "TFLOP/s (× over the rung below it)\n",
            "| N | " + " | ".join(c.removeprefix(LADDER) for c in cols) + " | best rung / cudnn |",
            "|---:|" + "---:|" * (len(cols) + 1),
        ]
        for n in ns:
            cells = []
            for c in cols:
                rate = rates.get((c, mode, n, d, causal))
                rung = hk.RUNGS.get(c.removeprefix(LADDER))
                base = rates.get((LADDER + rung.over, mode, n, d, causal)) if rung and rung.over else None
                text = "" if rate is None else f"{rate:.0f}"
                if rate and base:
                    text += f" ({rate / base:.2f}×)"
                cells.append(text)
            top = max((rates.get((c, mode, n, d, causal)) or 0.0 for c in rungs if "+" not in c), default=0.0)
            cudnn = rates.get(("sdpa-cudnn", mode, n, d, causal))
            best = f"{top / cudnn:.2f}" if top and cudnn else ""
            lines.append(f"| {n} | " + " | ".join(cells) + f" | {best} |")
    return "\n".join(lines) + "\n"


def ladder_accuracy(
    kernels: list[str], head_dims: list[int], device: str = "cuda:0", n: int = 2048, heads: int = 8
) -> list[dict[str, Any]]:
    """Each rung's error against float64 attention on one shape per head dim and mask (batch 1, 8 heads,
    N = 2048): max|out − ref| / max|ref| and ‖out − ref‖/‖ref‖ of the output, and the worst relative max
    error of dQ, dK, dV for the differentiable rungs. Inputs: standard normal with 0.1 % of the entries
    drawn from N(0, 10²) instead, outliers as in the FlashAttention-3 paper's error test (§4.3); fp8 with
    and without the Hadamard rotation."""
    import torch

    from . import hopper_kernels as hk

    gen = torch.Generator(device=device).manual_seed(1)
    results: list[dict[str, Any]] = []
    for d in head_dims:
        for causal in (False, True):
            shape = (1, heads, n, d)

            def draw(shape: tuple[int, ...] = shape) -> Any:
                x = torch.randn(shape, device=device, generator=gen)
                outliers = torch.rand(shape, device=device, generator=gen) < 1e-3
                return torch.where(outliers, 10 * torch.randn(shape, device=device, generator=gen), x)

            q, k, v, do = (draw().to(torch.bfloat16) for _ in range(4))
            q64, k64, v64 = (t.double().requires_grad_() for t in (q, k, v))
            ref64 = _naive_attention(q64, k64, v64, causal)
            ref_grads = torch.autograd.grad(ref64, (q64, k64, v64), do.double())
            ref = ref64.detach()
            variants = [(k_, False) for k_ in kernels] + ([("fp8", True)] if "fp8" in kernels else [])
            for name, rotate in variants:
                entry: dict[str, Any] = {"rung": name + ("+hadamard" if rotate else ""), "head_dim": d}
                entry["causal"] = causal
                try:
                    if name == "fp8":
                        with torch.no_grad():
                            out = hk.fp8_forward(q, k, v, causal, rotate=rotate)[0]
                        grads = None
                    else:
                        qg, kg, vg = (t.detach().clone().requires_grad_() for t in (q, k, v))
                        out = hk.flash_attention_rung(qg, kg, vg, causal, kernel=name)
                        grads = torch.autograd.grad(out, (qg, kg, vg), do)
                except Exception as exc:  # a rung that fails here is a finding, not the end of the run
                    entry["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                    results.append(entry)
                    continue
                diff = out.detach().double() - ref
                entry["max_err"] = float(diff.abs().max() / ref.abs().max())
                entry["rel_l2"] = float(diff.norm() / ref.norm())
                if grads is not None:
                    entry["grad_err"] = max(
                        float((g.double() - r).abs().max() / r.abs().max())
                        for g, r in zip(grads, ref_grads, strict=True)
                    )
                results.append(entry)
            del q64, k64, v64, ref64, ref, ref_grads
            _free_memory()
    return results


def accuracy_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| rung | d | causal | out max err | out ‖err‖/‖ref‖ | grads max err |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for e in results:
        if "error" in e:
            lines.append(f"| {e['rung']} | {e['head_dim']} | {e['causal']} | {e['error']} | | |")
            continue
        grad = f"{e['grad_err']:.1e}" if "grad_err" in e else "forward-only"
        lines.append(
            f"| {e['rung']} | {e['head_dim']} | {'yes' if e['causal'] else 'no'} | {e['max_err']:.1e} "
            f"| {e['rel_l2']:.1e} | {grad} |"
        )
    return "\n".join(lines) + "\n"


def write_results(
    env: dict[str, Any], rows: list[Row], accuracy: list[dict[str, Any]], json_path: Path, markdown_path: Path
) -> None:
    """The JSON (every row, the errors against float64) and the markdown made from it."""
    from readtrack.api import atomic_write

    data = {"environment": env, "rows": [asdict(r) for r in rows], "accuracy": accuracy}
    atomic_write(json_path, json.dumps(data, indent=2) + "\n")
    atomic_write(markdown_path, markdown_report(data))


def markdown_report(data: dict[str, Any]) -> str:
    """The markdown of a results JSON: its table, and where the ladder ran, its ablation and its errors."""
    env, rows = data["environment"], [Row(**r) for r in data["rows"]]
    title = f"FlashAttention CUDA benchmark: {env['device']}, {env['date']}"
    peak = env["dense_bf16_peak_tflops"]
    peak_line = f"dense bf16 peak {peak} TFLOP/s" if peak else "peak unknown for this device: no % of peak"
    text = f"# {title}\n\ntorch {env['torch']} (CUDA {env['cuda']}), triton {env['triton']}; {peak_line}.\n\n"
    text += markdown_table(rows)
    if any(r.impl.startswith(LADDER) for r in rows):
        text += f"\n## The ladder\n{ladder_table(rows)}"
    if data.get("accuracy"):
        text += f"\n## Errors against float64\n\n{accuracy_table(data['accuracy'])}"
    return text


def main(argv: list[str] | None = None) -> int:
    """Parse the options, measure, print the table, write JSON and markdown. 2 when there is no CUDA.
    ``--tables-from FILE``: print the markdown of a results JSON written before (no GPU needed)."""
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--tables-from"] and len(argv) == 2:
        print(markdown_report(json.loads(Path(argv[1]).read_text(encoding="utf-8"))), end="")
        return 0
    options, json_path, markdown_path = _parse(argv)
    import torch

    if not torch.cuda.is_available():
        print(
            f"CUDA is not available here (torch {torch.__version__}); this benchmark needs an NVIDIA GPU.",
            file=sys.stderr,
        )
        return 2

    env = environment()
    print(f"# {env['device']} (sm {env['capability']}), torch {env['torch']}, triton {env['triton']}")
    print(markdown_table([]).rstrip())
    done: list[Row] = []

    def report(row: Row) -> None:  # each row printed, and the files rewritten: a run cut short keeps its rows
        print(markdown_table([row]).splitlines()[-1], flush=True)
        done.append(row)
        write_results(env, done, [], json_path, markdown_path)

    rows = run_benchmark(options, report=report, log=lambda line: print(line, file=sys.stderr, flush=True))
    kernels = [i.removeprefix(LADDER) for i in options.impls if i.startswith(LADDER) and "+" not in i]
    accuracy: list[dict[str, Any]] = []
    if kernels:
        print(ladder_table(rows))
        accuracy = ladder_accuracy(kernels, options.head_dims, options.device)
        print(accuracy_table(accuracy))
    write_results(env, rows, accuracy, json_path, markdown_path)
    print(f"wrote {json_path} and {markdown_path}", file=sys.stderr)
    return 0
