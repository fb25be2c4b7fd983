"""Schedule-Free AdamW at toy scale: equal to the official ``schedulefree`` package step for step, and as
good as a cosine schedule that knows the horizon, without knowing it.

check: ``AdamWScheduleFree`` (x, y and z kept as in Algorithm 1) against a written-out reference in the
       package's y-only form (y ← y + c(z − y) + γ(β1(1 − c) − 1)·d, z ← z − γ·d) and, when it is installed,
       ``schedulefree.AdamWScheduleFree``: 25 steps on three parameters of odd shapes, for warm-up 0 and 7,
       weight decay 0 and 0.1, β = (0.9, 0.999) and (0.8, 0.95); the parameters in train mode (y) and in
       eval mode (x) after every step, and the state z and v; float64, then float32; eval() then train()
       gives back y bit for bit.
train: streaming logistic regression (20-d inputs, 5 classes, 10% label noise, batches of 16, a fresh batch
       every step), held-out cross-entropy at the horizon T for AdamW with a constant lr, AdamW with a
       cosine schedule to 0 at T (it knows T), and Schedule-Free AdamW evaluated at x, each at its own best
       lr of one grid chosen on a validation set (the rates trained side by side as parameter groups), 20
       warm-up steps, the same batches; seeds run side by side as one batched tensor. Targets: Schedule-Free
       within 2% of cosine (quick 3%), and its average x below the base iterate z it averages (the
       mechanism); the gain over the constant lr is reported. Full: T = 500 and 3000, 3 seeds; quick: T =
       400, 2 seeds (config.py's knobs; ``--set optimizer=cosine`` trains the arm under test with the cosine
       schedule instead: both ratios become exactly 1).
bench: one optimiser step on one flat parameter of 2¹⁶ and 2²⁰ numbers (2¹⁸ and 2²² in the full run):
       torch.optim.AdamW (foreach=False, the baseline), our Schedule-Free AdamW (written for reading, with
       temporaries) and, when installed, the official package's.
"""

from __future__ import annotations

import math
from functools import partial

import torch
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name, plural

from .config import Config
from .model import AdamWScheduleFree

SHAPES = [(5, 3), (7,), (1,)]
SETTINGS = [  # (warmup, weight decay, betas)
    (0, 0.0, (0.9, 0.999)),
    (7, 0.0, (0.9, 0.999)),
    (7, 0.1, (0.8, 0.95)),
    (0, 0.1, (0.9, 0.999)),
]
STEPS, LR = 25, 0.05


