"""The knobs of the attention family bench (``readtrack knobs attention-bench``; ``--set K=V``).

The defaults are the calibrated bench: turn one and the run reports its targets without asserting them.
``mqa_heads`` is the ablation switch: the key-value heads of the multi-query member (1 is Shazeer's
multi-query attention; 8 gives it all of multi-head attention's heads, and its cache with them).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    steps: int = knob(
        600, quick=200, low=10, high=100_000, help="Adam steps of `batch` sequences for every member"
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="one Adam learning rate for every member",
        means={0.0: "each member its best of its own grid, on validation text (quick: the grid's pick)"},
    )
    batch: int = knob(32, low=1, high=4096, help="sequences per step")
    depth: int = knob(
        2, quick=1, low=1, high=8, help="decoder blocks of every member", paper="32 (Mistral 7B)"
    )
    d_model: int = knob(
        32, choices=(32, 64, 128), help="the decoder's width, 8 query heads of d_model / 8", paper="4096"
    )
    lag: int = knob(
        8,
        low=3,
        high=64,
        help="the recall's distance: the text's tokens come again this many positions later",
    )
    window: int = knob(
        8,
        low=1,
        high=128,
        help="W of the sliding window member whose window reaches the recall (it sees W − 1 back a layer)",
        paper="4096",
    )
    narrow: int = knob(
        4, low=1, high=128, help="W of the sliding window member whose window falls short of the recall"
    )
    mqa_heads: int = knob(
        1,
        choices=(1, 2, 4, 8),
        help="key-value heads of the multi-query member, for 8 query heads (8: multi-head): the ablation",
        paper="1",
    )
