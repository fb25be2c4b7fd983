"""Compile the flashattention plugin's Triton kernels for Ampere (sm_80) and Hopper (sm_90) on the CPU.

    python benchmarks/flashattention_compile.py                 # every autotune candidate, both GPUs
    python benchmarks/flashattention_compile.py --first-run     # what a first `--device cuda` run compiles
    python benchmarks/flashattention_compile.py --arch 90 --dtype bf16 --head-dim 128 --kernel fwd

Triton's compiler needs no GPU to build a kernel for a named target (``GPUTarget("cuda", 90, 32)``): the
kernel goes through Triton's IR, LLVM and NVIDIA's ``ptxas`` (shipped with Triton) as on a GPU machine.
For each kernel, dtype, head dim and autotune candidate it compiles, it records the compile time, the
shared memory one program uses against the GPU's limit, and ``ptxas -v``'s registers and spilled bytes.
A build error or shared memory over the limit is a failure (exit 1); spills are reported.

``--first-run`` compiles the variants a first ``readtrack run flashattention --device cuda --quick`` needs
(the check stage's shapes, the train and bench stages') for sm_90, each candidate the autotuner would try,
and adds up their compile times: the estimate of the first run's compile time in ``benchmarks/RESULTS.md``.
Results go to ``benchmarks/results/flashattention_compile.json`` unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
# Shared memory one program (thread block) may use: sm_80 163 KiB, sm_90 227 KiB (CUDA programming guide).
SHARED_LIMIT = {80: 163 * 1024, 90: 227 * 1024, 100: 227 * 1024}  # sm_100 (B200): for --ladder's comparison
DTYPES = {"bf16": ("*bf16", 2), "fp16": ("*fp16", 2), "fp32": ("*fp32", 4)}
KERNELS = ("fwd", "dkdv", "dq", "preprocess")


@dataclass
class Build:
    arch: int
    kernel: str
    dtype: str
    head_dim: int
    causal: bool
    config: tuple[int, int, int, int]  # BLOCK_M, BLOCK_N, num_warps, num_stages
    seconds: float = 0.0
    shared: int = 0
    registers: int | None = None
    spill_bytes: int | None = None
    error: str | None = None
    features: str = ""  # ladder builds: which Hopper instructions the build uses (see hopper_features)

    @property
    def ok(self) -> bool:
        return self.error is None and self.shared <= SHARED_LIMIT[self.arch]


def hopper_features(asm: dict[str, Any]) -> str:
    """What a build asks Hopper for, read off its IR and PTX: ``wgmma`` (the warpgroup MMA), ``tma`` (bulk
    tensor copies), ``ws`` (warp-specialized partitions in the TTGIR), ``setmaxnreg`` (register re-allocation
    between them), ``fp8`` (e4m3 MMA operands)."""
    ptx, ttgir = asm.get("ptx", ""), str(asm.get("ttgir", ""))
    found = [
        ("wgmma", "wgmma.mma_async" in ptx),
        ("tma", "cp.async.bulk.tensor" in ptx),
        ("ws", "ttg.warp_specialize" in ttgir),
        ("setmaxnreg", "setmaxnreg" in ptx),
        ("fp8", ".e4m3" in ptx),
    ]
    return ", ".join(name for name, present in found if present)


def ladder_module() -> Any:
    try:
        import readtrack_plugins.flashattention.hopper_kernels as module
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import plugins.flashattention.hopper_kernels as module
    return module


def compile_rung(
    rung_name: str, arch: int, dtype: str, head_dim: int, causal: bool, config: tuple[int, int, int, int]
) -> Build:
    """One build of the ladder's kernel (plugins/flashattention/hopper_kernels.py) for ``rung_name``."""
    import triton

    hk = ladder_module()
    rung = hk.RUNGS[rung_name]
    fn = hk._ladder_fwd_kernel.fn
    block_m, block_n = config[:2]
    block_d = max(16, triton.next_power_of_2(head_dim))
    element = "fp8e4nv" if rung.fp8 else DTYPES[dtype][0][1:]
    constexprs: dict[str, Any] = {
        "HEAD_DIM": block_d if rung.fp8 else head_dim,
        "BLOCK_D": block_d,
        "CAUSAL": causal,
        "DEEP": rung.deep_pipeline,
        "OVERLAP": rung.overlap,
        "PERSISTENT": rung.persistent,
        "WARP_SPECIALIZE": rung.warp_specialize,
        "FP8": rung.fp8,
        "QUANT_BLOCK": hk.QUANT_BLOCK,
        "PRECISION": "ieee" if dtype == "fp32" else "tf32",
        "UPCAST": False,
        "BLOCK_M": block_m,
        "BLOCK_N": block_n,
    }
    v_block = f"{block_d},{block_n}" if rung.fp8 else f"{block_n},{block_d}"
    signature: dict[str, str] = {
        "desc_q": f"tensordesc<{element}[{block_m},{block_d}]>",
        "desc_k": f"tensordesc<{element}[{block_n},{block_d}]>",
        "desc_v": f"tensordesc<{element}[{v_block}]>",
        "desc_o": f"tensordesc<{DTYPES[dtype][0][1:]}[{block_m},{block_d}]>",
        "O": DTYPES[dtype][0],
        "qk_scale": "fp32",
    }
    for name in fn.arg_names:
        if name in constexprs:
            signature[name] = "constexpr"
        elif name in ("LSE", "Q_SCALE", "K_SCALE", "V_SCALE"):
            signature[name] = "*fp32"
        signature.setdefault(name, "i32")
    signature = {name: signature[name] for name in fn.arg_names}
    build = _build(
        fn, signature, constexprs, Build(arch, f"ladder:{rung_name}", dtype, head_dim, causal, config)
    )
    return build


