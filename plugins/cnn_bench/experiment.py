"""The CNN family on one bench: six generations on the same images, seeds and budget.

check: AlexNet's local response normalisation is eq. 1 with the paper's constants (a loop over channels);
       ResNet's block is eq. 1, and eq. 2 where the shape changes, and with its shortcuts off the plain
       block of the same weights; every network maps the images to the classes and starts from the same
       weights for one seed; the FLOPs counted by torch's counter are the shapes' count for a convolution.
train: every network learns the noisy shapes from the same images and batches, each at its own best Adam
       rate of its grid (chosen on validation images); per network test accuracy, steps until validation
       reached an accuracy, time per step, parameters, forward FLOPs and the memory a step keeps for
       backward; the targets: each generation's step over the one it improved, in test accuracy.
bench: one training step of each network on a batch of images.
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext
from readtrack.plugin_kit import rates
from readtrack.plugin_kit.cnns import paper_lrn
from readtrack.plugin_kit.images import shapes
from readtrack.plugin_kit.memory import backward_memory
from readtrack.plugin_kit.vision import fit_image_classifier, image_accuracy

from .config import Config
from .model import (
    ALEXNET,
    GOOGLENET,
    LENET,
    MEMBERS,
    NAMES,
    RESNET,
    VGGNET,
    ZFNET,
    BasicBlock,
    forward_flops,
    network,
    parameters,
)

CLASSES, SIZE, RADIUS = 4, 16, (2, 5)  # the shapes: four classes, 16×16 images, radii 2-5 pixels
GRID = {m: (1e-3, 3e-3, 1e-2) for m in MEMBERS}
#: The rate each network's grid picks at the quick budget on seeds 0-4
#: (`readtrack run cnn-bench --quick --impl grid --seeds 0-4 --only train`): LeNet-5 and VGG 3e-3 on four
#: seeds of five, GoogLeNet 1e-2 on four; AlexNet and ZF Net split, and 1e-2 leaves them at chance on two
#: and three seeds, so 3e-3 (ZF Net's best on three); ResNet 3e-3 or 1e-2 on two seeds each, 3e-3 the
#: higher mean validation accuracy.
QUICK_RATE = {LENET: 3e-3, ALEXNET: 3e-3, ZFNET: 3e-3, VGGNET: 3e-3, GOOGLENET: 1e-2, RESNET: 3e-3}
EVERY = 20  # steps between two looks at validation


def _network(member: str, cfg: Config, seed: int, device: torch.device | str) -> nn.Module:
    """``member``'s network for these knobs (read here, so a sweep knows which stage reads which knob)."""
    return network(member, CLASSES, seed, residual=cfg.shortcuts == "identity").to(device)


