"""The knobs of RoPE's train stage (issue 55): the defaults are the calibrated run, quick (300 Adam steps,
each model at its rate of ``QUICK_LR``) and full (600 steps, each at its best of the grid on validation
sequences); both a one-layer model of width 32, batches of 64 sequences of 32 tokens of 16 symbols, the
task "output the token 3 steps back", tested in place and shifted by 100 positions.

The ablation switch is ``positions``: what the model under test (the "RoPE" lines) uses in RoPE's place.
``learned`` gives it learned absolute positions, the comparison model's own (so the two are one model),
``none`` no position at all (RoPE with every token at one position: every rotation the same, so every
score is unrotated), which cannot tell three steps back from any other.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    positions: str = knob(
        "rope",
        choices=("rope", "learned", "none"),
        help="the model under test's positions: the ablation (the comparison keeps learned ones)",
        paper="rope (against BERT-style learned absolute positions)",
    )
    steps: int = knob(600, quick=300, low=1, high=100_000, help="Adam steps per model")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for both models",
        means={0.0: "each its best of 3e-3, 1e-2, 3e-2 (quick: RoPE 3e-2, learned positions 1e-2)"},
        paper="AdamW (BERT-style pre-training)",
    )
    batch: int = knob(64, low=1, high=4096, help="sequences per Adam step")
    d_model: int = knob(
        32, choices=(8, 16, 32, 64, 128), help="the layer's width (2 heads)", paper="BERT-base's 768"
    )
    seq_len: int = knob(
        32, low=16, high=128, help="tokens per sequence (the training positions)", paper="512 tokens"
    )
    lag: int = knob(3, low=1, high=15, help="the task: output the token this many steps back")
    shift: int = knob(
        100, low=1, high=128, help="positions the test sequence is moved by (the extrapolation)"
    )
    vocab: int = knob(16, low=2, high=1024, help="symbols to copy (chance is 1/vocab)")
