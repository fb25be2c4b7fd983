"""Explain → simulate → score on a tiny MLP with planted feature neurons; the explainer and the simulator are
programs over a finite explanation language, not language models.

check: the correlation score equals a plain-Python float64 reference (explicit sums) and torch.corrcoef on
       several shapes (N = 2, 7, 33, 1000), float64 and float32; it is invariant to the simulation's scale
       and shift and is 0 for a constant simulation; the simulator gives hand-computed activations on a
       hand-made text for every kind of explanation; planted neurons fire on their feature and not off it;
       the explainer recovers the rule of a constructed neuron exactly, for every kind.
train: for several seeds a model with planted neurons (token, token class, previous token, bigram,
       position), polysemantic ones (two features OR-ed) and random ones; the explainer proposes 5
       explanations from 20 top-activating snippets, each is simulated and scored on held-out text, the best
       kept. Reported: the fraction of planted neurons whose best explanation is the planted one, and the
       best scores of planted, polysemantic and random neurons.
bench: scoring throughput, the correlation of C candidate simulations against 64 neurons, C = 10 … 1000.
"""

from __future__ import annotations

import random
from functools import partial

import torch

from readtrack.api import RunContext, dtype_name, plural

from .config import Config
from .model import (
    CLASS_SIZE,
    Explanation,
    NeuronMLP,
    T,
    V,
    candidates,
    correlation_score,
    explain,
    simulate,
)

KINDS = ("token", "class", "prev", "bigram", "position")


def _reference_correlation(x: list[float], y: list[float]) -> float:
    """Pearson's ρ by explicit sums, in Python floats (float64), written apart from the implementation."""
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / (sxx * syy) ** 0.5


