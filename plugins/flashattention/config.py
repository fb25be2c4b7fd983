"""The knobs of FlashAttention's experiment (``readtrack knobs flashattention``; ``readtrack run
flashattention --set KEY=VALUE``).

The defaults are the calibrated experiment: a one-layer, single-head attention model of width 32 learns to
reverse sequences of 37 digits (10 symbols) in 300 Adam steps of 32 sequences at 2e-2 (quick: 90 steps),
flash attention in tiles of 32 × 32 driving the steps and naive attention on the same weights beside it;
turn one and the run reports its targets without asserting them. ``block`` is the ablation switch: the tile
size B_r = B_c of the PyTorch tiles, 32 leaving a short last tile of 5; a block of 64 (≥ N) is one tile, the
online softmax never rescales and the tiling is gone, while small blocks rescale at every one of many tiles.
The Triton kernel (``--impl triton``) picks its own tiles and ignores it; ``kernel`` chooses its forward
pass, a rung of the FlashAttention-3 ladder (hopper_kernels.py): ``fa2`` the FlashAttention-2 kernel, then
TMA loads, deeper pipelining, GEMM-softmax overlap, a persistent grid, warp specialization, FP8
(forward-only: the train stage refuses it).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    block: int = knob(
        32,
        choices=(1, 4, 8, 16, 32, 64),
        help="tile size B_r = B_c of the PyTorch tiles (≥ seq_len: one tile, no online rescaling)",
        paper="B_c = ⌈M/4d⌉, B_r = min(B_c, d) for an on-chip SRAM of size M (Algorithm 1)",
    )
    steps: int = knob(300, quick=90, low=1, high=100_000, help="Adam steps, flash's gradients driving each")
    lr: float = knob(2e-2, low=1e-6, high=1.0, help="Adam's learning rate")
    batch: int = knob(32, low=1, high=4096, help="sequences per step, each step a fresh batch")
    d_model: int = knob(32, low=1, high=1024, help="the model width d (one head of dimension d)", paper="64")
    seq_len: int = knob(
        37, low=1, high=1024, help="digits to reverse (the difficulty; N)", paper="N up to 64K"
    )
    vocab: int = knob(10, low=2, high=1000, help="symbols a position can hold (chance is 1/vocab)")
    kernel: str = knob(
        "fa2",
        choices=("fa2", "tma", "stages", "overlap", "persistent", "ws", "fp8"),  # hopper_kernels.RUNGS
        help="the Triton forward (--impl triton): a rung of the FlashAttention-3 ladder; fp8 is forward-only",
        paper="FlashAttention-3 (arXiv 2407.08608) §3.1-3.3",
    )
