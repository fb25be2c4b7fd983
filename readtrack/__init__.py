"""readtrack: read machine-learning papers by running them.

Importing this package is cheap on purpose (no torch, textual or arxiv): the CLI starts from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from readtrack.plugins import LoadedPlugin

__all__ = ["__version__", "hookimpl", "load_plugin"]


def load_plugin(name: str) -> LoadedPlugin:
    """Find the paper plugin `name` (built-in, installed or user folder) and load it.

    `load_plugin("flashattention").implementation` is the plugin's implementation module (`model.py`).
    """
    from readtrack.plugins import load_plugin as _load

    return _load(name)


def __getattr__(name: str) -> Any:
    # `readtrack.hookimpl` is pluggy's marker; resolved lazily so `import readtrack` stays light.
    if name == "hookimpl":
        from readtrack.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'readtrack' has no attribute {name!r}")