def _random_explanation(kind: str, rng: random.Random) -> Explanation:
    if kind == "token":
        return Explanation("token", (rng.randrange(V),))
    if kind == "class":
        return Explanation("class", (rng.randrange(V // CLASS_SIZE),))
    if kind == "prev":
        return Explanation("prev", (rng.randrange(V),))
    if kind == "bigram":
        return Explanation("bigram", (rng.randrange(V), rng.randrange(V)))
    return Explanation("position", (rng.randrange(2, T - 2),))


def check(ctx: RunContext) -> None:
    g = torch.Generator().manual_seed(ctx.seed)
    for dtype in ctx.check_dtypes:
        for c, h, n in ((1, 1, 2), (3, 2, 7), (4, 5, 33), (2, 3, 1000)):
            sim = (10 * torch.rand(c, n, generator=g, dtype=torch.float64)).round().to(ctx.device, dtype)
            real = torch.randn(h, n, generator=g, dtype=torch.float64).relu().to(ctx.device, dtype)
            real[:, 0] += 1  # never constant
            if n == 2:
                sim[0] = torch.tensor([0.0, 10.0])
            ours = correlation_score(sim, real)
            ref = torch.tensor(
                [
                    [_reference_correlation(sim[i].tolist(), real[j].tolist()) for j in range(h)]
                    for i in range(c)
                ],
                dtype=torch.float64,
            )
            name = f"{c} simulations × {h} neurons, N={n} ({dtype_name(dtype)})"
            ctx.check_close(f"correlation score vs plain-Python reference, {name}", ours, ref)
            both = torch.corrcoef(torch.cat([sim, real]))[:c, c:]
            ctx.check_close(f"correlation score vs torch.corrcoef, {name}", ours, both)

    exact = ctx.exact_dtype
    sim = (10 * torch.rand(3, 200, generator=g, dtype=torch.float64)).round().to(ctx.device, exact)
    real = torch.rand(4, 200, generator=g, dtype=torch.float64).to(ctx.device, exact)
    ctx.check_close(
        "the score is invariant to the simulation's scale and shift",
        correlation_score(0.3 * sim + 7, real),
        correlation_score(sim, real),
    )
    ctx.check_close(
        "a constant simulation scores 0",
        correlation_score(torch.full((1, 200), 5.0, dtype=exact, device=ctx.device), real),
        torch.zeros(1, 4, dtype=exact, device=ctx.device),
    )
    dead = torch.cat([real[:2], torch.full((1, 200), 0.0, dtype=exact, device=ctx.device)])  # a dead neuron
    zero_column = torch.zeros(3, 1, dtype=exact, device=ctx.device)
    ctx.check_close(
        "a constant neuron (a dead ReLU) scores 0 with every simulation",
        correlation_score(sim, dead),
        torch.cat([correlation_score(sim, real[:2]), zero_column], dim=1),
    )
    # in the inputs' dtype: the comparisons above give a float32 result float32's tolerance, whatever it is
    for dtype in (torch.float32, torch.bfloat16):
        score = correlation_score(sim[:2].to(dtype), real.to(dtype))
        ctx.check_property(
            f"correlation score in the inputs' dtype: {dtype_name(dtype)} in, {dtype_name(dtype)} out",
            score.dtype == dtype,
            f"{dtype_name(score.dtype)} out",
        )

    text = torch.tensor([[3, 5, 3, 7, 0], [5, 3, 4, 2, 3]], device=ctx.device)
    hand = {  # what each explanation predicts on `text`, worked out by hand (1 = fires, scaled to 10)
        Explanation("token", (3,)): [[1, 0, 1, 0, 0], [0, 1, 0, 0, 1]],
        Explanation("class", (1,)): [[0, 1, 0, 1, 0], [1, 0, 1, 0, 0]],
        Explanation("prev", (3,)): [[0, 1, 0, 1, 0], [0, 0, 1, 0, 0]],
        Explanation("bigram", (5, 3)): [[0, 0, 1, 0, 0], [0, 1, 0, 0, 0]],
        Explanation("position", (3,)): [[0, 0, 0, 1, 1], [0, 0, 0, 1, 1]],
    }
    dtypes = {e.kind: dtype_name(simulate(e, text).dtype) for e in hand}
    ctx.check_property(
        "simulator returns float64 for every kind (the correlation score multiplies it with the activations)",
        set(dtypes.values()) == {"float64"},
        ", ".join(f"{kind}: {name}" for kind, name in dtypes.items()),
    )
    for e, expected in hand.items():
        got = simulate(e, text)
        ctx.check_property(
            f"simulator on a hand-made text: {e.kind} ({e})",
            torch.equal(got, 10 * torch.tensor(expected, dtype=torch.float64, device=ctx.device)),
            f"predicted {(got / 10).long().tolist()}, by hand {expected}",
        )
    try:
        simulate(Explanation("sentiment", (1,)), text)
        raised = "nothing"
    except ValueError:
        raised = "ValueError"
    except NotImplementedError:  # the stub, reported as such
        raise
    except Exception as err:  # the learner's code: reported as a failure, not a crash of the check
        raised = type(err).__name__
    ctx.check_property(
        "simulator raises ValueError for an unknown kind ('sentiment')",
        raised == "ValueError",
        f"raised {raised}",
    )

    rng = random.Random(ctx.seed)
    tokens = torch.randint(0, V, (400, T), generator=g).to(ctx.device)
    language = candidates()
    model = NeuronMLP(len(KINDS)).to(ctx.device, exact)
    rules = [_random_explanation(kind, rng) for kind in KINDS]
    for j, e in enumerate(rules):
        model.plant(j, e, 0.05, g)
    with torch.no_grad():
        acts = model(tokens)  # (B, T, H)
    for j, e in enumerate(rules):
        on = simulate(e, tokens) > 0
        a = acts[..., j]
        gap = float(a[on].mean() - a[~on].mean())
        ctx.check_property(
            f"planted neuron fires on its feature: {e.kind} ({e})",
            gap > 0.8 and float(a[~on].max()) < float(a[on].min()),
            f"mean on {float(a[on].mean()):.3f}, off {float(a[~on].mean()):.3f}; "
            f"max off {float(a[~on].max()):.3f} < min on {float(a[on].min()):.3f}",
            value=gap,
        )
        constructed = simulate(e, tokens)  # a neuron that is exactly its rule
        top = explain(constructed, tokens, language)[0]
        ctx.check_property(
            f"the explainer recovers the rule of a constructed neuron: {e.kind}",
            top == e,
            f"planted '{e}', explained '{top}'",
        )


def _pipeline(seed: int, device: str | torch.device, cfg: Config) -> dict[str, list[tuple[bool, float]]]:
    """One model: per neuron group, (best explanation == planted, its correlation score on held-out text)."""
    g, rng = torch.Generator().manual_seed(seed), random.Random(seed)
    planted = [_random_explanation(kind, rng) for kind in KINDS for _ in range(cfg.per_kind)]
    n_poly, n_rand = cfg.polysemantic, cfg.random
    model = NeuronMLP(len(planted) + n_poly + n_rand).to(device, torch.float64)
    for j, e in enumerate(planted):
        model.plant(j, e, cfg.noise, g)
    with torch.no_grad():
        for j in range(len(planted), len(planted) + n_poly):  # two unrelated features OR-ed
            a, b = _random_explanation("token", rng), _random_explanation("prev", rng)
            model.W[j, a.args[0]], model.W[j, V + b.args[0]] = 1, 1
        rand = slice(len(planted) + n_poly, None)
        model.W[rand] = 0.5 * torch.randn(n_rand, model.W.shape[1], generator=g, dtype=torch.float64).to(
            device
        )
        model.b[rand] = -0.5
        explain_text = torch.randint(0, V, (cfg.texts, T), generator=g).to(device)
        held_out = torch.randint(0, V, (cfg.texts, T), generator=g).to(device)
        acts, real = model(explain_text), model(held_out)  # (B, T, H)
    language = candidates()
    shuffle = torch.Generator().manual_seed(seed)  # simulator=shuffled: its own draws, the model's untouched
    groups: dict[str, list[tuple[bool, float]]] = {"planted": [], "polysemantic": [], "random": []}
    for j in range(model.W.shape[0]):
        proposals = explain(
            acts[..., j], explain_text, language, snippets=cfg.snippets, proposals=cfg.proposals
        )
        sims = torch.stack([simulate(e, held_out).flatten() for e in proposals])  # (proposals, B·T)
        if cfg.simulator == "shuffled":  # the ablation: simulations that no longer come from the explanation
            sims = sims[:, torch.randperm(sims.shape[1], generator=shuffle).to(device)]
        scores = correlation_score(sims, real[..., j].flatten()[None])[:, 0]  # (proposals,)
        best = int(scores.argmax())
        group = "planted" if j < len(planted) else "polysemantic" if j < len(planted) + n_poly else "random"
        groups[group].append((j < len(planted) and proposals[best] == planted[j], float(scores[best])))
    return groups


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    init_seeds = range(ctx.seed, ctx.seed + cfg.inits)
    all_groups: dict[str, list[tuple[bool, float]]] = {"planted": [], "polysemantic": [], "random": []}
    for i, seed in enumerate(init_seeds):
        for k, v in _pipeline(seed, ctx.device, cfg).items():
            all_groups[k] += v
        ctx.progress(i + 1, len(init_seeds))
    shuffled = "; simulations shuffled over the held-out tokens" if cfg.simulator == "shuffled" else ""
    recovered = sum(r for r, _ in all_groups["planted"]) / len(all_groups["planted"])
    mean = {k: sum(s for _, s in v) / len(v) for k, v in all_groups.items()}
    for k, v in all_groups.items():
        ctx.measured(
            f"best explanation's correlation score, {k} neurons (mean)",
            mean[k],
            f"{len(v)} neurons; min {min(s for _, s in v):.3f}, max {max(s for _, s in v):.3f}",
        )
    ctx.target(
        "planted neurons whose best-scoring explanation is the planted one (fraction)",
        recovered,
        0.8,
        detail=f"{len(all_groups['planted'])} neurons over {plural(len(init_seeds), 'init')}, "
        f"5 kinds of feature{shuffled}",
    )
    ctx.target(
        "mean score, planted − random neurons",
        mean["planted"] - mean["random"],
        0.3,
        detail=f"planted {mean['planted']:.3f}, polysemantic {mean['polysemantic']:.3f}, "
        f"random {mean['random']:.3f}" + shuffled,
    )


def bench(ctx: RunContext) -> None:
    n = 4096 if ctx.quick else 32768
    real = torch.randn(64, n, device=ctx.device).relu()
    for c in (10, 100, 1000):
        sims = 10 * (torch.rand(c, n, device=ctx.device) > 0.9).float()
        ctx.bench.measure(
            f"correlation score, {c} candidates × 64 neurons",
            partial(correlation_score, sims, real),
            baseline=c == 10,
            tokens=c * n,
            shape=(c, 64, n),
            dtype=sims.dtype,
        )
