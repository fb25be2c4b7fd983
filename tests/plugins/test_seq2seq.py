"""The seq2seq plugin: decoding against teacher forcing and enumeration on more sizes, what reversal does
to the encoder's input, and checks that fail for a beam that forgets which hypothesis it extends or a
decoder that drops the encoder's state."""

from __future__ import annotations

import itertools

import pytest
import torch
from readtrack_plugins.seq2seq.experiment import copy_batch, stepwise_logprob
from readtrack_plugins.seq2seq.model import Seq2Seq, beam_search, greedy_decode, sequence_logprob

from readtrack.testing import check_catches, failures, run_stage


def small_model(vocab: int = 5, seed: int = 0) -> Seq2Seq:
    torch.manual_seed(seed)
    return Seq2Seq(vocab, d_embed=4, d_hidden=6, layers=2).double()


@pytest.mark.parametrize(("vocab", "length", "beam"), [(3, 1, 3), (3, 5, 81), (5, 3, 25), (4, 4, 64)])
def test_a_beam_that_keeps_everything_finds_the_enumerated_best(vocab: int, length: int, beam: int) -> None:
    model = small_model(vocab)
    source = torch.randint(1, vocab, (4, 3), generator=torch.Generator().manual_seed(length))
    every = torch.tensor(list(itertools.product(range(vocab), repeat=length)))
    with torch.no_grad():
        scores = torch.stack([sequence_logprob(model, s.expand(len(every), -1), every) for s in source])
        best, score = beam_search(model, source, length, beam)
    assert torch.equal(best, every[scores.argmax(dim=1)])
    torch.testing.assert_close(score, scores.amax(dim=1))


def test_wider_beams_never_score_below_the_exhaustive_optimum_nor_above_it() -> None:
    model = small_model(6, seed=3)
    source = torch.randint(1, 6, (16, 5), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        exhaustive = beam_search(model, source, 3, beam=36)[1]
        for width in (1, 2, 4, 8):
            assert bool((beam_search(model, source, 3, beam=width)[1] <= exhaustive + 1e-12).all())


def test_decoding_step_by_step_matches_teacher_forcing_and_greedy_is_width_one() -> None:
    model = small_model(7)
    source, target = (torch.randint(1, 7, (8, 6), generator=torch.Generator().manual_seed(i)) for i in (1, 2))
    with torch.no_grad():
        torch.testing.assert_close(
            stepwise_logprob(model, source, target), sequence_logprob(model, source, target)
        )
        assert torch.equal(beam_search(model, source, 6, beam=1)[0], greedy_decode(model, source, 6))


def test_reversal_feeds_the_encoder_the_flipped_source() -> None:
    model = small_model()
    source = torch.randint(1, 5, (3, 7), generator=torch.Generator().manual_seed(0))
    for a, b in zip(
        model.encode(source, reverse=True), model.encode(source.flip(1), reverse=False), strict=True
    ):
        torch.testing.assert_close(a, b)
    assert not torch.allclose(model.encode(source, True)[0], model.encode(source, False)[0])


def test_the_copy_data() -> None:
    batch = copy_batch(500, torch.Generator().manual_seed(0), "cpu")
    assert batch.shape == (500, 12)
    assert set(batch.unique().tolist()) == set(range(1, 10))


@torch.no_grad()
def beam_without_parents(
    model: Seq2Seq, source: torch.Tensor, length: int, beam: int, reverse: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """A broken beam search: it extends hypotheses but keeps each row's own decoder state, forgetting
    which parent hypothesis a kept extension came from."""
    batch, vocab = source.shape[0], model.head.out_features
    state = model.encode(source, reverse)
    scores = source.new_zeros(batch, 1, dtype=state[0].dtype)
    sequences = source.new_zeros(batch, 1, 0)
    token = torch.zeros(batch, dtype=torch.long)
    for _ in range(length):
        logp, state = model.step(token, state)
        k = scores.shape[1]
        total = (scores[:, :, None] + logp.view(batch, k, vocab)).view(batch, k * vocab)
        scores, best = total.topk(min(beam, k * vocab), dim=1)
        parent, token = best // vocab, best % vocab
        kept = torch.gather(sequences, 1, parent[..., None].expand(-1, -1, sequences.shape[2]))
        sequences = torch.cat((kept, token[..., None]), dim=2)
        k2 = scores.shape[1]
        state = (state[0].repeat_interleave(k2 // k, dim=1), state[1].repeat_interleave(k2 // k, dim=1))
        token = token.flatten()
    return sequences[:, 0], scores[:, 0]


def forgets_the_source(self: Seq2Seq, token: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):  # type: ignore[no-untyped-def]
    """A broken decoding step that drops the state it is given: neither the source nor the tokens before
    reach the prediction."""
    state = (torch.zeros_like(state[0]), torch.zeros_like(state[1]))
    out, state = self.decoder(self.embed(token)[:, None], state)
    return self.head(out[:, 0]).log_softmax(dim=-1), state


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        ("readtrack_plugins.seq2seq.experiment.beam_search", beam_without_parents, "exhaustive beam"),
        ("readtrack_plugins.seq2seq.model.Seq2Seq.step", forgets_the_source, "log p(target) step by step"),
    ],
)
def test_the_check_stage_catches_a_beam_without_parents_or_a_decoder_without_the_source(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("seq2seq", caught_by)


def greedy_as_beam(
    model: Seq2Seq, source: torch.Tensor, length: int, beam: int, reverse: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """ "Beam search" that is greedy decoding whatever the width."""
    out = greedy_decode(model, source, length, reverse)
    return out, sequence_logprob(model, source, out, reverse)


def never_reversed(self: Seq2Seq, source: torch.Tensor, reverse: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """An encoder that reads the source in order even when asked to reverse it."""
    _, state = self.encoder(self.embed(source))
    return state


@pytest.mark.parametrize(
    ("target", "broken", "fails"),
    [
        (
            "readtrack_plugins.seq2seq.experiment.beam_search",
            greedy_as_beam,
            "share of sequences where the beam",
        ),
        ("readtrack_plugins.seq2seq.model.Seq2Seq.encode", never_reversed, "token accuracy, reversed minus"),
    ],
    ids=["greedy in place of the beam", "the source never reversed"],
)
def test_the_train_stage_fails_without_the_beam_or_without_reversal(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, fails: str
) -> None:
    monkeypatch.setattr(target, broken)
    result = run_stage("seq2seq", "train")
    failed = [t.name for t in result.targets if not t.passed]
    assert len(failed) == 1 and failed[0].startswith(fails), failures(result)
