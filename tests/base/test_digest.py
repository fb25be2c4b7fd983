"""The caches' digest: the same bytes give the same digest in every process, other bytes another one."""

from __future__ import annotations

import subprocess
import sys

from readtrack.base.digest import digest


def test_a_digest_is_the_same_in_another_process_and_changes_with_one_byte() -> None:
    text = "version: 1\nsections: []\n" * 1000
    other = subprocess.run(
        [sys.executable, "-c", f"from readtrack.base.digest import digest; print(digest({text!r}))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert digest(text) == digest(text.encode()) == other
    assert len(other) == 16 and int(other, 16) >= 0
    assert digest(text[:-2] + "x\n") != other and digest(text + " ") != other
