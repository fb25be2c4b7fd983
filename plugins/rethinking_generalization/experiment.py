"""Randomisation tests at toy scale: the same MLP fits true and random labels; only the true ones generalise.

check: ``corrupt_labels`` against a naive per-example loop replaying the same random draws (exactly which
       labels are redrawn and to what, n = 1, 7, 1001), the labels it does not redraw untouched, and on
       200 000 labels the share redrawn ≈ p and the share changed ≈ p·(1 − 1/K) (within 5 σ);
       ``shuffle_labels`` keeps every class count; the cluster generator is seeded and deterministic and a
       test set shares the training centres; the MLP against ``nn.Linear``/``nn.ReLU`` with copied weights
       (forward, input and weight gradients, float64 then float32, depths 1–3, batch 1, 7, 33); and
       Theorem 1 built explicitly: a two-layer ReLU network with 2n + d weights that fits random labels of n
       random points in d dimensions exactly (float64).
train: 10 Gaussian clusters in 32-d, 1000 training points, an MLP 512×2 (Adam 1e-3, batches of 100) trained
       to 100% training accuracy on true labels, on a random permutation of them, and (full run) on labels
       corrupted with p = 0.2 … 1.0: Adam steps to fit and accuracy on a held-out set with true labels.
bench: one training epoch (forward + backward) for MLP widths 512 and 1024 (quick) or 2048 (full).
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name

from .config import Config
from .model import MLP, TwoLayerInterpolator, corrupt_labels, gaussian_clusters, shuffle_labels

K, D, N_TRAIN, N_TEST, BATCH = 10, 32, 1000, 1000, 100  # the check's and the bench's; train reads its Config


def _corrupt_naive(y: torch.Tensor, p: float, classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The same draws as the paper's rule, one example at a time: u_i < p ⇒ the label becomes r_i."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(len(y), generator=g).tolist()
    r = torch.randint(0, classes, (len(y),), generator=g).tolist()
    out, redrawn = [], []
    for label, u_i, r_i in zip(y.tolist(), u, r, strict=True):
        redrawn.append(u_i < p)
        out.append(r_i if u_i < p else label)
    return torch.tensor(out, dtype=torch.int64), torch.tensor(redrawn)


def _check_corruption(ctx: RunContext) -> None:
    for n, p, classes in ((1, 0.5, 2), (7, 0.3, 3), (1001, 0.0, 10), (1001, 0.6, 10), (1001, 1.0, 7)):
        y = torch.randint(0, classes, (n,), device=ctx.device)
        ours, redrawn = corrupt_labels(y, p, classes, torch.Generator().manual_seed(n))
        ref, ref_redrawn = _corrupt_naive(y.cpu(), p, classes, n)
        name = f"n = {n}, p = {p}, K = {classes}"
        ctx.check_close(f"corrupted labels vs a naive per-example loop, {name}", ours.cpu(), ref)
        ctx.check_property(
            f"the redrawn set is exactly the loop's, and every other label is untouched, {name}",
            torch.equal(redrawn.cpu(), ref_redrawn) and torch.equal(ours[~redrawn], y[~redrawn]),
        )
    n, p, classes = 200_000, 0.5, 10
    y = torch.randint(0, classes, (n,), device=ctx.device)
    ours, redrawn = corrupt_labels(y, p, classes, torch.Generator().manual_seed(ctx.seed))
    for what, share, expected in (
        ("redrawn", redrawn.float().mean().item(), p),
        ("changed", (ours != y).float().mean().item(), p * (1 - 1 / classes)),
    ):
        sigma = math.sqrt(expected * (1 - expected) / n)
        ctx.check_property(
            f"share of labels {what} = {expected:g} within 5σ (n = {n:,}, p = {p}, K = {classes})",
            abs(share - expected) <= 5 * sigma,
            f"measured {share:.4f}, σ = {sigma:.4f}",
            value=share,
        )
    shuffled = shuffle_labels(y, torch.Generator().manual_seed(ctx.seed))
    ctx.check_property(
        "permuted labels keep every class count exactly, and move most labels",
        torch.equal(torch.bincount(shuffled, minlength=classes), torch.bincount(y, minlength=classes))
        and (shuffled != y).float().mean().item() > 0.8,
    )


def _check_data(ctx: RunContext) -> None:
    X, y = gaussian_clusters(N_TRAIN, D, K, ctx.seed)
    X2, y2 = gaussian_clusters(N_TRAIN, D, K, ctx.seed)
    X3, _ = gaussian_clusters(N_TRAIN, D, K, ctx.seed + 1)
    Xt, yt = gaussian_clusters(N_TRAIN, D, K, ctx.seed + 1, centre_seed=ctx.seed)
    means = torch.stack([X[y == k].mean(0) for k in range(K)])
    test_means = torch.stack([Xt[yt == k].mean(0) for k in range(K)])
    ctx.check_property(
        "cluster data: the same seed gives the same data, another seed other data, classes balanced",
        torch.equal(X, X2)
        and torch.equal(y, y2)
        and not torch.equal(X, X3)
        and torch.equal(torch.bincount(y), torch.full((K,), N_TRAIN // K)),
    )
    distance = torch.cdist(test_means, means)  # (K, K) test class means to training class means
    ctx.check_property(
        "a test set with centre_seed shares the training centres: each class mean is nearest its own",
        torch.equal(distance.argmin(dim=1), torch.arange(K)),
        f"own class {distance.diag().max().item():.2f} away at most, others "
        f"{(distance + 1e9 * torch.eye(K)).min().item():.2f} at least",
    )


def _reference_mlp(mlp: MLP) -> nn.Sequential:
    layers: list[nn.Module] = []
    for W, b in zip(mlp.W, mlp.b, strict=True):
        linear = nn.Linear(W.shape[1], W.shape[0]).to(W)
        with torch.no_grad():
            linear.weight.copy_(W), linear.bias.copy_(b)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def _check_mlp(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        for batch, width, depth in ((1, 512, 2), (7, 33, 1), (33, 17, 3)):
            mlp = MLP(D, width, K, depth).to(ctx.device, dtype)
            with torch.no_grad():
                for b in mlp.b:
                    b.normal_()  # biases away from their zero initialisation
            ref = _reference_mlp(mlp)
            x = torch.randn(batch, D, dtype=dtype, device=ctx.device)
            ours, grads = ctx.value_and_grads(mlp, x, params=list(mlp.parameters()))
            ref_params = [p for layer in ref if isinstance(layer, nn.Linear) for p in (layer.weight,)]
            ref_params += [p for layer in ref if isinstance(layer, nn.Linear) for p in (layer.bias,)]
            expected, ref_grads = ctx.value_and_grads(ref, x, params=ref_params)
            name = f"batch {batch}, {depth}×{width} ({dtype_name(dtype)})"
            ctx.check_close(f"MLP vs nn.Linear + nn.ReLU, {name}", ours, expected)
            ctx.check_close(f"MLP gradients (input, weights, biases) vs nn.Linear, {name}", grads, ref_grads)


def _check_theorem_1(ctx: RunContext) -> None:
    exact = ctx.exact_dtype
    for n, d in ((1, 1), (7, 3), (100, 32), (257, 5)):
        g = torch.Generator().manual_seed(ctx.seed + n)
        X = torch.randn(n, d, generator=g, dtype=torch.float64).to(ctx.device, exact)
        for kind, y in (
            ("random class labels", torch.randint(0, K, (n,), generator=g).to(ctx.device, exact)),
            ("random real values", torch.randn(n, generator=g, dtype=torch.float64).to(ctx.device, exact)),
        ):
            net = TwoLayerInterpolator.fit(X, y, g)
            with torch.no_grad():
                fitted = net(X)
            # a triangular solve over gaps z_(i+1) − z_(i) as small as ~1/n²: atol 1e-6, not 1e-10
            ctx.check_close(
                f"Theorem 1: the 2n + d network fits {kind} exactly, n = {n}, d = {d}", fitted, y, atol=1e-6
            )
        weights = sum(p.numel() for p in net.parameters())
        ctx.check_property(
            f"Theorem 1: the network has 2n + d = {2 * n + d} weights, n = {n}, d = {d}",
            weights == 2 * n + d,
            value=weights,
        )


def check(ctx: RunContext) -> None:
    _check_corruption(ctx)
    _check_data(ctx)
    _check_mlp(ctx)
    _check_theorem_1(ctx)

    # corrupt_labels' types: the labels long (class indices for F.cross_entropy), redrawn bool, both on y's
    # device; the comparisons above read values only.
    y = torch.randint(0, K, (50,), device=ctx.device)
    labels, redrawn = corrupt_labels(y, 0.5, K, torch.Generator().manual_seed(ctx.seed))
    ctx.check_property(
        "corrupt_labels returns labels int64 and redrawn bool, (n,) each, on y's device",
        labels.dtype == torch.long
        and redrawn.dtype == torch.bool
        and labels.shape == redrawn.shape == y.shape
        and labels.device == redrawn.device == y.device,
        f"labels {dtype_name(labels.dtype)} {tuple(labels.shape)} on {labels.device}, "
        f"redrawn {dtype_name(redrawn.dtype)} {tuple(redrawn.shape)} on {redrawn.device}",
    )
    # Theorem 1's construction as the statement fixes it, which any interleaving of b would fit as well:
    # a = torch.randn(d, generator=g) cast to X's dtype, b_1 = z_(1) − 1 and b_j halfway between z_(j−1)
    # and z_(j) for the z = X a of the returned a.
    exact = ctx.exact_dtype
    for n, d in ((7, 3), (100, 32)):
        g = torch.Generator().manual_seed(ctx.seed + 7 * n)
        X = torch.randn(n, d, generator=g, dtype=torch.float64).to(ctx.device, exact)
        y = torch.randn(n, generator=g, dtype=torch.float64).to(ctx.device, exact)
        replay = torch.Generator().set_state(g.get_state())
        net = TwoLayerInterpolator.fit(X, y, g)
        with torch.no_grad():
            a_expected = torch.randn(d, generator=replay).to(X)
            zs = (X @ net.a).sort().values
            b_expected = torch.cat((zs[:1] - 1.0, (zs[1:] + zs[:-1]) / 2))
        ctx.check_close(
            f"Theorem 1: a = torch.randn(d, generator=g) in X's dtype, n = {n}, d = {d}", net.a, a_expected
        )
        ctx.check_close(
            f"Theorem 1: b_1 = z_(1) − 1, then b_j halfway between z_(j−1) and z_(j), n = {n}, d = {d}",
            net.b,
            b_expected,
        )


def _fit(
    ctx: RunContext,
    cfg: Config,
    seed: int,
    X: torch.Tensor,
    labels: torch.Tensor,
    Xt: torch.Tensor,
    yt: torch.Tensor,
    label: str,
) -> tuple[int, float, float]:
    """Train a fresh MLP (initialised and batched from ``seed``, the same for every labelling) until it
    classifies every training point as its (possibly random) label; return the Adam steps that took,
    training and test accuracy. Counted in steps, not epochs: true labels fit within one to three epochs,
    so a ratio of epochs moves by a whole epoch's worth of rounding from one seed to the next."""
    torch.manual_seed(seed)
    model = MLP(D, cfg.width, K, cfg.depth).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    g = torch.Generator().manual_seed(seed)
    train_acc, step = 0.0, 0
    while train_acc < 1.0 and step < cfg.steps:
        for idx in torch.randperm(len(X), generator=g).to(ctx.device).split(cfg.batch):
            loss = F.cross_entropy(model(X[idx]), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            with torch.no_grad():
                train_acc = (model(X).argmax(-1) == labels).float().mean().item()
            ctx.metric(f"training accuracy ({label})", step, train_acc)
            if train_acc == 1.0 or step == cfg.steps:
                break
    with torch.no_grad():
        test_acc = (model(Xt).argmax(-1) == yt).float().mean().item()
    return step, train_acc, test_acc


def _random_labels(kind: str, y: torch.Tensor, seed: int) -> torch.Tensor:
    """What ``--set labels=...`` gives the random-label arm: y permuted (the calibrated run), uniform random
    labels (corruption with p = 1) or y itself (the idea removed)."""
    g = torch.Generator().manual_seed(seed)
    if kind == "permuted":
        return shuffle_labels(y, g)
    return corrupt_labels(y, 1.0, K, g)[0] if kind == "uniform" else y


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    X, y = gaussian_clusters(cfg.points, D, K, ctx.seed, spread=cfg.spread)
    Xt, yt = gaussian_clusters(N_TEST, D, K, ctx.seed + 1, spread=cfg.spread, centre_seed=ctx.seed)
    X, y, Xt, yt = X.to(ctx.device), y.to(ctx.device), Xt.to(ctx.device), yt.to(ctx.device)
    runs = {"true labels": y, "permuted labels": _random_labels(cfg.labels, y, ctx.seed + 2)}
    if not ctx.quick:  # section 2's partially corrupted labels, as a curve (p = 1 is uniform random labels)
        for p in (0.2, 0.4, 0.6, 0.8, 1.0):
            runs[f"p = {p} corrupted"] = corrupt_labels(y, p, K, torch.Generator().manual_seed(ctx.seed + 3))[
                0
            ]
    # The full run trains each labelling from 3 initialisations and counts their mean steps: with true labels
    # the last few points to fit decide the count (18 to 30 steps over seeds 0-4 from one initialisation), so
    # one initialisation's ratio sat only 2.2 seed sds above 3 (issue 42's rule asks 3).
    inits = [ctx.seed + 1000 * k for k in range(cfg.inits)]
    results: dict[str, tuple[float, float, float]] = {}
    for label, labels in runs.items():
        fits = [
            _fit(
                ctx,
                cfg,
                seed,
                X,
                labels,
                Xt,
                yt,
                label + ("" if seed == ctx.seed else f", init {seed - ctx.seed}"),
            )
            for seed in inits
        ]
        steps = sum(f[0] for f in fits) / len(fits)
        train_acc, test_acc = min(f[1] for f in fits), sum(f[2] for f in fits) / len(fits)
        results[label] = steps, train_acc, test_acc
        ctx.measured(
            f"{label}: Adam steps to fit every training label",
            steps,
            f"training accuracy {train_acc:.3f}, test accuracy (true labels) {test_acc:.3f}"
            + (
                ""
                if len(inits) == 1
                else f"; mean of {len(inits)} initialisations: " + ", ".join(str(f[0]) for f in fits)
            ),
        )
        ctx.progress(len(results), len(runs))
    (e_true, acc_true, test_true), (e_rand, acc_rand, test_rand) = (
        results["true labels"],
        results["permuted labels"],
    )
    instead = "" if cfg.labels == "permuted" else f"; labels={cfg.labels} in the permuted labels' place"
    ctx.target(
        "the same MLP fits every training label: worse training accuracy of true / permuted labels",
        min(acc_true, acc_rand),
        1.0,
        detail=f"MLP {cfg.width}×{cfg.depth}, Adam {cfg.lr:g}, batches of {cfg.batch}, at most "
        f"{cfg.steps * cfg.batch / cfg.points:g} epochs" + instead,
    )
    ctx.target(
        "test accuracy after fitting permuted labels (chance is 0.1)",
        test_rand,
        0.2,
        higher_is_better=False,
        detail=f"with true labels the same network reaches {test_true:.3f}" + instead,
    )
    ctx.target("test accuracy after fitting true labels", test_true, 0.95)
    ctx.target(
        "steps to fit permuted labels / true labels (random labels take longer)",
        e_rand / e_true,
        3.0,
        detail=f"{e_rand:g} against {e_true:g} Adam steps of {cfg.batch} "
        f"({math.ceil(cfg.points / cfg.batch)} an epoch)" + instead,
        asserted=not ctx.quick,
    )
    if ctx.quick:
        return
    curve = [(0.0, *results["true labels"])] + [
        (p, *results[f"p = {p} corrupted"]) for p in (0.2, 0.4, 0.6, 0.8, 1.0)
    ]
    for p, steps, _, test_acc in curve:
        ctx.metric("test accuracy against label corruption p (×100)", round(100 * p), test_acc)
        ctx.metric("Adam steps to fit against label corruption p (×100)", round(100 * p), steps)
    tests = [t for _, _, _, t in curve]
    ctx.target(
        "every corruption level is fitted: worst training accuracy, p = 0 … 1",
        min(a for _, _, a, _ in curve),
        1.0,
    )
    ctx.target(
        "test accuracy falls as p grows: largest rise from one level to the next",
        max(b - a for a, b in itertools.pairwise(tests)),
        0.02,
        higher_is_better=False,
        detail="test accuracies " + ", ".join(f"p={p}: {t:.3f}" for p, _, _, t in curve),
    )
    ctx.target(
        "any corruption costs time: fewest steps to fit with p ≥ 0.2 / steps with true labels",
        min(e for p, e, _, _ in curve if p > 0) / e_true,
        3.0,
        detail="Adam steps " + ", ".join(f"p={p}: {e:g}" for p, e, _, _ in curve),
    )


def bench(ctx: RunContext) -> None:
    X, y = gaussian_clusters(N_TRAIN, D, K, ctx.seed)
    X, y = X.to(ctx.device), y.to(ctx.device)
    for width in (512, 1024) if ctx.quick else (512, 2048):
        model = MLP(D, width, K).to(ctx.device)
        params = list(model.parameters())

        def epoch(model: MLP = model, params: list[torch.nn.Parameter] = params) -> None:
            for xb, yb in zip(X.split(BATCH), y.split(BATCH), strict=True):
                torch.autograd.grad(F.cross_entropy(model(xb), yb), params)

        ctx.bench.measure(
            f"one epoch (forward + backward, {N_TRAIN} points), MLP {width}×2",
            epoch,
            baseline=width == 512,
            tokens=N_TRAIN,
            unit="examples/s",
            shape=(N_TRAIN, D),
            dtype=torch.float32,
            params={"width": width, "weights": sum(p.numel() for p in params)},
        )
