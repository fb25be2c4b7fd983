"""The T5 plugin: the bucket function against a plain-Python version of the paper's formula on more settings,
the bias on rectangular shapes, figure 2's span corruption, the noise mask's counts, and checks that fail
for swapped sign halves, a bidirectional decoder bias, a scaled attention and a lost closing sentinel."""

from __future__ import annotations

import math

import pytest
import torch
from readtrack_plugins.t5.model import (
    T5,
    RelativePositionBias,
    T5Config,
    corrupt_spans,
    greedy_decode,
    noise_mask,
    relative_position_bucket,
    span_corrupt,
)

from readtrack.runner import run_plugin
from readtrack.testing import check_catches, failures, run_stage

model_module = "readtrack_plugins.t5.model"
experiment_module = "readtrack_plugins.t5.experiment"


def paper_bucket(r: int, bidirectional: bool, num_buckets: int, max_distance: int) -> int:
    """Section 2.1 read literally, one integer at a time: half the buckets (per sign, if bidirectional) hold
    one offset each, the rest are logarithmically wider up to max_distance, and beyond it all is one."""
    if bidirectional:
        per_sign = num_buckets // 2
        base = per_sign if r > 0 else 0
        distance = abs(r)
    else:
        per_sign, base, distance = num_buckets, 0, max(0, -r)
    exact = per_sign // 2
    if distance < exact:
        return base + distance
    scaled = math.log(distance / exact) / math.log(max_distance / exact) * (per_sign - exact)
    return base + min(per_sign - 1, exact + math.floor(scaled))


@pytest.mark.parametrize(
    ("num_buckets", "max_distance"), [(32, 128), (16, 32), (64, 256), (8, 20), (128, 1000), (12, 40), (4, 10)]
)
@pytest.mark.parametrize("bidirectional", [True, False])
def test_bucket_function_equals_the_papers_formula(
    num_buckets: int, max_distance: int, bidirectional: bool
) -> None:
    offsets = range(-300, 301)
    ours = relative_position_bucket(torch.tensor(list(offsets)), bidirectional, num_buckets, max_distance)
    assert ours.tolist() == [paper_bucket(r, bidirectional, num_buckets, max_distance) for r in offsets]


@pytest.mark.parametrize("ulp", [-1, 1])
def test_bucket_edges_hold_when_the_devices_log_is_an_ulp_off(
    monkeypatch: pytest.MonkeyPatch, ulp: int
) -> None:
    """CUDA's float64 log came out an ulp low on an H200, and offsets ±64 (an edge: the product is exactly
    6) fell a bucket short of the integer-exact reference. Here torch.log is made an ulp low or high (what a
    GPU can do, which this machine cannot show): the buckets still equal the reference, and the formula
    without the nudge loses edges to the low log, so the scenario is real."""
    from readtrack_plugins.t5.experiment import BUCKET_SETTINGS, bucket_reference

    exact_log = torch.log

    def off_by_an_ulp(t: torch.Tensor) -> torch.Tensor:
        out = exact_log(t)
        return torch.nextafter(out, torch.full_like(out, ulp * math.inf))

    monkeypatch.setattr(torch, "log", off_by_an_ulp)
    offsets = torch.arange(-300, 301)
    for num_buckets, max_distance in BUCKET_SETTINGS:
        for bidirectional in (True, False):
            ours = relative_position_bucket(offsets, bidirectional, num_buckets, max_distance).tolist()
            reference = [
                bucket_reference(r, bidirectional, num_buckets, max_distance) for r in range(-300, 301)
            ]
            assert ours == reference, (num_buckets, max_distance, bidirectional)
    n = torch.tensor([64.0], dtype=torch.float64)
    plain = int(8 + (torch.log(n / 8) / math.log(128 / 8) * 8).long())  # the formula as published, in float64
    assert plain == (13 if ulp < 0 else 14)


