"""Classic mistakes in Fuyu's patch input, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

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


@mistake("patchify", fails="an image that is not a whole number of patches is refused with ValueError (8×10")
def patchify_checking_only_the_height(images: torch.Tensor, p: int) -> torch.Tensor:
    """Checks that the height is a whole number of patches and takes the width on trust (square images in
    mind): a 8×10 image fails inside the view, with no word about patches."""
    B, C, H, W = images.shape
    if H % p:
        raise ValueError(f"image height {H} is not a whole number of {p}-pixel patches")
    x = images.view(B, C, H // p, p, W // p, p)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(B, H // p, W // p, C * p * p)


@mistake("patchify", fails="an image that is not a whole number of patches is refused with ValueError (10×8")
def patchify_asserting(images: torch.Tensor, p: int) -> torch.Tensor:
    """An assert instead of the ValueError the statement asks for: the caller cannot catch the usual
    exception, and under python -O the check is gone."""
    B, C, H, W = images.shape
    assert H % p == 0 and W % p == 0, f"image {H}×{W} is not a whole number of {p}×{p} patches"
    x = images.view(B, C, H // p, p, W // p, p)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(B, H // p, W // p, C * p * p)


@mistake("Fuyu.image_tokens", fails="image sequence vs a patch-by-patch loop, 3×8×12, p = 2")
def image_tokens_with_patches_of_4(self: Fuyu, images: torch.Tensor) -> torch.Tensor:
    """Cuts 4 × 4 patches, the default, instead of the model's own self.patch: a model built with another
    patch size cannot read its images."""
    z = self.patch_proj(patchify(images, 4))
    B, h, _, d = z.shape
    if self.row_ends:
        z = torch.cat([z, self.row_end.expand(B, h, 1, d)], dim=2)
    return z.reshape(B, -1, d)
