"""Classic mistakes in Fuyu's patch input, for ``readtrack practice``: its check must catch them
(tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake

from .model import Fuyu, patchify


@mistake("patchify", fails="patch projection vs strided Conv2d, 1×16×24")
def patchify_by_reshape(images: torch.Tensor, p: int) -> torch.Tensor:
    """A reshape without the permute: each "patch" is p·p·C consecutive numbers of the image's memory,
    pieces of a pixel row, not a p × p square. An image of one patch hides it."""
    B, C, H, W = images.shape
    if H % p or W % p:
        raise ValueError(f"image {H}×{W} is not a whole number of {p}×{p} patches")
    return images.reshape(B, H // p, W // p, C * p * p)


@mistake("Fuyu.image_tokens", fails="image sequence vs a patch-by-patch loop, 16×16, row-ends on")
def image_tokens(self: Fuyu, images: torch.Tensor) -> torch.Tensor:
    """The row-ends appended after the whole image (all patches, then h row-ends) instead of after each row:
    the decoder can no longer tell where a row ends. An image of one row hides it."""
    z = self.patch_proj(patchify(images, self.patch))
    B, h, _, d = z.shape
    z = z.reshape(B, -1, d)
    if self.row_ends:
        z = torch.cat([z, self.row_end.expand(B, h, d)], dim=1)
    return z
