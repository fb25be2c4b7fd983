"""The normalization family on one bench: every layer on the same task, data, seeds and budget.

check: the bench's two networks are wired as each paper says: an image's output depends on the rest of
       its batch under BatchNorm and under no other layer of the family; Dynamic Tanh is its equation and
       takes no statistics (its Jacobian is diagonal, LayerNorm's is not); DeepNorm's α and β are DeepNet's
       (2N)^(1/4) and (8N)^(−1/4), its initialization scales the value, output and FFN projections by β, and
       with α = 1 its block is a Post-LN block; WeightNorm's weight is g·v/‖v‖.
train: each layer trained at batch sizes 2 and 32 for the same number of Adam steps, each at its own best
       rate of one grid (chosen on a validation split), averaged over initialisations: the convnet (shapes)
       for the layers that normalise over images or weights, the transformer language model (Markov text)
       for those that normalise each token. Per layer and batch size: the test loss at the budget, the wall
       time per step, and the bytes kept for the backward pass; the target: at batch 2, BatchNorm's test
       loss over the best of the layers that take no batch statistics.
bench: one training step (forward and backward) of each network with each layer, batch 32.
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext, plural
from readtrack.plugin_kit import rates
from readtrack.plugin_kit.images import shapes
from readtrack.plugin_kit.memory import backward_memory
from readtrack.plugin_kit.tasks import MarkovText

from .config import Config
from .model import CONV_LAYERS, TOKEN_LAYERS, ConvNet, DyT, TinyLM, deepnorm_constants

GRID = (3e-3, 1e-2, 3e-2)  # Adam; each layer at each batch size its own best, on a validation split
#: The rate the grid picks most often at the quick budget, by (layer, batch), on seeds 0-4
#: (`readtrack run normalization-bench --quick --impl grid --seeds 0-4`).
QUICK_RATE = {
    ("batchnorm", 2): 1e-2, ("batchnorm", 32): 3e-2,
    ("weightnorm", 2): 1e-2, ("weightnorm", 32): 1e-2,
    ("instancenorm", 2): 3e-2, ("instancenorm", 32): 3e-2,
    ("groupnorm", 2): 1e-2, ("groupnorm", 32): 3e-2,
    ("layernorm", 2): 1e-2, ("layernorm", 32): 3e-2,
    ("rmsnorm", 2): 1e-2, ("rmsnorm", 32): 3e-2,
    ("deepnorm", 2): 3e-3, ("deepnorm", 32): 3e-2,
    ("dyt", 2): 1e-2, ("dyt", 32): 3e-2,
}  # fmt: skip
NAMES = {
    "batchnorm": "BatchNorm",
    "weightnorm": "WeightNorm",
    "instancenorm": "InstanceNorm",
    "groupnorm": "GroupNorm",
    "layernorm": "LayerNorm (pre-norm)",
    "rmsnorm": "RMSNorm (pre-norm)",
    "deepnorm": "DeepNorm (post-norm)",
    "dyt": "Dynamic Tanh (pre-norm)",
}
IMAGE_SIZE, SEQUENCE = 12, 16


def check(ctx: RunContext) -> None:
    exact, device = ctx.exact_dtype, ctx.device
    images = torch.randn(6, 1, IMAGE_SIZE, IMAGE_SIZE, dtype=exact, device=device)
    for layer in CONV_LAYERS:
        net = ConvNet(layer).to(device, exact).train()
        with torch.no_grad():
            alone, together = net(images[:2]), net(images)[:2]
        moved = (alone - together).abs().max().item()
        if layer == "batchnorm":
            ctx.check_property(
                "BatchNorm: an image's output depends on the rest of its batch (train mode)",
                moved > 1e-3,
                f"the first two images' logits moved by {moved:.3g} when four images joined their batch",
                value=moved,
            )
        else:
            ctx.check_close(
                f"{NAMES[layer]}: an image's output is its own, whatever its batch", alone, together
            )
    wn = ConvNet("weightnorm").to(device, exact).convs[0]  # a parametrized nn.Conv2d
    v, g = wn.parametrizations.weight.original1, wn.parametrizations.weight.original0  # type: ignore[union-attr]
    expected = g * v / v.flatten(1).norm(dim=1).view(-1, 1, 1, 1)  # type: ignore[operator]  # w = g·v/‖v‖
    ctx.check_close("WeightNorm: w = g·v/‖v‖ for each output channel", wn.weight, expected)

    x = (3 * torch.randn(2, 5, 8, dtype=exact, device=device)).requires_grad_()
    dyt = DyT(8).to(device, exact)
    with torch.no_grad():
        dyt.alpha.fill_(0.7), dyt.weight.uniform_(0.5, 1.5), dyt.bias.normal_()
    ctx.check_close("Dynamic Tanh: γ·tanh(α·x) + β", dyt(x), dyt.weight * torch.tanh(0.7 * x) + dyt.bias)
    for label, norm in (("Dynamic Tanh", dyt), ("nn.LayerNorm", nn.LayerNorm(8).to(device, exact))):
        jacobian = torch.autograd.functional.jacobian(lambda t, norm=norm: norm(t)[0, 0], x)[
            :, 0, 0
        ]  # (8, 8)
        off = (jacobian - torch.diag(torch.diagonal(jacobian))).abs().max().item()
        ctx.check_property(
            f"{label}: {'no' if label == 'Dynamic Tanh' else 'takes'} statistics over a token's features "
            "(∂y_i/∂x_j for i ≠ j)",
            (off == 0) if label == "Dynamic Tanh" else off > 1e-3,
            f"largest off-diagonal derivative {off:.3g}",
            value=off,
        )

    for layers, alpha, beta in ((1, 2**0.25, 8**-0.25), (6, 12**0.25, 48**-0.25), (18, 36**0.25, 144**-0.25)):
        got = deepnorm_constants(layers)
        ctx.check_close(f"DeepNorm's α, β for N = {layers}: (2N)^(1/4), (8N)^(−1/4)", got, (alpha, beta))
    torch.manual_seed(ctx.seed)
    deep, post = (
        TinyLM("deepnorm", 16, SEQUENCE, d=64, layers=6),
        TinyLM("layernorm", 16, SEQUENCE, d=64, layers=6),
    )
    _, beta = deepnorm_constants(6)
    for name in ("fc.weight", "proj.weight", "out.weight"):
        ratio = deep.blocks[0].get_parameter(name).std() / post.blocks[0].get_parameter(name).std()
        ctx.check_close(f"DeepNorm's init: {name} scaled by β = {beta:.3f}", ratio.item(), beta, rtol=0.05)
    block = deep.blocks[0]
    block.alpha = 1.0  # type: ignore[assignment]
    h = torch.randn(2, 7, 64)
    with torch.no_grad():
        mid = block.norm1(h + block.attention(h))  # type: ignore[operator]  # LN(x + Attn(x))
        by_hand = block.norm2(mid + block.mlp(mid))  # type: ignore[operator]  # LN(x + FFN(x))
        ctx.check_close("DeepNorm with α = 1 is a Post-LN block: LN(x + f(x))", block(h), by_hand)


def _images(n: int, seed: int, spread: float, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Shapes whose contrast (×e^u, u ∈ [−spread, spread]) and brightness (+ [−spread, spread]) vary from
    image to image: what a layer that normalises each image removes, and what batch statistics of two
    images cannot average out."""
    g = torch.Generator().manual_seed(seed)
    X, y = shapes(n, g, size=IMAGE_SIZE, noise=0.3)
    contrast = torch.exp(spread * (2 * torch.rand(n, 1, 1, 1, generator=g) - 1))
    brightness = spread * (2 * torch.rand(n, 1, 1, 1, generator=g) - 1)
    return (contrast * X + brightness).to(device), y.to(device)


