"""Calibrating a plugin: its train stage run on many seeds, the runs read back into its record
(`readtrack.history.calibration`), the record written beside it. ``readtrack calibrate``
(`readtrack.cli.authoring`) and the repository's ``benchmarks/calibrate.py`` (which also rewrites
``benchmarks/RESULTS.md``) are faces of this module; it works for any plugin, wherever it lives (the user's
folder, an installed package, the built-ins).

1. `run_seeds`: ``readtrack run NAME... --device cpu --quick --only train --seeds S --jobs J --timeout 0``
   (``full``: without ``--quick``; one thread per run) recorded in a data dir of their own, never the
   reader's history: its database is named to the batch (``run_batch(history_db=...)``), and nothing of this
   process's environment changes, so the runs find the plugins the reader's own runs find.
2. `calibrate`: each plugin's runs of that mode read back from every such dir (`newest_runs`: the newest run
   of each seed, one torch release at a time), one `Calibration` per release, only when every seed ran and
   ran the plugin's code as it is now; with ``extend``, added to the record of that mode and release
   (`calibration.extended`). What is left out is said, with why (`Calibrations.said`).
3. `write`: the new calibrations merged into ``calibration.json`` in the plugin's own folder and the
   generated end of its page (``__init__.py``) made from them; nothing else is written. `rewrite_pages`
   makes that end again from the record as it stands, running nothing (``--pages``).
4. `verdict`: the line a face ends with: the torch releases the record holds for the mode, what the rule
   (``calibration.RULE_SEEDS``, ``RULE_SD``) still asks, and how many targets break it.

Torch-free: the runs are the workers' (`readtrack.batch.groups.run_batch`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from readtrack.base.errors import UsageError
from readtrack.base.words import plural, seeds_label
from readtrack.batch.executor import Executor, OnEvent
from readtrack.history import calibration
from readtrack.history.calibration import Calibration
from readtrack.history.calibration_state import missing
from readtrack.plugins.records import RunRecord

HOME, PLUGINS_DIR = "READTRACK_HOME", "READTRACK_PLUGINS_DIR"


def plugin_folder(name: str) -> Path:
    """The folder of the working plugin ``name``, where its record lives. An unknown name is a UsageError
    that suggests names, a broken plugin a PluginError, a plugin that is one module (no folder) a
    UsageError."""
    from readtrack.plugins.discovery import load_plugin

    plugin = load_plugin(name)
    folder = calibration.package_folder(plugin.info.package)
    if folder is None:
        raise UsageError(f"plugin {name} ({plugin.origin}) has no folder of its own to keep its record in")
    return folder


@contextmanager
def runs_in(home: str | os.PathLike[str]) -> Iterator[None]:
    """``READTRACK_HOME`` is ``home`` inside, and what it was (or unset) afterwards, whatever happens;
    ``READTRACK_PLUGINS_DIR`` is the user's plugin folder found before (``plugins/`` beside the reader's
    list, which may be in the reader's data dir), so the same plugins run. For a script's whole process
    (``benchmarks/bench_executors.py``): `run_seeds` and `newest_runs` name the database instead and change
    no environment (another thread, the TUI's, may read it meanwhile)."""
    from readtrack.plugins.folders import user_plugins_dir

    saved = {key: os.environ.get(key) for key in (HOME, PLUGINS_DIR)}
    user = user_plugins_dir()
    try:
        if user is not None:
            os.environ[PLUGINS_DIR] = os.fspath(user)
        os.environ[HOME] = os.fspath(home)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_seeds(
    names: Sequence[str],
    seeds: Sequence[int],
    *,
    full: bool,
    jobs: int,
    home: str | os.PathLike[str],
    on_event: OnEvent | None = None,
    executor: Executor | None = None,
) -> None:
    """Run the train stage of each plugin on each seed, on the CPU, one thread each (numbers, not times: no
    timeout, so a loaded machine cuts no run short), recorded in ``home``'s history only, on ``executor``
    (default: this machine's pool of ``jobs``; a Ray cluster's, `readtrack.batch.ray_executor`, spreads
    the seeds over its nodes). Raises `readtrack.batch.groups.BatchCancelled` when cancelled."""
    from readtrack.base.paths import database_in
    from readtrack.batch.groups import RunSettings, run_batch
    from readtrack.runner.threads import resolve_threads

    settings = RunSettings(device="cpu", quick=not full, only="train", timeout=0, threads=resolve_threads())
    run_batch(
        list(names),
        list(seeds),
        settings,
        workers=jobs,
        on_event=on_event,
        executor=executor,
        history_db=database_in(home),
    )


def newest_runs(
    name: str, homes: Sequence[str], seeds: Sequence[int], *, quick: bool
) -> dict[str, dict[int, RunRecord]]:
    """Torch release → seed → the newest finished run of that seed among ``name``'s multi-seed runs in every
    home: a record is one release's, so runs of two releases are never mixed, whichever is newer."""
    from readtrack.base.paths import database_in
    from readtrack.history import runs as history
    from readtrack.history.spread import GroupRecord

    best: dict[str, dict[int, RunRecord]] = {}
    for home in homes:
        for group in history.entries(name, db=database_in(home)):
            if not isinstance(group, GroupRecord):
                continue
            for run in group.runs:
                seed = run.info.seed
                if run.info.quick != quick or seed not in seeds:
                    continue
                runs = best.setdefault(calibration.torch_release(run.info.environment.get("torch", "?")), {})
                if seed not in runs or run.info.started_at > runs[seed].info.started_at:
                    runs[seed] = run
    return best


@dataclass
class Calibrations:
    """What `calibrate` made: each plugin's new calibrations (one per torch release its runs ran on), and
    one line for each thing left out or to be known, in order."""

    found: dict[str, list[Calibration]] = field(default_factory=dict)
    said: list[str] = field(default_factory=list)


def calibrate(
    names: Sequence[str], homes: Sequence[str], seeds: Sequence[int], *, full: bool, extend: bool = False
) -> Calibrations:
    """Each plugin's runs of the mode in ``homes`` made into calibrations (see the module docstring)."""
    from readtrack.history.spread import seed_dependent

    made = Calibrations()
    for name in names:
        folder = plugin_folder(name)
        by_release = newest_runs(name, homes, seeds, quick=not full)
        if not by_release:
            made.said.append(f"{name}: no run recorded: left out")
        for release, by_seed in by_release.items():
            runs = list(by_seed.values())
            absent = [s for s in seeds if s not in by_seed]
            if absent:
                made.said.append(f"{name}, torch {release}: no run for seed(s) {absent}: left out")
                continue
            code = calibration.fingerprint(folder)
            ran = {r.info.environment.get("code") for r in runs} - {None}  # None: recorded before
            if ran - {code}:
                made.said.append(
                    f"{name}, torch {release}: runs of other code than the plugin's now: run again; left out"
                )
                continue
            date = max(r.info.started_at for r in runs)[:10]
            new = calibration.from_runs(runs, code=code, date=date)
            for number in seed_dependent(new.numbers, runs):
                unrecorded = ", ".join(map(str, number.unrecorded_seeds()))
                made.said.append(
                    f"{name}: '{number.name}' is not recorded on seed(s) {unrecorded}: a name that changes "
                    "with the seed (put what varies in the detail)"
                )
            if extend:
                recorded = [c for c in calibration.load(folder) if c.key == new.key]
                try:
                    if not recorded:
                        raise ValueError(f"no {new.mode} record on torch {release} to extend")
                    new = calibration.extended(recorded[0], new)
                except ValueError as err:
                    made.said.append(f"{name}, torch {release}: not extended: {err}; left out")
                    continue
            made.found.setdefault(name, []).append(new)
    return made


def merged(name: str, new: Sequence[Calibration]) -> list[Calibration]:
    """The plugin's record as it would be with ``new`` in place of the calibrations of the same mode and
    torch release."""
    return calibration.merged(calibration.load(plugin_folder(name)), new)


def write(found: dict[str, list[Calibration]]) -> dict[str, Path]:
    """Record each plugin's new calibrations in its folder: ``calibration.json`` (merged with what it holds)
    and the generated end of its page. Returns each plugin's folder. A page whose docstring cannot take the
    block (no docstring, closing quotes on a line with text) is a UsageError, before anything is written."""
    from readtrack.base.atomic import atomic_write

    written = {}
    for name, new in found.items():
        folder = plugin_folder(name)
        record = calibration.merged(calibration.load(folder), new)
        text = _page_with(name, folder, record)
        calibration.save(folder, name, record)
        atomic_write(folder / "__init__.py", text)
        written[name] = folder
    return written


def rewrite_pages(names: Sequence[str]) -> dict[str, Path]:
    """The generated end of each plugin's page made again from its ``calibration.json`` as it stands, nothing
    run and the record untouched (``readtrack calibrate NAME --pages``: after the page's format changed).
    Returns the folders of the pages rewritten; a plugin without a record is left out (nothing to quote)."""
    from readtrack.base.atomic import atomic_write

    texts = {}
    for name in names:
        folder = plugin_folder(name)
        record = calibration.load(folder)
        if record:
            texts[folder] = _page_with(name, folder, record)  # every page checked before one is written
    for folder, text in texts.items():
        if (folder / "__init__.py").read_text(encoding="utf-8") != text:
            atomic_write(folder / "__init__.py", text)
    return {name: plugin_folder(name) for name in names if plugin_folder(name) in texts}


def _page_with(name: str, folder: Path, record: Sequence[Calibration]) -> str:
    """The text of ``folder``'s page with its generated end made from ``record``; a page whose docstring
    cannot take it (no docstring, closing quotes on a line with text) is a UsageError."""
    page = folder / "__init__.py"
    try:
        return calibration.page_with_block(
            page.read_text(encoding="utf-8"), calibration.page_block(name, record)
        )
    except (ValueError, SyntaxError) as err:
        raise UsageError(f"{name}: its page {page} cannot take the calibration: {err}") from None


def verdict(name: str, record: Sequence[Calibration], mode: str, code: str | None) -> str:
    """One line: the torch releases ``record`` holds for ``mode`` on the code as it is (``code``: its
    fingerprint now) with their seeds, what the rule still asks, the records of other code, and how many
    targets break the rule: "0 targets break the rule" is said only of a complete record."""
    ours = calibration.newest_first(record, mode)
    fresh = [c for c in ours if code is None or c.code == code]
    stale = [calibration.torch_release(c.torch) for c in ours if c not in fresh]
    releases = {calibration.torch_release(c.torch): len(c.seeds) for c in fresh}
    labels = [
        (calibration.torch_release(c.torch), seeds_label(c.seeds, sep=", ", shortest_range=3)) for c in fresh
    ]
    holds = ", ".join(f"torch {release} (seeds {seeds})" for release, seeds in labels)
    line = f"{name}, {mode}: " + (f"the record holds {holds}" if fresh else "no record on the code as it is")
    if stale:
        line += f"; made on other code, to run again: torch {', '.join(stale)}"
    lacking = missing(releases, mode)
    if lacking:
        line += f"; missing {', '.join(lacking)}"
    broken = calibration.problems(fresh, mode=mode)
    if broken:
        line += f"; {plural(len(broken), 'target')} {'break' if len(broken) > 1 else 'breaks'} the rule"
        line += "" if not lacking else " on what is recorded"
    elif not lacking:
        line += f"; complete: 0 targets break the rule ({calibration.RULE})"
    return line
