"""Options more than one command takes, declared once: where a batch runs (``run``, ``lineage --run``)."""

from __future__ import annotations

from typing import Any

import typer


def executor_option(help: str) -> Any:
    """``--executor local|ray`` (``READTRACK_EXECUTOR``): where a command's runs run."""
    return typer.Option(None, "--executor", metavar="local|ray", envvar="READTRACK_EXECUTOR", help=help)


def address_option(help: str) -> Any:
    """``--address HOST:PORT``: the Ray cluster's head, with ``--executor ray``."""
    return typer.Option(None, "--address", metavar="HOST:PORT", help=help)
