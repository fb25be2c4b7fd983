"""Whether a plugin's calibration record (`readtrack.history.calibration`) still speaks for it: recorded at
all, made on the code as it is now, and complete against the rule's torch releases and seeds.

A plugin's `State` is one of: ``missing`` (no ``calibration.json`` beside it), ``stale`` (a record's ``code``
is not ``calibration.fingerprint`` of its folder now: the code changed since), ``incomplete`` (its quick
record lacks a torch release or seeds ``calibration.RULE_SEEDS`` asks: `missing`), ``fresh``, or
``unreadable`` (the record or the code cannot be read). ``readtrack calibrate`` reports it; ``run``,
``plugins`` and ``doctor`` say it in one line when it is not fresh; ``tests/history/test_calibration.py``
holds every built-in plugin to it.

A fingerprint parses every code file of a plugin (58 built-ins: 1.5 s), and ``plugins`` and ``doctor`` list
them all, so `states` keeps each one in the data dir's cache (``cache/fingerprints.json``), valid while the
sizes and times of the plugin's code files, of every ``readtrack.plugin_kit`` file and of the fingerprint's
own code are the same: a listing stats files and parses none. Torch-free.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readtrack.base.digest import digest
from readtrack.base.words import plural
from readtrack.history import calibration

CACHE = "fingerprints.json"
_FORMAT = 1
_ORDINALS = ("first", "second", "third", "fourth", "fifth")


@dataclass(frozen=True)
class State:
    """A plugin's record against its code now and the rule (see the module docstring)."""

    name: str
    recorded: dict[str, dict[str, int]] = field(default_factory=dict)  # mode → torch release → seeds
    stale: list[str] = field(default_factory=list)  # "quick, torch 2.14.1": records of other code than now
    problem: str | None = None  # why the record or the code could not be read

    @property
    def missing(self) -> list[str]:
        """What the quick record lacks against the rule (empty: complete)."""
        return missing(self.recorded.get("quick", {}), "quick")

    @property
    def kind(self) -> str:
        """fresh, stale, incomplete, missing or unreadable (the module docstring)."""
        if self.problem is not None:
            return "unreadable"
        if not self.recorded:
            return "missing"
        if self.stale:
            return "stale"
        return "incomplete" if self.missing else "fresh"

    @property
    def complete(self) -> bool:
        """The quick record holds the rule's torch releases and seeds (whatever code it was made on)."""
        return self.problem is None and not self.missing

    def holds(self, mode: str = "quick") -> str:
        """``torch 2.14.1 (20 seeds) and 2.13.0 (10 seeds)``: the releases recorded in ``mode``, the most
        seeds first; ``no torch release`` when there is none."""
        ranked = _ranked(self.recorded.get(mode, {}))
        if not ranked:
            return "no torch release"
        cells = [f"{release} ({plural(seeds, 'seed')})" for release, seeds in ranked]
        return "torch " + (cells[0] if len(cells) == 1 else ", ".join(cells[:-1]) + " and " + cells[-1])

    def line(self) -> str:
        """The state in one line, naming the plugin, and what to do when it is not fresh."""
        again = f"`readtrack calibrate {self.name} --write`"
        if self.kind == "unreadable":
            return f"{self.name}: calibration not checked: {self.problem}"
        if self.kind == "missing":
            return f"{self.name}: not calibrated (no {calibration.FILE}): {again} records its seeds"
        if self.kind == "stale":
            return (
                f"{self.name}: calibration stale: the code changed since its record "
                f"({'; '.join(self.stale)}): run {again} again"
            )
        if self.kind == "incomplete":
            where = f"quick on {self.holds()}" if self.recorded.get("quick") else "no quick runs"
            return f"{self.name}: calibration incomplete: {where}; missing {', '.join(self.missing)}"
        return f"{self.name}: calibrated on its code as it is: quick on {self.holds()}"

    def to_dict(self) -> dict[str, Any]:
        """What ``plugins --json`` gives as a plugin's ``calibration``."""
        return {
            "state": self.kind,
            "line": self.line(),
            "recorded": self.recorded,
            "stale": self.stale,
            "missing": [] if self.problem else self.missing,
        }


