"""The contract every discovered paper plugin keeps: on the CPU in quick mode, its check passes, its
claim's targets are reached, and its benchmark yields numbers.

Parametrized over ``discover()`` (built-in and installed plugins), so a new plugin is covered the moment it
exists; a broken one fails here with its error.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from readtrack import history, plugins
from readtrack.runner import run_plugin

FOUND = plugins.discover(include_user=False)


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """One intra-op thread, as ``tests/plugins/conftest.py`` sets for the plugins' own tests. Alone on two
    cores a second thread speeds the quick runs by 15-30 %, but with anything else running (a second job, a
    noisy CI neighbour) its spin-waits at every op barrier made a quick run 5-10x slower (fuyu: 12 s alone,
    145 s beside one other torch process), towards the per-test timeout."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize("plugin", FOUND, ids=[p.name for p in FOUND])
def test_plugin_checks_reaches_its_targets_and_benchmarks(plugin: plugins.Plugin) -> None:
    assert isinstance(plugin, plugins.LoadedPlugin), f"{plugin.name} is broken: {plugin.error}"
    record = run_plugin(plugin.name, device="cpu", quick=True, seed=0)
    stages = {s.stage: s for s in record.stages}
    problems = [f"{s.stage}: {s.status} {s.error or ''}" for s in record.stages if s.status != "passed"]
    problems += [
        f"check {c.name}: {c.max_abs} {c.detail}" for c in stages["check"].comparisons if not c.passed
    ]
    problems += [f"target {t.name}: {t.value} vs {t.target}" for t in stages["train"].targets if not t.passed]
    assert not problems, "\n".join(problems)

    assert stages["check"].comparisons, "the check stage compared nothing"
    assert stages["train"].targets, "the train stage declared no target"
    rows = stages["bench"].bench
    assert rows and all(r.error is None and r.median_s > 0 and math.isfinite(r.median_s) for r in rows)
    assert any(r.baseline for r in rows), "no benchmark row is marked as the baseline"
    assert record.status == "passed"
    assert history.last_run(plugin.name).status == "passed"  # type: ignore[union-attr]
