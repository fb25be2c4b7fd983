"""Seeded synthetic tasks for the paper plugins' tiny experiments: generated, never downloaded.

Every function takes a ``torch.Generator`` (or a seed) so that two variants of an A/B experiment see the
same data, and returns CPU tensors unless given a device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


def teacher_classes(
    n: int, d_in: int, classes: int, seed: int, *, device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` Gaussian inputs (n, d_in) labelled by the arg-max of a random linear teacher: a linearly
    separable ``classes``-way problem whose difficulty lies only in the network that learns it."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d_in, generator=g)  # (n, d_in)
    teacher = torch.randn(d_in, classes, generator=g)  # (d_in, classes)
    y = (X @ teacher).argmax(dim=-1)  # (n,)
    return X.to(device), y.to(device)


def reversal_batch(
    batch: int, length: int, g: torch.Generator, *, vocab: int = 10, device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random token sequences (batch, length) from ``vocab`` symbols and their reversal, the target.

    Reversal needs every output position to attend to a different input position: content alone cannot
    solve it, which is why attention papers like it as a smoke test."""
    src = torch.randint(0, vocab, (batch, length), generator=g)  # (B, T)
    return src.to(device), src.flip(-1).to(device)


#: Target value that ``F.cross_entropy(..., ignore_index=IGNORE)`` and :func:`accuracy` leave out.
IGNORE = -100


