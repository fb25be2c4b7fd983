"""Pixel RNN at toy scale: masked convolutions and the Row LSTM exact against independent references,
causality and the receptive field through the Jacobian, and both models learning binary bars images down to
near their exact entropy.

check: ``MaskedConv2d`` against ``F.conv2d`` with a mask written separately from the paper's definition
       (offsets above the centre row, or left of the centre in its row; the centre for mask B), forward and
       every gradient, float64 then float32, kernels 7 × 7 A, 3 × 3 B, 1 × 3 B, 5 × 3 A on images from
       1 × 1 to 6 × 9; one Row LSTM layer against a row-by-row loop over ``nn.LSTMCell`` with the layer's
       weights copied in (K^is and the side taps of K^ss as the cell's input weights, the centre tap of
       K^ss as its hidden weights, gates reordered o, f, i, g → i, f, g, o); for both models the Jacobian
       of every logit with respect to every pixel (8 × 8) is zero on the pixel itself and after it in raster
       order, and non-zero exactly on the receptive field the masks predict (computed by set arithmetic on
       the kernel offsets: the PixelCNN's blind spot, the Row LSTM's triangle); p(x) sums to 1 over all 2^9
       binary 3 × 3 images.
train: binary bars images (8 × 8, each of the 16 bars on with p = 0.2), whose exact log-likelihood gives an
       absolute floor: the PixelCNN (7 × 7 mask A, 4 residual 3 × 3 mask-B layers) and the Row LSTM (7 × 7
       mask A, one Row LSTM layer) against independent pixels (their maximum-likelihood fit, the model with
       no context), same seed and batches; held-out NLL in nats per image, and images sampled pixel by
       pixel checked to be bars images (finite exact likelihood).
bench: forward + backward of both models on batches of 32 images, 8 × 8 to 32 × 32: the PixelCNN's cost
       grows with the pixels, the Row LSTM's with the pixels and its H sequential steps.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit.checks import compare_modules
from readtrack.plugin_kit.images import bars, bars_log_likelihood, text_art

from .config import Config
from .model import MaskedConv2d, PixelCNN, PixelConfig, PixelRowLSTM, RowLSTM, nll, sample

SIZE, P_BAR = 8, 0.2
ROW = PixelConfig(layers=1)  # the Row LSTM model: one Row LSTM layer (each costs H sequential steps)


def allowed_offsets(k_h: int, k_w: int, kind: str) -> set[tuple[int, int]]:
    """The kernel offsets (dy, dx) from the centre a masked kernel may use, from the paper's words (section
    3.4): every row above, the pixels to the left in the centre row, the centre itself only for mask B."""
    cy, cx = k_h // 2, k_w // 2
    return {
        (a - cy, b - cx)
        for a in range(k_h)
        for b in range(k_w)
        if a < cy or (a == cy and b < cx) or (kind == "B" and (a, b) == (cy, cx))
    }


class ReferenceMaskedConv(nn.Module):
    """F.conv2d with the kernel zeroed outside ``allowed_offsets``: the mask built separately."""

    def __init__(self, c_in: int, c_out: int, kernel: tuple[int, int], kind: str) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(c_out, c_in, *kernel))
        self.bias = nn.Parameter(torch.empty(c_out))
        self.kernel, self.kind = kernel, kind

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k_h, k_w = self.kernel
        mask = torch.zeros(k_h, k_w, dtype=x.dtype, device=x.device)
        for dy, dx in allowed_offsets(k_h, k_w, self.kind):
            mask[dy + k_h // 2, dx + k_w // 2] = 1.0
        return F.conv2d(x, self.weight * mask, self.bias, padding=(k_h // 2, k_w // 2))


def row_lstm_by_cells(
    x: torch.Tensor, w_is: torch.Tensor, b_is: torch.Tensor, w_ss: torch.Tensor, b_ss: torch.Tensor, k: int
) -> torch.Tensor:
    """The Row LSTM as an ``nn.LSTMCell`` per pixel, row after row: the cell at (i, j) reads the masked input
    window x[i, j − k//2 … j] and the neighbours h_{i−1}[j ± 1] as its input, h_{i−1}[j] and c_{i−1}[j] as its
    state. x (B, c_in, H, W); weights as ``RowLSTM``'s (gates o, f, i, g) → h (B, hidden, H, W)."""
    B, _, H, W = x.shape
    hidden = w_ss.shape[1]
    order = [2, 1, 3, 0]  # the paper's o, f, i, g → nn.LSTMCell's i, f, g, o
    regroup = lambda t: torch.cat([t.view(4, hidden, *t.shape[1:])[o] for o in order])  # noqa: E731
    half = k // 2
    w_window = w_is[:, :, 0, : half + 1].permute(0, 2, 1).reshape(4 * hidden, -1)  # (4h, (half+1)·c_in)
    weight_ih = regroup(torch.cat([w_window, w_ss[:, :, 0, 0], w_ss[:, :, 0, 2]], dim=1))
    params = {"weight_ih": weight_ih, "weight_hh": regroup(w_ss[:, :, 0, 1]), "bias_ih": regroup(b_is),
              "bias_hh": regroup(b_ss)}  # fmt: skip
    cell = nn.LSTMCell(weight_ih.shape[1], hidden).to(x.device, x.dtype)
    x_pad = F.pad(x, (half, 0))  # (B, c_in, H, W + half): zeros left of the image
    h = x.new_zeros(B, W, hidden)
    c = torch.zeros_like(h)
    rows = []
    for i in range(H):
        window = torch.stack([x_pad[:, :, i, j : j + half + 1].transpose(1, 2) for j in range(W)], 1)
        # window (B, W, half+1, c_in); the neighbours of h_{i−1}, zero beyond the image edges:
        h_side = F.pad(h, (0, 0, 1, 1))  # (B, W + 2, hidden)
        inputs = torch.cat([window.flatten(2), h_side[:, :-2], h_side[:, 2:]], dim=2)  # (B, W, ·)
        h_flat, c_flat = torch.func.functional_call(
            cell, params, (inputs.reshape(B * W, -1), (h.reshape(B * W, hidden), c.reshape(B * W, hidden)))
        )
        h, c = h_flat.view(B, W, hidden), c_flat.view(B, W, hidden)
        rows.append(h.permute(0, 2, 1))  # (B, hidden, W)
    return torch.stack(rows, dim=2)  # (B, hidden, H, W)


def predicted_reach(model: str, size: int, layers: int, k: int = 3) -> torch.Tensor:
    """(N, N) boolean, N = size²: whether logit p can depend on pixel q, from the kernel offsets alone
    (sets of positions, no convolution): what the paper says each architecture sees."""
    first = allowed_offsets(7, 7, "A")
    cells = list(itertools.product(range(size), range(size)))

    def shift(s: set[tuple[int, int]], offsets: set[tuple[int, int]]) -> set[tuple[int, int]]:
        out = {(y + dy, x + dx) for (y, x) in s for (dy, dx) in offsets}
        return {(y, x) for (y, x) in out if 0 <= y < size and 0 <= x < size}

    reach = {}
    if model == "pixelcnn":
        for p in cells:  # the first layer, then each residual mask-B layer adds its offsets (centre included)
            s = shift({p}, first)
            for _ in range(layers):
                s = s | shift(s, allowed_offsets(3, 3, "B"))
            reach[p] = s
    else:  # Row LSTM: h(i, j) sees features (i, j − k//2 … j) and h(i − 1, j − 1 … j + 1)
        feats = {p: shift({p}, first) for p in cells}
        for _ in range(layers):
            h: dict[tuple[int, int], set[tuple[int, int]]] = {}
            for y, x in cells:
                s = set().union(*(feats[(y, x - d)] for d in range(k // 2 + 1) if x - d >= 0))
                if y > 0:
                    s |= set().union(*(h[(y - 1, x + d)] for d in (-1, 0, 1) if 0 <= x + d < size))
                h[(y, x)] = s
            feats = {p: feats[p] | h[p] for p in cells}  # the residual connection
        reach = feats
    out = torch.zeros(size * size, size * size, dtype=torch.bool)
    for y, x in cells:
        for qy, qx in reach[(y, x)]:
            out[y * size + x, qy * size + qx] = True
    return out


def jacobian_reach(model: nn.Module, size: int, ctx: RunContext) -> torch.Tensor:
    """(N, N): Σ over 4 random inputs of |∂ logit_p / ∂ x_q| (random real inputs, so no ReLU stays dead)."""
    x = torch.randn(4, 1, size, size, dtype=ctx.exact_dtype, device=ctx.device)
    jac = torch.autograd.functional.jacobian(lambda x: model(x).sum(0).flatten(), x)  # (N, 4, 1, H, W)
    return jac.abs().sum(dim=(1, 2)).flatten(1).cpu()  # (N out, N in)


def check(ctx: RunContext) -> None:
    for kernel, kind, shape in (
        ((7, 7), "A", (2, 1, 4, 6, 9)),
        ((3, 3), "B", (3, 4, 5, 5, 5)),
        ((1, 3), "B", (1, 2, 3, 1, 7)),
        ((5, 3), "A", (2, 3, 2, 1, 1)),
    ):
        _compare_masked_conv(ctx, kernel, kind, shape)
    # The mask itself: a float tensor in the default dtype on the device asked for (MaskedConv2d would work
    # as well with a bool or integer mask, so the convolutions above cannot tell).
    from .model import causal_mask

    device = torch.empty(0, device=ctx.device).device
    default = torch.get_default_dtype()
    for kind in ("A", "B"):
        mask = causal_mask(5, 3, kind, device)
        ctx.check_property(
            f"causal_mask(5, 3, {kind!r}, device) is {dtype_name(default)} on {device.type}",
            mask.dtype == default and mask.device == device,
            f"{dtype_name(mask.dtype)} on {mask.device}",
        )
    _check_row_lstm(ctx)
    _check_receptive_fields(ctx)
    _check_normalised(ctx)


def _compare_masked_conv(
    ctx: RunContext, kernel: tuple[int, int], kind: str, shape: tuple[int, int, int, int, int]
) -> None:
    B, c_in, c_out, H, W = shape
    compare_modules(
        ctx,
        f"F.conv2d with the mask from the offsets, {kernel[0]}×{kernel[1]} mask {kind}, image {H}×{W}",
        lambda: MaskedConv2d(c_in, c_out, kernel, kind),
        lambda: ReferenceMaskedConv(c_in, c_out, kernel, kind),
        lambda dtype: torch.randn(B, c_in, H, W, dtype=dtype),
    )


def _check_row_lstm(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        for B, c_in, hidden, H, W, k in (
            (1, 1, 2, 1, 1, 3),
            (2, 3, 4, 5, 7, 3),
            (3, 2, 3, 6, 4, 5),
            (1, 4, 2, 3, 1, 1),
        ):
            torch.manual_seed(ctx.seed)
            layer = RowLSTM(c_in, hidden, k).to(ctx.device, dtype)
            x = torch.randn(B, c_in, H, W, dtype=dtype, device=ctx.device)
            params = [layer.input_to_state.weight, layer.input_to_state.bias, layer.state_to_state.weight,
                      layer.state_to_state.bias]  # fmt: skip

            def ours(x: torch.Tensor, *p: torch.Tensor, layer: RowLSTM = layer) -> torch.Tensor:
                names = ("input_to_state.weight", "input_to_state.bias", "state_to_state.weight",
                         "state_to_state.bias")  # fmt: skip
                return torch.func.functional_call(layer, dict(zip(names, p, strict=True)), (x,))

            def reference(x: torch.Tensor, *p: torch.Tensor, k: int = k) -> torch.Tensor:
                w_is, b_is, w_ss, b_ss = p
                return row_lstm_by_cells(x, w_is, b_is, w_ss, b_ss, k)

            out, grads = ctx.value_and_grads(ours, x, *params)
            ref, ref_grads = ctx.value_and_grads(reference, x, *params)
            name = f"batch {B}, c_in {c_in}, hidden {hidden}, {H}×{W}, k {k} ({dtype_name(dtype)})"
            ctx.check_close(f"Row LSTM vs nn.LSTMCell row by row, {name}", out, ref)
            ctx.check_close(f"Row LSTM gradients (x, K^is, K^ss) vs nn.LSTMCell's, {name}", grads, ref_grads)


def _check_receptive_fields(ctx: RunContext) -> None:
    n = SIZE * SIZE
    later = torch.ones(n, n, dtype=torch.bool).triu()  # q ≥ p: the pixel itself and every later one
    for label, make, config in (("PixelCNN", PixelCNN, PixelConfig()), ("Row LSTM", PixelRowLSTM, ROW)):
        torch.manual_seed(ctx.seed)
        model = make(config).to(ctx.device, ctx.exact_dtype)
        reach = jacobian_reach(model, SIZE, ctx)
        expected = predicted_reach(
            "pixelcnn" if make is PixelCNN else "rowlstm", SIZE, config.layers, config.k
        )
        violations = int((reach[later] != 0).sum())
        ctx.check_property(
            f"{label} causal: no logit depends on its own pixel or a later one (Jacobian, {SIZE}×{SIZE})",
            violations == 0 and not bool(expected[later].any()),
            f"{violations} non-zero ∂logit_p/∂x_q with q ≥ p in raster order",
            value=float(reach[later].max()),
        )
        seen = reach != 0
        ctx.check_property(
            f"{label} depends on exactly the receptive field its kernels give ({SIZE}×{SIZE})",
            torch.equal(seen, expected),
            f"{int((seen & ~expected).sum())} dependencies outside it, "
            f"{int((expected & ~seen).sum())} missing; "
            f"it sees {int(seen.sum())} of the {n * (n - 1) // 2} (pixel, earlier pixel) pairs",
        )


def _check_normalised(ctx: RunContext) -> None:
    """Σ_x p(x) = 1 over all 2^9 binary 3 × 3 images: eq. 1 is a distribution only if each conditional sees
    the past alone."""
    bits = (torch.arange(512).view(-1, 1) >> torch.arange(8, -1, -1)) & 1  # (512, 9)
    x = bits.view(512, 1, 3, 3).to(ctx.device, ctx.exact_dtype)
    for label, make, config in (("PixelCNN", PixelCNN, PixelConfig()), ("Row LSTM", PixelRowLSTM, ROW)):
        torch.manual_seed(ctx.seed)
        model = make(config).to(ctx.device, ctx.exact_dtype)
        with torch.no_grad():
            total = torch.logsumexp(-nll(model, x), dim=0).exp()
        ctx.check_close(f"{label}: Σ p(x) over all 512 binary 3×3 images is 1", total, torch.ones_like(total))


# Adam learning rates, each model's best of GRID by NLL on a validation split (1000 bars images from their own
# generator, never the test images the targets report). The full run chooses on every seed; the quick run uses
# the best mean over seeds 0-4 at its own size (150 steps of 32, gradients clipped at CLIP; mean validation
# NLL for 3e-3 / 1e-2 / 3e-2): PixelCNN 8.73 / 8.35 / 8.41, Row LSTM 9.79 / 8.72 / 8.64.
GRID = (3e-3, 1e-2, 3e-2)
QUICK_LR = {"PixelCNN": 1e-2, "Row LSTM": 3e-2}
# Gradient norm clipping (nats per image), about the median norm of an unclipped run: without it one spike
# (a norm of 389 at step 135 of the quick run on seed 17) left the PixelCNN 6.9 nats above the floor.
CLIP = 10.0


def first_mask(kind: str, device: torch.device) -> torch.Tensor:
    """The first layer's 7 × 7 mask that ``--set mask=...`` gives both models: the paper's mask A, mask B
    (the first layer sees the pixel it predicts) or none (it sees no pixel)."""
    from .model import causal_mask  # at call time: a practice run puts the reader's in model's place

    return torch.zeros(7, 7, device=device) if kind == "none" else causal_mask(7, 7, kind, device)


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    steps, batch, n_samples, size, p_bar = cfg.steps, cfg.batch, cfg.samples, cfg.size, cfg.p_bar
    test = bars(1000, torch.Generator().manual_seed(ctx.seed + 1), size=size, p=p_bar, device=ctx.device)
    val = bars(1000, torch.Generator().manual_seed(10_000 + ctx.seed), size=size, p=p_bar, device=ctx.device)
    floor = -bars_log_likelihood(test, p_bar).mean().item()
    ctx.measured("exact NLL of the held-out bars images (the floor), nats per image", floor)

    # Independent pixels: the maximum-likelihood Bernoulli per pixel (add-½) on the batches the models see.
    g = torch.Generator().manual_seed(ctx.seed)
    seen = torch.stack([bars(batch, g, size=size, p=p_bar, device=ctx.device) for _ in range(steps)])
    q = (seen.sum(dim=(0, 1)) + 0.5) / (steps * batch + 1)  # (1, H, W)
    independent = -(test * q.log() + (1 - test) * (1 - q).log()).flatten(1).sum(1).mean().item()
    ctx.measured("held-out NLL, independent pixels (no context), nats per image", independent)

    leak = {
        "A": "",
        "B": "; mask=B: the first layer sees the pixel it predicts, so this NLL is no likelihood (it may "
        "fall below the floor) and a sample reads pixels not yet drawn",
        "none": "; mask=none: the first layer sees no pixel, so both models are independent pixels",
    }[cfg.mask]
    result: dict[str, float] = {}
    models = (
        ("PixelCNN", PixelCNN, PixelConfig(hidden=cfg.hidden, layers=cfg.depth)),
        ("Row LSTM", PixelRowLSTM, PixelConfig(hidden=cfg.hidden, layers=ROW.layers)),
    )
    for label, make, config in models:
        best: tuple[float, float, nn.Module] | None = None
        rates = (cfg.lr,) if cfg.lr else (QUICK_LR[label],) if ctx.quick else GRID
        for lr in rates:
            torch.manual_seed(ctx.seed)
            model: nn.Module = make(config).to(ctx.device)
            if cfg.mask != "A":  # the ablation switch (mask A is the one the model was built with)
                model.get_submodule("first").mask = first_mask(cfg.mask, torch.device(ctx.device))
            opt = torch.optim.Adam(model.parameters(), lr=lr)
            for step in range(steps):  # the same batches for both models and every lr
                loss = nll(model, seen[step]).mean()
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), CLIP)
                opt.step()
                if step % 10 == 0:
                    ctx.metric(f"train NLL, {label}, lr {lr:g}", step, loss.item())
            model.eval()
            with torch.no_grad():
                on_val = nll(model, val).mean().item()
            ctx.log(f"{label}, lr {lr:g}: validation NLL {on_val:.3f}")
            if best is None or on_val < best[0]:
                best = (on_val, lr, model)
        assert best is not None
        _, lr, model = best
        with torch.no_grad():
            result[label] = nll(model, test).mean().item()
        images = sample(model, n_samples, size, torch.Generator().manual_seed(ctx.seed + 2), ctx.device)
        valid = torch.isfinite(bars_log_likelihood(images, p_bar)).double().mean().item()
        shown = "\n\n".join(text_art(image[0]) for image in images[:3])
        ctx.log(f"{label} samples:\n" + shown)
        chosen = "the quick run's" if ctx.quick else "this run's"
        how = "set by the lr knob" if cfg.lr else f"{chosen} best of {GRID} on validation"
        ctx.measured(f"held-out NLL, {label}, nats per image", result[label],
                     f"floor {floor:.3f}; lr {lr:g}, {how}")  # fmt: skip
        ctx.target(
            f"{label}: share of samples that are bars images (finite exact likelihood)",
            valid,
            0.5 if ctx.quick else 0.8,  # quick: 150 steps, 64 samples; full: 500, 400
            detail=f"{n_samples} images drawn pixel by pixel" + leak,
        )
        ctx.progress(len(result), 2)
    detail = f"{steps} Adam steps of {batch}, gradients clipped at {CLIP:g}, 1000 held-out images"
    detail += f", floor {floor:.2f}, independent {independent:.2f}" + leak
    for label, value in result.items():
        ctx.target(f"NLL / independent-pixel NLL, {label}", value / independent, 0.5, higher_is_better=False,
                   detail=detail)  # fmt: skip
    ctx.target(
        "NLL − exact floor, PixelCNN", result["PixelCNN"] - floor, 1.0, higher_is_better=False, detail=detail
    )
    ctx.measured(
        "NLL, Row LSTM − PixelCNN (nats per image)",
        result["Row LSTM"] - result["PixelCNN"],
        "reported, not asserted (the paper's ordering is the other way on CIFAR-10)",
    )


def bench(ctx: RunContext) -> None:
    sizes, batch = ((8, 16), 8) if ctx.quick else ((8, 16, 32), 16)
    for size in sizes:
        x = bars(batch, torch.Generator().manual_seed(ctx.seed), size=size, device=ctx.device)
        for label, make, config in (("PixelCNN", PixelCNN, PixelConfig()), ("Row LSTM", PixelRowLSTM, ROW)):
            model = make(config).to(ctx.device)
            params = list(model.parameters())

            def step(
                model: nn.Module = model, params: list[nn.Parameter] = params, x: torch.Tensor = x
            ) -> None:
                torch.autograd.grad(nll(model, x).mean(), params)

            fn: Callable[[], None] = step
            ctx.bench.measure(
                f"{label}, {size}×{size}, batch {batch}",
                fn,
                baseline=label == "PixelCNN" and size == sizes[0],
                shape=(batch, 1, size, size),
                dtype=torch.float32,
            )
