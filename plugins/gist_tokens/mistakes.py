"""Classic mistakes in gist masking and gist caching, for ``readtrack practice``: the check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake
from readtrack.plugin_kit.transformer import KV, TinyTransformer


@mistake("gist_mask", fails="gist mask = the definition entry by entry, prompt 1, 1 gist, 1 after")
def gist_mask(n_prompt: int, k: int, n_after: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """Hides the prompt from the gist tokens too (rows from n_prompt, not n_prompt + k): nothing can be
    compressed into them."""
    N = n_prompt + k + n_after
    mask = torch.ones(N, N, dtype=torch.bool, device=device).tril()
    mask[n_prompt:, :n_prompt] = False
    return mask


@mistake("gist_cache", fails="decoding against the gist cache = the masked forward, prompt 1, 1 gist")
def gist_cache(model: TinyTransformer, prompt_and_gist: torch.Tensor, k: int) -> KV:
    """Keeps the first k positions (the start of the prompt) instead of the last k (the gist tokens)."""
    _, every = model.forward_cached(prompt_and_gist, 0)
    return [(keys[:, :, :k], values[:, :, :k]) for keys, values in every]


@mistake("gist_mask", fails="gist mask is a bool tensor on the device asked for")
def gist_mask_of_floats(
    n_prompt: int, k: int, n_after: int, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """torch.ones without dtype=torch.bool: a float32 mask of 1s and 0s, which attention reads as numbers to
    add to the scores, not as which keys to hide."""
    N = n_prompt + k + n_after
    mask = torch.ones(N, N, device=device).tril()
    mask[n_prompt + k :, :n_prompt] = 0
    return mask
