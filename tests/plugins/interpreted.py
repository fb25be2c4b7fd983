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
