"""DeepNet (Wang, Ma, Dong, Huang, Zhang and Wei 2022, arXiv 2203.00555): DeepNorm, a Post-LN residual with
the stream up-weighted and the sublayers initialised down-scaled, so that a deep Post-LN transformer's model
update stays bounded.

Three ways to put the LayerNorm around a sublayer G (attention or feed-forward), x: (B, T, D):

    Post-LN    x_{l+1} = LN(x_l + G_l(x_l))                          (the original Transformer)
    Pre-LN     x_{l+1} = x_l + G_l(LN(x_l))                           (GPT-2; needs a final LN)
    DeepNorm   x_{l+1} = LN(α · x_l + G_l(x_l, θ_l))                  (section 3, Figure 2)

and DeepNorm's initialisation (Figure 2): Xavier-normal with gain β for the feed-forward layers and the
attention's value and output projections, gain 1 for the query and key projections. Table 1 gives α, β from
the depth; for an N-layer encoder-only (or M-layer decoder-only) model

    α = (2N)^{1/4}        β = (8N)^{−1/4}                                                  (Table 1)

and for an encoder-decoder (N encoder, M decoder layers): encoder α = 0.81 (N⁴M)^{1/16},
β = 0.87 (N⁴M)^{−1/16}; decoder α = (3M)^{1/4}, β = (12M)^{−1/4}. A "layer" is a block (attention +
feed-forward), as in the paper's N-layer models. With α = β = 1 DeepNorm is Post-LN with its standard
Xavier initialisation exactly.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

NormPosition = Literal["post", "pre", "deepnorm"]
Architecture = Literal["encoder", "decoder", "encoder-decoder encoder", "encoder-decoder decoder"]


def deepnorm_constants(
    layers: int, architecture: Architecture = "decoder", *, other_layers: int = 0
) -> tuple[float, float]:
    """(α, β) of Table 1 for a stack of ``layers`` blocks.

    "encoder" (N layers) and "decoder" (decoder-only, M layers): α = (2N)^{1/4}, β = (8N)^{−1/4}.
    In an encoder-decoder, ``other_layers`` is the other stack's depth: for the encoder (N = ``layers``,
    M = ``other_layers``) α = 0.81 (N⁴M)^{1/16}, β = 0.87 (N⁴M)^{−1/16}; for the decoder (M = ``layers``)
    α = (3M)^{1/4}, β = (12M)^{−1/4}, whatever the encoder's depth."""
    if architecture in ("encoder", "decoder"):
        return (2 * layers) ** 0.25, (8 * layers) ** -0.25
    if architecture == "encoder-decoder encoder":
        nm = layers**4 * other_layers
        return 0.81 * nm**0.0625, 0.87 * nm**-0.0625
    if architecture == "encoder-decoder decoder":
        return (3 * layers) ** 0.25, (12 * layers) ** -0.25
    raise ValueError(f"unknown architecture {architecture!r}")


#: The projections whose Xavier gain is β (Figure 2, ``deepnorm_init``); q_proj and k_proj keep gain 1.
SCALED = ("v_proj", "out_proj", "fc1", "fc2")


def deepnorm_init_(block: nn.Module, beta: float) -> None:
    """Figure 2's ``deepnorm_init``: every weight matrix Xavier-normal, std = gain·√(2/(fan_in + fan_out)),
    gain β for the value, output and feed-forward projections (``SCALED``), 1 for query and key; biases 0.
    β = 1 is the standard Xavier initialisation of a Post-LN (or Pre-LN) block. Drawn in a fixed order, so
    that the same seed gives DeepNorm exactly the standard weights, scaled by β where the paper says."""
    for name in ("q_proj", "k_proj", *SCALED):
        linear = block.get_submodule(("attn." if name.endswith("proj") else "") + name)
        assert isinstance(linear, nn.Linear)
        nn.init.xavier_normal_(linear.weight, gain=beta if name in SCALED else 1.0)
        nn.init.zeros_(linear.bias)