def check(ctx: RunContext) -> None:
    exact, device = ctx.exact_dtype, ctx.device
    cfg = Config()  # the networks as their papers built them: no knob changes what is checked
    g = torch.Generator().manual_seed(ctx.seed)

    a = torch.randn(2, 7, 3, 3, generator=g, dtype=exact).to(device) * 10  # large, so the sum matters
    n, k, alpha, beta = 5, 2.0, 1e-4, 0.75
    expected = torch.empty_like(a)
    for i in range(a.shape[1]):  # eq. 1: the sum over the n channels around i, those that exist
        lo, hi = max(0, i - n // 2), min(a.shape[1] - 1, i + n // 2)
        expected[:, i] = a[:, i] / (k + alpha * a[:, lo : hi + 1].square().sum(1)) ** beta
    ctx.check_close("AlexNet's LRN: eq. 1, n = 5, k = 2, α = 1e-4, β = 0.75", paper_lrn()(a), expected)

    x = torch.randn(3, 4, 6, 6, generator=g, dtype=exact).to(device)
    for c_out, stride in ((4, 1), (8, 2)):
        block = BasicBlock(4, c_out, stride).to(device, exact).eval()
        plain = BasicBlock(4, c_out, stride, residual=False).to(device, exact).eval()
        plain.load_state_dict(block.state_dict(), strict=False)  # the same layers, no projection
        f = block.bn2(F.conv2d(F.relu(block.bn1(F.conv2d(x, block.conv1.weight, stride=stride, padding=1))),
                               block.conv2.weight, padding=1))  # fmt: skip
        s = x
        if stride != 1:  # eq. 2: W_s, a 1×1 convolution of the block's stride, then BN
            projection, norm = block.shortcut.children()
            assert isinstance(projection, nn.Conv2d)
            s = norm(F.conv2d(x, projection.weight, stride=stride))
        equation = "eq. 1: y = ReLU(F(x) + x)" if stride == 1 else "eq. 2: y = ReLU(F(x) + BN(W_s x))"
        with torch.no_grad():
            ctx.check_close(f"ResNet's block, {equation}", block(x), F.relu(f + s))
            ctx.check_close(f"its plain twin, stride {stride}: y = ReLU(F(x))", plain(x), F.relu(f))

    images = torch.randn(2, 1, SIZE, SIZE, generator=g).to(device)
    for member in MEMBERS:
        one, two = _network(member, cfg, ctx.seed, device), _network(member, cfg, ctx.seed, device)
        same = all(torch.equal(p, q) for p, q in zip(one.parameters(), two.parameters(), strict=True))
        shape = tuple(one.eval()(images).shape)
        ctx.check_property(
            f"{NAMES[member]}: the same weights for one seed, (2, 1, 16, 16) → (2, {CLASSES})",
            same and shape == (2, CLASSES),
            f"output {shape}",
        )
    conv = nn.Conv2d(3, 5, 3, padding=1).to(device)
    counted = forward_flops(conv, torch.randn(1, 3, 7, 7, device=device))
    ctx.check_property(
        "FLOPs counted for a convolution are 2·C_out·H'·W'·C_in·k² (a multiply and an add per weight)",
        counted == 2 * 5 * 7 * 7 * 3 * 9,
        f"{counted:,}",
    )


Fit = tuple[float, float, float, float]  # validation accuracy, test accuracy, steps to reach, s/step


def _fit(
    ctx: RunContext,
    cfg: Config,
    member: str,
    lr: float,
    data: dict[str, tuple[torch.Tensor, torch.Tensor]],
) -> Fit:
    """Train ``member`` at ``lr`` on the same images and batches as every other network: its validation and
    test accuracy, the first step, looked at every `EVERY`, whose validation accuracy reached ``cfg.reach``
    (inf: never), and seconds per training step (the looks left out)."""
    net = _network(member, cfg, ctx.seed, ctx.device)
    reached, looking = math.inf, 0.0

    def look(step: int, loss: float) -> None:
        nonlocal reached, looking
        if (step + 1) % 10 == 0:
            ctx.metric(f"training loss: {NAMES[member]}, lr {lr:g}", step + 1, loss)
        if (step + 1) % EVERY == 0 and reached == math.inf:
            started = time.perf_counter()
            if image_accuracy(net, *data["validation"]) >= cfg.reach:
                reached = step + 1
            looking += time.perf_counter() - started

    started = time.perf_counter()
    fit_image_classifier(
        net, *data["train"], steps=cfg.steps, lr=lr, batch=cfg.batch, seed=ctx.seed, on_step=look
    )
    per_step = (time.perf_counter() - started - looking) / cfg.steps
    return image_accuracy(net, *data["validation"]), image_accuracy(net, *data["test"]), reached, per_step


def _costs(ctx: RunContext, cfg: Config, member: str, images: torch.Tensor, labels: torch.Tensor) -> None:
    """What the network costs, whatever it learns: parameters, FLOPs of a forward pass per image, and the
    bytes one training step of ``cfg.batch`` images keeps for its backward pass."""
    net = _network(member, cfg, ctx.seed, ctx.device)
    batch = images[: cfg.batch].clone(), labels[: cfg.batch].clone()  # its own storage, as a drawn batch
    kept = backward_memory(net, lambda: F.cross_entropy(net(batch[0]), batch[1]).backward())
    ctx.measured(f"{member}: parameters (thousands)", parameters(net) / 1000, "weights and biases")
    ctx.measured(
        f"{member}: forward MFLOPs per image", forward_flops(net, images[:1]) / 1e6, "torch's FLOP counter"
    )
    ctx.measured(
        f"{member}: memory kept for backward (KB)",
        kept / 1024,
        f"one step of {cfg.batch} images, activations",
    )


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    g = torch.Generator().manual_seed(ctx.seed)
    held = 500 if ctx.quick else 1000
    data = {
        "train": shapes(cfg.images, g, noise=cfg.noise, radius=RADIUS, device=ctx.device),
        "validation": shapes(held, g, noise=cfg.noise, radius=RADIUS, device=ctx.device),
        "test": shapes(2 * held, g, noise=cfg.noise, radius=RADIUS, device=ctx.device),
    }
    test: dict[str, float] = {}
    for done, member in enumerate(MEMBERS):
        grid = (cfg.lr,) if cfg.lr else rates.rates(ctx, GRID[member], QUICK_RATE[member])
        tried = {lr: _fit(ctx, cfg, member, lr, data) for lr in grid}
        scores = {lr: fit[0] for lr, fit in tried.items()}
        _, test[member], reached, per_step = tried[rates.best(scores, higher_is_better=True)]
        picked = f"{NAMES[member]}, {rates.choice(scores, '.3f', higher_is_better=True)}"
        ctx.measured(f"{member}: test accuracy", test[member], picked)
        ctx.measured(
            f"{member}: steps to {cfg.reach:g} validation accuracy",
            reached,
            f"validation looked at every {EVERY} steps; inf: not within {cfg.steps} steps",
        )
        ctx.measured(
            f"{member}: ms per step", 1000 * per_step, "wall time of a step, noisy on a shared machine"
        )
        _costs(ctx, cfg, member, *data["train"])
        ctx.progress(done + 1, len(MEMBERS))
    budget = f"{cfg.steps} steps of {cfg.batch} images, each network at its best lr"
    for member, over, what in (
        (ZFNET, ALEXNET, "ZF Net's − AlexNet's"),
        (VGGNET, ZFNET, "VGG's − ZF Net's"),
        (GOOGLENET, ALEXNET, "GoogLeNet's − AlexNet's"),
        (RESNET, VGGNET, "ResNet's − VGG's"),
    ):
        ctx.target(
            f"{member}: test accuracy, {what}",
            test[member] - test[over],
            0.0,
            detail=f"{budget}; {test[member]:.3f} vs {test[over]:.3f}",
            asserted=False,
        )
    weights = {m: parameters(_network(m, cfg, ctx.seed, "cpu")) for m in (ALEXNET, GOOGLENET)}
    ctx.target(
        f"{GOOGLENET}: parameters, AlexNet's / GoogLeNet's",
        weights[ALEXNET] / weights[GOOGLENET],
        12.0,
        detail=f"counted: {weights[ALEXNET]:,} vs {weights[GOOGLENET]:,}; the paper: 12× fewer than AlexNet",
    )


def bench(ctx: RunContext) -> None:
    cfg = Config()  # a step's time, at the papers' settings: no knob changes what it times
    batch = 32 if ctx.quick else 256
    g = torch.Generator().manual_seed(ctx.seed)
    images, labels = shapes(batch, g, device=ctx.device)
    for i, member in enumerate(MEMBERS):
        net = _network(member, cfg, ctx.seed, ctx.device)
        opt = torch.optim.Adam(net.parameters(), 1e-3)

        def step(net: nn.Module = net, opt: torch.optim.Optimizer = opt) -> None:
            loss = F.cross_entropy(net(images), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()

        ctx.bench.measure(
            f"{NAMES[member]} training step, {batch} images",
            step,
            baseline=i == 0,
            tokens=batch,
            unit="images/s",
        )
