"""Running a built-in paper plugin's stages as the runner does: a real RunContext and the real harness."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch

from readtrack.bench import BenchHarness
from readtrack.experiment import RunContext, StageResult


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """The tiny models here are dominated by per-op overhead: on a shared 2-core machine a second OpenMP
    thread waiting at every op barrier slows them several times over, and speeds nothing up."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run_stage(
    plugin: str, stage: str, *, quick: bool = True, seed: int = 0, options: dict[str, Any] | None = None
) -> StageResult:
    """Run one stage of ``readtrack_plugins.<plugin>.experiment`` on the CPU and return its result."""
    experiments = importlib.import_module(f"readtrack_plugins.{plugin}.experiment")
    ctx = RunContext(
        device="cpu", quick=quick, seed=seed, bench=BenchHarness("cpu", quick=quick), options=options
    )
    result = ctx.begin_stage(stage)
    getattr(experiments, stage)(ctx)
    return result


def failures(result: StageResult) -> list[str]:
    """What failed in a stage, readable in an assertion message."""
    bad = [f"{c.name}: {c.max_abs} {c.detail}" for c in result.comparisons if not c.passed]
    bad += [f"{t.name}: {t.value} vs {t.target}" for t in result.targets if not t.passed]
    bad += [f"{r.label}: {r.error}" for r in result.bench if r.error]
    return bad


@pytest.fixture
def passing_stage() -> Callable[..., StageResult]:
    """``passing_stage("adamw", "check")`` runs that stage (quick, seed 0), asserts it passed, returns it."""

    def run(plugin: str, stage: str, **kwargs: Any) -> StageResult:
        result = run_stage(plugin, stage, **kwargs)
        assert result.verdict() == "passed", failures(result)
        return result

    return run


@pytest.fixture
def modules_loaded_by() -> Callable[[str], set[str]]:
    """``modules_loaded_by("readtrack_plugins.adamw")``: what a fresh interpreter loaded for that import."""

    def loaded(module: str) -> set[str]:
        code = f"import sys, {module}; print('\\n'.join(sys.modules))"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
        )
        return set(out.stdout.split())

    return loaded
