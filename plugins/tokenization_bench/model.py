"""The tokenization family's members as the bench trains them: one language model per way of reading text,
each scored in nats per byte of the same text.

    BPE (byt5:bpe)                the kit's byte-level BPE, digit runs one piece, merges learnt on the
                                  training text; a flat decoder over its tokens
    bytes (byt5)                  the UTF-8 bytes (ByT5's ids without its 3 specials and </s>: the decoder
                                  has a start vector of its own); the same flat decoder over bytes
    BPE, digits split             the same BPE with every digit its own piece (integer tokenization's fix,
      (integer-tokenization)      LLaMA's and PaLM's rule); the same flat decoder over its tokens
    MEGABYTE (megabyte)           the megabyte plugin's model over bytes: a global decoder over patches of P
                                  bytes (P·D_G = the flat width) and a local one, D_L = width / 2, within

The flat decoder is the megabyte plugin's ``Flat`` (pre-LN blocks, learned positions, a tied read-out): every
member but MEGABYTE is the same network and differs only in what it reads, so its vocabulary (the embedding
table, V·d) and its sequence length are what the comparison sees. For every model row t of the logits
predicts token t from the tokens before it (row 0 from the start vector or the pads), so the nats of a whole
chunk, −log p(chunk), are the sum over its tokens, and

    bits per byte = Σ_chunks Σ_t −log₂ p(x_t | x_<t) / Σ_chunks bytes                      (every member)

``token_nats(model, x, lengths)``: the nats of each position of a padded batch (B, N), 0 at the padding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from readtrack_plugins.megabyte.experiment import flat_flops, megabyte_flops
from readtrack_plugins.megabyte.model import Flat, Megabyte, MegabyteConfig
from torch import nn

from readtrack.plugin_kit.bpe import BPE, pieces

BPE_ARM, BYTES, DIGITS, MEGABYTE = "byt5:bpe", "byt5", "integer-tokenization", "megabyte"
#: The members in their papers' order.
MEMBERS = (BPE_ARM, BYTES, DIGITS, MEGABYTE)
NAMES = {BPE_ARM: "BPE", BYTES: "bytes (ByT5)", DIGITS: "BPE, digits split", MEGABYTE: "MEGABYTE"}
BYTE_VALUES = 256
PAD = 0  # byte NUL, which the text never holds: it pads a row after its last token (causal: unread)
NUMBER = re.compile(rb" ?[0-9]+")  # a number piece of the kit's pattern, its leading space included


@dataclass
class Reader:
    """How a member reads text: its UTF-8 bytes (``bpe`` None) or the tokens of a BPE."""

    bpe: BPE | None

    @property
    def vocab(self) -> int:
        return BYTE_VALUES if self.bpe is None else len(self.bpe.vocab)

    def ids(self, text: str) -> list[int]:
        return list(text.encode("utf-8")) if self.bpe is None else self.bpe.encode(text)

    def token_bytes(self, i: int) -> bytes:
        """The bytes id ``i`` stands for."""
        return bytes([i]) if self.bpe is None else self.bpe.vocab[i]

    def numeric(self, text: str) -> list[bool]:
        """For each id of ``text``: whether it lies in a number piece (" 1987", the space included; a BPE's
        tokens never cross a piece)."""
        if self.bpe is None:
            return [bool(NUMBER.fullmatch(p.encode())) for p in pieces(text) for _ in p.encode("utf-8")]
        bpe = self.bpe
        return [
            bool(NUMBER.fullmatch(p.encode()))
            for p in bpe.cut(text, bpe.split_digits)
            for _ in bpe.encode_piece(p)
        ]


def megabyte_config(width: int, layers: int, heads: int, patch: int, max_len: int) -> MegabyteConfig:
    """MEGABYTE over bytes, its global model as wide and deep as the flat decoder (P·D_G = ``width``), its
    local model half as wide, one layer."""
    return MegabyteConfig(
        vocab=BYTE_VALUES,
        P=patch,
        max_len=max_len,
        d_G=width // patch,
        d_L=width // 2,
        global_layers=layers,
        local_layers=1,
        heads=heads,
    )


def network(
    member: str, vocab: int, seed: int, *, width: int, layers: int, heads: int, patch: int, max_len: int
) -> nn.Module:
    """``member``'s language model, its initial weights fixed by ``seed``."""
    torch.manual_seed(seed)
    if member == MEGABYTE:
        return Megabyte(megabyte_config(width, layers, heads, patch, max_len))
    return Flat(vocab, max_len, width, heads, layers)


def forward_flops(
    member: str, vocab: int, tokens: int, *, width: int, layers: int, heads: int, patch: int, max_len: int
) -> int:
    """Forward matmul FLOPs of ``member``'s model on one sequence of ``tokens`` ids (the megabyte plugin's
    formulas, which its check and this bench's hold to torch's FLOP counter)."""
    if member == MEGABYTE:
        return megabyte_flops(megabyte_config(width, layers, heads, patch, max_len), 1, tokens)
    return flat_flops(vocab, width, layers, 1, tokens)


def token_nats(model: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """−ln p(x_t | x_<t) at each position of ``x`` (B, N), padded after its ``lengths`` (B,) real ids: (B, N),
    0 at the padding (its logits left out)."""
    logits = model(x)  # (B, N, V): row t predicts x_t
    nats = F.cross_entropy(logits.flatten(0, 1), x.flatten(), reduction="none").view_as(x)  # (B, N)
    real = torch.arange(x.shape[1], device=x.device) < lengths[:, None]  # (B, N)
    return nats * real


def parameters(model: nn.Module) -> int:
    """The number of trained weights."""
    return sum(p.numel() for p in model.parameters())
