"""The two small networks the normalization family is trained on, each with the layer under test as a knob.

- ``ConvNet``: three 3×3 convolutions (16, 32, 32 channels; the last two with stride 2), each followed by the
  normalization under test and a ReLU, global average pooling and a linear read-out: where the layers that
  take statistics over images (BatchNorm, GroupNorm, InstanceNorm) or reparameterize weights (WeightNorm)
  go. He-initialised, as every arm.
- ``TinyLM``: a causal transformer language model whose blocks normalise each token (LayerNorm, RMSNorm,
  Dynamic Tanh in the pre-norm position, x + f(N(x)); DeepNorm in the post-norm position,
  LN(α·x + f(x)), with its β-scaled initialization).

The layers are PyTorch's own where PyTorch has them (``nn.BatchNorm2d``, ``nn.GroupNorm``,
``nn.InstanceNorm2d``, ``weight_norm``, ``nn.LayerNorm``, ``nn.RMSNorm``); Dynamic Tanh and DeepNorm's
residual are the few lines below (each paper's own plugin derives and checks its version: a plugin never
imports another).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

#: The layers that normalise over images, and those that normalise each token: the members of each network.
CONV_LAYERS = ("batchnorm", "weightnorm", "instancenorm", "groupnorm")
TOKEN_LAYERS = ("layernorm", "rmsnorm", "deepnorm", "dyt")
GROUPS = 4  # GroupNorm's G: the paper's default is 32 groups of a wide layer; 4 groups of 4-8 channels here


class DyT(nn.Module):
    """Dynamic Tanh (Zhu et al. 2025, arXiv 2503.10622): y = γ ⊙ tanh(α·x) + β, α one learnt scalar."""

    def __init__(self, d: int, alpha_init: float = 0.5) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.tensor(alpha_init))
        self.weight, self.bias = nn.Parameter(torch.ones(d)), nn.Parameter(torch.zeros(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * torch.tanh(self.alpha * x) + self.bias


def deepnorm_constants(layers: int) -> tuple[float, float]:
    """DeepNet's α = (2N)^(1/4), β = (8N)^(−1/4) for an N-layer encoder-only or decoder-only model."""
    return (2 * layers) ** 0.25, (8 * layers) ** -0.25


def _conv_norm(layer: str, channels: int) -> nn.Module:
    if layer == "batchnorm":
        return nn.BatchNorm2d(channels)
    if layer == "instancenorm":
        return nn.InstanceNorm2d(channels, affine=True)
    if layer == "groupnorm":
        return nn.GroupNorm(GROUPS, channels)
    return nn.Identity()  # weightnorm (on the convolution itself) and none


class ConvNet(nn.Module):
    """Images (B, 1, H, W) → logits (B, classes); ``layer`` one of CONV_LAYERS or "none"."""

    def __init__(self, layer: str, classes: int = 4, width: int = 16) -> None:
        super().__init__()
        channels = (1, width, 2 * width, 2 * width)
        convs, norms = [], []
        for i in range(3):
            conv = nn.Conv2d(channels[i], channels[i + 1], 3, stride=1 if i == 0 else 2, padding=1)
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)  # type: ignore[arg-type]
            convs.append(weight_norm(conv) if layer == "weightnorm" else conv)  # w = g·v/‖v‖ per out channel
            norms.append(_conv_norm(layer, channels[i + 1]))
        self.convs, self.norms = nn.ModuleList(convs), nn.ModuleList(norms)
        self.head = nn.Linear(channels[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = F.relu(norm(conv(x)))  # (B, C, H', W')
        return self.head(x.mean(dim=(2, 3)))  # global average pool: (B, C) → (B, classes)


def _token_norm(layer: str, d: int) -> nn.Module:
    if layer == "rmsnorm":
        return nn.RMSNorm(d, eps=1e-6)
    if layer == "dyt":
        return DyT(d)
    return nn.LayerNorm(d)  # layernorm (pre-norm) and deepnorm (post-norm)


class Block(nn.Module):
    """Pre-norm x + attn(N(x)), x + mlp(N(x)); for DeepNorm post-norm LN(α·x + attn(x)), LN(α·x + mlp(x))."""

    def __init__(self, layer: str, d: int, heads: int, alpha: float) -> None:
        super().__init__()
        self.post, self.alpha, self.heads = layer == "deepnorm", alpha, heads
        self.norm1, self.norm2 = _token_norm(layer, d), _token_norm(layer, d)
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = (
            self.qkv(x).view(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        )  # (B, h, T, d)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out(y.transpose(1, 2).reshape(B, T, D))

    def mlp(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(F.gelu(self.fc(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.post:  # DeepNorm: x_{l+1} = LN(α·x_l + G(x_l))
            x = self.norm1(self.alpha * x + self.attention(x))
            return self.norm2(self.alpha * x + self.mlp(x))
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TinyLM(nn.Module):
    """Tokens (B, T) → logits (B, T, vocab); ``layer`` one of TOKEN_LAYERS."""

    def __init__(self, layer: str, vocab: int, max_len: int, d: int = 32, heads: int = 2, layers: int = 4):
        super().__init__()
        alpha, beta = deepnorm_constants(layers) if layer == "deepnorm" else (1.0, 1.0)
        self.embed, self.position = nn.Embedding(vocab, d), nn.Embedding(max_len, d)
        self.blocks = nn.ModuleList(Block(layer, d, heads, alpha) for _ in range(layers))
        self.final = nn.Identity() if layer == "deepnorm" else _token_norm(layer, d)  # post-norm ends normed
        self.head = nn.Linear(d, vocab)
        for name, p in self.named_parameters():
            if p.dim() == 2 and not name.startswith(("embed", "position")):
                nn.init.xavier_normal_(p)
                if layer == "deepnorm" and name.endswith(("fc.weight", "proj.weight", "out.weight")):
                    p.data.mul_(beta)  # DeepNorm's init: FFN, value and output projections ×β
                if layer == "deepnorm" and name.endswith("qkv.weight"):
                    p.data[2 * d :].mul_(beta)  # the value projection (rows 2d … 3d of the packed q, k, v)
            elif name.endswith("bias") and "norm" not in name and "final" not in name:
                nn.init.zeros_(p)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        T = tokens.shape[1]
        x = self.embed(tokens) + self.position(torch.arange(T, device=tokens.device))  # (B, T, d)
        for block in self.blocks:
            x = block(x)
        return self.head(self.final(x))  # (B, T, vocab)
