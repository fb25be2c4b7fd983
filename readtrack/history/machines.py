"""Where runs ran, said once for a set of them: ``ran on 2 machines: gpu-a (3 runs), gpu-b (2 runs)``.

A record names its host and Ray node when a cluster ran it (``environment.host``, ``environment.node``:
`readtrack.batch.ray_executor`) and its device always (``environment.device``, ``device_name``). Runs that
`readtrack compare` lines up, or a multi-seed run's per-seed table, may have run on several machines: their
numbers then need not agree to the bit, and the reader is told so. Two Ray nodes on one host are one machine;
a record without a host (a run made on the driver's machine, before the cluster) is one machine only with
runs whose host is not known either. Nothing is said when all ran on one. Torch-free.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from readtrack.base.words import plural
from readtrack.history.spread import GroupRecord
from readtrack.plugins.records import RunRecord

#: A run's host, as said when some runs have one and it has none.
NO_HOST = "host not recorded"


def _device(run: RunRecord) -> str:
    """``cuda:0 (NVIDIA H200)``, ``cpu``: the device and, when recorded, its name."""
    env = run.info.environment
    device = str(env.get("device") or run.info.device or "?")
    name = env.get("device_name")
    return f"{device} ({name})" if name and device != "cpu" else device


def _host(run: RunRecord) -> str | None:
    host = run.info.environment.get("host")
    return str(host) if host else None


def machines(runs: Iterable[RunRecord]) -> tuple[str, list[tuple[str, int]]]:
    """What ``runs`` ran on, each place with its count of runs, in the order first met: their hosts when
    two or more hosts are recorded, their devices when those differ (both when both do), with the noun
    that says them (``machines`` or ``devices``). One place: all ran on one."""
    runs = list(runs)
    hosts = {h for h in map(_host, runs) if h is not None}
    devices = set(map(_device, runs))
    by_host, by_device = len(hosts) > 1, len(devices) > 1
    labels = []
    for run in runs:
        parts = [_host(run) or NO_HOST] if by_host else []
        parts += [_device(run)] if by_device else []
        labels.append(" · ".join(parts))
    counts = Counter(labels)
    return ("machines" if by_host else "devices"), [(label, counts[label]) for label in dict.fromkeys(labels)]


def runs_of(entries: Iterable[RunRecord | GroupRecord]) -> list[RunRecord]:
    """The runs of ``entries``: a run itself, a multi-seed run's seeds' runs."""
    return [run for e in entries for run in (e.runs if isinstance(e, GroupRecord) else [e])]


def ran_on_line(runs: Iterable[RunRecord]) -> str | None:
    """``ran on 2 machines: gpu-a (3 runs), gpu-b (2 runs)`` (hosts), ``ran on 2 devices: cuda:0 (NVIDIA
    H200) (1 run), cpu (1 run)`` (one host or none recorded); None when all ran on one."""
    noun, found = machines(runs)
    if len(found) < 2:
        return None
    return f"ran on {len(found)} {noun}: " + ", ".join(f"{label} ({plural(n, 'run')})" for label, n in found)


def attempts_line(run: RunRecord) -> str | None:
    """``2 attempts: 1 on vm node 1a2b3c4d retried (its worker or node lost), 2 on vm node 5e6f7a8b
    passed`` for a run that took more than one (`RunInfo.attempts`); None for a run made once."""
    tried = run.info.attempts
    if len(tried) < 2:
        return None
    said = []
    for n, attempt in enumerate(tried, 1):
        where = f"{attempt.get('host') or '?'} node {str(attempt.get('node') or '?')[:8]}"
        status = str(attempt.get("status") or "?")
        lost = " (its worker or node lost)" if status == "retried" else ""
        said.append(f"{attempt.get('attempt', n)} on {where} {status}{lost}")
    return f"{len(tried)} attempts: " + ", ".join(said)
