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


def implementations(names: list[str], tiles_block: int) -> dict[str, Attend | str]:
    """Each requested implementation as a callable, or as the reason it cannot run here."""
    import torch.nn.functional as F

    found: dict[str, Attend | str] = {}
    for name in names:
        if name == "triton":
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
                    max_err = _check_output(attend, q, k, v, causal, reference)
                    grad_err, unchecked = None, ""
                    if "fwd+bwd" in options.modes:
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
    if row.max_err is not None and not row.max_err <= WRONG_OUTPUT:
        notes.append(f"WRONG OUTPUT: max error {row.max_err:.1e} against the reference")
    if row.mode == "fwd+bwd" and row.grad_err is not None and not row.grad_err <= WRONG_GRADIENTS:
        notes.append(f"WRONG GRADIENTS: dQ/dK/dV error {row.grad_err:.1e} against float64 attention")
    if row.impl == "triton":
        notes.append(_triton_configs())
    row.note = "; ".join(note for note in notes if note)


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
    parser.add_argument("--impls", nargs="+", choices=IMPLEMENTATIONS, default=list(IMPLEMENTATIONS))
    parser.add_argument(
        "--tiles-max-n", type=int, default=4096, help="largest N for torch-tiles (default 4096)"
    )
    parser.add_argument(
        "--tiles-block", type=int, default=128, help="tile size for torch-tiles (default 128)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="shorter timing per row (readtrack.runner.bench quick)"
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
        impls=args.impls,
        tiles_max_n=args.tiles_max_n,
        tiles_block=args.tiles_block,
        quick=args.quick,
    )
    return options, args.json, args.markdown


def main(argv: list[str] | None = None) -> int:
    """Parse the options, measure, print the table, write JSON and markdown. 2 when there is no CUDA."""
    options, json_path, markdown_path = _parse(argv)
    import torch

    if not torch.cuda.is_available():
        print(
            f"CUDA is not available here (torch {torch.__version__}); this benchmark needs an NVIDIA GPU.",
            file=sys.stderr,
        )
        return 2
    from readtrack.api import atomic_write

    env = environment()
    print(f"# {env['device']} (sm {env['capability']}), torch {env['torch']}, triton {env['triton']}")
    print(markdown_table([]).rstrip())
    rows = run_benchmark(
        options,
        report=lambda row: print(markdown_table([row]).splitlines()[-1], flush=True),
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    atomic_write(
        json_path, json.dumps({"environment": env, "rows": [asdict(r) for r in rows]}, indent=2) + "\n"
    )
    title = f"FlashAttention CUDA benchmark: {env['device']}, {env['date']}"
    peak = env["dense_bf16_peak_tflops"]
    peak_line = f"dense bf16 peak {peak} TFLOP/s" if peak else "peak unknown for this device: no % of peak"
    atomic_write(
        markdown_path,
        f"# {title}\n\ntorch {env['torch']} (CUDA {env['cuda']}), triton {env['triton']}; {peak_line}.\n\n"
        + markdown_table(rows),
    )
    print(f"wrote {json_path} and {markdown_path}", file=sys.stderr)
    return 0
