"""pluggy's markers for the project ``readtrack``: ``hookspec`` marks the contract's hooks, ``hookimpl`` an
implementation (``readtrack.hookimpl`` is this one). A module of its own so that the specs
(`readtrack.plugins.hookspecs`) and the declarations (`readtrack.plugins.declaration`) can both name them
without naming each other."""

from __future__ import annotations

import pluggy

PROJECT = "readtrack"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