def test_bucket_function_keeps_the_shape_of_its_input() -> None:
    offsets = torch.arange(-6, 6).view(3, 4)
    assert relative_position_bucket(offsets).shape == (3, 4)


@pytest.mark.parametrize(("q_len", "k_len"), [(1, 1), (3, 9), (9, 3), (40, 200)])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_the_bias_is_the_table_at_the_bucket_of_j_minus_i(
    q_len: int, k_len: int, bidirectional: bool
) -> None:
    module = RelativePositionBias(3, bidirectional).double()
    bias = module(q_len, k_len)
    assert bias.shape == (1, 3, q_len, k_len)
    for i in range(0, q_len, 7):
        for j in range(0, k_len, 5):
            expected = module.table.weight[paper_bucket(j - i, bidirectional, 32, 128)]
            torch.testing.assert_close(bias[0, :, i, j], expected)


def test_the_decoder_bias_cannot_tell_future_offsets_apart() -> None:
    bias = RelativePositionBias(2, bidirectional=False)(6, 6)[0]  # (H, 6, 6)
    future = torch.ones(6, 6, dtype=torch.bool).triu(1)
    assert torch.equal(bias[:, future], bias[:, 0, 1:2].expand(2, int(future.sum())))


def test_span_corruption_writes_figure_2() -> None:
    words = ["Thank", "you", "for", "inviting", "me", "to", "your", "party", "last", "week", "."]
    ids = {w: i for i, w in enumerate(words)}
    names = {**{i: w for w, i in ids.items()}, 100: "<X>", 101: "<Y>", 102: "<Z>"}
    mask = torch.tensor([w in ("for", "inviting", "last") for w in words])
    inputs, targets = corrupt_spans(torch.tensor([ids[w] for w in words]), mask, first_sentinel=100)
    assert " ".join(names[int(t)] for t in inputs) == "Thank you <X> me to your party <Y> week ."
    assert " ".join(names[int(t)] for t in targets) == "<X> for inviting <Y> last <Z>"


@pytest.mark.parametrize("length", [2, 3, 10, 20, 57, 200, 513])
def test_the_noise_mask_has_the_public_codes_counts(length: int) -> None:
    g = torch.Generator().manual_seed(length)
    for _ in range(20):
        mask = noise_mask(length, 0.15, 3.0, g)
        noise = min(max(round(length * 0.15), 1), length - 1)
        spans = int((mask & ~torch.cat([torch.tensor([False]), mask[:-1]])).sum())
        assert int(mask.sum()) == noise
        assert spans == max(min(round(noise / 3.0), noise, length - noise), 1)
        assert not mask[0] and mask[-1]  # kept and corrupted spans alternate, starting with a kept one


@pytest.mark.parametrize(("density", "mean_span"), [(0.15, 3.0), (0.5, 1.0), (0.3, 8.0)])
def test_span_corruption_loses_nothing(density: float, mean_span: float) -> None:
    g = torch.Generator().manual_seed(0)
    for length in (1, 2, 5, 31, 100):
        x = torch.randint(0, 50, (length,), generator=g)
        inputs, targets = span_corrupt(x, 50, g, density, mean_span)
        kept = inputs[inputs < 50]
        corrupted = targets[targets < 50]
        assert len(kept) + len(corrupted) == length
        assert int((targets >= 50).sum()) == int((inputs >= 50).sum()) + 1  # one closing sentinel more
    one_token, alone = span_corrupt(torch.tensor([7]), 50, g)
    assert one_token.tolist() == [7] and alone.tolist() == [50]


def test_greedy_decoding_returns_the_requested_length() -> None:
    model = T5(T5Config(14, d_model=16, n_heads=2, d_ff=32, n_layers=1))
    out = greedy_decode(model, torch.randint(0, 10, (3, 5)), 4, start=13)
    assert out.shape == (3, 4) and int(out.max()) < 14


