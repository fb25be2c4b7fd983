"""The TUI edits through the same lock and error mapping as the CLI (readtrack.catalog.edits.apply_edit):
another writer holding the list, or a full disk, is a "Not saved" notification, and the file stays as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tui_driver import screen_text, settle, table, wait_until

from readtrack.base.writelock import locked
from readtrack.plugins.links import load
from readtrack.tui.app import ReadtrackApp


def _mark_lbfgs_read(path: Path) -> str:
    """Open the TUI on ``path``, press space on lbfgs (todo -> read), wait for the "Not saved" toast on the
    screen and return the notifications' whole text (a toast wraps its lines where the path's length puts
    them, so a phrase can straddle two lines of the screen)."""

    async def main() -> str:
        app = ReadtrackApp(path)
        told: list[str] = []
        shown = app.notify

        def notify(message: str, **options: Any) -> None:
            told.append(message)
            shown(message, **options)

        app.notify = notify  # type: ignore[method-assign]
        async with app.run_test(size=(140, 40), notifications=True) as pilot:
            await settle(app, pilot)
            await pilot.press("j")
            current = table(app).current
            assert current is not None and current.paper.id == "lbfgs"
            await pilot.press("space")
            await settle(app, pilot)
            await wait_until(pilot, lambda: "Not saved" in screen_text(app))
            return "\n".join(told)

    return asyncio.run(main())


def test_an_edit_while_another_readtrack_holds_the_list_is_not_saved_and_says_who(
    catalog_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("READTRACK_LOCK_TIMEOUT", "0.2")
    before = catalog_file.read_bytes()
    with locked(catalog_file):
        text = _mark_lbfgs_read(catalog_file)
    assert "papers.yaml is locked by another readtrack" in text and f"pid {os.getpid()}" in text
    assert catalog_file.read_bytes() == before


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs to hold the list, filled up by the test; skipped where it cannot be mounted."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_an_edit_on_a_full_disk_is_not_saved_and_says_why(catalog_file: Path, full_disk: Path) -> None:
    listed = full_disk / "papers.yaml"
    listed.write_bytes(catalog_file.read_bytes())
    with open(full_disk / "filler", "wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)
    before = listed.read_bytes()
    text = _mark_lbfgs_read(listed)
    assert "no space left on the device" in text
    assert listed.read_bytes() == before and load(listed).get("lbfgs").status == "todo"
