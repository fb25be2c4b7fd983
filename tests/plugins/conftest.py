"""Fixtures for the plugin tests; running a stage as ``readtrack run`` does lives in ``plugin_stages``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """The tiny models here are dominated by per-op overhead: on a shared 2-core machine a second OpenMP
    thread waiting at every op barrier slows them several times over, and speeds nothing up."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
