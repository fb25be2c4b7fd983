"""ByT5 (Xue et al. 2021, arXiv 2105.13626): a transformer that reads UTF-8 bytes instead of subword tokens,
with the parameters the small vocabulary saves moved into a deeper encoder, and the paper's synthetic noise.

Byte vocabulary (section 3.1): "the 256 byte values plus 3 special tokens", ids

    0 <pad>, 1 </s>, 2 <unk>, 3 + b for byte b ∈ [0, 255]        (259 ids; <unk> is never produced)

so every string has an encoding, and decoding drops the specials and reads the rest back as UTF-8.

Parameters (section 3.1, Table 1): a subword model of the same size spends most of its small-scale
parameters on a vocabulary embedding V·d; ByT5 has V = 259, and "re-allocates" them to the transformer
(a 3× deeper encoder than decoder, a wider d_ff). Here the encoder is all there is (a classifier), so the
byte model gets as many more encoder layers as the embedding it saves pays for.

The encoder is a pre-LN transformer (one block per line below, as ``nn.TransformerEncoderLayer(norm_first=
True)`` computes it, which the check compares with copied weights), reading tokens x_1 … x_N with a padding
mask m_j (1 for a real token):

    h_0 = E[x] + P[0:N]                                         (B, N, d)
    a = h + W_o · softmax(Q Kᵀ/√d_k + log m) V,   Q, K, V = LN₁(h) W_q, W_k, W_v     (per head)
    h' = a + W_2 GELU(W_1 LN₂(a))
    logits = W_c · Σ_j m_j LN_f(h_L)_j / Σ_j m_j                  (B, classes): the mean over real tokens

Noise (section 6, applied to the input text; "unseen" noise: at test time only):

    add/drop/mutate  at each character, with probability p: insert a random letter before it, drop it, or
                     replace it by a random letter (each of the three equally likely); the paper's p = 0.1
    repetitions      each character with probability 0.2 is repeated 1 to 3 more times
    uppercase        every character upper-cased
    random case      every character upper- or lower-cased at random
"""

from __future__ import annotations

import math
import random
import string
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

PAD, EOS, UNK, OFFSET = 0, 1, 2, 3
BYTE_VOCAB = 256 + OFFSET


def encode_bytes(text: str) -> list[int]:
    """ByT5's ids of ``text``: its UTF-8 bytes shifted by the 3 specials, then </s>."""
    return [b + OFFSET for b in text.encode("utf-8")] + [EOS]


def decode_bytes(ids: list[int]) -> str:
    """The text of ``ids``: specials dropped, bytes read as UTF-8 (invalid sequences, which a model could
    produce, are dropped as ByT5's tokenizer drops them)."""
    return bytes(i - OFFSET for i in ids if i >= OFFSET).decode("utf-8", errors="ignore")


# -- the paper's noise (section 6) -----------------------------------------------------------------------


def add_drop_mutate(text: str, rng: random.Random, p: float = 0.1) -> str:
    out = []
    for ch in text:
        if rng.random() < p:
            action = rng.randrange(3)
            if action == 0:  # add a random letter before the character
                out += [rng.choice(string.ascii_lowercase), ch]
            elif action == 2:  # mutate: replace it
                out.append(rng.choice(string.ascii_lowercase))
            # action 1: drop it
        else:
            out.append(ch)
    return "".join(out)


def repetitions(text: str, rng: random.Random, p: float = 0.2) -> str:
    return "".join(ch * (1 + rng.randint(1, 3)) if rng.random() < p else ch for ch in text)


def uppercase(text: str, rng: random.Random) -> str:
    return text.upper()


def random_case(text: str, rng: random.Random) -> str:
    return "".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in text)


# -- the model -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncoderConfig:
    vocab: int
    max_len: int
    classes: int
    d_model: int = 64
    n_heads: int = 4
    layers: int = 2
    d_ff: int = 256  # the MLP's width (4·d by default)


class SelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)  # [W_q; W_k; W_v], as nn.MultiheadAttention packs them
        self.out = nn.Linear(d_model, d_model)  # W_o

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        q, k, v = (
            self.qkv(x).view(B, N, 3, self.n_heads, D // self.n_heads).permute(2, 0, 3, 1, 4)
        )  # (B, H, N, d_k)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, N, N)
        scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))  # + log m_j: no key is padding
        y = scores.softmax(dim=-1) @ v  # (B, H, N, d_k)
        return self.out(y.transpose(1, 2).reshape(B, N, D))  # (B, N, D)


class Block(nn.Module):
    """Pre-LN encoder block: a = h + Attn(LN₁ h), h' = a + MLP(LN₂ a)."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, n_heads)
        self.fc1, self.fc2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)

    def forward(self, h: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        a = h + self.attn(self.ln1(h), keep)
        return a + self.fc2(F.gelu(self.fc1(self.ln2(a))))


class Classifier(nn.Module):
    """Token ids (B, N), 0 = <pad> → class logits (B, classes): a bidirectional encoder, mean-pooled."""

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.embed, self.position = nn.Embedding(config.vocab, d), nn.Embedding(config.max_len, d)
        self.blocks = nn.ModuleList(Block(d, config.n_heads, config.d_ff) for _ in range(config.layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.classes)  # W_c
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N = x.shape[1]
        keep = x != PAD  # (B, N): m_j
        h = self.embed(x) + self.position(torch.arange(N, device=x.device))  # (B, N, d)
        for block in self.blocks:
            h = block(h, keep)
        h = self.ln_f(h)
        m = keep.unsqueeze(-1).to(h.dtype)  # (B, N, 1)
        return self.head((h * m).sum(dim=1) / m.sum(dim=1))  # (B, classes)


def parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def matched_bytes(subword: EncoderConfig) -> EncoderConfig:
    """The byte model of about the subword model's size (ByT5's re-allocation): the embedding rows it saves,
    (V_subword − 259)·d parameters, buy whole encoder layers first, and what is left (or missing) widens
    (or narrows) d_ff in every layer, to the nearest unit: each unit of d_ff costs 2d + 1 per layer."""
    d = subword.d_model
    block = parameters(Block(d, subword.n_heads, subword.d_ff))
    saved = (subword.vocab - BYTE_VOCAB) * d
    layers = subword.layers + max(0, round(saved / block))
    rest = saved - (layers - subword.layers) * block  # parameters still to spend (< 0: to give back)
    d_ff = subword.d_ff + round(rest / (layers * (2 * d + 1)))
    return replace(subword, vocab=BYTE_VOCAB, layers=layers, d_ff=d_ff)