class Attention(nn.Module):
    """Causal multi-head self-attention with separate q, k, v and output projections (the names the
    paper's initialisation refers to)."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not a multiple of {n_heads} heads")
        self.n_heads = n_heads
        self.q_proj, self.k_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.v_proj, self.out_proj = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = (
            p(x).view(B, T, self.n_heads, D // self.n_heads).transpose(1, 2)
            for p in (self.q_proj, self.k_proj, self.v_proj)
        )  # each (B, H, T, D/H)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, D/H)
        return self.out_proj(y.transpose(1, 2).reshape(B, T, D))  # (B, T, D)


class Block(nn.Module):
    """One transformer layer: attention then a GELU feed-forward (D → 4D → D), each a sublayer G wrapped by
    ``norm_position``: "post", "pre" or "deepnorm" (residual weight ``alpha``, Post-LN when it is 1).

    The initialisation is the caller's (``deepnorm_init_``), so that the same block with β = 1 is the
    standard one; ``alpha`` is ignored by Pre-LN, whose residual is never re-weighted."""

    def __init__(self, d_model: int, n_heads: int, norm_position: NormPosition, alpha: float = 1.0) -> None:
        super().__init__()
        if norm_position not in ("post", "pre", "deepnorm"):
            raise ValueError(f"norm_position must be post, pre or deepnorm, not {norm_position!r}")
        if norm_position == "post" and alpha != 1.0:
            raise ValueError("Post-LN has α = 1: use norm_position='deepnorm' for another residual weight")
        self.norm_position, self.alpha = norm_position, alpha
        self.attn = Attention(d_model, n_heads)
        self.fc1, self.fc2 = nn.Linear(d_model, 4 * d_model), nn.Linear(4 * d_model, d_model)
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)

    def ffn(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))  # (B, T, D) → (B, T, 4D) → (B, T, D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm_position == "pre":  # x + G(LN(x)), for both sublayers
            x = x + self.attn(self.ln1(x))
            return x + self.ffn(self.ln2(x))
        x = self.ln1(self.alpha * x + self.attn(x))  # DeepNorm: LN(α·x + G(x)); Post-LN when α = 1
        return self.ln2(self.alpha * x + self.ffn(x))

    def extra_repr(self) -> str:
        return f"norm_position={self.norm_position!r}, alpha={self.alpha:.4g}"


class DeepTransformer(nn.Module):
    """A decoder-only language model of ``layers`` blocks: tokens (B, T) int64 → logits (B, T, vocab).

    "deepnorm" takes (α, β) from Table 1's decoder-only row, (2N)^{1/4} and (8N)^{−1/4} with N = ``layers``
    (or ``alpha``/``beta`` when given: α = β = 1 is Post-LN); "post" and "pre" use standard Xavier (β = 1).
    Pre-LN ends with a final LayerNorm (its stream is never normalised otherwise); Post-LN and DeepNorm end
    on a block's LN already. Embeddings N(0, 1), positions learned."""

    def __init__(
        self,
        vocab: int,
        max_len: int,
        d_model: int,
        n_heads: int,
        layers: int,
        norm_position: NormPosition,
        *,
        alpha: float | None = None,
        beta: float | None = None,
    ) -> None:
        super().__init__()
        a, b = deepnorm_constants(layers, "decoder") if norm_position == "deepnorm" else (1.0, 1.0)
        self.alpha, self.beta = a if alpha is None else alpha, b if beta is None else beta
        self.embed, self.position = nn.Embedding(vocab, d_model), nn.Embedding(max_len, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, norm_position, self.alpha) for _ in range(layers))
        for block in self.blocks:
            deepnorm_init_(block, self.beta)
        self.ln_f = nn.LayerNorm(d_model) if norm_position == "pre" else nn.Identity()
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        T = tokens.shape[1]
        x = self.embed(tokens) + self.position(torch.arange(T, device=tokens.device))  # (B, T, D)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))  # (B, T, vocab)


def xavier_std(linear: nn.Linear, gain: float = 1.0) -> float:
    """The std Xavier-normal draws from: gain · √(2 / (fan_in + fan_out))."""
    fan_out, fan_in = linear.weight.shape
    return gain * math.sqrt(2.0 / (fan_in + fan_out))
