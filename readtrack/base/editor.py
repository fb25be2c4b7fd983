"""Editing text in the user's $EDITOR (``readtrack note ID`` without TEXT, a practice workspace)."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from readtrack.base.errors import UsageError


def editor_command() -> str:
    """$VISUAL, else $EDITOR, else vi."""
    return os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"


def edit_file(path: Path) -> int:
    """Open the file ``path`` in the editor and wait for it; the editor's exit status."""
    command = editor_command()
    try:
        return subprocess.run([*shlex.split(command), str(path)], check=False).returncode
    except FileNotFoundError:
        raise UsageError(f"editor {command!r} not found: set $VISUAL or $EDITOR") from None


def edit_text(initial: str, *, suffix: str = ".md") -> str | None:
    """Open ``initial`` in $VISUAL/$EDITOR (default vi); the edited text, or None when it failed."""
    command = editor_command()
    fd, name = tempfile.mkstemp(prefix="readtrack-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(initial + ("\n" if initial and not initial.endswith("\n") else ""))
        try:
            result = subprocess.run([*shlex.split(command), str(path)], check=False)
        except FileNotFoundError:
            raise UsageError(
                f"editor {command!r} not found: set $EDITOR, or pass the text as an argument"
            ) from None
        if result.returncode != 0:
            return None
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
