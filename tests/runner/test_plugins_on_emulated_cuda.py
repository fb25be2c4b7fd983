"""Every built-in plugin on the emulated CUDA device (readtrack.runner.cuda_emulator): a tensor left on the
CPU, a CPU generator in a device op or ``.numpy()`` of a device tensor fails here as it would on a GPU, and
TF32 is rounded in as CUDA's default flags would (the runner's IEEE float32 for check and train must hold).

The check stage of every plugin runs in the suite, the quick run (check, train, bench) of those whose
emulated run is short; the whole shelf's quick runs are marked ``shelf`` (about an hour on 2 cores:
``pytest -m shelf tests/runner/test_plugins_on_emulated_cuda.py``, or ``python benchmarks/emulated_cuda.py``
for the table in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import contextlib

import pytest

pytest.importorskip("torch")

from fake_plugins import write_plugin

from readtrack.plugins import discovery as plugins
from readtrack.runner import cuda_emulator, devices, run_plugin
from readtrack.runner import run as runner

try:
    cuda_emulator.install()
except RuntimeError as err:
    pytest.skip(f"no emulated device: {err}", allow_module_level=True)

BUILTIN = sorted(p.name for p in plugins.discover(include_user=False))
#: Quick runs the suite runs whole on the emulated device: the named command's plugin and a short one (the
#: shelf's times there: benchmarks/RESULTS.md); the others' train and bench stages run under ``shelf``.
QUICK_ON_EMU = frozenset({"adamw", "flashattention"})


def problems(record: object) -> list[str]:
    found = []
    for stage in record.stages:  # type: ignore[attr-defined]
        if stage.status not in ("passed", "skipped"):
            found.append(f"{stage.stage}: {stage.status} {stage.error or ''}")
        found += [f"{stage.stage} {c.name}: {c.detail}" for c in stage.comparisons if not c.passed]
        found += [
            f"{stage.stage} target {t.name}: {t.value} vs {t.target}" for t in stage.targets if not t.passed
        ]
    return found


@pytest.mark.parametrize("name", BUILTIN)
def test_every_check_passes_on_the_emulated_device_with_cudas_tf32(name: str) -> None:
    with cuda_emulator.tf32_rounding():  # CUDA's default flags: convolutions and RNNs in TF32
        record = run_plugin(name, device="emu:0", quick=True, only="check", keep_history=False)
    assert record.status == "passed", "\n".join(problems(record))


@pytest.mark.parametrize("name", sorted(QUICK_ON_EMU))
def test_a_quick_run_passes_whole_on_the_emulated_device(name: str) -> None:
    record = run_plugin(name, device="emu:0", quick=True, keep_history=False)
    assert record.status == "passed", "\n".join(problems(record))


@pytest.mark.shelf
@pytest.mark.parametrize("name", sorted(set(BUILTIN) - QUICK_ON_EMU))
def test_the_shelfs_quick_runs_pass_on_the_emulated_device(name: str) -> None:
    record = run_plugin(name, device="emu:0", quick=True, keep_history=False)
    assert record.status == "passed", "\n".join(problems(record))


def test_with_tf32_left_on_a_float32_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the runner's IEEE float32 is for: the same check with CUDA's defaults in force fails."""
    monkeypatch.setattr(runner.devices, "ieee_float32", contextlib.nullcontext)
    with cuda_emulator.tf32_rounding():
        record = run_plugin("resnet", device="emu:0", quick=True, only="check", keep_history=False)
    failed = [c.name for s in record.stages for c in s.comparisons if not c.passed]
    assert record.status == "failed" and any("float32" in name for name in failed), failed
    assert devices.float32_precision()["conv"] == "tf32"


MISPLACED = """
import torch


def check(ctx):
    x = torch.randn(4, 3, device=ctx.device)
    mask = torch.rand(4, 3) > 0.5  # made on the CPU: the bug
    ctx.check_close("masked", torch.where(mask, x, 0.0), x * mask.to(x.device))
"""


def test_a_plugin_authors_placement_bug_fails_on_a_cpu_only_machine(user_dir: object) -> None:
    write_plugin(user_dir, "misplaced", MISPLACED)
    on_cpu = run_plugin("misplaced", device="cpu", only="check", keep_history=False)
    assert on_cpu.status == "passed"
    emulated = run_plugin("misplaced", device="emu:0", only="check", keep_history=False)
    assert emulated.status == "error"
    assert "Expected all tensors to be on the same device" in (emulated.stages[0].error or "")


def test_a_plugin_run_on_index_1_leaves_index_0_alone() -> None:
    """rope's check: its own tensors, and those torch makes itself (SDPA's causal mask), all on emu:1."""
    before = cuda_emulator.created.copy()
    record = run_plugin("rope", device="emu:1", quick=True, only="check", keep_history=False)
    assert record.status == "passed", "\n".join(problems(record))
    made = cuda_emulator.created - before
    assert made[1] > 0 and made[0] == 0, made
