"""The Galactica plugin: the two addition formats and their parser on any numbers (hypothesis), the trace
checker, decoding with a key/value cache on more model shapes, the optimiser's warmup-hold-decay rate; checks
that fail for a formatter whose carry is wrong, either per example or vectorised, and for a cache that reads
the wrong position; and the quick run's asserted claim failing with the idea removed."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from itertools import pairwise
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from readtrack_plugins.galactica import experiment
from readtrack_plugins.galactica.model import (
    END_WORK,
    PLUS,
    WORK,
    decode_step,
    digits,
    format_batch,
    format_example,
    greedy,
    loss_mask,
    parse,
    prompt,
    sequence_length,
)

from readtrack.plugin_kit.transformer import TinyTransformer
from readtrack.testing import check_catches, failures, run_stage

PLUGIN = "readtrack_plugins.galactica"


@st.composite
def additions(draw: st.DrawFn) -> tuple[int, int, int]:
    D = draw(st.integers(1, 9))
    return draw(st.integers(0, 10**D - 1)), draw(st.integers(0, 10**D - 1)), D


@settings(max_examples=200, deadline=None)
@given(additions(), st.booleans())
def test_parser_inverts_formatter_and_the_batch_formatter_agrees(
    case: tuple[int, int, int], scratch: bool
) -> None:
    a, b, D = case
    sequence = format_example(a, b, D, scratch)
    parsed = parse(sequence, D)
    assert (parsed.a, parsed.b, parsed.answer) == (a, b, a + b)
    assert len(sequence) == sequence_length(D, scratch) == len(loss_mask(D, scratch)) + 1
    assert format_batch(torch.tensor([a]), torch.tensor([b]), D, scratch).tolist() == [sequence]
    assert experiment.trace_recomputes_sum(sequence, D) == scratch  # a direct sequence has no trace


def test_the_trace_of_123_plus_989() -> None:
    sequence = format_example(123, 989, 3, scratchpad=True)
    assert sequence[:9] == [1, 2, 3, PLUS, 9, 8, 9, 11, WORK]
    assert sequence[9:21] == [3, 9, 2, 1, 2, 8, 1, 1, 1, 9, 1, 1]  # a_i b_i s_i c_(i+1), i = 0, 1, 2
    assert sequence[21:] == [END_WORK, 1, 1, 1, 2]  # 1112, most significant first
    assert format_example(123, 989, 3, scratchpad=False)[8:] == [1, 1, 1, 2]
    assert digits(1112, 4) == [2, 1, 1, 1]


def test_the_checker_rejects_a_wrong_carry_a_wrong_digit_or_a_wrong_answer() -> None:
    good = format_example(58, 67, 2, scratchpad=True)  # 8 + 7 = 15: carry 1; 5 + 6 + 1 = 12
    assert experiment.trace_recomputes_sum(good, 2)
    for position, value in ((10, 0), (8, 9), (len(good) - 1, 6)):  # carry out of digit 0, b_0, last digit
        bad = list(good)
        bad[position] = value
        assert not experiment.trace_recomputes_sum(bad, 2), position
    with pytest.raises(ValueError, match="not an addition prompt"):
        parse([1, 2, 3], 2)


@pytest.mark.parametrize(("layers", "heads", "n"), [(1, 1, 1), (3, 2, 9), (2, 4, 17)])
def test_cached_decoding_equals_the_full_forward(layers: int, heads: int, n: int) -> None:
    torch.manual_seed(0)
    model = TinyTransformer(14, 20, 16, heads, layers).double()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
    tokens = torch.randint(0, 14, (2, n))
    cache: list[tuple[torch.Tensor, torch.Tensor]] = []
    with torch.no_grad():
        steps = torch.stack([decode_step(model, tokens[:, t], t, cache) for t in range(n)], dim=1)
        torch.testing.assert_close(steps, model(tokens))
    assert [k.shape for k, _ in cache] == [(2, heads, n, 16 // heads)] * layers
    prompts = tokens[:, : max(1, n // 2)]
    assert torch.equal(greedy(model, prompts, 5), experiment._greedy_without_cache(model, prompts, 5))


def test_the_loss_mask_starts_after_the_prompt() -> None:
    assert loss_mask(3, scratchpad=False).tolist() == [False] * 7 + [True] * 4
    assert loss_mask(3, scratchpad=True).sum() == 4 * 3 + 1 + 4  # work, </work>, answer
    assert len(prompt(0, 0, 3, scratchpad=True)) == 9


def test_the_wsd_rate_warms_up_holds_and_decays_to_zero() -> None:
    rates = [experiment.rate(step, 400, 3e-3, "wsd") for step in range(400)]
    assert rates[0] == pytest.approx(3e-3 / 40) and rates[39] == rates[300] == 3e-3  # 10% warmup, then held
    assert rates[399] == pytest.approx(3e-5)  # the last 25% fall linearly towards 0
    assert all(later < earlier for earlier, later in pairwise(rates[300:]))
    assert {experiment.rate(step, 400, 3e-3, "constant") for step in range(400)} == {3e-3}


def wrong_carry(a: int, b: int, D: int, scratchpad: bool) -> list[int]:
    """The per-example formatter with a carry that ignores the incoming one: c_(i+1) = ⌊(a_i + b_i)/10⌋."""
    sequence = format_example(a, b, D, scratchpad)
    if scratchpad:
        start = len(prompt(a, b, D, True))
        for i, (a_i, b_i) in enumerate(zip(digits(a, D), digits(b, D), strict=True)):
            sequence[start + 4 * i + 3] = (a_i + b_i) // 10
    return sequence


def wrong_batch_carry(a: torch.Tensor, b: torch.Tensor, D: int, scratchpad: bool) -> torch.Tensor:
    """The vectorised formatter with the same wrong carry."""
    out = format_batch(a, b, D, scratchpad)
    if scratchpad:
        power = 10 ** torch.arange(D)
        local = (a[:, None] // power % 10 + b[:, None] // power % 10) // 10  # (B, D)
        start = 2 * D + 3
        out[:, start + 3 : start + 4 * D : 4] = local
    return out


def off_by_one(
    model: TinyTransformer, token: torch.Tensor, position: int, cache: list[tuple[torch.Tensor, torch.Tensor]]
) -> torch.Tensor:
    """A cache that embeds each token at the next position."""
    return decode_step(model, token, min(position + 1, model.max_len - 1), cache)


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        (f"{PLUGIN}.experiment.format_example", wrong_carry, ("the work trace recomputes the sum",)),
        (f"{PLUGIN}.experiment.format_batch", wrong_batch_carry, ("vectorised formatter",)),
        (f"{PLUGIN}.experiment.decode_step", off_by_one, ("decoding with a key/value cache",)),
    ],
)
def test_the_check_stage_catches_a_wrong_carry_or_a_misplaced_cache(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: tuple[str, ...]
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("galactica", *caught_by)


def test_the_quick_claim_fails_without_the_scratchpad(monkeypatch: pytest.MonkeyPatch) -> None:
    """The idea removed: the "scratchpad" model is trained and decoded on the direct format too, so both arms
    are the same model, the scratchpad − direct margin is exactly 0 and the quick run's asserted claim
    (≥ 0.2) fails."""
    for name in ("format_batch", "loss_mask", "sequence_length", "prompt"):  # each takes scratchpad last
        monkeypatch.setattr(experiment, name, partial(_direct, getattr(experiment, name)))
    result = run_stage("galactica", "train")
    (margin,) = result.targets
    assert "scratchpad − direct (4-digit addition)" in margin.name, failures(result)
    assert margin.value == 0.0 and margin.target == 0.2 and not margin.passed, margin
    assert result.verdict() == "failed"


def _direct(format_function: Callable[..., Any], *args: Any) -> Any:
    return format_function(*args[:-1], False)
