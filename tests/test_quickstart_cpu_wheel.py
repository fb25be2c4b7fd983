"""The Quickstart's CPU-only torch (issue 73, item 9): the README and the manual's Quickstart write out the
command, with the wheel index's full address as PyTorch's own install instructions give it, where they
only named "the CPU package index that PyTorch's own instructions give"."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# PyTorch's "Get started" for pip and Compute Platform CPU: `pip3 install torch --index-url <this>`
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@pytest.mark.parametrize("page", ["README.md", "docs/quickstart.md"])
def test_the_quickstart_installs_the_cpu_wheel_from_pytorchs_index_then_readtrack(page: str) -> None:
    lines = (REPO / page).read_text(encoding="utf-8").splitlines()
    found = [line for line in lines if f"--index-url {CPU_INDEX}" in line]
    assert len(found) == 1, f"{page}: no command installs torch from {CPU_INDEX}"
    # torch alone from PyTorch's index, in the venv, then readtrack from PyPI (which keeps that torch)
    commands = [c.strip() for c in found[0].split("&&")]
    assert commands == [
        "python3 -m venv .venv",
        f".venv/bin/pip install torch --index-url {CPU_INDEX}",
        ".venv/bin/pip install .",
        ".venv/bin/readtrack",
    ]
    assert lines[lines.index(found[0]) - 1] == "```sh"  # a code block of its own, to copy as it is
