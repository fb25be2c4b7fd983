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
import torch.nn.functional as F

from readtrack.plugin_kit.transformer import Block, TinyTransformer

KV = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: keys and values (B, H, length, d_head)


def gist_mask(n_prompt: int, k: int, n_after: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """(N, N) bool, N = n_prompt + k + n_after, True where query i may attend key j: causal, and positions
    after the k gist tokens cannot see the prompt (section 3)."""
    N = n_prompt + k + n_after
    mask = torch.ones(N, N, dtype=torch.bool, device=device).tril()  # causal: j ≤ i
    mask[n_prompt + k :, :n_prompt] = False  # after the gist: the prompt is gone
    return mask


def _attention_heads(block: Block, h: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """q, k, v (B, H, N, d_head) of one TinyTransformer block for its input h (B, N, D)."""
    B, N, D = h.shape
    H = block.attn.n_heads
    q, k, v = block.attn.qkv(block.ln1(h)).view(B, N, 3, H, D // H).permute(2, 0, 3, 1, 4)
    return q, k, v


def _mlp(block: Block, h: torch.Tensor) -> torch.Tensor:
    return h + block.proj(F.gelu(block.fc(block.ln2(h))))


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """softmax(q kᵀ / √d + mask) v, written out: q (B, H, n, d), k and v (B, H, m, d), mask (n, m) bool."""
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5  # (B, H, n, m)
    return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1) @ v  # (B, H, n, d)


def gist_cache(model: TinyTransformer, prompt_and_gist: torch.Tensor, k: int) -> KV:
    """Run [prompt, k gist tokens] (B, |t| + k) once, causally, and keep each layer's keys and values of the
    k gist positions only: (B, H, k, d_head) per layer. Nothing of the prompt's own positions is kept."""
    B, N = prompt_and_gist.shape
    h = model.embed(prompt_and_gist) + model.position(torch.arange(N, device=prompt_and_gist.device))
    causal = torch.ones(N, N, dtype=torch.bool, device=h.device).tril()
    cache: KV = []
    for block in model.blocks:
        assert isinstance(block, Block)
        q, keys, values = _attention_heads(block, h)
        cache.append((keys[:, :, N - k :], values[:, :, N - k :]))  # (B, H, k, d): the gist tokens'
        y = _attend(q, keys, values, causal).transpose(1, 2).reshape(B, N, -1)  # (B, N, D)
        h = _mlp(block, h + block.attn.proj(y))
    return cache


def decode_with_gist_cache(model: TinyTransformer, cache: KV, x: torch.Tensor, start: int) -> torch.Tensor:
    """Logits (B, n, vocab) for the tokens x (B, n) that follow the gist, at positions start … start + n − 1,
    attending to the cached gist keys/values and, causally, to each other: what gist caching computes."""
    B, n = x.shape
    k = cache[0][0].shape[2]
    h = model.embed(x) + model.position(torch.arange(start, start + n, device=x.device))  # (B, n, D)
    mask = torch.ones(n, k + n, dtype=torch.bool, device=x.device)
    mask[:, k:] = torch.ones(n, n, dtype=torch.bool, device=x.device).tril()  # the gist, then causal x
    for block, (gist_keys, gist_values) in zip(model.blocks, cache, strict=True):
        assert isinstance(block, Block)
        q, keys, values = _attention_heads(block, h)
        keys, values = torch.cat((gist_keys, keys), dim=2), torch.cat((gist_values, values), dim=2)
        y = _attend(q, keys, values, mask).transpose(1, 2).reshape(B, n, -1)  # (B, n, D)
        h = _mlp(block, h + block.attn.proj(y))
    return model.ln_f(h) @ model.embed.weight.T  # the tied read-out, as TinyTransformer's


def cache_numbers(model: TinyTransformer, positions: int) -> int:
    """Numbers a decoder keeps for ``positions`` cached tokens: a key and a value of d_model per layer."""
    return 2 * len(model.blocks) * model.embed.embedding_dim * positions
