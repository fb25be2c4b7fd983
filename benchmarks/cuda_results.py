"""The tables of a lent GPU session, generated from what it brought back.

    python benchmarks/cuda_results.py collect DIR... --session DATE [--append]   # into cuda_h200_runs.json
    python benchmarks/cuda_results.py tables                  # markdown for benchmarks/RESULTS.md

``collect`` reads the JSON-lines files of ``readtrack run ... --json`` that ``benchmarks/gpu_session.sh`` (and
any later call) left in the device tool's folders, and keeps every run's record (its curves left out: the
numbers and verdicts stay) with the set it came from, into one JSON file that is committed (``--append``
adds a later session's runs to it, each named by its ``--session``). ``tables`` prints, from that file and
``benchmarks/results/flashattention_cuda.json``: the FlashAttention-2 ratios against PyTorch's SDPA kernels,
the named command's own bench stage in bfloat16, and every plugin's quick and full verdict on CUDA with what
failed.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path
from typing import Any

from readtrack.history import calibration

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
RUNS = RESULTS / "cuda_h200_runs.json"
FLASH = RESULTS / "flashattention_cuda.json"
# which call brought a file back, and what it ran (the device tool names its folders by call)
SETS = {
    "shelf_quick.jsonl": "quick",
    "named_quick.jsonl": "quick",
    "named_full.jsonl": "full",
    "shelf_full.jsonl": "full",
    "shelf_full2.jsonl": "full",
    "recheck.jsonl": "quick, check only",
    "seed1_full.jsonl": "full, seed 1",
    "changed_full.jsonl": "full",  # gpu_seeds.sh: the plugins changed since the last lent session
    "shelf_quick_seeds.jsonl": "quick, seeds",  # gpu_seeds.sh: the shelf's quick runs on several seeds
    "full_seeds.jsonl": "full, seeds",  # `readtrack run NAME... --seeds 0-9`: full runs on several seeds
}


def _strip(record: dict[str, Any]) -> dict[str, Any]:
    stages = [{k: v for k, v in st.items() if k != "curves"} for st in record.get("stages", [])]
    return {**record, "stages": stages}


def collect(folders: list[Path], out: Path, session: str | None = None, append: bool = False) -> int:
    runs = json.loads(out.read_text(encoding="utf-8"))["runs"] if append and out.exists() else []
    kept = len(runs)
    for folder in folders:
        for path in sorted(folder.glob("*.jsonl")):
            kind = SETS.get(path.name)
            if kind is None:
                continue
            seen: set[str] = set()  # several plugins: each record comes twice (seed_record, plugin_done)
            for line in path.read_text(encoding="utf-8").splitlines():
                event = json.loads(line)
                if event.get("type") in ("plugin_done", "seed_record") and event.get("record"):
                    record = event["record"]  # a plugin_done of several seeds has none: its seed_records do
                elif event.get("type") == "record":
                    record = event.get("record", event)
                else:
                    continue
                if record["info"]["run_id"] in seen:
                    continue
                seen.add(record["info"]["run_id"])
                name = f"{session}/{folder.name}/{path.name}" if session else f"{folder.name}/{path.name}"
                runs.append({"file": name, "kind": kind, "record": _strip(record)})
    out.write_text(json.dumps({"runs": runs}, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(runs) - kept} run records added, {len(runs)} in all → {out}", file=sys.stderr)
    return 0


def _failures(record: dict[str, Any]) -> list[str]:
    """What failed in a run, one short phrase each."""
    found = []
    for stage in record.get("stages", []):
        for comp in stage.get("comparisons") or []:
            if not comp["passed"]:
                worst = comp.get("worst")
                detail = (
                    f" ({worst:.2f}× tolerance)"
                    if worst
                    else (f" ({comp['detail']})" if comp["detail"] else "")
                )
                found.append(f"{stage['stage']}: {comp['name']}{detail}")
        for target in stage.get("targets") or []:
            value, goal = target["value"], target["target"]
            ok = value >= goal if target.get("higher_is_better", True) else value <= goal
            if not ok:
                found.append(f"{stage['stage']}: {target['name']} = {value:.3f}, target {goal}")
        if stage.get("error"):
            found.append(f"{stage['stage']}: {stage['error']}")
    return found


def shelf_table(runs: list[dict[str, Any]]) -> str:
    rows: dict[str, dict[str, str]] = {}
    for run in runs:
        record, kind = run["record"], run["kind"]
        if kind in ("quick, seeds", "full, seeds"):
            continue  # claims_table's and full_seeds_table's
        name = record["info"]["plugin"]
        failed = _failures(record)
        cell = f"{record['status']} ({record['duration_s']:.0f} s)"
        if failed:
            cell += ": " + "; ".join(failed)
        if kind.startswith("full, seed"):
            column = kind.removeprefix("full, ")
        else:
            column = "full" if kind == "full" else ("recheck" if "check only" in kind else "quick")
        rows.setdefault(name, {})[column] = cell
    lines = ["| plugin | quick | full |", "|---|---|---|"]
    for name in sorted(rows):
        cells = rows[name]
        quick = cells.get("quick", "")
        if "recheck" in cells:
            quick += f"; its check again, in a second call: {cells['recheck']}"
        full = cells.get("full", "not run")
        full += "".join(f"; {k}: {v}" for k, v in cells.items() if k.startswith("seed"))
        lines.append(f"| {name} | {quick} | {full} |")
    passed = {
        k: sum(1 for c in rows.values() if c.get(k, "").startswith("passed")) for k in ("quick", "full")
    }
    ran = {k: sum(1 for c in rows.values() if k in c) for k in ("quick", "full")}
    summary = (
        f"quick runs: {passed['quick']} of {ran['quick']} passed; "
        f"full runs: {passed['full']} of {ran['full']} passed ({len(rows) - ran['full']} not run)"
    )
    return summary + "\n\n" + "\n".join(lines) + "\n"


def _latest(runs: list[dict[str, Any]], kind: str) -> dict[tuple[str, int], dict[str, Any]]:
    """(plugin, seed) → the record of its last run of ``kind``: a seed run again in a later call counts
    once, the later run."""
    return {
        (run["record"]["info"]["plugin"], run["record"]["info"]["seed"]): run["record"]
        for run in runs
        if run["kind"] == kind
    }


def claims_table(runs: list[dict[str, Any]]) -> str:
    """Each asserted quick target on CUDA over seeds, against its CPU calibration (torch's newest release).

    A row per plugin: its asserted targets, how many (target, seed) pairs passed on CUDA, the smallest CUDA
    margin (sign·(value − threshold) / the CPU's seed sd, the worst seed; the CPU's own worst seed beside it)
    and the largest shift of the CUDA mean from the CPU mean in the CPU's seed sd (a target exact on every CPU
    seed, sd 0, counts by whether it moved)."""
    values: dict[str, dict[str, list[float]]] = {}
    goals: dict[tuple[str, str], tuple[float, bool]] = {}
    seeds: dict[str, set[int]] = {}
    for (plugin, _), record in _latest(runs, "quick, seeds").items():
        seeds.setdefault(plugin, set()).add(record["info"]["seed"])
        for stage in record["stages"]:
            for t in stage.get("targets") or []:
                values.setdefault(plugin, {}).setdefault(t["name"], []).append(t["value"])
                goals[plugin, t["name"]] = (t["target"], t.get("higher_is_better", True))
    lines = [
        "| plugin | seeds | asserted targets | passed on CUDA | smallest CUDA margin (CPU sd) "
        "| largest shift of the CUDA mean (CPU sd) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for plugin in sorted(values):
        folder = ROOT / "plugins" / plugin.replace("-", "_")
        cpu = next(iter(calibration.newest_first(calibration.load(folder), "quick")), None)
        spreads = {s.name: s for s in cpu.numbers} if cpu else {}
        passed = total = 0
        worst: tuple[float, str, float] = (math.inf, "", math.inf)
        shift: tuple[float, str] = (0.0, "")
        for name, vals in values[plugin].items():
            goal, higher = goals[plugin, name]
            sign = 1 if higher else -1
            total += len(vals)
            passed += sum(1 for v in vals if sign * (v - goal) >= 0)
            spread = spreads.get(name)
            if spread is None or math.isnan(spread.mean):
                continue
            sd = spread.std if spread.std and not math.isnan(spread.std) else 0.0
            low = min(sign * (v - goal) for v in vals)
            margin = low / sd if sd else (math.inf if low >= 0 else -math.inf)
            moved = abs(statistics.fmean(vals) - spread.mean)
            z = moved / sd if sd else (0.0 if moved <= 1e-9 * max(1.0, abs(spread.mean)) else math.inf)
            cpu_low = min(sign * (v - goal) for v in spread.values) / sd if sd else math.inf
            worst = min(worst, (margin, name, cpu_low))
            shift = max(shift, (z, name))
        margin_cell = (
            "exact on every CPU seed"
            if worst[0] == math.inf
            else f"{worst[0]:.1f} ({worst[1]}; the CPU's worst seed: {worst[2]:.1f})"
        )
        shift_cell = f"{shift[0]:.1f} ({shift[1]})" if shift[1] else "0"
        lines.append(
            f"| {plugin} | {_seed_list(seeds[plugin])} | {len(values[plugin])} | {passed} of {total} "
            f"| {margin_cell} | {shift_cell} |"
        )
    return "\n".join(lines) + "\n"


def full_seeds_table(runs: list[dict[str, Any]]) -> str:
    """A row per plugin whose full run went on several seeds in one call: how many passed, and what failed
    on which seed."""
    by_plugin: dict[str, dict[int, dict[str, Any]]] = {}
    for (plugin, seed), record in _latest(runs, "full, seeds").items():
        by_plugin.setdefault(plugin, {})[seed] = record
    lines = ["| plugin | seeds | passed | what failed |", "|---|---|---:|---|"]
    for plugin, records in sorted(by_plugin.items()):
        failed = [
            f"seed {seed}: {'; '.join(_failures(r))}" for seed, r in sorted(records.items()) if _failures(r)
        ]
        passed = sum(1 for r in records.values() if r["status"] == "passed")
        what = " · ".join(failed) or "–"
        lines.append(f"| {plugin} | {_seed_list(set(records))} | {passed} of {len(records)} | {what} |")
    return "\n".join(lines) + "\n"


def _seed_list(seeds: set[int]) -> str:
    ordered = sorted(seeds)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{ordered[0]}-{ordered[-1]}"
    return ", ".join(map(str, ordered))


def bench_bfloat16_table(runs: list[dict[str, Any]]) -> str:
    """The named command's bench stage (batch 1, 8 heads, d = 64) in bfloat16, from its latest full run."""
    full = [run["record"] for run in runs if run["kind"] == "full"]
    named = [r for r in full if r["info"]["plugin"] == "flashattention"]
    rows = [row for stage in named[-1]["stages"] for row in stage.get("bench") or []] if named else []
    by_n: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.get("dtype") == "bfloat16":
            by_n.setdefault(row["params"]["N"], {})[row["params"]["variant"]] = row
    lines = [
        "| N | SDPA ms | triton ms | triton / SDPA (time) | triton TFLOP/s |",
        "|---:|---:|---:|---:|---:|",
    ]
    for n, pair in sorted(by_n.items()):
        sdpa, ours = pair.get("SDPA"), pair.get("flash (triton)")
        if sdpa and ours:
            lines.append(
                f"| {n} | {sdpa['median_s'] * 1e3:.3f} | {ours['median_s'] * 1e3:.3f} "
                f"| {ours['median_s'] / sdpa['median_s']:.2f} | {ours['tflops']:.0f} |"
            )
    return "\n".join(lines) + "\n"


