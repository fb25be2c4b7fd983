"""Weak-to-strong generalisation at toy scale: a noisy weak supervisor labels data for a strong linear
probe whose representation makes the concept salient; the performance gap recovered with plain CE and with
the auxiliary confidence loss.

check: the confidence loss equals a hand-written float64/float32 reference (per-example sums, the threshold
       found by sorting and interpolating, not torch.quantile), forward and gradients, on batches of 1, 7 and
       64 with several weak priors; the hardened targets' class balance matches the weak labels' prior to
       within one example; α weights the hardened term (α = 0 is plain CE, α = 1 is CE on t̂ alone); PGR
       equals (w2s − weak)/(ceiling − weak) on hand-computed cases; the data generator is seeded; the weak
       labels the student sees are exactly the weak model's probabilities.
train: for several seeds: the weak model (a linear model on noisy features, trained on ground truth), the
       strong ceiling (a linear probe on the strong representation, trained on ground truth), and the
       student (the same probe trained on the weak model's labels of a held-out split) with plain CE and with
       the confidence loss, same seed and batches, each student at its own best SGD rate of (0.03, 0.1, 0.3)
       chosen on a ground-truth validation half of the test split; PGR of each on the other half.
bench: one student step with plain CE against one with the confidence loss (its quantile) at two batch sizes.
"""

from __future__ import annotations

import math
from functools import partial

import torch
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name

from .config import Config
from .model import (
    Task,
    accuracy,
    alpha_schedule,
    confidence_loss,
    fit_linear,
    hardened_targets,
    make_splits,
    performance_gap_recovered,
)

LR_WEAK, LR_STRONG = 0.5, 0.1  # SGD rates of the weak model and the ceiling, on ground truth
ALPHA = 0.75  # α_max of the confidence loss (the paper's); --set loss=plain trains that student with α = 0
STUDENT_RATES = (0.03, 0.1, 0.3)  # each student (plain CE, confidence loss) gets its best of these (lr = 0)


