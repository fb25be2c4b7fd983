"""Fixtures for the plugin tests; running a stage as ``readtrack run`` does lives in ``plugin_stages``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from plugin_stages import failures, run_stage

from readtrack.records import StageResult


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """The tiny models here are dominated by per-op overhead: on a shared 2-core machine a second OpenMP
    thread waiting at every op barrier slows them several times over, and speeds nothing up."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# Transitional, while plugin test files move to ``plugin_stages`` and the stock tests in test_stock.py:
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
