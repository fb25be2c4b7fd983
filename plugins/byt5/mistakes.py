"""Classic mistakes in ByT5's byte vocabulary and its re-allocation, for ``readtrack practice``: its check
must catch them (tests/practice/test_practice.py)."""

from __future__ import annotations

from dataclasses import replace

from readtrack.api import mistake

from .model import BYTE_VOCAB, EOS, OFFSET, Block, EncoderConfig, parameters


@mistake("encode_bytes", fails="decode(encode(x)) == x, x = '\\x00'")
def encode_bytes(text: str) -> list[int]:
    """The raw bytes as ids, without the offset of the 3 specials: byte 0 becomes <pad>, byte 1 </s>."""
    return [*text.encode("utf-8"), EOS]


@mistake("decode_bytes", fails="decode(encode(x)) == x, x = 'e\u0301te\u0301 n\u0303'")
def decode_bytes(ids: list[int]) -> str:
    """Reads each id back as a character (chr) instead of decoding the bytes together as UTF-8: every
    character outside ASCII, several bytes long, comes back as mojibake."""
    return "".join(chr(i - OFFSET) for i in ids if i >= OFFSET)


@mistake("matched_bytes", fails="parameters: byte model within 1% of the subword model")
def matched_bytes(subword: EncoderConfig) -> EncoderConfig:
    """Swaps the vocabulary and nothing else: the byte model is smaller by the embedding it saved, so the
    comparison with the subword model is not at equal size (the re-allocation of Table 1 left out)."""
    return replace(subword, vocab=BYTE_VOCAB)


@mistake("encode_bytes", fails="encode_bytes returns a list of Python ints")
def encode_bytes_as_a_tensor(text: str) -> list[int]:
    """Returns a tensor of ids instead of the list the statement asks for (and the tokenizer's callers
    extend, slice and concatenate as lists): every round trip passes, since decode accepts either."""
    import torch

    return torch.tensor([b + OFFSET for b in text.encode("utf-8")] + [EOS])  # type: ignore[return-value]


@mistake("decode_bytes", fails="decode drops every id below OFFSET")
def decode_bytes_dropping_only_the_last_eos(ids: list[int]) -> str:
    """Cuts off the final </s> and reads every other id as a byte: a round trip of encode_bytes passes, but
    the padding and the <unk> a model emits come out as negative bytes."""
    return bytes(i - OFFSET for i in ids[:-1]).decode("utf-8", errors="ignore")


@mistake("decode_bytes", fails="decode drops invalid UTF-8")
def decode_bytes_strictly(ids: list[int]) -> str:
    """Decodes strictly: the first invalid UTF-8 sequence a model emits raises UnicodeDecodeError instead of
    being dropped as ByT5's tokenizer drops it (errors="ignore")."""
    return bytes(i - OFFSET for i in ids if i >= OFFSET).decode("utf-8")


@mistake("matched_bytes", fails="matched_bytes keeps every field")
def matched_bytes_with_default_heads(subword: EncoderConfig) -> EncoderConfig:
    """Builds a new EncoderConfig and forgets n_heads, which falls back to its default 4: the parameter count
    is the same whatever the number of heads, but the byte model no longer has the subword model's."""
    d = subword.d_model
    block = parameters(Block(d, subword.n_heads, subword.d_ff))
    saved = (subword.vocab - BYTE_VOCAB) * d
    layers = subword.layers + max(0, round(saved / block))
    d_ff = subword.d_ff + round((saved - (layers - subword.layers) * block) / (layers * (2 * d + 1)))
    return EncoderConfig(BYTE_VOCAB, subword.max_len, subword.classes, d, layers=layers, d_ff=d_ff)


@mistake("matched_bytes", fails="matched_bytes buys whole layers first")
def matched_bytes_all_in_d_ff(subword: EncoderConfig) -> EncoderConfig:
    """Spends the whole saved embedding on d_ff and adds no layer: the count matches within 1%, but Table 1
    buys whole encoder layers first."""
    d = subword.d_model
    saved = (subword.vocab - BYTE_VOCAB) * d
    d_ff = subword.d_ff + round(saved / (subword.layers * (2 * d + 1)))
    return replace(subword, vocab=BYTE_VOCAB, d_ff=d_ff)


@mistake("matched_bytes", fails="matched_bytes buys whole layers first")
def matched_bytes_flooring_the_layers(subword: EncoderConfig) -> EncoderConfig:
    """int(saved / block) instead of the nearest whole number: 0.57 of a block buys no layer, and d_ff is
    widened to spend what a layer should have."""
    d = subword.d_model
    block = parameters(Block(d, subword.n_heads, subword.d_ff))
    saved = (subword.vocab - BYTE_VOCAB) * d
    layers = subword.layers + max(0, int(saved / block))
    d_ff = subword.d_ff + round((saved - (layers - subword.layers) * block) / (layers * (2 * d + 1)))
    return replace(subword, vocab=BYTE_VOCAB, layers=layers, d_ff=d_ff)


@mistake("matched_bytes", fails="matched_bytes buys whole layers first")
def matched_bytes_taking_layers_away(subword: EncoderConfig) -> EncoderConfig:
    """round(saved / block) without max(0, …): a subword vocabulary smaller than 259 ids costs the byte model
    a layer, where the statement never gives it fewer layers than the subword model."""
    d = subword.d_model
    block = parameters(Block(d, subword.n_heads, subword.d_ff))
    saved = (subword.vocab - BYTE_VOCAB) * d
    layers = subword.layers + round(saved / block)
    d_ff = subword.d_ff + round((saved - (layers - subword.layers) * block) / (layers * (2 * d + 1)))
    return replace(subword, vocab=BYTE_VOCAB, layers=layers, d_ff=d_ff)


@mistake("matched_bytes", fails="matched_bytes spends the rest on d_ff, to the nearest unit")
def matched_bytes_truncating_d_ff(subword: EncoderConfig) -> EncoderConfig:
    """int() instead of round() for the change of d_ff: truncated towards 0, a rest of −0.81 units leaves d_ff
    as it was, not the nearest width."""
    d = subword.d_model
    block = parameters(Block(d, subword.n_heads, subword.d_ff))
    saved = (subword.vocab - BYTE_VOCAB) * d
    layers = subword.layers + max(0, round(saved / block))
    d_ff = subword.d_ff + int((saved - (layers - subword.layers) * block) / (layers * (2 * d + 1)))
    return replace(subword, vocab=BYTE_VOCAB, layers=layers, d_ff=d_ff)


@mistake("matched_bytes", fails="matched_bytes spends the rest on d_ff, to the nearest unit")
def matched_bytes_pricing_a_unit_at_2d(subword: EncoderConfig) -> EncoderConfig:
    """Prices a unit of d_ff at 2d per layer, forgetting fc1's bias (2d + 1): the width it picks is not the
    nearest once the rest is large."""
    d = subword.d_model
    block = parameters(Block(d, subword.n_heads, subword.d_ff))
    saved = (subword.vocab - BYTE_VOCAB) * d
    layers = subword.layers + max(0, round(saved / block))
    d_ff = subword.d_ff + round((saved - (layers - subword.layers) * block) / (layers * 2 * d))
    return replace(subword, vocab=BYTE_VOCAB, layers=layers, d_ff=d_ff)