def lagged_copy_batch(
    batch: int,
    length: int,
    lag: int,
    g: torch.Generator,
    *,
    vocab: int = 16,
    device: str | torch.device = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random tokens (batch, length) and the target "the token ``lag`` steps back", y_t = x_(t−lag); the first
    ``lag`` positions have nothing to copy and are ``IGNORE``d. It needs attention to a fixed relative
    offset: a probe of position encodings and receptive fields."""
    x = torch.randint(0, vocab, (batch, length), generator=g)
    y = torch.full_like(x, IGNORE)
    y[:, lag:] = x[:, :-lag]
    return x.to(device), y.to(device)


def adding_batch(
    size: int, length: int, g: torch.Generator, device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """The adding problem (Hochreiter and Schmidhuber 1997, experiment 4, in the form of Le et al. 2015):
    x (size, length, 2) and y (size,). Channel 0 holds values uniform in [0, 1]; channel 1 marks two
    positions with 1, one drawn uniformly in the first half (t < length // 2) and one in the second; the
    target is the sum of the two marked values.

    A model must keep the first marked value over up to ``length − 1`` steps while ignoring every other one:
    a probe of long-range memory in recurrent networks. Predicting the mean, 1, scores the variance of the
    sum of two uniforms, MSE = 1/6 ≈ 0.167."""
    if length < 2:
        raise ValueError(f"the adding problem needs length ≥ 2 (one mark per half), got {length}")
    half = length // 2
    values = torch.rand(size, length, generator=g)  # (size, length)
    first = torch.randint(0, half, (size,), generator=g)  # a mark in [0, half)
    second = torch.randint(half, length, (size,), generator=g)  # and one in [half, length)
    marks = torch.zeros(size, length)
    rows = torch.arange(size)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]  # (size,)
    return torch.stack([values, marks], dim=-1).to(device), y.to(device)


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Share of the scored targets (not ``IGNORE``) whose arg-max prediction is right; logits (..., vocab)."""
    scored = y != IGNORE
    return (logits.argmax(-1)[scored] == y[scored]).float().mean().item()


@dataclass(frozen=True)
class MarkovChain:
    """Text from an order-``order`` Markov chain over ``vocab`` symbols, with its exact entropy rate.

    ``transitions[c]`` is the next-symbol distribution after context c (the last ``order`` symbols read as
    one base-``vocab`` number). The entropy rate H (nats per symbol) follows from the stationary
    distribution of contexts, so a language model's held-out loss has an absolute floor: a model at H has
    learnt the chain, and "loss ≤ H + 0.1" is a target that means the same at any scale.
    """

    vocab: int
    order: int
    transitions: torch.Tensor  # (vocab**order, vocab), float64, rows sum to 1

    @classmethod
    def random(
        cls, vocab: int = 16, order: int = 2, concentration: float = 0.1, seed: int = 0
    ) -> MarkovChain:
        """Rows drawn from a symmetric Dirichlet(``concentration``): small values give peaked, learnable rows
        (0.1 gives H ≈ 1.2 nats for 16 symbols, against ln 16 = 2.77 for a model that learnt nothing)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            alpha = torch.full((vocab**order, vocab), concentration, dtype=torch.float64)
            rows = torch.distributions.Dirichlet(alpha).sample()
        return cls(vocab, order, rows)

    @property
    def contexts(self) -> int:
        return self.vocab**self.order

    def stationary(self) -> torch.Tensor:
        """π over contexts (contexts,): the left eigenvector of the context-to-context transition matrix."""
        following = (
            torch.arange(self.contexts).unsqueeze(1) * self.vocab + torch.arange(self.vocab)
        ) % self.contexts
        P = torch.zeros(self.contexts, self.contexts, dtype=torch.float64)
        P.scatter_add_(1, following, self.transitions)  # P[c, c'] = p(c → c')
        pi = torch.full((self.contexts,), 1.0 / self.contexts, dtype=torch.float64)
        for _ in range(100_000):
            nxt = pi @ P
            if (nxt - pi).abs().max() < 1e-15:
                return nxt
            pi = nxt
        return pi

    @property
    def entropy_rate(self) -> float:
        """H = Σ_c π(c) · H(next symbol | c), nats per symbol."""
        p = self.transitions
        per_context = -(p * p.clamp_min(1e-300).log()).sum(dim=-1)
        return float(self.stationary() @ per_context)

    def sample(
        self, batch: int, length: int, g: torch.Generator, *, device: str | torch.device = "cpu"
    ) -> torch.Tensor:
        """``batch`` sequences of ``length`` symbols (int64), each started from a uniform random context."""
        context = torch.randint(0, self.contexts, (batch,), generator=g)
        cdf = self.transitions.cumsum(dim=-1)
        cdf[:, -1] = 1.0 + 1e-9  # rounding must never leave u above the last edge
        u = torch.rand(length, batch, 1, generator=g, dtype=torch.float64)  # u[t] contiguous
        out = torch.empty(batch, length, dtype=torch.int64)
        for t in range(length):
            symbol = torch.searchsorted(cdf[context], u[t]).squeeze(1)  # (batch,)
            out[:, t] = symbol
            context = (context * self.vocab + symbol) % self.contexts
        return out.to(device)


@dataclass(frozen=True)
class MarkovText:
    """A language-modelling corpus from one `MarkovChain`: training sequences, held-out sequences, and the
    chain's own loss on exactly the held-out ones (``floor``), which no model can beat on average.

    Held-out loss counts positions t ≥ ``order`` only, where a model has the whole context the chain used.
    """

    chain: MarkovChain
    pool: torch.Tensor  # (pool size, length) int64: training sequences
    held_out: torch.Tensor  # (held-out size, length) int64
    floor: float  # the chain's mean −log p on the held-out positions t ≥ order (nats)

    @classmethod
    def make(
        cls,
        seed: int,
        *,
        vocab: int = 16,
        order: int = 2,
        length: int = 32,
        pool: int = 8192,
        held_out: int = 512,
        device: str | torch.device = "cpu",
    ) -> MarkovText:
        """The chain ``MarkovChain.random(vocab, order, seed=seed)``; training text from seed ``seed``,
        held-out text from ``seed + 1``."""
        chain = MarkovChain.random(vocab, order=order, seed=seed)
        train = chain.sample(pool, length, torch.Generator().manual_seed(seed), device=device)
        test = chain.sample(held_out, length, torch.Generator().manual_seed(seed + 1), device=device)
        context = torch.zeros_like(test[:, order:])
        for lag in range(order, 0, -1):  # the last `order` symbols as one base-`vocab` number
            context = context * vocab + test[:, order - lag : test.shape[1] - lag]
        floor = -chain.transitions.to(device)[context, test[:, order:]].log().mean().item()
        return cls(chain, train, test, floor)

    def batch(self, size: int, g: torch.Generator) -> torch.Tensor:
        """``size`` training sequences drawn with ``g`` (the same ``g`` seed gives every variant the same)."""
        return self.pool[torch.randint(0, len(self.pool), (size,), generator=g).to(self.pool.device)]

    def fit(
        self,
        model: torch.nn.Module,
        opt: torch.optim.Optimizer,
        steps: int,
        seed: int,
        *,
        schedule: torch.optim.lr_scheduler.LRScheduler | None = None,
        log: Callable[[int, float], None] | None = None,
        batch: int = 32,
    ) -> None:
        """Next-token training: ``steps`` batches of ``batch`` sequences drawn from ``seed`` (the same for
        every variant given the same seed), the cross-entropy of each x_(t+1) given x_≤t; ``schedule`` steps
        after the optimiser; ``log(step, loss)`` every 10 steps."""
        g = torch.Generator().manual_seed(seed)
        for step in range(steps):
            x = self.batch(batch, g)  # (batch, N)
            loss = torch.nn.functional.cross_entropy(model(x)[:, :-1].flatten(0, 1), x[:, 1:].flatten())
            opt.zero_grad()
            loss.backward()
            opt.step()
            if schedule is not None:
                schedule.step()
            if log is not None and step % 10 == 0:
                log(step, loss.item())

    def held_out_loss(self, model: torch.nn.Module) -> float:
        """``model``'s mean loss (nats) predicting each held-out x_t from x_<t, for t ≥ order."""
        order = self.chain.order
        with torch.no_grad():
            logits = model(self.held_out)[:, order - 1 : -1]  # the predictions of x_order … x_(N−1)
            target = self.held_out[:, order:]
            return torch.nn.functional.cross_entropy(logits.flatten(0, 1), target.flatten()).item()


def gaussian_ring(
    n: int,
    g: torch.Generator,
    *,
    modes: int = 8,
    radius: float = 2.0,
    std: float = 0.02,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """``n`` points (n, 2) from ``modes`` equal Gaussians of standard deviation ``std`` centred evenly on a
    circle of ``radius`` (the mixture GAN papers use to count dropped modes)."""
    k = torch.randint(0, modes, (n,), generator=g)
    return (ring_centres(modes, radius)[k] + std * torch.randn(n, 2, generator=g)).to(device)


def ring_centres(modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The ``modes`` centres (modes, 2) of :func:`gaussian_ring`, the first at angle 0."""
    angle = torch.arange(modes) * (2 * torch.pi / modes)
    return radius * torch.stack([angle.cos(), angle.sin()], dim=1)


def ring_coverage(
    samples: torch.Tensor, *, modes: int = 8, radius: float = 2.0, std: float = 0.02, min_share: float = 0.01
) -> tuple[int, float]:
    """How well ``samples`` (n, 2) cover :func:`gaussian_ring`: (modes covered, high-quality fraction).

    A sample is high quality when it lies within 3 std of its nearest centre (the measure of the unrolled-GAN
    and VEEGAN papers); a mode is covered when at least ``min_share`` of all samples are high-quality samples
    of it (a few stray points do not make a mode covered)."""
    dist = torch.cdist(samples.detach().float().cpu(), ring_centres(modes, radius))  # (n, modes)
    nearest, which = dist.min(dim=1)
    good = nearest <= 3 * std
    per_mode = torch.bincount(which[good], minlength=modes)
    covered = int((per_mode >= min_share * len(samples)).sum())
    return covered, good.float().mean().item()
