"""The tokenization family bench: its members are the lineage's, each reads text as its paper does (its check
catches a digit arm whose BPE merges digits, a MEGABYTE whose local model reads no byte, padding scored as
text), and the splitting claim fails when the BPE arm splits digits."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.integer_tokenization.model import number_text
from readtrack_plugins.megabyte.model import MegabyteConfig
from readtrack_plugins.tokenization_bench import experiment, model
from torch import nn

from readtrack.plugin_kit.bpe import BPE
from readtrack.plugins import discovery
from readtrack.plugins.lineages import declared
from readtrack.testing import check_catches, failures, run_stage

EXPERIMENT = "readtrack_plugins.tokenization_bench.experiment"


def test_every_member_of_the_tokenization_lineage_is_on_the_bench() -> None:
    family = declared(discovery.discovery(include_user=False).hooks).lineages["tokenization"]
    assert family.lineage.bench == "tokenization-bench"
    assert [m.key for m in family.members] == list(model.MEMBERS)


def test_what_each_member_reads_is_counted_the_same_on_every_run() -> None:
    lines = number_text(0, 300)
    text = experiment.chunks(number_text(1, 40))
    for _ in range(2):  # the same counts twice: nothing drawn
        found = experiment.readers(lines, 256)
        encoded = {m: experiment.encode(r, text, "cpu") for m, r in found.items()}
        per_byte = {m: int(e.lengths.sum()) / e.bytes for m, e in encoded.items()}
        assert per_byte[model.BYTES] == per_byte[model.MEGABYTE] == 1.0
        assert per_byte[model.BPE_ARM] < per_byte[model.DIGITS] < 1.0  # digits split: longer numbers
        assert len({e.number_bytes for e in encoded.values()}) == 1
    digits = found[model.DIGITS].bpe
    assert digits is not None
    assert [t.strip() for t in digits.token_strings(digits.encode(" 1987 2024"))] == list("19872024")


def test_the_check_catches_a_digit_arm_whose_bpe_keeps_digit_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    real = experiment.readers

    def readers(lines: list[str], merges: int) -> dict[str, model.Reader]:
        found = real(lines, merges)
        return {**found, model.DIGITS: model.Reader(BPE.train(lines, 256 + merges))}

    monkeypatch.setattr(f"{EXPERIMENT}.readers", readers)
    check_catches("tokenization-bench", "BPE, digits split: no token holds two digits")


def test_the_check_catches_a_megabyte_whose_local_model_reads_no_byte(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = model.megabyte_config

    def config(width: int, layers: int, heads: int, patch: int, max_len: int) -> MegabyteConfig:
        cfg = real(width, layers, heads, patch, max_len)
        cfg.local_bytes = False  # eq. 4 without its byte term: the pad at every position
        return cfg

    monkeypatch.setattr("readtrack_plugins.tokenization_bench.model.megabyte_config", config)
    check_catches("tokenization-bench", "MEGABYTE: the bench's model")


def test_the_check_catches_padding_scored_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def token_nats(net: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        logits = net(x)
        return nn.functional.cross_entropy(logits.flatten(0, 1), x.flatten(), reduction="none").view_as(x)

    monkeypatch.setattr(f"{EXPERIMENT}.token_nats", token_nats)
    check_catches("tokenization-bench", "BPE: a chunk's nats in a padded batch = alone")


def test_the_splitting_claim_fails_when_the_bpe_arm_splits_digits(monkeypatch: pytest.MonkeyPatch) -> None:
    # the BPE arm given the digit-split BPE: every 4-digit number is 1|1|1|1, so integer tokenization's
    # finding (the learnt BPE cuts them in two ways or more) must fail, and with it the run
    real = experiment.readers

    def readers(lines: list[str], merges: int) -> dict[str, model.Reader]:
        found = real(lines, merges)
        return {**found, model.BPE_ARM: found[model.DIGITS]}

    monkeypatch.setattr(f"{EXPERIMENT}.readers", readers)
    result = run_stage("tokenization-bench", "train")
    (ways,) = [t for t in result.targets if t.name.endswith("4-digit numbers, BPE")]
    assert ways.value == 1 and not ways.passed, failures(result)
    assert result.verdict() == "failed"
