"""The fill-in-the-middle plugin: the transformation and its inverse on more documents, the training batch,
the exact infilling posterior, and checks that fail for an inverse that drops a token or swapped sentinels."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.fill_in_the_middle.experiment import infill_posterior, naive_fim
from readtrack_plugins.fill_in_the_middle.model import (
    fim_batch,
    fim_inverse,
    fim_transform,
    sentinels,
    split_points,
)

from readtrack.plugin_kit.tasks import IGNORE, MarkovChain
from readtrack.runner import run_plugin
from readtrack.testing import check_catches, failures, reported_claim

V = 16
PRE, SUF, MID, EOT = sentinels(V)


@pytest.mark.parametrize("length", [3, 7, 13])
def test_random_batches_match_the_formulas_and_invert(length: int) -> None:
    g = torch.Generator().manual_seed(length)
    docs = torch.randint(0, V, (200, length), generator=g)
    i, j = split_points(200, length, g)
    spm = torch.rand(200, generator=g) < 0.5
    out = fim_transform(docs, i, j, spm, V)
    expected = [
        naive_fim(d, a, b, s, V)
        for d, a, b, s in zip(docs.tolist(), i.tolist(), j.tolist(), spm.tolist(), strict=True)
    ]
    assert out.tolist() == expected
    torch.testing.assert_close(fim_inverse(out, V), docs)


def test_the_paper_layouts_on_a_readable_document() -> None:
    doc = torch.arange(6).view(1, 6)  # prefix 0 1, middle 2 3, suffix 4 5
    cut = (torch.tensor([2]), torch.tensor([4]))
    psm = fim_transform(doc, *cut, torch.tensor([False]), V)
    spm = fim_transform(doc, *cut, torch.tensor([True]), V)
    assert psm.tolist() == [[PRE, 0, 1, SUF, 4, 5, MID, 2, 3, EOT]]
    assert spm.tolist() == [[PRE, SUF, 4, 5, MID, 0, 1, 2, 3, EOT]]


def test_plain_documents_keep_their_tokens_and_score_nothing_after_eot() -> None:
    docs = torch.randint(0, V, (64, 9), generator=torch.Generator().manual_seed(0))
    tokens, targets = fim_batch(docs, 0.0, 0.5, torch.Generator().manual_seed(1), V)
    torch.testing.assert_close(tokens[:, :9], docs)
    assert (tokens[:, 9:] == EOT).all() and (targets[:, 8] == EOT).all() and (targets[:, 9:] == IGNORE).all()
    fim, fim_targets = fim_batch(docs, 1.0, 0.5, torch.Generator().manual_seed(1), V)
    torch.testing.assert_close(fim_inverse(fim, V), docs)
    torch.testing.assert_close(fim_targets, fim[:, 1:])  # every token of a FIM document is scored


def test_the_same_generator_gives_both_runs_the_same_draws() -> None:
    docs = torch.randint(0, V, (32, 8), generator=torch.Generator().manual_seed(0))
    g, h = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    plain, _ = fim_batch(docs, 0.0, 0.5, g, V)
    mixed, _ = fim_batch(docs, 0.5, 0.5, h, V)
    assert torch.equal(g.get_state(), h.get_state())  # the next batch is drawn alike whatever the rate
    untouched = mixed[:, 0] != PRE
    assert 0 < int(untouched.sum()) < len(docs) and torch.equal(plain[untouched], mixed[untouched])


def test_the_infilling_posterior_sees_the_suffix() -> None:
    """A chain that mostly steps +1 (mod 4): what follows the middle says much about its last symbol."""
    chain = MarkovChain(4, 1, torch.eye(4, dtype=torch.float64).roll(1, dims=1) * 0.7 + 0.075)
    doc = torch.tensor([0, 1, 2, 3, 0, 1])
    post = infill_posterior(chain, doc, 2, 4)
    assert torch.allclose(post.sum(dim=-1), torch.ones(2, dtype=torch.float64))
    assert post[1, 3] > chain.transitions[2, 3]  # knowing x_4 = 0 makes x_3 = 3 likelier than x_2 alone does


def drops_the_middles_last_token(seq: torch.Tensor, vocab: int) -> torch.Tensor:
    """A broken inverse: the middle is read up to the token before <EOT>, so its last token is lost (and the
    document padded with 0 to keep its length)."""
    _, SUF, MID, _ = sentinels(vocab)
    rows = []
    for r in seq.tolist():
        s, m = r.index(SUF), r.index(MID)
        x = r[1:s] + r[m + 1 : -2] + r[s + 1 : m]
        rows.append(x + [0] * (len(r) - 4 - len(x)))
    return torch.tensor(rows, dtype=seq.dtype, device=seq.device).view(len(rows), seq.shape[1] - 4)


def swapped_sentinels(
    docs: torch.Tensor, i: torch.Tensor, j: torch.Tensor, spm: torch.Tensor, vocab: int
) -> torch.Tensor:
    """A broken transformation: <PRE> and <SUF> exchanged."""
    out = fim_transform(docs, i, j, spm, vocab)
    return torch.where(out == PRE, SUF, torch.where(out == SUF, PRE, out))


@pytest.mark.parametrize(
    ("name", "broken", "caught_by"),
    [
        ("fim_inverse", drops_the_middles_last_token, "the inverse gives"),
        ("fim_transform", swapped_sentinels, "PSM and SPM = the paper's formulas"),
    ],
)
def test_the_check_stage_catches_a_lossy_inverse_or_swapped_sentinels(
    monkeypatch: pytest.MonkeyPatch, name: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(f"readtrack_plugins.fill_in_the_middle.experiment.{name}", broken)
    check_catches("fill-in-the-middle", caught_by)


def test_the_infilling_target_fails_without_fim_training() -> None:
    """The idea removed: ``--set fim_rate=0``, so the "FIM" model is a second left-to-right model; read from
    the sentinel prompt it never saw, it infills far worse than it predicts the middle from the prefix (the
    target reported against its claim, not asserted: the knob is off its calibrated default)."""
    settings = {"fim_rate": 0.0}
    record = run_plugin("fill-in-the-middle", device="cpu", quick=True, only="train", settings=settings,
                        keep_history=False)  # fmt: skip
    (result,) = record.stages
    assert result.status == "passed" and not result.targets, failures(result)
    infilling = reported_claim(result, "the FIM model infills from the SPM prompt")
    assert not infilling.passed and infilling.value > 0.5, infilling


def test_the_fim_rate_knob_at_0_makes_the_fim_arm_the_left_to_right_one() -> None:
    """``--set fim_rate=0`` (the ablation switch of config.py): the FIM arm trains on the same documents,
    draws and initial weights as the left-to-right arm, unrearranged, so every number of the two arms is the
    same and "FIM for free" is exactly 0.0; at the paper's 0.5 on the same tiny setting the arms differ."""
    from readtrack_plugins.fill_in_the_middle.config import Config

    from readtrack.plugins.knobs import knobs_of

    assert {k.name for k in knobs_of(Config)} >= {"fim_rate", "steps", "lr", "batch", "d_model", "length"}
    tiny = {"steps": 20, "batch": 16, "d_model": 16, "layers": 1, "length": 4}

    def numbers(fim_rate: float) -> dict[str, float]:
        settings = {**tiny, "fim_rate": fim_rate}
        record = run_plugin("fill-in-the-middle", device="cpu", quick=True, only="train", settings=settings,
                            keep_history=False)  # fmt: skip
        (result,) = record.stages
        assert result.status == "passed" and not result.targets, failures(result)
        return {m.name: m.value for m in result.measured}

    off, on = numbers(0.0), numbers(0.5)
    free = "FIM for free: left-to-right loss with FIM at rate 0.5 − without (nats)"
    assert off[free] == 0.0 and on[free] != 0.0, (off[free], on[free])
    for how in ("PSM prompt", "SPM prompt", "prefix only"):
        ar, fim = f"middle loss, left-to-right only, {how} (nats)", f"middle loss, FIM rate 0.5, {how} (nats)"
        assert off[fim] == off[ar] and on[fim] != on[ar], (how, off[fim], off[ar], on[fim], on[ar])