Fit = tuple[float, float, float, int, float]  # validation loss, test loss, s/step, bytes for backward, moved


def _train_conv(ctx: RunContext, cfg: Config, layer: str, batch: int, lr: float, init: int) -> Fit:
    """Validation loss, test loss, seconds per step, bytes kept for backward and the share of test predictions
    that change when deployed, of the convnet with ``layer`` trained on ``cfg.images`` images in steps of
    ``batch``; BatchNorm evaluated with its running statistics, as it is deployed."""
    steps = max(cfg.images // batch, 1)
    X, y = _images(steps * batch + 2048, 1000 * ctx.seed + init, cfg.contrast, ctx.device)  # type: ignore[arg-type]
    torch.manual_seed(ctx.seed * 100 + init)  # the same convolutions for every layer
    model = ConvNet(layer, width=cfg.width).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step(i: int) -> None:
        rows = slice(2048 + i * batch, 2048 + (i + 1) * batch)  # the same batches for every layer
        # The batch in its own storage: a slice of X kept for backward would count all of X's.
        loss = F.cross_entropy(model(X[rows].clone()), y[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()

    val, test, per_step, kept = _fit(model, steps, step, lambda: _image_losses(model, X, y))
    return val, test, per_step, kept, _moved_when_deployed(model, X[1024:2048], batch)


def _image_losses(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    with torch.no_grad():
        return F.cross_entropy(model(X[:1024]), y[:1024]).item(), F.cross_entropy(
            model(X[1024:2048]), y[1024:2048]
        ).item()


def _moved_when_deployed(model: nn.Module, X: torch.Tensor, batch: int) -> float:
    """The share of test images whose predicted class differs between the network as it trained (train mode,
    in batches of ``batch``: BatchNorm normalises with those images' statistics) and as it is deployed (eval
    mode: BatchNorm's running averages). Zero for a layer that takes no batch statistics."""
    trained = copy.deepcopy(model).train()  # a copy: a train-mode forward moves BatchNorm's running averages
    with torch.no_grad():
        deployed = model.eval()(X).argmax(-1)
        during = torch.cat([trained(X[i : i + batch]) for i in range(0, len(X) - batch + 1, batch)]).argmax(
            -1
        )
    return (during != deployed[: len(during)]).float().mean().item()


def _train_lm(ctx: RunContext, cfg: Config, layer: str, batch: int, lr: float, init: int) -> Fit:
    """Validation loss, test loss above the chain's floor, seconds per step and bytes kept for backward of
    the language model with ``layer``, trained on ``cfg.sequences`` sequences in steps of ``batch``."""
    text = MarkovText.make(
        1000 * ctx.seed + init, order=1, length=SEQUENCE, pool=4096, held_out=512, device=ctx.device
    )
    valid = text.chain.sample(256, SEQUENCE, torch.Generator().manual_seed(7 + init), device=ctx.device)
    torch.manual_seed(ctx.seed * 100 + init)
    model = TinyLM(layer, text.chain.vocab, SEQUENCE, layers=cfg.layers).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(ctx.seed * 100 + init)

    def step(_: int) -> None:
        x = text.batch(batch, g)  # (batch, T): the same sequences for every layer
        loss = F.cross_entropy(model(x)[:, :-1].flatten(0, 1), x[:, 1:].flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()

    def losses() -> tuple[float, float]:
        with torch.no_grad():
            logits = model(valid)[:, :-1].flatten(0, 1)
            val = F.cross_entropy(logits, valid[:, 1:].flatten()).item()
        return val, text.held_out_loss(model) - text.floor

    return (*_fit(model, max(cfg.sequences // batch, 1), step, losses), 0.0)


def _fit(
    model: nn.Module, steps: int, step: Callable[[int], None], losses: Callable[[], tuple[float, float]]
) -> tuple[float, float, float, int]:
    model.train()
    kept = backward_memory(model, lambda: step(0))
    start = time.perf_counter()
    for i in range(1, steps):
        step(i)
    per_step = (time.perf_counter() - start) / max(steps - 1, 1)
    model.eval()
    val, test = losses()
    return val, test, per_step, kept


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    inits = range(cfg.inits)
    batches = (cfg.small_batch, cfg.large_batch)
    test: dict[tuple[str, int], float] = {}
    moved: dict[str, float] = {}
    layers = [
        *(CONV_LAYERS if cfg.networks != "transformer" else ()),
        *(TOKEN_LAYERS if cfg.networks != "convnet" else ()),
    ]
    for done, layer in enumerate(layers):
        for batch in batches:
            grid = rates.rates(ctx, GRID, QUICK_RATE.get((layer, batch), 1e-2))
            tried = {
                lr: [
                    _train_conv(ctx, cfg, layer, batch, lr, i)
                    if layer in CONV_LAYERS
                    else _train_lm(ctx, cfg, layer, batch, lr, i)
                    for i in inits
                ]
                for lr in grid
            }
            validation = {lr: statistics.mean(r[0] for r in runs) for lr, runs in tried.items()}
            best = min(grid, key=lambda lr: (validation[lr] != validation[lr], validation[lr]))
            runs = tried[best]
            test[layer, batch] = statistics.mean(r[1] for r in runs)
            unit = "nats above the chain's entropy" if layer in TOKEN_LAYERS else "cross-entropy, 4 shapes"
            picked = f"{NAMES[layer]}, {rates.choice(validation)}"
            ctx.measured(f"{layer}: test loss, batch {batch}", test[layer, batch], f"{picked}; {unit}")
            ctx.measured(
                f"{layer}: ms per step, batch {batch}",
                1000 * statistics.mean(r[2] for r in runs),
                "wall time of a training step, noisy on a shared machine",
            )
            if layer in CONV_LAYERS and batch == cfg.small_batch:
                moved[layer] = statistics.mean(r[4] for r in runs)
            if layer in CONV_LAYERS and batch == cfg.small_batch and layer != "batchnorm":  # its: the target
                ctx.measured(
                    f"{layer}: predictions changed when deployed, batch {batch}",
                    moved[layer],
                    f"test images classed otherwise deployed than as trained ({batch} a batch, train mode)",
                )
            if batch == cfg.large_batch:
                ctx.measured(
                    f"{layer}: backward memory, batch {batch} (KB)",
                    runs[0][3] / 1024,
                    "bytes autograd keeps for the backward pass of one step, parameters left out",
                )
        ctx.progress(done + 1, len(layers))
    small = cfg.small_batch
    if cfg.networks == "transformer":
        return  # the target is the convnet's
    free = {layer: test[layer, small] for layer in CONV_LAYERS if layer != "batchnorm"}
    best_free = min(free, key=lambda k: free[k])
    setup = f"{plural(cfg.inits, 'init')}, {cfg.images} images in steps of {small}"
    ctx.target(
        f"batchnorm: predictions changed when deployed, batch {small}",
        moved["batchnorm"],
        0.1,
        detail=f"{setup}: BatchNorm's running averages are not the statistics of {small} images it trained "
        "with; the layers without batch statistics change none (0 exactly)",
    )
    ctx.target(
        f"batch {small}: BatchNorm's test loss / the best of GroupNorm's, InstanceNorm's, WeightNorm's",
        test["batchnorm", small] / free[best_free],
        1.5,
        detail=f"{setup}; {test['batchnorm', small]:.3f} vs {NAMES[best_free]}'s {free[best_free]:.3f}",
        asserted=False,
    )


def bench(ctx: RunContext) -> None:
    images = torch.randn(32, 1, IMAGE_SIZE, IMAGE_SIZE, device=ctx.device)
    labels = torch.randint(0, 4, (32,), device=ctx.device)
    tokens = torch.randint(0, 16, (32, SEQUENCE), device=ctx.device)
    for family, layers in (("convnet", CONV_LAYERS), ("transformer", TOKEN_LAYERS)):
        for i, layer in enumerate(layers):
            if family == "convnet":
                model: nn.Module = ConvNet(layer).to(ctx.device)

                def loss(model: nn.Module = model) -> torch.Tensor:
                    return F.cross_entropy(model(images), labels)
            else:
                model = TinyLM(layer, 16, SEQUENCE).to(ctx.device)

                def loss(model: nn.Module = model) -> torch.Tensor:
                    return F.cross_entropy(model(tokens)[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())

            params = list(model.parameters())

            def training_step(loss: Callable[[], torch.Tensor] = loss, params: list = params) -> object:
                return torch.autograd.grad(loss(), params)

            ctx.bench.measure(
                f"{family}, {NAMES[layer]} forward+backward",
                training_step,
                baseline=i == 0,
                group=family,
                tokens=32,
                unit="examples/s",
            )