def swapped_sign_halves(
    relative_position: torch.Tensor,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> torch.Tensor:
    """A broken bucket function: keys before the query get the upper half instead of keys after it."""
    flipped = -relative_position if bidirectional else relative_position
    return relative_position_bucket(flipped, bidirectional, num_buckets, max_distance)


def always_bidirectional(
    relative_position: torch.Tensor,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> torch.Tensor:
    """A broken decoder: its self-attention bias uses bidirectional buckets."""
    return relative_position_bucket(relative_position, True, num_buckets, max_distance)


def test_the_check_catches_swapped_sign_halves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{experiment_module}.relative_position_bucket", swapped_sign_halves)
    monkeypatch.setattr(f"{model_module}.relative_position_bucket", swapped_sign_halves)
    failed = check_catches(
        "t5", "relative_position_bucket vs integer-exact reference", "encoder position bias"
    )
    assert not any(
        "causal" in name and "integer-exact" in name for name in failed
    )  # causal buckets untouched


def test_the_check_catches_a_bidirectional_decoder_bias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{model_module}.relative_position_bucket", always_bidirectional)
    failed = check_catches("t5", "decoder position bias vs table[reference bucket], causal")
    assert not any(name.startswith("encoder") for name in failed)


def test_the_check_catches_attention_scaled_by_one_over_root_d(monkeypatch: pytest.MonkeyPatch) -> None:
    from readtrack_plugins.t5 import model

    def scaled(
        q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor | None, causal: bool = False
    ) -> torch.Tensor:
        return model.attention(q / math.sqrt(q.shape[-1]), k, v, bias, causal)  # T5 has no 1/√d

    monkeypatch.setattr(f"{experiment_module}.attention", scaled)
    check_catches("t5", "attention with bias vs SDPA float mask", "gradients (q, k, v, bias) vs SDPA")


def test_the_check_catches_a_lost_closing_sentinel(monkeypatch: pytest.MonkeyPatch) -> None:
    def unclosed(
        tokens: torch.Tensor, first_sentinel: int, g: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        inputs, targets = span_corrupt(tokens, first_sentinel, g)
        return inputs, targets[:-1]

    monkeypatch.setattr(f"{experiment_module}.span_corrupt", unclosed)
    check_catches("t5", "span corruption: sentinels in order")


def test_the_train_claim_fails_without_the_relative_bias(monkeypatch: pytest.MonkeyPatch) -> None:
    """The idea removed: the "with relative bias" model built without it. Its encoder then sees a bag of
    digits, copy and reverse stay at the order-guessing ceiling: their targets fail, and the paired A/B."""

    def without_bias(*args: object, **kwargs: object) -> T5Config:
        return T5Config(*args, **{**kwargs, "relative_bias": False})

    monkeypatch.setattr(f"{experiment_module}.T5Config", without_bias)
    result = run_stage("t5", "train")
    assert result.verdict() == "failed"
    failed = {t.name for t in result.targets if not t.passed}
    assert failed == {
        "T5 with relative bias: exact match on copy:",
        "T5 with relative bias: exact match on reverse:",
        "relative bias − no position information: exact match on copy: and reverse: (paired)",
    }, failures(result)


def test_the_two_arms_share_initialisation_and_data() -> None:
    """The A/B is paired: with the switch at ``position=none`` the model under test is the blind model, and
    trained from the same initial weights on the same batches it decodes every test string as the blind one
    does, task by task; such a run asserts nothing (its targets were calibrated on the defaults)."""
    record = run_plugin("t5", device="cpu", quick=True, seed=3, only="train", keep_history=False,
                        settings={"position": "none", "steps": 40, "inits": 2})  # fmt: skip
    (result,) = record.stages
    assert result.status != "error", result.error
    assert not result.targets
    value = {m.name: m.value for m in result.measured}
    for task in ("copy:", "reverse:", "sort:"):
        with_bias = value[f"exact match, {task} (relative bias)"]
        assert with_bias == value[f"exact match, {task} (no position information)"], task
