"""The knobs of whisper's experiment (``readtrack knobs whisper``; ``readtrack run whisper --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``task_token`` is the ablation switch: the multitask model told its task by <|transcribe|> or
<|translate|> in its prompt (the paper), or trained and decoded without it (then it cannot know which
output is asked).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    task_token: bool = knob(
        True,
        help="the multitask model reads its task from a token in the prompt (false: the token removed)",
        paper="true",
    )
    steps: int = knob(600, quick=400, low=1, high=20_000, help="Adam steps per model")
    lr: float = knob(
        0.0,
        quick=1e-3,
        low=0.0,
        high=1.0,
        help="Adam's peak rate for every model",
        means={0.0: "each arm its best of 1e-3 and 3e-3 on validation clips"},
        paper="1.5e-3 (tiny) to 1.75e-4 (large), AdamW",
    )
    decay: bool = knob(
        True,
        quick=False,
        help="the rate decays linearly to 0 over the steps (false: constant)",
        paper="linear decay to 0 after a warm-up",
    )
    batch: int = knob(64, low=1, high=1024, help="clips per step, each with its task drawn at random")
    d_model: int = knob(
        64,
        quick=32,
        low=4,
        high=512,
        multiple_of=2,
        help="width of the encoder and the decoder (2 heads)",
        paper="384 (tiny) to 1280 (large)",
    )
    layers: int = knob(1, low=1, high=8, help="blocks in the encoder and in the decoder", paper="4-32 each")
    noise: float = knob(
        1.0,
        low=0.0,
        high=10.0,
        help="scale of the background noise (1: each clip's white noise of sd 0.05 to 0.2)",
        paper="real recordings",
    )
