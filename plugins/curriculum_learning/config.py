"""The knobs of curriculum-learning's experiment (``readtrack knobs curriculum-learning``; ``readtrack run
curriculum-learning --set KEY=VALUE``).

The defaults are the calibrated experiment: (1) a one-layer transformer on Markov-chain text, 1500 Adam steps
from 1e-2 with cosine decay to 0 (quick: 200 at a constant 1e-2), from 5 paired initialisations (``inits``;
2 quick), competence-based sampling by unigram rarity from c0 = 0.01 against random order; (2) parity of 20
bits (12 quick) with a GRU(32), 1000 steps (500 quick) from 2 initialisations (``parity_inits``; 1 quick),
lengths paced by mastery against the full length from the start. Turn one and the run reports its targets
without asserting them. ``curriculum`` is the ablation switch: false trains the curriculum arms as their
baselines (random order; parity at full length from the start), the idea removed.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    curriculum: bool = knob(
        True,
        help="the curriculum arms use theirs (competence sampling; mastery pacing); false: as the baselines",
        paper="competence-based, sqrt (Platanios et al.)",
    )
    steps: int = knob(1500, quick=200, low=1, high=100_000, help="the LM's Adam steps of 32 sequences")
    lr: float = knob(
        1e-2,
        low=1e-6,
        high=1.0,
        help="the LM's Adam rate: its first, then cosine-decayed to 0 (decay)",
        paper="not stated at this scale",
    )
    decay: bool = knob(
        True,
        quick=False,
        help="the LM's rate decays from lr to 0 by a cosine; false (quick): constant, 200 steps are too few",
    )
    inits: int = knob(
        5,
        quick=2,
        low=2,
        high=50,
        help="initialisations averaged inside one run: LM initialisations per order (the gain's spread)",
    )
    c0: float = knob(
        0.01,
        low=1e-3,
        high=1.0,
        help="the competence at step 0: the easiest share of the text the LM starts on (1: no curriculum)",
        paper="0.01",
    )
    bits: int = knob(20, quick=12, low=2, high=64, help="parity's string length: the task's difficulty")
    parity_steps: int = knob(1000, quick=500, low=1, high=100_000, help="parity's Adam steps of 64 strings")
    parity_inits: int = knob(
        2, quick=1, low=1, high=20, help="parity's initialisations inside one run, each both arms"
    )
    hidden: int = knob(32, low=1, high=1024, help="the parity GRU's hidden units")