def _ranked(releases: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(releases.items(), key=lambda item: (-item[1], item[0]))


def missing(releases: Mapping[str, int], mode: str = "quick") -> list[str]:
    """What a record of ``mode`` on ``releases`` (torch release → seeds) lacks against
    ``calibration.RULE_SEEDS``, one phrase each: ``17 more seeds on torch 2.14.1``, ``a second torch release
    (10 seeds)``; empty when it is complete. The releases recorded take the rule's seed counts in their
    order, the most seeds first, so no release is asked for more than the rule needs of it."""
    need = calibration.RULE_SEEDS[mode]
    ranked = _ranked(releases)
    if not ranked:
        where = "a torch release" if len(need) == 1 else f"{len(need)} torch releases"
        return [f"{mode} runs on {where} ({' and '.join(map(str, need))} seeds)"]
    found = []
    for at, (release, seeds) in enumerate(ranked):
        wanted = need[min(at, len(need) - 1)]
        if seeds < wanted:
            found.append(f"{plural(wanted - seeds, 'more seed')} on torch {release}")
    for at in range(len(ranked), len(need)):
        ordinal = _ORDINALS[at] if at < len(_ORDINALS) else f"{at + 1}th"
        found.append(f"a {ordinal} torch release ({need[at]} seeds)")
    return found


def state(name: str, folder: Path, code: str | None = None) -> State:
    """The `State` of the plugin ``name`` in ``folder``; ``code``: its fingerprint, when known (else
    computed: `calibration.fingerprint`)."""
    try:
        record = calibration.load(folder)
    except (OSError, ValueError, KeyError, TypeError) as err:
        return State(name, problem=f"{calibration.FILE} cannot be read: {err}")
    if not record:
        return State(name)
    recorded: dict[str, dict[str, int]] = {}
    for c in record:
        recorded.setdefault(c.mode, {})[calibration.torch_release(c.torch)] = len(c.seeds)
    try:
        now = code if code is not None else calibration.fingerprint(folder)
    except (OSError, SyntaxError, ValueError) as err:
        return State(name, recorded, problem=f"its code cannot be read: {err}")
    stale = [f"{c.mode}, torch {calibration.torch_release(c.torch)}" for c in record if c.code != now]
    return State(name, recorded, stale)


def states(folders: Mapping[str, Path]) -> dict[str, State]:
    """The `State` of each plugin (name → its folder), fingerprints from the data dir's cache where it is
    valid (the module docstring); a plugin with no record is not fingerprinted at all."""
    cache = _Cache.read()
    found = {}
    for name, folder in folders.items():
        if not (folder / calibration.FILE).exists():
            found[name] = State(name)
            continue
        try:
            code = cache.fingerprint(folder)
        except (OSError, SyntaxError, ValueError) as err:
            found[name] = State(name, problem=f"its code cannot be read: {err}")
            continue
        found[name] = state(name, folder, code)
    cache.write()
    return found


def plugin_states(names: Collection[str] | None = None) -> dict[str, State]:
    """`states` of every working plugin with a folder of its own (those named, else every one), in
    discovery's order; a plugin that is a module, or broken, has none."""
    from readtrack.plugins.discovery import LoadedPlugin, discover

    folders = {}
    for plugin in discover():
        if isinstance(plugin, LoadedPlugin) and (names is None or plugin.name in names):
            folder = calibration.package_folder(plugin.info.package)
            if folder is not None:
                folders[plugin.name] = folder
    return states(folders)


def summary_line(found: Mapping[str, State]) -> str:
    """``doctor``'s line: how many plugins are fresh, and which are not, by kind."""
    by_kind: dict[str, list[str]] = {}
    for name, s in found.items():
        by_kind.setdefault(s.kind, []).append(name)
    fresh = len(by_kind.pop("fresh", []))
    line = f"calibration: {fresh} of {plural(len(found), 'plugin')} calibrated on their code as it is"
    for kind in ("stale", "incomplete", "missing", "unreadable"):
        if by_kind.get(kind):
            words = "not calibrated" if kind == "missing" else kind
            line += f"; {words}: {', '.join(sorted(by_kind[kind]))}"
    if by_kind:
        line += " (`readtrack plugins` says why)"
    return line


# -- the fingerprints' cache --------------------------------------------------------------------------------
class _Cache:
    """Fingerprints by folder, each with the stamp of the files it was computed from; every entry is dropped
    when the shared stamp (the kit's files, this code's, the interpreter) changes."""

    def __init__(self, path: Path | None, shared: str, entries: dict[str, dict[str, str]]) -> None:
        self.path, self.shared, self.entries, self.changed = path, shared, entries, False

    @classmethod
    def read(cls) -> _Cache:
        shared = _shared_stamp()
        try:
            from readtrack.base.paths import data_dir

            path = data_dir() / "cache" / CACHE
        except OSError:  # no data dir: fingerprints are computed every time
            return cls(None, shared, {})
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError, AttributeError):
            raw = json.loads(path.read_bytes())
            if raw["format"] == _FORMAT and raw["shared"] == shared:
                return cls(path, shared, {str(k): dict(v) for k, v in raw["plugins"].items()})
        return cls(path, shared, {})

    def fingerprint(self, folder: Path) -> str:
        key = str(folder.resolve())
        stamp = _folder_stamp(folder)
        entry = self.entries.get(key)
        if entry is not None and entry.get("stamp") == stamp:
            return entry["code"]
        code = calibration.fingerprint(folder)
        self.entries[key] = {"stamp": stamp, "code": code}
        self.changed = True
        return code

    def write(self) -> None:
        if self.path is None or not self.changed:
            return
        from readtrack.base.atomic import atomic_write

        kept = {k: v for k, v in self.entries.items() if Path(k).is_dir()}
        payload = {"format": _FORMAT, "shared": self.shared, "plugins": kept}
        with contextlib.suppress(OSError):  # a read-only data dir only means fingerprinting again
            atomic_write(self.path, json.dumps(payload, separators=(",", ":")))


def _stat_line(path: Path) -> str:
    info = path.stat()
    return f"{path.name}:{info.st_size}:{info.st_mtime_ns}"


def _folder_stamp(folder: Path) -> str:
    """The sizes and times of the files `calibration.fingerprint` reads in ``folder`` (its code: a test or
    the page added or changed leaves it as it is)."""
    return digest("\n".join(_stat_line(p) for p in sorted(folder.glob("*.py")) if calibration.is_code(p)))


def _shared_stamp() -> str:
    """What every fingerprint also depends on: each file of the kit the import system finds (the plugins
    import some of them), the fingerprint's own code, and the interpreter's ``ast``."""
    parts = [str(_FORMAT), sys.version, calibration.__file__]
    with contextlib.suppress(OSError):
        parts.append(_stat_line(Path(calibration.__file__)))
    try:
        spec = importlib.util.find_spec(calibration.KIT)
    except (ImportError, ValueError):
        spec = None
    for root in (spec.submodule_search_locations or []) if spec else []:
        for path in sorted(Path(root).rglob("*.py")):
            with contextlib.suppress(OSError):
                parts.append(os.fspath(path) + ":" + _stat_line(path))
    return digest("\n".join(parts))
