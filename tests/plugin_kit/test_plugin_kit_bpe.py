"""The shared byte-level BPE (readtrack.plugin_kit.bpe), tested once for the plugins that use it
(integer-tokenization, byt5): lossless on any string, its merges and encodings equal to Hugging Face
``tokenizers``' BpeTrainer with the same pre-tokenizer pattern, its pieces as the pattern says."""

from __future__ import annotations

import json
import random

import pytest
import tokenizers
from hypothesis import given, settings
from hypothesis import strategies as st

from readtrack.plugin_kit.bpe import BPE, DIGITS_SPLIT, PATTERN, pieces

WORDS = ["the", "cat", "sat", "on", "a", "mat", "1987", "2000", "12", "345", "x1y2", "!!", "e.g.", "über"]


def corpus(seed: int, lines: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(8)) for _ in range(lines)]


BPE_ = BPE.train(corpus(0, 200), 256 + 60)


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=60), st.booleans())
def test_decode_inverts_encode_for_any_text(text: str, split_digits: bool) -> None:
    bpe = BPE(BPE_.merges, split_digits)
    ids = bpe.encode(text)
    assert bpe.decode(ids) == text
    assert all(0 <= i < len(bpe.vocab) for i in ids)
    assert "".join(pieces(text, split_digits)) == text


def test_pieces_follow_the_pattern() -> None:
    assert pieces("Year 1987, e.g.  12!\n\n x") == [
        "Year",
        " 1987",
        ",",
        " e",
        ".",
        "g",
        ".",
        "  ",  # unlike GPT-2's \s+(?!\S), the whole run of spaces: no space is left to the number
        "12",
        "!",
        "\n\n ",
        "x",
    ]
    assert pieces("a 1987.", split_digits=True) == ["a", " 1", "9", "8", "7", "."]


def hf_bpe(texts: list[str], merges: int, pattern: str) -> tokenizers.Tokenizer:
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Split(tokenizers.Regex(pattern), behavior="isolated")
    alphabet = len(set("".join(texts)))
    tok.train_from_iterator(
        texts,
        tokenizers.trainers.BpeTrainer(vocab_size=alphabet + merges, special_tokens=[], show_progress=False),
    )
    return tok


@pytest.mark.parametrize("split_digits", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_merges_and_encodings_equal_tokenizers_on_ascii_text(seed: int, split_digits: bool) -> None:
    texts = [t.replace("über", "uber") for t in corpus(seed, 300)]  # ASCII: its ids sort as our bytes
    ours = BPE.train(texts, 256 + 80, split_digits)
    hf = hf_bpe(texts, 80, DIGITS_SPLIT if split_digits else PATTERN)
    theirs = [
        tuple(m) if isinstance(m, list) else tuple(m.split(" "))
        for m in json.loads(hf.to_str())["model"]["merges"]
    ]
    assert [(ours.vocab[a].decode(), ours.vocab[b].decode()) for a, b in ours.merges] == theirs
    for text in corpus(seed + 10, 50):
        text = text.replace("über", "uber")
        assert ours.token_strings(ours.encode(text)) == hf.encode(text).tokens


def test_merges_left_to_right_ties_to_the_smallest_pair_and_stops_when_nothing_is_left() -> None:
    bpe = BPE.train(["aaa", "ba"], 10_000)
    # "aaa" counts (a, a) twice but becomes "aa a" (left to right); then (aa, a) and (b, a) tie once each
    # and the smaller pair, (98, 97) < (256, 97), goes first
    assert [bpe.vocab[i] for i in range(256, len(bpe.vocab))] == [b"aa", b"ba", b"aaa"]
    assert bpe.encode("aaa ba") == [258, 32, 257]
    with pytest.raises(ValueError, match="256 bytes"):
        BPE.train(["x"], 100)


def test_a_subclass_cuts_text_by_its_own_rule_for_training_and_encoding() -> None:
    """The gpt2 plugin's ByteLevelBPE keeps this training and encoding and only cuts text into GPT-2's pieces:
    a subclass whose pieces are whole lines merges across a word's end, which the default pieces forbid."""

    class Lines(BPE):
        @staticmethod
        def cut(text: str, split_digits: bool = False) -> list[str]:
            return [text]

    text = ["ab ab ab ab"]
    lines, words = Lines.train(text, 300), BPE.train(text, 300)
    assert isinstance(lines, Lines)
    assert any(b"b " in token for token in lines.vocab)  # merged across a space: one piece per line
    assert not any(b"b " in token for token in words.vocab)  # a space only ever starts a default piece
    assert lines.encode("ab ab ab ab") != words.encode("ab ab ab ab")
    assert lines.decode(lines.encode("ab ab ab ab")) == "ab ab ab ab"
