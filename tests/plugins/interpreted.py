"""Run a test file as a script under Triton's interpreter and read back what it measured.

Triton reads ``TRITON_INTERPRET`` when it is imported, and other test modules may import Triton first in the
pytest process, so the Triton kernels' interpreter cases run in a subprocess that has the variable in its
environment: the test file itself, as a script, printing one JSON line last.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


def interpreter_results(script: str, timeout: int) -> dict[str, Any]:
    """The JSON ``script`` (a test file's ``__file__``) prints last when run with ``TRITON_INTERPRET=1``."""
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    proc = subprocess.run(
        [sys.executable, script], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"interpreter run failed:\n{proc.stderr[-4000:]}"
    results: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return results


def find_builtins_once() -> None:
    """Make Triton's interpreter find the builtins of ``triton.language`` once per module, not per launch.

    At each kernel launch the interpreter patches every builtin of ``tl``, ``tl.tensor``, ``tl.math`` and
    ``tl.core.tensor_descriptor_base`` into its interpreted form and restores them after, finding them with
    ``inspect.getmembers``: 129,000 scans, 32 of the 62 profiled seconds of test_flashattention_triton.py's
    script (``python -m cProfile``, issue 91). What a module's builtins are does not change between
    launches, so they are found once and patched as before, launch after launch. A Triton whose
    ``_patch_builtin`` has another signature is left as it is (the scripts are then only slower)."""
    import inspect

    import triton.language as tl
    from triton.runtime import interpreter

    original = getattr(interpreter, "_patch_builtin", None)
    if original is None or list(inspect.signature(original).parameters) != ["pkg", "builder", "scope"]:
        return
    found: dict[int, list[tuple[str, Any]]] = {}

    def patch_builtin(pkg: Any, builder: Any, scope: Any) -> None:
        members = found.get(id(pkg))
        if members is None:
            members = [(n, m) for n, m in inspect.getmembers(pkg) if tl.core.is_builtin(m)]
            found[id(pkg)] = members
        for name, member in members:
            interpreter._patch_attr(pkg, name, member, builder, scope)

    interpreter._patch_builtin = patch_builtin
