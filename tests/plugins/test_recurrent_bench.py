"""The recurrent family bench: its members are the lineage's, each about as large as the LSTM, each is its
paper's unit (its check catches one that is not), and its claim fails when the plain RNN is given gates."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.gru.model import GRU as PaperGRU
from readtrack_plugins.recurrent_bench import experiment, model
from readtrack_plugins.recurrent_bench.config import Config

from readtrack.plugin_kit.recurrent import LastStep
from readtrack.plugins import discovery
from readtrack.plugins.lineages import declared
from readtrack.testing import check_catches, failures, run_stage

EXPERIMENT = "readtrack_plugins.recurrent_bench.experiment"


def test_every_member_of_the_recurrent_lineage_is_on_the_bench() -> None:
    family = declared(discovery.discovery(include_user=False).hooks).lineages["recurrent"]
    assert family.lineage.bench == "recurrent-bench"
    assert {m.key for m in family.members} == set(model.MEMBERS)


def test_every_member_gets_about_the_lstms_parameters() -> None:
    hidden = Config().hidden
    counts = {m: model.parameters(model.network(m, model.matched_width(m, hidden), 0)) for m in model.MEMBERS}
    lstm = counts[model.LSTM]
    assert lstm == 4 * (2 * hidden + hidden * hidden + 2 * hidden) + hidden + 1  # 4 gates, 2 biases, read-out
    assert all(abs(n - lstm) <= 0.1 * lstm for n in counts.values()), counts
    # the plain RNN gets the widest state, the selective state space the narrowest
    widths = {m: model.matched_width(m, hidden) for m in model.MEMBERS}
    assert widths[model.RNN] > widths[model.GRU] > widths[model.LSTM] > widths[model.S4] > widths[model.MAMBA]


def test_the_check_catches_an_lstm_without_its_forget_bias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("readtrack_plugins.recurrent_bench.model.FORGET_BIAS", 0.0)
    check_catches("recurrent-bench", "the LSTM's forget-gate bias")


def test_the_check_catches_a_gru_whose_reset_gate_comes_before_the_matmul(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = experiment.layer

    def layer(member: str, width: int, gated: bool = True) -> torch.nn.Module:
        return (
            PaperGRU(model.INPUTS, width, reset_after=False) if member == model.GRU else real(member, width)
        )

    monkeypatch.setattr(f"{EXPERIMENT}.layer", layer)
    check_catches("recurrent-bench", "GRU: torch's layer as the bench builds it")


def test_the_check_catches_a_mamba_that_does_not_select(monkeypatch: pytest.MonkeyPatch) -> None:
    real = experiment.network

    def network(member: str, width: int, seed: int, gated: bool = True) -> LastStep:
        return real(model.S4 if member == model.MAMBA else member, width, seed, gated)

    monkeypatch.setattr(f"{EXPERIMENT}.network", network)
    check_catches("recurrent-bench", "Mamba: the bench's block is selective")


def test_the_claim_fails_when_the_plain_rnn_has_gates(monkeypatch: pytest.MonkeyPatch) -> None:
    # the "RNN" trained as a GRU of its width: it carries the far value, so the family's first claim (the
    # plain RNN forgets it at the long lag) must fail, and with it the run
    real = experiment.network

    def network(member: str, width: int, seed: int, gated: bool = True) -> LastStep:
        return real(model.GRU if member == model.RNN else member, width, seed, gated)

    monkeypatch.setattr(f"{EXPERIMENT}.network", network)
    result = run_stage("recurrent-bench", "train")
    (forgets,) = [
        t for t in result.targets if t.name.startswith(f"{model.RNN}: far value's weight at T = 16")
    ]
    assert forgets.value > experiment.CARRIED and not forgets.passed, failures(result)
    assert result.verdict() == "failed"