class WrittenOutReference:
    """Schedule-Free AdamW with only y and z stored, as the official package computes it (its appendix
    form): x is never stored; eval() recovers it as x = (y − (1 − β1) z) / β1."""

    def __init__(
        self, params: list[torch.Tensor], lr: float, betas: tuple[float, float], wd: float, warmup: int
    ):
        self.params, self.lr, self.betas, self.wd, self.warmup = params, lr, betas, wd, warmup
        self.z = [p.detach().clone() for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.k, self.weight_sum = 0, 0.0

    @torch.no_grad()
    def step(self) -> None:
        beta1, beta2 = self.betas
        lr = self.lr * ((self.k + 1) / self.warmup if self.k < self.warmup else 1.0)
        self.weight_sum += lr**2
        c = lr**2 / self.weight_sum
        for y, z, v in zip(self.params, self.z, self.v, strict=True):
            assert y.grad is not None
            v.mul_(beta2).addcmul_(y.grad, y.grad, value=1 - beta2)
            d = y.grad / ((v / (1 - beta2 ** (self.k + 1))).sqrt() + 1e-8) + self.wd * y
            y.lerp_(z, c).add_(d, alpha=lr * (beta1 * (1 - c) - 1))
            z.sub_(d, alpha=lr)
        self.k += 1

    def x(self) -> list[torch.Tensor]:
        beta1 = self.betas[0]
        return [(y.detach() - (1 - beta1) * z) / beta1 for y, z in zip(self.params, self.z, strict=True)]


def _loss(params: list[torch.Tensor], targets: list[torch.Tensor]) -> torch.Tensor:
    # a smooth non-quadratic loss so that the gradient depends on where it is taken (y, not x)
    return sum(
        (torch.log(torch.cosh(p - t)) + 0.1 * p.pow(4)).sum() for p, t in zip(params, targets, strict=True)
    )  # type: ignore[return-value]


def _run(ctx: RunContext, dtype: torch.dtype, warmup: int, wd: float, betas: tuple[float, float]) -> dict:
    start = [torch.randn(s, dtype=dtype, device=ctx.device) for s in SHAPES]
    targets = [torch.randn(s, dtype=dtype, device=ctx.device) for s in SHAPES]
    ours_p = [p.clone().requires_grad_() for p in start]
    ref_p = [p.clone().requires_grad_() for p in start]
    ours = AdamWScheduleFree(ours_p, lr=LR, betas=betas, weight_decay=wd, warmup_steps=warmup)
    ref = WrittenOutReference(ref_p, LR, betas, wd, warmup)
    pkg_p, pkg = None, None
    try:
        import schedulefree  # the official package: a test-only dependency

        pkg_p = [p.clone().requires_grad_() for p in start]
        pkg = schedulefree.AdamWScheduleFree(
            pkg_p, lr=LR, betas=betas, weight_decay=wd, warmup_steps=warmup, foreach=False
        )
        pkg.train()
    except ImportError:
        pass
    ours.train()
    out: dict[str, list[torch.Tensor]] = {
        k: [] for k in ("y", "x", "z", "v", "ref y", "ref x", "ref z", "ref v")
    }
    out.update({k: [] for k in ("pkg y", "pkg x", "pkg z", "pkg v")} if pkg is not None else {})
    flat = partial(torch.cat)
    for _ in range(STEPS):
        for params in [ours_p, ref_p] + ([pkg_p] if pkg_p is not None else []):
            for p in params:
                p.grad = None
            _loss(params, targets).backward()
        ours.step()
        ref.step()
        out["y"].append(flat([p.detach().flatten() for p in ours_p]))
        y_before = [p.detach().clone() for p in ours_p]
        ours.eval()
        out["x"].append(flat([p.detach().flatten() for p in ours_p]))
        ours.train()
        out.setdefault("round trip", []).append(
            torch.tensor(
                all(torch.equal(a, b) for a, b in zip(y_before, ours_p, strict=True)), device=ctx.device
            )
        )
        out["z"].append(flat([ours.state[p]["z"].flatten() for p in ours_p]))
        out["v"].append(flat([ours.state[p]["exp_avg_sq"].flatten() for p in ours_p]))
        out["ref y"].append(flat([p.detach().flatten() for p in ref_p]))
        out["ref x"].append(flat([x.flatten() for x in ref.x()]))
        out["ref z"].append(flat([z.flatten() for z in ref.z]))
        out["ref v"].append(flat([v.flatten() for v in ref.v]))
        if pkg is not None and pkg_p is not None:
            pkg.step()
            out["pkg y"].append(flat([p.detach().flatten() for p in pkg_p]))
            pkg.eval()
            out["pkg x"].append(flat([p.detach().flatten() for p in pkg_p]))
            pkg.train()
            out["pkg z"].append(flat([pkg.state[p]["z"].flatten() for p in pkg_p]))
            out["pkg v"].append(flat([pkg.state[p]["exp_avg_sq"].flatten() for p in pkg_p]))
    return {k: torch.stack(v) for k, v in out.items()}


def check(ctx: RunContext) -> None:
    try:
        import schedulefree  # noqa: F401

        have_package = True
    except ImportError:
        have_package = False
        ctx.log("schedulefree is not installed: compared only against the written-out reference")
    for dtype in ctx.check_dtypes:
        for warmup, wd, betas in SETTINGS:
            run = _run(ctx, dtype, warmup, wd, betas)
            name = f"warmup {warmup}, λ {wd}, β {betas}, {STEPS} steps ({dtype_name(dtype)})"
            refs = [("written-out reference", "ref")] + ([("schedulefree", "pkg")] if have_package else [])
            for ref_name, key in refs:
                for what, label in (("y", "train-mode params y"), ("x", "eval-mode params x")):
                    ctx.check_close(f"{label} vs {ref_name}, {name}", run[what], run[f"{key} {what}"])
                state = torch.cat([run["z"], run["v"]], dim=1)
                ref_state = torch.cat([run[f"{key} z"], run[f"{key} v"]], dim=1)
                ctx.check_close(f"state z, v vs {ref_name}, {name}", state, ref_state)
            ctx.check_property(
                f"eval() then train() gives back y bit for bit, {name}",
                bool(run["round trip"].all()),
                "after each of the steps",
            )

    # One call with ε = 0.1: the runs above use the default ε = 1e-8, which a hard-coded ε would match.
    from .model import schedule_free_update

    exact = ctx.exact_dtype
    gen = torch.Generator().manual_seed(ctx.seed)
    y, z, x, g = (torch.randn(4, 3, generator=gen, dtype=exact).to(ctx.device) for _ in range(4))
    v = torch.rand(4, 3, generator=gen, dtype=exact).to(ctx.device)
    t, lr_t, c, beta1, beta2, eps, wd = 3, 0.05, 0.3, 0.9, 0.99, 0.1, 0.1
    got = schedule_free_update(y, z, x, v, g, t, lr_t, c, beta1, beta2, eps, wd)
    v_new = beta2 * v + (1 - beta2) * g * g
    d = g / ((v_new / (1 - beta2**t)).sqrt() + eps) + wd * y
    z_new = z - lr_t * d
    x_new = (1 - c) * x + c * z_new
    want = [(1 - beta1) * z_new + beta1 * x_new, z_new, x_new, v_new]
    ctx.check_close(
        "one step with ε = 0.1 (the eps given) vs the equations, (y, z, x, v)",
        torch.cat([o.flatten() for o in got]),
        torch.cat([w.flatten() for w in want]),
    )


def _batch(
    teacher: torch.Tensor, n: int, gen: torch.Generator, noise: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """n fresh examples per seed of the teacher (inits, features, classes), a fraction ``noise`` of the
    labels replaced by random ones."""
    inits, features, classes = teacher.shape
    x = torch.randn(inits, n, features, generator=gen, device=teacher.device)
    y = (x @ teacher).argmax(-1)
    flip = torch.rand(inits, n, generator=gen, device=teacher.device) < noise
    y = torch.where(flip, torch.randint(0, classes, (inits, n), generator=gen, device=teacher.device), y)
    return x, y


def _xent(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    logits = x @ W + b[:, None]  # (inits, n, 5)
    return F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view(y.shape).mean(1)


RATES = (0.005, 0.01, 0.02, 0.05, 0.1)  # each optimiser gets its own best, chosen on a validation set
WARMUP = 20
CLASSES = 5
HELD_OUT = 4000  # examples per seed in the validation set and in the test set
BETA2 = 0.999  # Schedule-Free's (and AdamW's) second-moment decay, the package's default


def _fit(
    ctx: RunContext, cfg: Config, kind: str, T: int, teacher: torch.Tensor, seed: int
) -> dict[float, torch.Tensor]:
    """Held-out losses (3, inits) after T steps of ``kind``, for each lr of the grid (one parameter group
    each, trained side by side; every kind sees the same batches): on the validation set, on the test set,
    and on the test set at the base iterate z (Schedule-Free; the other kinds have only the one iterate)."""
    rates = RATES if cfg.lr == 0 else (cfg.lr,)
    inits, _, classes = teacher.shape
    weights = {lr: torch.zeros(teacher.shape, device=ctx.device, requires_grad=True) for lr in rates}
    biases = {lr: torch.zeros(inits, classes, device=ctx.device, requires_grad=True) for lr in rates}
    groups = [{"params": [weights[lr], biases[lr]], "lr": lr} for lr in rates]
    opt: torch.optim.Optimizer
    if kind == "schedule-free":
        opt = AdamWScheduleFree(groups, lr=rates[0], betas=(cfg.beta, BETA2), warmup_steps=WARMUP)
        opt.train()
        sched = None
    else:
        opt = torch.optim.AdamW(groups, lr=rates[0], weight_decay=0.0)

        def f(k: int) -> float:  # linear warm-up, then constant or cosine to 0 at T
            if k < WARMUP:
                return (k + 1) / WARMUP
            return 0.5 * (1 + math.cos(math.pi * (k - WARMUP) / (T - WARMUP))) if kind == "cosine" else 1.0

        sched = torch.optim.lr_scheduler.LambdaLR(opt, f)
    gen = torch.Generator(device=ctx.device).manual_seed(seed + 1)
    for _ in range(T):
        x, y = _batch(teacher, cfg.batch, gen, cfg.noise)
        opt.zero_grad()
        # the sum over inits and rates: each (seed, rate) pair's gradient is its own
        sum(_xent(weights[lr], biases[lr], x, y).sum() for lr in rates).backward()  # type: ignore[union-attr]
        opt.step()
        if sched is not None:
            sched.step()
    if isinstance(opt, AdamWScheduleFree):
        opt.eval()  # evaluate at x
    val = _batch(teacher, HELD_OUT, torch.Generator(device=ctx.device).manual_seed(seed + 3), cfg.noise)
    test = _batch(teacher, HELD_OUT, torch.Generator(device=ctx.device).manual_seed(seed + 2), cfg.noise)

    def z(p: torch.Tensor) -> torch.Tensor:
        return opt.state[p]["z"] if kind == "schedule-free" else p

    with torch.no_grad():
        return {
            lr: torch.stack(
                [
                    _xent(weights[lr], biases[lr], *val),
                    _xent(weights[lr], biases[lr], *test),
                    _xent(z(weights[lr]), z(biases[lr]), *test),
                ]
            )
            for lr in rates
        }


NAMES = {
    "constant": "AdamW, constant lr",
    "cosine": "AdamW, cosine to 0 at T",
    "schedule-free": "Schedule-Free AdamW at x",
}


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    horizons = sorted({cfg.short_steps, cfg.steps} - {0})  # full: T = 500, then 3000; quick: 400
    inits, rates = cfg.inits, (RATES if cfg.lr == 0 else (cfg.lr,))
    teacher = torch.randn(
        inits,
        cfg.features,
        CLASSES,
        generator=torch.Generator(device=ctx.device).manual_seed(ctx.seed),
        device=ctx.device,
    )
    turned = "" if cfg.optimizer == "schedule-free" else f"; {cfg.optimizer} AdamW in Schedule-Free's place"
    for i, T in enumerate(horizons):
        loss = {}
        for kind in NAMES:
            # the switch: what trains the arm under test (the other arms stay what they are)
            by_rate = _fit(ctx, cfg, cfg.optimizer if kind == "schedule-free" else kind, T, teacher, ctx.seed)
            lr = min(rates, key=lambda r: by_rate[r][0].mean().item())  # on the validation set
            loss[kind] = by_rate[lr][1].mean().item()  # reported on the test set
            if kind == "schedule-free":
                at_z = by_rate[lr][2].mean().item()
            val = ", ".join(f"{r:g}: {v[0].mean().item():.4f}" for r, v in by_rate.items())
            ctx.log(f"T={T}, {kind}: validation loss by lr {val}")
            ctx.measured(
                f"T={T}: held-out cross-entropy, {NAMES[kind]}",
                loss[kind],
                f"mean of {plural(inits, 'init')}; lr {lr:g}, the best of "
                f"{', '.join(f'{r:g}' for r in rates)} on a validation set",
            )
        ctx.target(
            f"T={T}: Schedule-Free / cosine-to-T held-out loss, each at its best lr",
            loss["schedule-free"] / loss["cosine"],
            1.02 if not ctx.quick else 1.03,
            higher_is_better=False,
            detail=f"{loss['schedule-free']:.4f} vs {loss['cosine']:.4f}; cosine knows T, SF does not"
            + turned,
        )
        ctx.target(
            f"T={T}: Schedule-Free held-out loss at the average x / at the base iterate z",
            loss["schedule-free"] / at_z,
            0.97,
            higher_is_better=False,
            detail=f"{loss['schedule-free']:.4f} vs {at_z:.4f}: the average is what removes the lr's noise"
            + turned,
            # at T = 3000 it held on every full-run seed, but its spread (one seed far below the rest) left
            # it within 1 sd of the threshold: reported there (the page's calibration block)
            asserted=T < 3000,
        )
        ctx.measured(
            f"T={T}: Schedule-Free / constant-lr held-out loss, each at its best lr",
            loss["schedule-free"] / loss["constant"],
            f"{loss['schedule-free']:.4f} vs {loss['constant']:.4f}",
        )
        ctx.progress(i + 1, len(horizons))


def _official(params: list[torch.Tensor]) -> torch.optim.Optimizer:
    import schedulefree

    opt = schedulefree.AdamWScheduleFree(params, lr=1e-3, warmup_steps=10)
    opt.train()
    return opt


def bench(ctx: RunContext) -> None:
    sizes = (2**16, 2**20) if ctx.quick else (2**18, 2**22)
    for n in sizes:
        for label, make in (
            ("torch.optim.AdamW (foreach=False)", lambda p: torch.optim.AdamW(p, lr=1e-3, foreach=False)),
            ("Schedule-Free AdamW (ours)", lambda p: AdamWScheduleFree(p, lr=1e-3, warmup_steps=10)),
            ("schedulefree.AdamWScheduleFree (official, foreach)", _official),
        ):
            p = torch.zeros(n, device=ctx.device, requires_grad=True)
            p.grad = torch.randn(n, device=ctx.device)
            try:
                opt = make([p])
            except ImportError:
                continue
            ctx.bench.measure(
                f"{label}, {n:,} parameters",
                opt.step,
                baseline=label.startswith("torch") and n == sizes[0],
                shape=(n,),
                dtype=p.dtype,
            )
