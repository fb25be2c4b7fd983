"""``check-plugin``'s page rule, in a fresh process: find a plugin and read its knobs, then say which heavy
modules that imported (a JSON list of ``torch`` and ``numpy``, on stdout's last line).

Started by `readtrack.standard` as ``python -m readtrack.plugins.page_probe NAME`` through
`readtrack.base.processes.python_module`, so it imports the readtrack of the process that asks, whatever
folder its working directory holds. It imports nothing heavy itself: what it reports is the plugin's doing.
"""

from __future__ import annotations

import contextlib
import json
import sys


def probe(name: str) -> list[str]:
    """The heavy modules that finding plugin ``name`` and reading its knobs imported."""
    from readtrack.plugins import discovery, knobs

    plugin = discovery.load_plugin(name)
    with contextlib.suppress(Exception):  # the knobs rule says what is wrong with it
        knobs.config_class(plugin.info.package)
    return sorted(m for m in ("torch", "numpy") if m in sys.modules)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m readtrack.plugins.page_probe NAME", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(probe(sys.argv[1])))
