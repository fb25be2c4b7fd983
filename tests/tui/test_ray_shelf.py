"""The TUI's shelf (``R``) on a Ray cluster (``READTRACK_EXECUTOR=ray``, ``RAY_ADDRESS``): the TUI's own
process drives the cluster of `tests/ray_lab.py` through Pilot, as a reader's would."""

from __future__ import annotations

from pathlib import Path

import pytest
import ray
from ray_lab import Lab
from tui_driver import run_app, run_first_section

from readtrack.batch.ray_executor import LOOPBACK
from readtrack.catalog import edits
from readtrack.history import runs as history

pytestmark = [pytest.mark.xdist_group("ray"), pytest.mark.slow]


def test_the_tuis_shelf_runs_a_section_on_the_cluster_and_fills_the_badges(
    ray_lab: Lab, catalog_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {**LOOPBACK, "READTRACK_EXECUTOR": "ray", "RAY_ADDRESS": ray_lab.address}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("READTRACK_PLUGINS_DIR", str(ray_lab.plugins))
    edits.set_fields(catalog_file, "adamw", {"plugin": "toy"})
    edits.set_fields(catalog_file, "lbfgs", {"plugin": "fails"})

    text = run_app(catalog_file, run_first_section, size=(140, 40))
    assert "✓ toy" in text and "✗ fails" in text  # the badges, filled as the results came in
    runs = {r.info.plugin: r for r in history.runs()}
    assert {p: r.status for p, r in runs.items()} == {"toy": "passed", "fails": "failed"}
    assert {r.info.environment["node"] for r in runs.values()} <= ray_lab.node_ids()
    assert ray.is_initialized()  # the TUI's process drove the cluster itself
