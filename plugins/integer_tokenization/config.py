"""The knobs of integer-tokenization's experiment (``readtrack knobs integer-tokenization``;
``readtrack run integer-tokenization --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``split_digits`` is the ablation switch: the "digit tokens" arm's tokenizer splits numbers into single
digits (LLaMA's and PaLM's rule), or, turned off, keeps digit runs as the BPE arm does (a null A/B).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    split_digits: bool = knob(
        True,
        help="the 'digit tokens' arm splits numbers into single digits; off: it keeps digit runs, as BPE",
        paper="split (the post's proposal)",
    )
    steps: int = knob(1500, quick=200, low=1, high=20_000, help="AdamW steps per model, one batch each")
    lr: float = knob(
        0.0,
        quick=1e-2,
        low=0.0,
        high=1.0,
        help="AdamW's rate for both arms",
        means={0.0: "each arm its best of 3e-3, 1e-2 on the validation pairs"},
    )
    batch: int = knob(128, low=1, high=4096, help="addition examples per step")
    d_model: int = knob(
        32, choices=(8, 16, 32, 64, 128, 256, 512), help="the TinyTransformer's width (4 heads)"
    )
    layers: int = knob(2, low=1, high=12, help="the TinyTransformer's layers")
    unseen: int = knob(
        10,
        low=1,
        high=40,
        help="numbers 0-99 never trained on as an operand (and as many others for validation)",
    )
    inits: int = knob(1, low=1, high=20, help="initialisations averaged inside one run (and batch orders)")