def kernel_module() -> Any:
    try:
        import readtrack_plugins.flashattention.triton_kernel as module
    except ImportError:  # a plain checkout: the repository's plugins/ folder
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import plugins.flashattention.triton_kernel as module
    return module


def compile_one(
    kernel: str, arch: int, dtype: str, head_dim: int, causal: bool, config: tuple[int, int, int, int]
) -> Build:
    import triton

    tk = kernel_module()
    fn = {"fwd": tk._fwd_kernel, "dkdv": tk._bwd_dkdv_kernel, "dq": tk._bwd_dq_kernel}.get(kernel)
    fn = fn.fn if fn is not None else tk._bwd_preprocess_kernel  # the jit function under the autotuner
    pointer, _ = DTYPES[dtype]
    block_m, block_n = config[:2]
    constexprs: dict[str, Any] = {
        "HEAD_DIM": head_dim,
        "BLOCK_D": max(16, triton.next_power_of_2(head_dim)),
        "CAUSAL": causal,
        "PRECISION": "ieee" if dtype == "fp32" else "tf32",
        "UPCAST": False,
        "BLOCK_M": block_m,
        "BLOCK_N": block_n,
    }
    constexprs = {k: v for k, v in constexprs.items() if k in fn.arg_names}
    signature = {}
    for name in fn.arg_names:
        if name in constexprs:
            signature[name] = "constexpr"
        elif name in ("LSE", "DELTA"):
            signature[name] = "*fp32"
        elif name.isupper() and not name.startswith("N_"):
            signature[name] = pointer  # Q, K, V, O, DO, DQ, DK, DV
        elif name in ("qk_scale", "sm_scale"):
            signature[name] = "fp32"
        else:
            signature[name] = "i32"
    return _build(fn, signature, constexprs, Build(arch, kernel, dtype, head_dim, causal, config))


