"""The knobs of explain-neurons' experiment (``readtrack knobs explain-neurons``; ``--set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``simulator`` is the ablation switch: the simulated activations come from the explanation (the paper's
simulator), or each simulation is shuffled over the held-out tokens, so that it no longer comes from the
explanation on that text and the score can no longer tell a right explanation from a wrong one.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    simulator: str = knob(
        "explanation",
        choices=("explanation", "shuffled"),
        help="what is scored: the explanation's simulation, or the same shuffled over the held-out tokens",
        paper="explanation",
    )
    inits: int = knob(
        4,
        quick=1,
        low=1,
        high=20,
        help="initialisations averaged inside one run: models planted, each from its own seed",
    )
    texts: int = knob(
        1000,
        quick=300,
        low=1,
        high=10_000,
        help="random sequences of 16 tokens in the explainer's text, and as many held out for scoring",
    )
    snippets: int = knob(20, low=1, high=1000, help="top-activating sequences the explainer is shown")
    proposals: int = knob(
        5, low=1, high=100, help="explanations proposed per neuron; the score keeps the best (1: no choice)"
    )
    noise: float = knob(
        0.05, low=0.0, high=1.0, help="sd of the jitter on a planted neuron's weights (the difficulty)"
    )
    per_kind: int = knob(4, low=1, high=50, help="planted neurons per kind of feature (5 kinds)")
    polysemantic: int = knob(5, low=1, high=100, help="neurons firing on two unrelated features, OR-ed")
    random: int = knob(10, low=1, high=100, help="neurons with random weights, the score's floor")
