"""Starting a readtrack child process that imports the readtrack this process imported, wherever it runs.

``python -m MODULE`` puts the working directory first on the child's import path. A folder named
``readtrack`` there (a reader who cloned the repository into ``~/readtrack`` and works from ``~``) then
shadows the installed package: the clone's root is taken for the package ``readtrack`` and its ``plugins/``
folder for ``readtrack.plugins``, and the child dies with ``No module named 'readtrack.plugins.records'``.
:func:`python_module` starts ``python -c BOOT MODULE ARGS`` instead: ``BOOT`` takes the working directory
off the import path, puts first the folder this process imported readtrack from, and runs ``MODULE`` as
``__main__`` with ``ARGS`` as its arguments. Torch-free: every face and batch starts children through it.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: Run in the child before anything else: sys.argv is ``["-c", ROOT, MODULE, *ARGS]``.
BOOT = (
    "import sys, runpy; "
    "root = sys.argv.pop(1); module = sys.argv.pop(1); "
    "sys.path[:] = [root, *(p for p in sys.path if p not in ('', '.'))]; "
    "runpy.run_module(module, run_name='__main__', alter_sys=True)"
)


def import_root() -> str:
    """The folder this process imported readtrack from (site-packages, or a clone for an editable install)."""
    return str(Path(__file__).resolve().parents[2])


def python_module(module: str, *args: str) -> list[str]:
    """The command line of ``python -m module args`` that imports this process's readtrack, never one that
    the child's working directory happens to hold (see the module docstring)."""
    return [sys.executable, "-c", BOOT, import_root(), module, *args]
