"""Every plugin's quick run on the emulated CUDA device: which would run on a GPU, and what it costs here.

    python benchmarks/emulated_cuda.py                     # the whole shelf, quick runs, emu:0
    python benchmarks/emulated_cuda.py gqa rope --tf32     # some plugins, float32 inputs rounded to TF32
    python benchmarks/emulated_cuda.py --only check        # one stage of each

The emulated device (``readtrack.runner.cuda_emulator``) enforces CUDA's device rules while computing on the
CPU: a tensor left on the CPU, a CPU generator in a device op or ``.numpy()`` of a device tensor fails as on a
GPU. With ``--tf32`` the float32 inputs of products, convolutions and recurrent layers are rounded to TF32
where CUDA's flags in force say so (the runner turns TF32 off for check and train). Each plugin runs through
the real runner in this process, one thread, one plugin at a time; ``--cpu`` also runs it on the CPU, for the
emulator's slow-down. Prints a markdown table (status per stage, seconds per stage, the first error) and
writes it with the records' JSON under ``benchmarks/results/`` (``emulated_cuda.{md,json}``, the options in
the name: ``emulated_cuda-only-check-tf32-keep-tf32.md``). ``--keep-tf32`` leaves CUDA's TF32 flags in force
in check and train too: which float32 checks TF32 would break."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def run_one(name: str, device: str, only: str | None) -> dict[str, Any]:
    from readtrack.runner import run_plugin

    started = time.perf_counter()
    record = run_plugin(name, device=device, quick=True, only=only, keep_history=False, threads=1)
    stages = {s.stage: {"status": s.status, "seconds": s.duration_s, "error": s.error} for s in record.stages}
    failed = [c.name for s in record.stages for c in s.comparisons if not c.passed]
    failed += [t.name for s in record.stages for t in s.targets if not t.passed]
    return {
        "status": record.status,
        "seconds": time.perf_counter() - started,
        "stages": stages,
        "failed": failed,
    }


def cell(stage: dict[str, Any] | None) -> str:
    if stage is None or stage["status"] == "skipped":
        return "–"
    mark = "✓" if stage["status"] == "passed" else f"✗ {stage['status']}"
    return f"{mark} {stage['seconds']:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help="plugins (default: every built-in plugin)")
    parser.add_argument("--only", choices=("check", "train", "bench"), help="one stage of each run")
    parser.add_argument("--tf32", action="store_true", help="round float32 to TF32 where CUDA's flags say so")
    parser.add_argument(
        "--keep-tf32",
        action="store_true",
        help="leave CUDA's TF32 flags in force in check and train too (the runner sets IEEE float32)",
    )
    parser.add_argument("--cpu", action="store_true", help="run each plugin on the CPU too (the slow-down)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)

    from readtrack.plugins import discovery as plugins
    from readtrack.runner import cuda_emulator

    cuda_emulator.install(tf32=args.tf32)
    if args.keep_tf32:
        import contextlib

        from readtrack.runner import run as runner

        runner.devices.ieee_float32 = contextlib.nullcontext  # type: ignore[assignment]
    names = args.names or sorted(p.name for p in plugins.discover(include_user=False))
    results: dict[str, Any] = {}
    lines = [
        "| plugin | status | check (s) | train (s) | bench (s) | CPU (s) | first failure |",
        "|---|---|---|---|---|---:|---|",
    ]
    print("\n".join(lines), flush=True)
    for name in names:
        emulated = run_one(name, "emu:0", args.only)
        if args.cpu:
            emulated["cpu_seconds"] = run_one(name, "cpu", args.only)["seconds"]
        results[name] = emulated
        stages = emulated["stages"]
        why = next((s["error"] for s in stages.values() if s["error"]), None) or ", ".join(
            emulated["failed"][:2]
        )
        cpu = f"{emulated['cpu_seconds']:.1f}" if "cpu_seconds" in emulated else ""
        line = (
            f"| {name} | {emulated['status']} | {cell(stages.get('check'))} | {cell(stages.get('train'))} | "
            f"{cell(stages.get('bench'))} | {cpu} | {(why or '').replace('|', '/')[:160]} |"
        )
        lines.append(line)
        print(line, flush=True)

    passed = sum(r["status"] == "passed" for r in results.values())
    total_s = sum(r["seconds"] for r in results.values())
    summary = f"{passed} of {len(results)} passed on emu:0; {total_s:.0f} s of runs"
    if args.cpu:
        cpu_s = sum(r["cpu_seconds"] for r in results.values())
        summary += f" (the same on the CPU: {cpu_s:.0f} s, ×{total_s / cpu_s:.1f})"
    print(f"\n{summary}")
    if not args.no_write and not args.names:
        import torch

        RESULTS.mkdir(exist_ok=True)
        options = [f"--only {args.only}" if args.only else "", "--tf32" if args.tf32 else ""]
        options += ["--keep-tf32" if args.keep_tf32 else "", "--cpu" if args.cpu else ""]
        flags = "".join(f" {o}" for o in options if o)
        stem = "emulated_cuda" + flags.replace(" --", "-").replace(" ", "-")
        header = {
            "date": date.today().isoformat(),
            "torch": torch.__version__,
            "command": f"python benchmarks/emulated_cuda.py{flags}",
            "tf32": args.tf32,
            "summary": summary,
        }
        (RESULTS / f"{stem}.json").write_text(json.dumps({**header, "plugins": results}, indent=1) + "\n")
        (RESULTS / f"{stem}.md").write_text(
            f"`{header['command']}` · torch {header['torch']} · {header['date']}\n\n"
            + "\n".join(lines)
            + f"\n\n{summary}\n"
        )
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