def flash_table(data: dict[str, Any]) -> str:
    rows = {(r["impl"], r["mode"], r["seq_len"], r["head_dim"], r["causal"]): r for r in data["rows"]}
    lines = [
        "| d | causal | mode | N | triton TFLOP/s | sdpa-flash | sdpa-cudnn | triton / flash "
        "| triton / cudnn | triton err (out, grads) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    keys = sorted(
        (k for k in rows if k[0] == "triton"), key=lambda k: (-k[3], k[4], k[1], k[2])
    )  # d = 128 first, as the goal is stated for it
    for _, mode, n, d, causal in keys:
        ours = rows[("triton", mode, n, d, causal)]
        flash = rows.get(("sdpa-flash", mode, n, d, causal), {})
        cudnn = rows.get(("sdpa-cudnn", mode, n, d, causal), {})

        ratios = [
            f"{ours['tflops'] / row['tflops']:.2f}" if ours.get("tflops") and row.get("tflops") else "–"
            for row in (flash, cudnn)
        ]
        rates = [f"{row['tflops']:.0f}" if row.get("tflops") else "–" for row in (ours, flash, cudnn)]
        grads = f", {ours['grad_err']:.1e}" if ours.get("grad_err") is not None else ""
        lines.append(
            f"| {d} | {'yes' if causal else 'no'} | {mode} | {n} | {' | '.join(rates)} "
            f"| {' | '.join(ratios)} | {ours['max_err']:.1e}{grads} |"
        )
    env = data["environment"]
    head = (
        f"{env['device']} (sm {env['capability']}), torch {env['torch']} (CUDA {env['cuda']}), "
        f"Triton {env['triton']}, {env['date']}"
    )
    return head + "\n\n" + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("folders", nargs="+", type=Path)
    c.add_argument("--out", type=Path, default=RUNS)
    c.add_argument("--session", help="names the runs' files, e.g. the session's date")
    c.add_argument("--append", action="store_true", help="add to --out's runs instead of replacing them")
    sub.add_parser("tables")
    args = parser.parse_args(argv)
    if args.command == "collect":
        return collect(args.folders, args.out, args.session, args.append)
    print("### FlashAttention-2 (Triton) against PyTorch's SDPA kernels\n")
    print(flash_table(json.loads(FLASH.read_text(encoding="utf-8"))))
    runs = json.loads(RUNS.read_text(encoding="utf-8"))["runs"]
    print("### The named command's bench stage in bfloat16\n")
    print(bench_bfloat16_table(runs))
    print("### Every plugin on CUDA\n")
    print(shelf_table(runs))
    print("### The quick runs' claims on CUDA, over seeds, against the CPU's calibration\n")
    print(claims_table(runs))
    print("### Full runs on several seeds\n")
    print(full_seeds_table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
