"""Compile the FlashAttention-3 ladder's kernels (and FlashAttention-2's) on a GPU machine, many at once.

    python benchmarks/ladder_warmup.py [--jobs 14] [--head-dims 128 64] [--rungs RUNG ...]

A first call of each (rung, head dim, mask) autotunes among its candidates, compiling each one (5-40 s): one
process per case fills Triton's on-disk cache in parallel on the machine's cores, so that the benchmark that
follows (benchmarks/flashattention_cuda.py --kernels) times kernels instead of waiting for the compiler one
build at a time. Prints one line per case with its time, and any failure.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path


def _module():  # type: ignore[no-untyped-def]
    try:
        import readtrack_plugins.flashattention.hopper_kernels as module
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import plugins.flashattention.hopper_kernels as module
    return module


def warm(rung: str, head_dim: int, causal: bool) -> tuple[str, float, str]:
    """One case: forward (and backward, for the differentiable rungs) at N = 1024, bf16."""
    import torch

    hk = _module()
    start = time.perf_counter()
    label = f"{rung} d={head_dim} {'causal' if causal else 'full'}"
    try:
        q, k, v = (torch.randn(2, 4, 1024, head_dim, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        if rung == "fp8":
            with torch.no_grad():
                hk.fp8_forward(q, k, v, causal)
        else:
            for t in (q, k, v):
                t.requires_grad_()
            hk.flash_attention_rung(q, k, v, causal, kernel=rung).sum().backward()
        torch.cuda.synchronize()
    except Exception as exc:  # the failure is the finding: reported, the others go on
        return label, time.perf_counter() - start, f"{type(exc).__name__}: {str(exc).strip()[:300]}"
    return label, time.perf_counter() - start, "ok"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=14)
    parser.add_argument("--head-dims", type=int, nargs="+", default=[128, 64])
    parser.add_argument("--rungs", nargs="+", default=None)
    args = parser.parse_args(argv)
    rungs = args.rungs or list(_module().RUNGS)
    cases = [(r, d, c) for r in rungs for d in args.head_dims for c in (False, True)]
    failed = 0
    start = time.perf_counter()
    import multiprocessing

    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(warm, *case) for case in cases]
        for future in as_completed(futures):
            label, seconds, verdict = future.result()
            failed += verdict != "ok"
            print(f"{label}: {verdict} ({seconds:.0f} s)", flush=True)
    print(f"{len(cases)} cases in {time.perf_counter() - start:.0f} s, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