def _build(fn: Any, signature: dict[str, str], constexprs: dict[str, Any], build: Build) -> Build:
    """Compile ``fn`` for ``build``'s GPU and config and fill in what the build reports (a compile error is
    the finding: its first line in ``build.error``)."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    source = ASTSource(fn, signature, constexprs={(fn.arg_names.index(k),): v for k, v in constexprs.items()})
    _, _, warps, stages = build.config
    start = time.perf_counter()
    try:
        built = triton.compile(
            source,
            target=GPUTarget("cuda", build.arch, 32),
            options={"num_warps": warps, "num_stages": stages},
        )
    except Exception as err:
        line = str(err).strip().splitlines()
        build.error = line[0] if line else "?"
        return build
    build.seconds = time.perf_counter() - start
    build.shared = built.metadata.shared
    build.registers, build.spill_bytes = ptxas_usage(built.asm["ptx"], build.arch)
    build.features = hopper_features(built.asm) if build.kernel.startswith("ladder:") else ""
    return build


def ptxas_usage(ptx: str, arch: int) -> tuple[int | None, int | None]:
    """Registers per thread and spilled bytes (stores + loads) that ``ptxas -v`` reports for ``ptx``."""
    from triton.backends.nvidia.compiler import get_ptxas

    ptxas = get_ptxas(arch).path if hasattr(get_ptxas(arch), "path") else get_ptxas(arch)[0]
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "kernel.ptx"
        source.write_text(ptx)
        target = f"sm_{arch}a" if arch >= 90 else f"sm_{arch}"
        done = subprocess.run(
            [ptxas, "-v", f"--gpu-name={target}", str(source), "-o", str(Path(folder) / "kernel.cubin")],
            capture_output=True,
            text=True,
            check=False,
        )
    report = done.stdout + done.stderr
    registers = re.search(r"Used (\d+) registers", report)
    stores = re.search(r"(\d+) bytes spill stores", report)
    loads = re.search(r"(\d+) bytes spill loads", report)
    spills = int(stores.group(1)) + int(loads.group(1)) if stores and loads else None
    return (int(registers.group(1)) if registers else None), spills


def candidates_for(kernel: str, dtype: str, head_dim: int) -> list[tuple[int, int, int, int]]:
    """What the autotuner tries for this kernel, dtype and head dim (after its pruning)."""
    import triton

    tk = kernel_module()
    if kernel == "preprocess":
        return [(tk._PREPROCESS_BLOCK_M, 0, 4, 1)]
    table, footprint = {
        "fwd": (tk._FWD_CANDIDATES, tk._FWD_FOOTPRINT),
        "dq": (tk._DQ_CANDIDATES, tk._DQ_FOOTPRINT),
        "dkdv": (tk._DKDV_CANDIDATES, tk._DKDV_FOOTPRINT),
    }[kernel]
    bits, size = (32, 4) if dtype == "fp32" else (16, 2)
    block_d = max(16, triton.next_power_of_2(head_dim))
    chosen = tk.candidates(table, bits, block_d)
    configs = [
        triton.Config({"BLOCK_M": m, "BLOCK_N": n}, num_warps=w, num_stages=s) for m, n, w, s in chosen
    ]
    kept = [c for c in configs if footprint.fits(c, block_d, size)] or configs[:1]
    return [(c.kwargs["BLOCK_M"], c.kwargs["BLOCK_N"], c.num_warps, c.num_stages) for c in kept]


# What a first quick run on CUDA compiles: (kernel, dtype, head dim, causal) for every Triton call it makes.
# check: _check_backend, float32, N 130×130 (d 64) and 37×130 (d 40), causal and not, forward and backward;
# train: the reversal model, float32, d 32, not causal, forward and backward; bench: float32, d 64, forward.
FIRST_RUN = [
    (kernel, "fp32", d, causal)
    for d, causals in ((64, (False, True)), (40, (False, True)), (32, (False,)))
    for causal in causals
    for kernel in KERNELS
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arch", type=int, nargs="+", choices=sorted(SHARED_LIMIT), default=None)
    parser.add_argument("--dtype", nargs="+", choices=sorted(DTYPES), default=["bf16", "fp16", "fp32"])
    parser.add_argument("--head-dim", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--kernel", nargs="+", choices=KERNELS, default=list(KERNELS))
    parser.add_argument("--causal", choices=("yes", "no", "both"), default="yes")
    parser.add_argument(
        "--first-run", action="store_true", help="what a first quick CUDA run compiles (sm_90)"
    )
    parser.add_argument(
        "--ladder",
        nargs="*",
        metavar="RUNG",
        help="the FlashAttention-3 ladder's rungs (hopper_kernels.RUNGS; none named: every rung above fa2), "
        "every candidate, for --arch 90, --dtype and --head-dim, causal and not",
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    if args.ladder is not None:
        return _compile_ladder(args)
    if args.first_run:
        variants = [(90, kernel, dtype, d, causal) for kernel, dtype, d, causal in FIRST_RUN]
    else:
        causals = {"yes": [True], "no": [False], "both": [False, True]}[args.causal]
        variants = [
            (arch, kernel, dtype, d, causal)
            for arch in args.arch or [80, 90]
            for dtype in args.dtype
            for d in args.head_dim
            for causal in causals
            for kernel in args.kernel
        ]
    builds: list[Build] = []
    print(
        "| sm | kernel | dtype | d | causal | BLOCK_M×BLOCK_N, warps, stages | compile (s) | shared (KiB) "
        "| registers | spilled bytes | ok |"
    )
    print("|---|---|---|---:|---|---|---:|---:|---:|---:|---|")
    for arch, kernel, dtype, d, causal in variants:
        for config in candidates_for(kernel, dtype, d):
            build = compile_one(kernel, arch, dtype, d, causal, config)
            builds.append(build)
            m, n, w, s = config
            tiles = f"{m}×{n}, {w}, {s}" if kernel != "preprocess" else f"{m}"
            verdict = "✓" if build.ok else f"✗ {build.error or 'shared memory over the limit'}"
            print(
                f"| {arch} | {kernel} | {dtype} | {d} | {causal} | {tiles} | {build.seconds:.1f} | "
                f"{build.shared / 1024:.0f} | {build.registers} | {build.spill_bytes} | {verdict} |",
                flush=True,
            )
    total = sum(b.seconds for b in builds)
    failed = [b for b in builds if not b.ok]
    spilling = [b for b in builds if b.spill_bytes]
    summary = (
        f"{len(builds)} compiles in {total:.0f} s ({total / max(len(builds), 1):.1f} s each); "
        f"{len(failed)} failed; {len(spilling)} spill registers"
    )
    print(f"\n{summary}")
    if not args.no_write:
        import triton

        RESULTS.mkdir(exist_ok=True)
        name = "flashattention_first_run.json" if args.first_run else "flashattention_compile.json"
        data = {
            "command": "python benchmarks/flashattention_compile.py " + " ".join(argv or sys.argv[1:]),
            "triton": triton.__version__,
            "summary": summary,
            "builds": [asdict(b) for b in builds],
        }
        (RESULTS / name).write_text(json.dumps(data, indent=1) + "\n")
    return 1 if failed else 0


def _compile_ladder(args: argparse.Namespace) -> int:
    hk = ladder_module()
    rungs = args.ladder or [name for name in hk.RUNGS if name != "fa2"]
    dtypes = [d for d in args.dtype if d != "fp32"] or ["bf16"]
    arches = args.arch or [90]  # TMA and wgmma: Hopper (90) and later; 100 shows what Blackwell builds
    builds: list[Build] = []
    print(
        "| sm | rung | dtype | d | causal | BLOCK_M×BLOCK_N, warps, stages | compile (s) | shared (KiB) "
        "| registers | spilled bytes | uses | ok |"
    )
    print("|---|---|---|---:|---|---|---:|---:|---:|---:|---|---|")
    for arch, rung_name in ((arch, rung) for arch in arches for rung in rungs):
        rung = hk.RUNGS[rung_name]
        for dtype in dtypes:
            for d in args.head_dim:
                block_d = max(16, 1 << (d - 1).bit_length())
                for causal in (False, True):
                    for config in hk.candidates(rung, 8 if rung.fp8 else 16, block_d):
                        build = compile_rung(rung_name, arch, dtype, d, causal, config)
                        builds.append(build)
                        m, n, w, s = config
                        verdict = "✓" if build.ok else f"✗ {build.error or 'shared memory over the limit'}"
                        print(
                            f"| {arch} | {rung_name} | {dtype} | {d} | {causal} | {m}×{n}, {w}, {s} "
                            f"| {build.seconds:.1f} "
                            f"| {build.shared / 1024:.0f} | {build.registers} | {build.spill_bytes} "
                            f"| {build.features} | {verdict} |",
                            flush=True,
                        )
    failed = [b for b in builds if not b.ok]
    total = sum(b.seconds for b in builds)
    summary = f"{len(builds)} ladder compiles in {total:.0f} s; {len(failed)} failed"
    print(f"\n{summary}")
    if not args.no_write:
        import triton

        RESULTS.mkdir(exist_ok=True)
        data = {
            "command": "python benchmarks/flashattention_compile.py --ladder "
            + " ".join(rungs)
            + f" --arch {' '.join(map(str, arches))} --dtype {' '.join(dtypes)}"
            + f" --head-dim {' '.join(map(str, args.head_dim))}",
            "triton": triton.__version__,
            "summary": summary,
            "builds": [asdict(b) for b in builds],
        }
        (RESULTS / "flashattention_ladder_compile.json").write_text(json.dumps(data, indent=1) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
