"""Gist masking and gist caching (Mu, Li and Goodman 2023, arXiv 2304.08467, section 3).

A decoder-only model reads [prompt t] [k gist tokens G] [input x] [output y]. The gist mask is the causal
mask with one block removed: nothing after the gist tokens may attend to the prompt,

    mask[i, j] = (j ≤ i) and not (i ≥ |t| + k and j < |t|)          (True = may attend; figure 2, decoder)

so everything the model knows about the prompt when it reads x and writes y passes through the gist tokens'
activations. Trained this way (instruction finetuning with the mask, nothing else changes), the prompt can
be run once, its gist tokens' keys and values kept per layer (k positions instead of |t| + k), and every
later input decoded against that small cache alone; the paper calls this gist caching. The gist tokens are
one new token, repeated k times, with a learned embedding.

``decode_with_gist_cache`` is that decoding, written against ``plugin_kit.transformer.TinyTransformer``'s
weights: a small key/value-cache forward of our own, which must give the masked forward's logits exactly.
"""

from __future__ import annotations

import torch

from readtrack.plugin_kit.transformer import KV, TinyTransformer


def gist_mask(n_prompt: int, k: int, n_after: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """(N, N) bool, N = n_prompt + k + n_after, True where query i may attend key j: causal, and positions
    after the k gist tokens cannot see the prompt (section 3)."""
    N = n_prompt + k + n_after
    mask = torch.ones(N, N, dtype=torch.bool, device=device).tril()  # causal: j ≤ i
    mask[n_prompt + k :, :n_prompt] = False  # after the gist: the prompt is gone
    return mask


def gist_cache(model: TinyTransformer, prompt_and_gist: torch.Tensor, k: int) -> KV:
    """Run [prompt, k gist tokens] (B, |t| + k) once, causally, and keep each layer's keys and values of the
    k gist positions only: (B, H, k, d_head) per layer. Nothing of the prompt's own positions is kept."""
    _, every = model.forward_cached(prompt_and_gist, 0)  # (B, H, |t| + k, d) per layer
    return [(keys[:, :, -k:], values[:, :, -k:]) for keys, values in every]  # the gist tokens'


def decode_with_gist_cache(model: TinyTransformer, cache: KV, x: torch.Tensor, start: int) -> torch.Tensor:
    """Logits (B, n, vocab) for the tokens x (B, n) that follow the gist, at positions start … start + n − 1,
    attending to the cached gist keys/values and, causally, to each other: what gist caching computes."""
    logits, _ = model.forward_cached(x, start, cache)
    return logits


def cache_numbers(model: TinyTransformer, positions: int) -> int:
    """Numbers a decoder keeps for ``positions`` cached tokens: a key and a value of d_model per layer."""
    return 2 * len(model.blocks) * model.embed.embedding_dim * positions
