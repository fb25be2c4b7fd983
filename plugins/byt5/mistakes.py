"""Classic mistakes in ByT5's byte vocabulary and its re-allocation, for ``readtrack practice``: its check
must catch them (tests/test_practice.py)."""

from __future__ import annotations

from dataclasses import replace

from readtrack.practice import mistake

from .model import BYTE_VOCAB, EOS, OFFSET, EncoderConfig


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
