"""The knobs of ByT5's experiment (``readtrack knobs byt5``; ``readtrack run byt5 --set KEY=VALUE``).

The defaults are the calibrated experiment: sentences of 2-4 made-up words naming one of 8 topics, 3000 to
train on, 1000 to test (quick: 500); a subword classifier of 2 layers at d = 32 against the byte classifier of
its size, 1000 AdamW steps of 32 sentences (quick: 600), each model at its rate (``experiment.LR``: 3e-3
bytes, 1e-3 subwords, the grid's pick on validation sentences); the full run averages 5 replicates of the
paired A/B (quick: 1), each with its own lexicon, sentences, noise, batches and initialisation. Turn one and
the run reports its targets without asserting them. ``reads`` is the ablation switch: the arm under test (the
"bytes" one) reads UTF-8 bytes at the subword model's parameter count (ByT5), or the same BPE subwords with
the subword model's configuration, which makes it the subword model again."""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    reads: str = knob(
        "bytes",
        choices=("bytes", "subwords"),
        help="what the arm under test reads: UTF-8 bytes at the subword model's size, or the same subwords",
        paper="bytes",
    )
    steps: int = knob(
        1000, quick=600, low=1, high=100_000, help="AdamW steps per model and rate", paper="1M (pre-training)"
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="AdamW's peak rate for both models",
        means={0.0: "each its own, the grid's pick: bytes 3e-3, subwords 1e-3"},
        paper="Adafactor, T5's inverse square-root schedule",
    )
    batch: int = knob(32, low=1, high=4096, help="training sentences per step", paper="2^20 tokens")
    d_model: int = knob(
        32, choices=(8, 16, 32, 64, 128, 256), help="the model width d (4 heads)", paper="1472 (ByT5-Small)"
    )
    layers: int = knob(
        2,
        low=1,
        high=12,
        help="the subword model's encoder layers; the byte model gets more from the embedding it saves",
        paper="mT5-Small 8; ByT5-Small's encoder 12",
    )
    classes: int = knob(8, low=2, high=64, help="topics, 4 keywords each (the difficulty)")
    sentences: int = knob(
        3000, low=1, high=100_000, help="clean training sentences", paper="mC4 (pre-training)"
    )
    replicates: int = knob(
        5,
        quick=1,
        low=1,
        high=100,
        help="paired A/Bs averaged, each with its own lexicon, sentences, noise, batches and initialisation",
    )
    test_sentences: int = knob(
        1000, quick=500, low=1, high=100_000, help="test sentences, clean and under each of the four noises"
    )
