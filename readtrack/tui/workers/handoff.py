"""Handing work done in a worker thread back to a screen, in the UI thread, only while the screen is shown.

A batch's last events arrive after the user has left: Esc took the run screen away, or q stopped the app while
the runs were being cancelled (the pool waits for them to record themselves). Those late calls are dropped,
not run against a screen whose widgets are gone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from textual.screen import Screen


def hand_to(screen: Screen[Any], callback: Callable[..., object], *args: Any) -> None:
    """From a worker thread: ``callback(*args)`` in the UI thread, if ``screen`` is still shown then."""

    def call() -> None:
        if screen.is_attached:
            callback(*args)

    with contextlib.suppress(RuntimeError):  # the app is no longer running
        screen.app.call_from_thread(call)
