"""Which code a run would run, in a few characters: what the driver of a cluster compares with each worker's.

A run on another machine gives the numbers of a run made here only when both run the same code: the same
readtrack (its version and every ``.py`` file of the package) and the same plugin (every ``.py`` file of
its folder). :func:`code_identity` hashes both, byte for byte (a comment counts: nothing is assumed about
what an edit changes; `readtrack.history.calibration.fingerprint` is the lenient hash a calibration uses).
The Ray executor refuses a worker whose identity differs from the driver's (`readtrack.batch.ray_worker`).
Torch-free; a plugin is found (`readtrack.plugins.discovery`), not imported.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path


def tree_hash(folder: Path) -> str:
    """sha256 of every ``*.py`` under ``folder`` (caches and hidden folders left out): each file's path
    relative to ``folder`` and its bytes, in sorted order, so the same files anywhere hash alike."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(folder)
        if any(part.startswith((".", "__pycache__")) for part in relative.parts):
            continue
        digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def readtrack_identity() -> str:
    """``0.1.0 (code 1a2b3c4d)``: the installed readtrack's version and the hash of its package's code."""
    from readtrack.base.version import __version__

    return f"{__version__} (code {tree_hash(Path(__file__).resolve().parents[1])[:8]})"


def plugin_identity(plugin: str) -> str:
    """The hash of the plugin's folder (``-`` for a plugin with no folder of its own)."""
    from readtrack.history.calibration import package_folder
    from readtrack.plugins import discovery

    folder = package_folder(discovery.load_plugin(plugin).info.package)
    return "-" if folder is None else tree_hash(folder)[:8]


def code_identity(plugin: str) -> dict[str, str]:
    """``{"readtrack": "0.1.0 (code 1a2b3c4d)", "plugin": "5e6f7a8b"}`` for ``plugin`` as this process
    would run it."""
    return {"readtrack": readtrack_identity(), "plugin": plugin_identity(plugin)}


def identity_text(plugin: str, identity: dict[str, str]) -> str:
    """``readtrack 0.1.0 (code 1a2b3c4d) with rmsnorm 5e6f7a8b``: an identity in a sentence."""
    return f"readtrack {identity.get('readtrack', '?')} with {plugin} {identity.get('plugin', '?')}"