def _reference_confidence_loss(logits: torch.Tensor, weak_probs: torch.Tensor, alpha: float) -> torch.Tensor:
    """Written separately: per-example sums; the threshold is the weak prior's quantile of p(class 0),
    found by sorting and linear interpolation between order statistics."""
    n = logits.shape[0]
    logp = logits - logits.exp().sum(dim=1, keepdim=True).log()  # log-softmax by hand
    p0 = logp[:, 0].exp()
    prior1 = sum(float(weak_probs[i, 1]) for i in range(n)) / n
    s = sorted(float(v) for v in p0.detach())
    pos = prior1 * (n - 1)
    lo, hi = int(pos // 1), min(int(pos // 1) + 1, n - 1)
    t = s[lo] + (pos - lo) * (s[hi] - s[lo])
    total = logits.new_zeros(())
    for i in range(n):
        hard1 = 1.0 if float(p0[i].detach()) < t else 0.0
        ce_weak = -(weak_probs[i, 0] * logp[i, 0] + weak_probs[i, 1] * logp[i, 1])
        ce_hard = -((1 - hard1) * logp[i, 0] + hard1 * logp[i, 1])
        total = total + (1 - alpha) * ce_weak + alpha * ce_hard
    return total / n


def check(ctx: RunContext) -> None:
    g = torch.Generator().manual_seed(ctx.seed)
    for dtype in ctx.check_dtypes:
        for n, prior, alpha in ((1, 0.5, 0.5), (7, 0.3, 0.75), (64, 0.5, 0.75), (64, 0.8, 0.2)):
            logits = (2 * torch.randn(n, 2, generator=g, dtype=torch.float64)).to(ctx.device, dtype)
            p1 = (torch.rand(n, generator=g, dtype=torch.float64) < prior).double() * 0.8 + 0.1
            weak = torch.stack([1 - p1, p1], dim=1).to(ctx.device, dtype)
            name = f"n={n}, weak prior {float(p1.mean()):.2f}, α={alpha} ({dtype_name(dtype)})"
            ours, grads = ctx.value_and_grads(lambda x, w=weak, a=alpha: confidence_loss(x, w, a), logits)
            ref, ref_grads = ctx.value_and_grads(
                lambda x, w=weak, a=alpha: _reference_confidence_loss(x, w, a), logits
            )
            ctx.check_close(f"confidence loss vs hand-written reference, {name}", ours, ref)
            ctx.check_close(f"confidence loss gradients vs reference, {name}", grads, ref_grads)

    # What the losses above cannot see of t̂ itself: one-hot rows of 0s and 1s in the logits' dtype (float32
    # here), with no gradient; drawn from its own generator, so that g's draws below stay as they were.
    own = torch.Generator().manual_seed(ctx.seed)
    logits = torch.randn(9, 2, generator=own).to(ctx.device).requires_grad_()
    p1 = torch.rand(9, generator=own).to(ctx.device)
    hard = hardened_targets(logits, torch.stack([1 - p1, p1], dim=1))
    one_hot = tuple(hard.shape) == (9, 2) and bool(
        ((hard == 0) | (hard == 1)).all() and (hard.sum(1) == 1).all()
    )
    ctx.check_property(
        "hardened targets are one-hot (n, 2) in the logits' dtype (float32), with no gradient",
        one_hot and hard.dtype == torch.float32 and not hard.requires_grad,
        f"returned {tuple(hard.shape)} {dtype_name(hard.dtype)}"
        + (", one-hot" if one_hot else ", not one-hot")
        + (", with a gradient" if hard.requires_grad else ""),
    )

    exact = ctx.exact_dtype
    for n, prior in ((50, 0.5), (101, 0.3), (64, 0.9)):
        logits = torch.randn(n, 2, generator=g, dtype=torch.float64).to(ctx.device, exact)
        p1 = torch.full((n,), prior, dtype=exact, device=ctx.device)
        hard = hardened_targets(logits, torch.stack([1 - p1, p1], dim=1))
        frac = float(hard[:, 1].sum()) / n  # a sum: a long tensor of targets (caught above) has no mean
        ctx.check_property(
            f"hardened targets match the weak prior, n={n}, prior {prior}",
            abs(frac - prior) <= 1 / n + 1e-12,
            f"fraction hardened to class 1: {frac:.4f}",
            value=abs(frac - prior),
        )
    logits = torch.randn(33, 2, generator=g, dtype=torch.float64).to(ctx.device, exact)
    p1 = torch.rand(33, generator=g, dtype=torch.float64).to(ctx.device, exact)
    weak = torch.stack([1 - p1, p1], dim=1)
    ctx.check_close(
        "α = 0 is plain CE on the weak labels",
        confidence_loss(logits, weak, 0.0),
        F.cross_entropy(logits, weak),
    )
    ctx.check_close(
        "α = 1 is CE on the hardened targets alone",
        confidence_loss(logits, weak, 1.0),
        F.cross_entropy(logits, hardened_targets(logits, weak).to(logits.dtype)),
    )
    ctx.check_close(
        "α warm-up: 0 → 0.75 linearly over the first 20%, then flat",
        torch.tensor([alpha_schedule(f) for f in (0.0, 0.1, 0.2, 0.7)], dtype=torch.float64),
        torch.tensor([0.0, 0.375, 0.75, 0.75], dtype=torch.float64),
    )

    cases = ((0.6, 0.8, 0.9), (0.7, 0.7, 0.95), (0.55, 0.95, 0.95), (0.5, 0.45, 0.8))
    ctx.check_close(
        "PGR = (w2s − weak)/(ceiling − weak), hand-computed cases",
        torch.tensor([performance_gap_recovered(*c) for c in cases], dtype=torch.float64),
        torch.tensor([2 / 3, 0.0, 1.0, -1 / 6], dtype=torch.float64),
    )

    a, b = make_splits(ctx.seed, 100, device=ctx.device), make_splits(ctx.seed, 100, device=ctx.device)
    same = all(
        torch.equal(getattr(s, f), getattr(t, f))
        for s, t in zip(a, b, strict=True)
        for f in ("z", "y", "h", "x_w")
    )
    ctx.check_property("the data generator is seeded: same seed, same splits", same)
    train_split, held_out, _ = a
    weak_model = fit_linear(train_split.x_w, F.one_hot(train_split.y, 2).float(), 20, LR_WEAK, ctx.seed)
    labels = _weak_labels(weak_model, held_out.x_w)
    with torch.no_grad():
        ctx.check_close(
            "the student's labels are the weak model's probabilities f_w(x) on the held-out split",
            labels,
            F.softmax(held_out.x_w @ weak_model.weight.T + weak_model.bias, dim=-1),
        )


def _weak_labels(weak_model: torch.nn.Module, x_w: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return weak_model(x_w).softmax(dim=-1)  # f_w(x): soft labels, as the paper's code trains on


def _halves(task: Task) -> tuple[Task, Task]:
    """A split cut in two: the first half validates (picks a student's learning rate), the second tests."""
    n = len(task.y) // 2
    first = Task(*(getattr(task, f)[:n] for f in ("z", "y", "h", "x_w")))
    second = Task(*(getattr(task, f)[n:] for f in ("z", "y", "h", "x_w")))
    return first, second


def _student(
    held_out: Task, labels: torch.Tensor, validation: Task, seed: int, alpha: float, cfg: Config
) -> tuple[float, torch.nn.Linear]:
    """The student trained on the weak labels at each rate of the grid (or at ``cfg.lr``); the one most
    accurate on the (ground-truth) validation half is kept: (its rate, the model)."""
    rates = STUDENT_RATES if cfg.lr == 0 else (cfg.lr,)
    tried = {lr: fit_linear(held_out.h, labels, cfg.steps, lr, seed, alpha, cfg.batch) for lr in rates}
    best = max(tried, key=lambda lr: accuracy(tried[lr], validation, "h"))
    return best, tried[best]


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    init_seeds = range(ctx.seed, ctx.seed + cfg.inits)
    alpha = ALPHA if cfg.loss == "confidence" else 0.0  # plain: the "confidence loss" student is plain CE
    plain, conf = [], []
    for i, seed in enumerate(init_seeds):
        train_split, held_out, test = make_splits(
            seed, cfg.examples, cfg.dim, cfg.dim, cfg.salience, weak_noise=cfg.weak_noise, device=ctx.device
        )
        validation, test = _halves(test)
        truth = F.one_hot(train_split.y, 2).float()
        weak_model = fit_linear(train_split.x_w, truth, cfg.steps, LR_WEAK, seed, batch=cfg.batch)
        ceiling_model = fit_linear(train_split.h, truth, cfg.steps, LR_STRONG, seed, batch=cfg.batch)
        weak, ceiling = accuracy(weak_model, test, "x_w"), accuracy(ceiling_model, test, "h")
        labels = _weak_labels(weak_model, held_out.x_w)
        lr_plain, student = _student(held_out, labels, validation, seed, 0.0, cfg)
        lr_conf, student_conf = _student(held_out, labels, validation, seed, alpha, cfg)
        w2s, w2s_conf = accuracy(student, test, "h"), accuracy(student_conf, test, "h")
        gap = ceiling != weak  # no gap to recover (say weak_noise=0 with salience=1): PGR undefined, nan
        plain.append(performance_gap_recovered(weak, w2s, ceiling) if gap else math.nan)
        conf.append(performance_gap_recovered(weak, w2s_conf, ceiling) if gap else math.nan)
        ctx.measured(  # the offset in the name, the seed in the detail: seeds line up by name
            f"the run's seed + {seed - ctx.seed}: PGR plain CE / with confidence loss",
            plain[-1],
            f"seed {seed}; conf {conf[-1]:.3f}; test accuracy weak {weak:.3f}, "
            f"w2s {w2s:.3f} (lr {lr_plain:g}), w2s+conf {w2s_conf:.3f} (lr {lr_conf:g}), "
            f"ceiling {ceiling:.3f}",
        )
        ctx.progress(i + 1, len(init_seeds))
    mean_plain, mean_conf = sum(plain) / len(plain), sum(conf) / len(conf)
    gains = [c - p for c, p in zip(conf, plain, strict=True)]
    ctx.target(
        "weak-to-strong: mean PGR with plain CE (eq. 1)",
        mean_plain,
        0.2,
        detail=f"per seed {', '.join(f'{p:.2f}' for p in plain)}; 0: matched its supervisor",
        asserted=not ctx.quick,
    )
    ctx.target(
        "mean PGR with the auxiliary confidence loss (α_max = 0.75)",
        mean_conf,
        0.5,
        detail=f"per seed {', '.join(f'{c:.2f}' for c in conf)}"
        + ("" if cfg.loss == "confidence" else "; loss=plain: this student is trained with plain CE"),
    )
    tuning = f"each student at its best rate of {STUDENT_RATES} on a validation half of the test split"
    if cfg.lr != 0:
        tuning = f"both students at lr {cfg.lr:g}"
    ctx.target(
        "the confidence loss recovers the gap on every seed: smallest per-seed PGR",
        min(conf),
        0.6,
        detail=f"plain CE's smallest: {min(plain):.2f} (per seed {', '.join(f'{p:.2f}' for p in plain)}); "
        + tuning,
    )
    # Reported, not asserted: with each student at its own best rate, plain CE sometimes matches the
    # confidence loss (seeds 0, 4 and 5 of the full run) and sometimes trails it by 0.4 (see the page).
    ctx.measured(
        "confidence loss minus plain CE, mean PGR gain",
        mean_conf - mean_plain,
        f"per seed {', '.join(f'{x:+.2f}' for x in gains)}; same seed, batches and steps; " + tuning,
    )


def bench(ctx: RunContext) -> None:
    for batch in (256, 4096) if ctx.quick else (256, 4096, 65536):
        x = torch.randn(batch, 32, device=ctx.device)
        p1 = torch.rand(batch, device=ctx.device)
        weak = torch.stack([1 - p1, p1], dim=1)
        layer = torch.nn.Linear(32, 2).to(ctx.device)

        def step(
            loss_fn: object, x: torch.Tensor = x, weak: torch.Tensor = weak, layer: torch.nn.Linear = layer
        ) -> None:
            loss = loss_fn(layer(x), weak)  # type: ignore[operator]
            torch.autograd.grad(loss, list(layer.parameters()))

        ctx.bench.measure(
            f"student step, plain CE, batch {batch}",
            partial(step, F.cross_entropy),
            baseline=batch == 256,
            shape=(batch, 32),
            dtype=x.dtype,
        )
        ctx.bench.measure(
            f"student step, confidence loss, batch {batch}",
            partial(step, partial(confidence_loss, alpha=ALPHA)),
            shape=(batch, 32),
            dtype=x.dtype,
        )
