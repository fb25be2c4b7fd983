"""The pixelrnn plugin: masked convolutions and the Row LSTM against independent references on more shapes,
the receptive fields the paper describes (PixelCNN blind spot, Row LSTM triangle), a normalised likelihood,
sampling, and checks that fail for a mask off by one or a Row LSTM that reads the next row."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.pixelrnn.experiment import (
    ReferenceMaskedConv,
    allowed_offsets,
    predicted_reach,
    row_lstm_by_cells,
)
from readtrack_plugins.pixelrnn.model import (
    MaskedConv2d,
    PixelCNN,
    PixelConfig,
    PixelRowLSTM,
    RowLSTM,
    causal_mask,
    nll,
    sample,
)

from readtrack.plugin_kit.images import bars, bars_log_likelihood
from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize(
    ("kernel", "kind", "shape"),
    [
        ((7, 7), "A", (1, 1, 1, 1)),
        ((3, 3), "B", (2, 3, 4, 11)),
        ((5, 5), "B", (1, 2, 9, 2)),
        ((1, 1), "B", (2, 1, 3, 3)),
    ],
)
def test_the_masked_convolution_equals_a_conv2d_with_the_mask_from_the_offsets(
    kernel: tuple[int, int], kind: str, shape: tuple[int, int, int, int]
) -> None:
    torch.manual_seed(0)
    ours = MaskedConv2d(shape[1], 3, kernel, kind).double()
    ref = ReferenceMaskedConv(shape[1], 3, kernel, kind).double()
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(*shape, dtype=torch.float64)
    torch.testing.assert_close(ours(x), ref(x))


def test_the_masks_are_the_papers() -> None:
    assert causal_mask(3, 3, "A").tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert causal_mask(3, 3, "B").tolist() == [[1, 1, 1], [1, 1, 0], [0, 0, 0]]
    assert causal_mask(1, 3, "B").tolist() == [[1, 1, 0]]
    assert len(allowed_offsets(7, 7, "A")) == 24 and len(allowed_offsets(7, 7, "B")) == 25


@pytest.mark.parametrize(
    ("B", "c_in", "hidden", "H", "W", "k"), [(2, 1, 3, 2, 9, 3), (1, 2, 5, 7, 2, 7), (4, 3, 1, 1, 5, 3)]
)
def test_the_row_lstm_equals_lstm_cells_row_by_row(
    B: int, c_in: int, hidden: int, H: int, W: int, k: int
) -> None:
    torch.manual_seed(1)
    layer = RowLSTM(c_in, hidden, k).double()
    x = torch.randn(B, c_in, H, W, dtype=torch.float64)
    ref = row_lstm_by_cells(
        x, layer.input_to_state.weight, layer.input_to_state.bias, layer.state_to_state.weight,
        layer.state_to_state.bias, k,
    )  # fmt: skip
    torch.testing.assert_close(layer(x), ref)


def test_receptive_fields_blind_spot_and_triangle() -> None:
    size = 10
    cnn, row = predicted_reach("pixelcnn", size, 2), predicted_reach("rowlstm", size, 1)
    past = torch.ones(size * size, size * size, dtype=torch.bool).tril(-1)
    assert not bool((cnn & ~past).any()) and not bool((row & ~past).any())
    # the PixelCNN's blind spot: pixel (5, 2) does not see (4, 9), to the upper right beyond its kernels
    assert not bool(cnn[5 * size + 2, 4 * size + 9])
    # the Row LSTM's triangle: (9, 9) sees the far corner (0, 0) through the rows above but not (9, 0) in its
    # own row beyond the kernel; (5, 0) does not see (0, 9), up and to the right outside the triangle
    assert bool(row[9 * size + 9, 0]) and not bool(row[9 * size + 9, 9 * size]) and not bool(row[5 * size, 9])
    torch.manual_seed(0)
    x = torch.randn(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    model = PixelCNN(PixelConfig(layers=2)).double()
    (grad,) = torch.autograd.grad(model(x)[0, 0, 5, 2], x)
    assert float(grad[0, 0, 4, 9]) == 0.0 and float(grad[0, 0, 4, 3]) != 0.0


def test_the_likelihood_is_normalised_on_2x3_images_and_samples_are_binary() -> None:
    torch.manual_seed(0)
    bits = (torch.arange(64).view(-1, 1) >> torch.arange(5, -1, -1)) & 1
    x = bits.view(64, 1, 2, 3).double()
    for model in (PixelCNN().double(), PixelRowLSTM(PixelConfig(layers=2)).double()):
        total = torch.logsumexp(-nll(model, x), 0).exp()
        torch.testing.assert_close(total, torch.ones_like(total))
    images = sample(PixelCNN(), 5, 4, torch.Generator().manual_seed(0), "cpu")
    assert images.shape == (5, 1, 4, 4) and bool(((images == 0) | (images == 1)).all())
    assert bool(torch.isfinite(bars_log_likelihood(bars(3, torch.Generator().manual_seed(0)))).all())


def mask_off_by_one(k_h: int, k_w: int, kind: str, device: torch.device | None = None) -> torch.Tensor:
    """A broken mask: the centre pixel is let through for mask A too (the first layer sees its target)."""
    mask = torch.zeros(k_h, k_w, device=device)
    mask[: k_h // 2] = 1.0
    mask[k_h // 2, : k_w // 2 + 1] = 1.0
    return mask


def reads_the_next_row(self: RowLSTM, x: torch.Tensor) -> torch.Tensor:
    """A broken Row LSTM: the input-to-state features of row i + 1 leak into row i (it reads the next row)."""
    xs = self.input_to_state(x)
    xs = xs + F.pad(xs[:, :, 1:], (0, 0, 0, 1))
    B, _, H, W = x.shape
    h = xs.new_zeros(B, self.hidden, 1, W)
    c = torch.zeros_like(h)
    rows = []
    for i in range(H):
        o, f, i_, g = (self.state_to_state(h) + xs[:, :, i : i + 1]).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i_) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        rows.append(h)
    return torch.cat(rows, dim=2)


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        (
            "readtrack_plugins.pixelrnn.model.causal_mask",
            mask_off_by_one,
            "forward vs F.conv2d with the mask",
        ),
        ("readtrack_plugins.pixelrnn.model.RowLSTM.forward", reads_the_next_row, "Row LSTM vs nn.LSTMCell"),
    ],
)
def test_the_check_stage_catches_a_mask_off_by_one_or_a_row_lstm_that_looks_down(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(target, broken)
    failed = check_catches("pixelrnn", caught_by)
    model = "PixelCNN" if "mask" in target else "Row LSTM"
    assert any(name.startswith(f"{model} causal") for name in failed), failed


def sees_nothing(k_h: int, k_w: int, kind: str, device: torch.device | None = None) -> torch.Tensor:
    """Every mask closed: no logit sees any pixel, so each model is left with one Bernoulli per pixel."""
    return torch.zeros(k_h, k_w, device=device)


def test_the_train_stage_fails_when_the_models_see_no_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("readtrack_plugins.pixelrnn.model.causal_mask", sees_nothing)
    result = run_stage("pixelrnn", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("NLL / independent-pixel NLL, PixelCNN") for name in failed), failures(result)
    assert any(name.startswith("NLL − exact floor") for name in failed), failures(result)
