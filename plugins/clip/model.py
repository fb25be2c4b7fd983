"""CLIP (Radford et al. 2021, arXiv 2103.00020): an image encoder and a text encoder trained so that an
image's embedding is closest to its own caption's among all captions in the batch, and vice versa.

Figure 3 (numpy-like pseudocode), for a batch of n (image, text) pairs:

    I_f = image_encoder(I)                      # (n, d_i)
    T_f = text_encoder(T)                       # (n, d_t)
    I_e = l2_normalize(I_f @ W_i, axis=1)       # (n, d_e)  joint multimodal embedding
    T_e = l2_normalize(T_f @ W_t, axis=1)       # (n, d_e)
    logits = I_e @ T_eᵀ · exp(t)                # (n, n)    scaled pairwise cosine similarities
    loss = (CE(logits, arange(n), axis=0) + CE(logits, arange(n), axis=1)) / 2      symmetric

The temperature is learned as a log-parameterised multiplicative scalar exp(t), initialised to 1/0.07 and
clipped so that it never scales the logits by more than 100 (section 2.5). Zero-shot classification
(section 3.1.2): embed one caption ("prompt") per class, or the mean of several (prompt ensembling), and
pick the class whose text embedding is most similar to the image's.

The encoders here are small (the paper's are a ResNet or ViT and a Transformer): one convolution (5×5, 16
channels, max-pooled 4×4, so the 4×4 grid of cells keeps where a shape is) then a linear layer over a 16×16
image, and a bag of caption tokens, each token embedded with its slot, then an MLP. The convolution's shared
weights see a shape's strokes alike in every quadrant, as the paper's ResNets and ViTs do; an MLP over the
pixels learned shapes per position and generalised to the unseen combinations unevenly from seed to seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class CLIPConfig:
    size: int = 16  # 16 × 16 images
    channels: int = 16  # the image encoder's convolution
    kernel: int = 5
    pool: int = 4  # max-pooling window: a (size / pool)² grid of cells, each still where it is
    vocab: int = 16  # caption tokens
    slots: int = 4  # caption length
    hidden: int = 128
    embed: int = 32  # d_e
    init_temperature: float = 0.07
    max_scale: float = 100.0
    learn_temperature: bool = True


def clip_loss(I_e: torch.Tensor, T_e: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Figure 3's loss for normalised embeddings I_e, T_e (n, d_e) and the logit scale exp(t)."""
    logits = scale * I_e @ T_e.T  # (n, n): row i is image i against every text
    labels = torch.arange(len(logits), device=logits.device)
    loss_i = F.cross_entropy(logits, labels)  # each image picks its text (over a row)
    loss_t = F.cross_entropy(logits.T, labels)  # each text picks its image (over a column)
    return (loss_i + loss_t) / 2


class CLIP(nn.Module):
    def __init__(self, cfg: CLIPConfig) -> None:
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        cells = (cfg.size // cfg.pool) ** 2
        self.image_encoder = nn.Sequential(
            nn.Conv2d(1, cfg.channels, cfg.kernel, padding=cfg.kernel // 2),  # (n, c, 16, 16)
            nn.ReLU(),
            nn.MaxPool2d(cfg.pool),  # (n, c, 4, 4)
            nn.Flatten(),  # (n, c·16)
            nn.Linear(cfg.channels * cells, h),
            nn.ReLU(),
        )
        self.tokens = nn.Embedding(cfg.vocab, h)
        self.slot = nn.Parameter(0.02 * torch.randn(cfg.slots, h))  # where in the caption a token stands
        self.text_encoder = nn.Sequential(nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        self.W_i = nn.Linear(h, cfg.embed, bias=False)  # W_i: image features → joint space
        self.W_t = nn.Linear(h, cfg.embed, bias=False)  # W_t: text features → joint space
        t0 = math.log(1 / cfg.init_temperature)
        self.t = nn.Parameter(torch.tensor(t0), requires_grad=cfg.learn_temperature)  # log of the scale

    def logit_scale(self) -> torch.Tensor:
        return self.t.exp().clamp(max=self.cfg.max_scale)  # exp(t), clipped at 100 (section 2.5)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:  # (n, 1, 16, 16)
        I_f = self.image_encoder(images)  # (n, h)
        return F.normalize(self.W_i(I_f), dim=-1)  # I_e: (n, d_e)

    def encode_text(self, captions: torch.Tensor) -> torch.Tensor:  # (n, slots) token ids
        T_f = self.text_encoder((self.tokens(captions) + self.slot).mean(dim=1))  # (n, slots, h) → (n, h)
        return F.normalize(self.W_t(T_f), dim=-1)  # T_e: (n, d_e)

    def forward(self, images: torch.Tensor, captions: torch.Tensor) -> torch.Tensor:
        return clip_loss(self.encode_image(images), self.encode_text(captions), self.logit_scale())

    @torch.no_grad()
    def zero_shot(self, images: torch.Tensor, prompts: list[torch.Tensor]) -> torch.Tensor:
        """Class predictions (n,): prompts[c] holds the captions (m_c, slots) of class c, their normalised
        mean embedding is the class's (prompt ensembling), the most similar class wins."""
        classes = torch.stack([F.normalize(self.encode_text(p).mean(0), dim=-1) for p in prompts])  # (C, d_e)
        return (self.encode_image(images) @ classes.T).argmax(-1)  # (n,)
