"""plugin_kit.memory: the bytes a training step keeps for backward, counted from what autograd saves."""

from __future__ import annotations

import torch
from torch import nn

from readtrack.plugin_kit.memory import backward_memory


def test_it_counts_what_a_layer_keeps_and_not_the_parameters() -> None:
    x = torch.randn(8, 64)
    linear = nn.Linear(64, 64)
    kept = backward_memory(linear, lambda: linear(x).sum().backward())
    assert kept == x.numel() * 4  # the input, saved for the weight's gradient; the weight is a parameter
    tanh = nn.Sequential(nn.Linear(64, 64), nn.Tanh())
    assert backward_memory(tanh, lambda: tanh(x).sum().backward()) >= 2 * x.numel() * 4  # and tanh's output


def test_a_saved_view_counts_its_whole_storage_so_a_step_gets_its_own_batch() -> None:
    """A batch sliced from a dataset is a view: what the step saves keeps the whole dataset's storage
    alive, and that is what is counted. A bench gives the step a batch of its own (drawn by indexing, or
    cloned), as cnn-bench does; normalization-bench's image layers were counted with their dataset."""
    data = torch.randn(1000, 64)
    linear = nn.Linear(64, 64)
    sliced = backward_memory(linear, lambda: linear(data[:8]).sum().backward())
    own = backward_memory(linear, lambda: linear(data[:8].clone()).sum().backward())
    assert (sliced, own) == (data.numel() * 4, 8 * 64 * 4)
