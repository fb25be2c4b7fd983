"""The fuyu plugin: the patch projection against Conv2d and the sequence layout against a loop on more
shapes, causality and any image size, the scenes and their answers, checks that fail for patches taken
in the wrong order, a row-end in the wrong place, or a decoder that looks ahead, and a train stage that
fails without row-ends."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.fuyu.experiment import (
    FIRST_SHAPE,
    NO,
    NONE,
    ONE,
    Q_COUNT,
    Q_DISC,
    Q_ROW_END,
    Q_TOP_RIGHT,
    TEST_SIZES,
    TRAIN_SIZES,
    VOCAB,
    YES,
    answers,
    grid_scenes,
    layout_by_loop,
    qa_batch,
    row_end_batch,
)
from readtrack_plugins.fuyu.model import CausalSelfAttention, Fuyu, patchify, rotate
from torch import nn

from readtrack.plugin_kit.images import SHAPES
from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize(("C", "p", "H", "W"), [(1, 1, 3, 5), (2, 3, 9, 6), (3, 4, 4, 28), (1, 8, 16, 8)])
def test_the_patch_projection_is_a_strided_convolution(C: int, p: int, H: int, W: int) -> None:
    linear, conv = nn.Linear(C * p * p, 5).double(), nn.Conv2d(C, 5, p, stride=p).double()
    assert conv.bias is not None
    with torch.no_grad():
        conv.weight.copy_(linear.weight.view(5, C, p, p)), conv.bias.copy_(linear.bias)
    x = torch.randn(2, C, H, W, dtype=torch.float64)
    torch.testing.assert_close(linear(patchify(x, p)), conv(x).permute(0, 2, 3, 1))


@pytest.mark.parametrize(("H", "W"), [(4, 4), (4, 40), (36, 8), (20, 28)])
@pytest.mark.parametrize("row_ends", [True, False])
def test_the_sequence_is_rows_of_patches_each_ended_by_a_row_end(H: int, W: int, row_ends: bool) -> None:
    torch.manual_seed(0)
    model = Fuyu(VOCAB, row_ends=row_ends).double()
    images = torch.randn(3, 1, H, W, dtype=torch.float64)
    tokens = model.image_tokens(images)
    w = W // 4 + row_ends
    assert tokens.shape == (3, (H // 4) * w, 64)
    torch.testing.assert_close(tokens, layout_by_loop(model, images))
    if row_ends:
        torch.testing.assert_close(tokens[:, w - 1 :: w], model.row_end.expand(3, H // 4, 64))


def test_rotary_positions_make_scores_depend_on_distance_only() -> None:
    q, k = torch.randn(1, 1, 1, 8, dtype=torch.float64), torch.randn(1, 1, 1, 8, dtype=torch.float64)
    seq_q, seq_k = q.expand(1, 1, 30, 8), k.expand(1, 1, 30, 8)
    scores = rotate(seq_q) @ rotate(seq_k).transpose(-2, -1)  # (1, 1, 30, 30)
    for shift in (1, 7, 20):
        torch.testing.assert_close(
            scores[0, 0, shift:, :-shift].diagonal(), scores[0, 0, shift, 0].expand(30 - shift)
        )


def test_any_size_is_a_longer_sequence_and_the_decoder_is_causal() -> None:
    torch.manual_seed(0)
    model = Fuyu(VOCAB).double()
    q = torch.tensor([[Q_COUNT], [Q_DISC]])
    for H, W in [(4, 4), (12, 36), (40, 40)]:
        assert model(torch.randn(2, 1, H, W, dtype=torch.float64), q).shape == (2, VOCAB)
    x = torch.randn(1, 9, 64, dtype=torch.float64)
    x2 = x.clone()
    x2[:, 6:] += 1.0
    torch.testing.assert_close(model.decode(x)[:, :6], model.decode(x2)[:, :6])
    with pytest.raises(ValueError, match="whole number"):
        model(torch.zeros(1, 1, 6, 8, dtype=torch.float64), q[:1])


@pytest.mark.parametrize("size", [*TRAIN_SIZES[:3], *TEST_SIZES])
def test_the_scenes_and_their_answers(size: tuple[int, int]) -> None:
    images, cells = grid_scenes(400, size, torch.Generator().manual_seed(1), "cpu", noise=0.0)
    H, W = size
    kh, kw = H // 8, W // 8
    assert images.shape == (400, 1, H, W) and cells.shape == (400, kh, kw)
    filled = cells >= 0
    per_image = filled.flatten(1).sum(1)
    assert int(per_image.min()) >= 1 and int(per_image.max()) <= 3
    assert 0.4 < filled[:, 0, -1].double().mean().item() < 0.6  # top-right filled half the time
    for i in range(20):  # each filled cell's 8 × 8 square holds its shape, the rest of the image is empty
        left = W - kw * 8
        ink = images[i, 0] > 0.5
        for r in range(kh):
            for c in range(kw):
                square = ink[r * 8 : (r + 1) * 8, left + c * 8 : left + (c + 1) * 8]
                assert bool(square.any()) == bool(filled[i, r, c])
        assert int(ink.sum()) == sum(
            int(ink[r * 8 : (r + 1) * 8, left + c * 8 : left + (c + 1) * 8].sum())
            for r in range(kh)
            for c in range(kw)
        )
    right = answers(cells)
    for i in range(50):
        count = int(filled[i].sum())
        assert int(right[Q_COUNT][i]) == ONE + count - 1
        assert int(right[Q_DISC][i]) == (YES if (cells[i] == SHAPES.index("disc")).any() else NO)
        corner = int(cells[i, 0, -1])
        assert int(right[Q_TOP_RIGHT][i]) == (NONE if corner < 0 else FIRST_SHAPE + corner)


def test_a_qa_batch_asks_every_question() -> None:
    images, q, a = qa_batch(300, (24, 16), torch.Generator().manual_seed(0), "cpu")
    assert images.shape == (300, 1, 24, 16) and q.shape == (300, 1) and a.shape == (300,)
    assert set(q.flatten().tolist()) == {Q_COUNT, Q_DISC, Q_TOP_RIGHT}
    assert int(a.max()) < VOCAB


@pytest.mark.parametrize("size", [(8, 8), (24, 16), (20, 28), (40, 40)])
def test_the_row_end_question_asks_whether_the_bright_patch_ends_its_row(size: tuple[int, int]) -> None:
    images, q, a = row_end_batch(400, size, torch.Generator().manual_seed(2), "cpu", noise=0.0)
    H, W = size
    assert images.shape == (400, 1, H, W) and bool((q == Q_ROW_END).all())
    patches = images[:, 0].view(400, H // 4, 4, W // 4, 4).sum((2, 4))  # (n, h, w): ink per patch
    assert bool((patches.flatten(1).max(1).values == 16).all()) and int((patches > 0).sum()) == 400
    ends_its_row = (patches[:, :, -1] > 0).any(1)  # found apart from how row_end_batch chose
    assert torch.equal(a, torch.where(ends_its_row, YES, NO))
    assert 0.4 < ends_its_row.double().mean().item() < 0.6


def without_row_ends(self: Fuyu, images: torch.Tensor) -> torch.Tensor:
    """The idea removed: the patches in raster order and no row-end, whatever ``row_ends`` says."""
    z = self.patch_proj(patchify(images, self.patch))
    return z.reshape(z.shape[0], -1, z.shape[-1])


def test_the_train_stage_fails_without_row_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Fuyu, "image_tokens", without_row_ends)
    result = run_stage("fuyu", "train")
    failed = {t.name for t in result.targets if not t.passed}
    assert failed == {t.name for t in result.targets} and len(failed) == 2, failures(result)


def patches_column_major(images: torch.Tensor, p: int) -> torch.Tensor:
    """A broken patchify: the patches of each image in column-major order, transposed into the row layout."""
    B, C, H, W = images.shape
    x = images.view(B, C, H // p, p, W // p, p).permute(0, 4, 2, 1, 3, 5)  # (B, w, h, C, p, p)
    return x.reshape(B, H // p, W // p, C * p * p)


def row_end_first(self: Fuyu, images: torch.Tensor) -> torch.Tensor:
    """A broken layout: the row-end before each row instead of after it."""
    z = self.patch_proj(patchify(images, self.patch))
    B, h, _, d = z.shape
    if self.row_ends:
        z = torch.cat([self.row_end.expand(B, h, 1, d), z], dim=2)
    return z.reshape(B, -1, d)


def sees_the_future(self: CausalSelfAttention, x: torch.Tensor) -> torch.Tensor:
    """A broken attention: bidirectional."""
    B, N, D = x.shape
    q, k, v = self.qkv(x).view(B, N, 3, self.n_heads, D // self.n_heads).permute(2, 0, 3, 1, 4)
    y = F.scaled_dot_product_attention(rotate(q), rotate(k), v)
    return self.proj(y.transpose(1, 2).reshape(B, N, D))


def rotate_base_1000(x: torch.Tensor) -> torch.Tensor:
    """A wrong rotary base (1000, not 10000): still relative and causal; only the formulas catch it."""
    N, d = x.shape[-2], x.shape[-1]
    theta = 1000.0 ** (-torch.arange(0, d, 2, device=x.device, dtype=torch.float64) / d)
    angle = torch.arange(N, device=x.device, dtype=torch.float64)[:, None] * theta
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        ("readtrack_plugins.fuyu.experiment.patchify", patches_column_major, "patch projection vs strided"),
        (
            "readtrack_plugins.fuyu.model.Fuyu.image_tokens",
            row_end_first,
            "image sequence vs a patch-by-patch",
        ),
        ("readtrack_plugins.fuyu.model.CausalSelfAttention.forward", sees_the_future, "causal: no output"),
        ("readtrack_plugins.fuyu.model.rotate", rotate_base_1000, "decoder vs the formulas"),
    ],
)
def test_the_check_stage_catches_a_wrong_patch_order_a_misplaced_row_end_or_a_look_ahead(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("fuyu", caught_by)
