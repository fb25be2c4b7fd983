"""Fill-in-the-middle at toy scale: the transformation exact, and FIM training on Markov-chain text, where the
best possible infilling is computable exactly.

check: ``fim_transform`` equals a list-by-list version written from the paper's formulas, for every pair of
       split points on documents of 0, 1, 2, 5 and 8 tokens, PSM and SPM (empty prefix, middle and suffix
       included); ``fim_inverse`` gives every document back exactly; each output is the document plus one of
       each sentinel, the same tokens in PSM and SPM; the split points are uniform (a χ² test on 60 000
       draws) and ``fim_batch`` rearranges about ``fim_rate`` of the documents, leaving the rest whole; the
       exact infilling posterior of the chain (forward-backward) equals brute-force enumeration of every
       middle (float64); the model is causal (Jacobian, float64 and float32), so what it writes after <MID>
       was never visible before it.
train: documents of 8 tokens from a first-order Markov chain over 16 symbols (its entropy rate is the floor
       of left-to-right loss); the same TinyTransformer, seed, batches and steps trained left-to-right only
       and with FIM at rate 0.5 (half of those SPM): (a) held-out left-to-right loss of both against the
       chain's own; (b) infilling held-out middles: the FIM model prompted with <PRE> prefix <SUF> suffix
       <MID> (or SPM), the left-to-right model with the prefix, the only context it can use, against the exact
       Bayes loss given the prefix alone and given both sides. config.py's knobs set it (``--set fim_rate=0``
       trains the FIM arm left-to-right: the two models are then the same, every difference exactly 0).
bench: one training step (forward + backward) on plain documents against the same documents through
       ``fim_batch`` at rate 0.5 (documents of 32 and 128 tokens; full run 128 and 512), and the
       transformation alone at the larger size.
"""

from __future__ import annotations

import itertools
from functools import partial

import torch
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit.tasks import IGNORE, MarkovChain, MarkovText
from readtrack.plugin_kit.transformer import TinyTransformer

from .config import Config
from .model import SENTINELS, fim_batch, fim_inverse, fim_transform, sentinels, split_points

# The check's and the bench's settings; the train stage reads its own from config.py (the same defaults).
VOCAB, LENGTH, FIM_RATE, SPM_RATE = 16, 8, 0.5, 0.5
ORDER, HEADS = 1, 4  # the chain's order (the prefix-only Bayes reference is written for 1); attention heads


def naive_fim(doc: list[int], i: int, j: int, spm: bool, vocab: int) -> list[int]:
    """The transformation of one document, list by list, as section 3 and appendix D write it."""
    PRE, SUF, MID, EOT = sentinels(vocab)
    prefix, middle, suffix = doc[:i], doc[i:j], doc[j:]
    if spm:
        return [PRE, SUF, *suffix, MID, *prefix, *middle, EOT]
    return [PRE, *prefix, SUF, *suffix, MID, *middle, EOT]


def check(ctx: RunContext) -> None:
    g = torch.Generator().manual_seed(ctx.seed)
    for L in (0, 1, 2, 5, 8):
        pairs = [(i, j) for i in range(L + 1) for j in range(i, L + 1)]
        docs = torch.randint(0, VOCAB, (1, L), generator=g).expand(2 * len(pairs), L).to(ctx.device)
        i = torch.tensor([p[0] for p in pairs] * 2, device=ctx.device)
        j = torch.tensor([p[1] for p in pairs] * 2, device=ctx.device)
        spm = torch.arange(2 * len(pairs), device=ctx.device) >= len(pairs)  # every pair as PSM, then as SPM
        ours = fim_transform(docs, i, j, spm, VOCAB)
        doc = docs[0].tolist()
        ref = torch.tensor(
            [
                naive_fim(doc, a, b, s, VOCAB)
                for a, b, s in zip(i.tolist(), j.tolist(), spm.tolist(), strict=True)
            ],
            device=ctx.device,
        ).view(2 * len(pairs), L + SENTINELS)
        ctx.check_property(
            f"PSM and SPM = the paper's formulas, all {len(pairs)} split pairs of a {L}-token document",
            torch.equal(ours, ref),
            f"{int((ours != ref).any(dim=1).sum())} of {2 * len(pairs)} rearrangements differ",
        )
        back = fim_inverse(ours, VOCAB)
        ctx.check_property(
            f"the inverse gives the {L}-token document back exactly, all split pairs, PSM and SPM",
            torch.equal(back, docs),
            f"{int((back != docs).any(dim=1).sum())} of {2 * len(pairs)} documents not recovered",
        )
        expected = torch.cat(
            (docs, torch.tensor(sentinels(VOCAB), device=ctx.device).expand(len(docs), -1)), 1
        )
        same_tokens = torch.equal(ours.sort(dim=1).values, expected.sort(dim=1).values)
        ctx.check_property(
            f"each rearrangement is a permutation of the {L}-token document plus the 4 sentinels, PSM as SPM",
            same_tokens and torch.equal(ours[: len(pairs)].sort(1).values, ours[len(pairs) :].sort(1).values),
        )
    # torch.equal above compares values only: a float32 row of the right ids passes it, but no embedding
    # takes it
    ctx.check_property(
        "fim_transform returns int64 token ids on docs' device",
        ours.dtype == torch.int64 and ours.device == docs.device,
        f"{dtype_name(ours.dtype)} on {ours.device}",
    )

    _check_sampling(ctx, g)
    _check_bayes(ctx, g)
    _check_causality(ctx)


def _check_sampling(ctx: RunContext, g: torch.Generator) -> None:
    """Split points uniform and independent before sorting: P(i, j) = 2/(L+1)² for i < j, 1/(L+1)² for
    i = j; and ``fim_batch``'s mixture of plain, PSM and SPM documents."""
    L, draws = 5, 60_000
    i, j = split_points(draws, L, g)
    counts = torch.zeros(L + 1, L + 1).index_put_((i, j), torch.ones(draws), accumulate=True)
    cells = torch.ones(L + 1, L + 1).triu()
    expected = draws * (cells + cells.triu(1)) / (L + 1) ** 2
    chi2 = ((counts - expected) ** 2 / expected.clamp_min(1e-12))[cells.bool()].sum().item()
    dof = int(cells.sum()) - 1
    ctx.check_property(
        f"split points uniform on {{0 … {L}}}, sorted: χ² over {dof + 1} cells (i ≤ j) < 52.6 (p = 0.0002)",
        chi2 < 52.6 and bool((counts * (1 - cells)).sum() == 0),
        f"χ² = {chi2:.1f} with {dof} degrees of freedom from {draws} draws",
        value=chi2,
    )
    docs = torch.randint(0, VOCAB, (4000, LENGTH), generator=g).to(ctx.device)
    tokens, targets = fim_batch(docs, FIM_RATE, SPM_RATE, g, VOCAB)
    PRE, SUF, _, EOT = sentinels(VOCAB)
    fim = tokens[:, 0] == PRE
    spm = fim & (tokens[:, 1] == SUF)  # PSM with an empty prefix reads the same: it counts as SPM here
    plain_ok = torch.equal(tokens[~fim, :LENGTH], docs[~fim]) and bool(
        (targets[~fim, LENGTH:] == IGNORE).all()
    )
    rate, spm_share = fim.float().mean().item(), spm.float().sum().item() / max(1, int(fim.sum()))
    empty_prefix = 1 - (LENGTH / (LENGTH + 1)) ** 2  # P(min of two uniform cuts = 0)
    spm_expected = SPM_RATE + (1 - SPM_RATE) * empty_prefix
    ctx.check_property(
        f"fim_batch rearranges {FIM_RATE} of the documents (±5σ), half of them SPM, leaves the rest whole, "
        "no loss after their <EOT>",
        abs(rate - FIM_RATE) < 5 * (FIM_RATE * (1 - FIM_RATE) / len(docs)) ** 0.5
        and abs(spm_share - spm_expected) < 0.05
        and plain_ok
        and bool((tokens[fim, -1] == EOT).all()),
        f"rearranged {rate:.3f}; starting <PRE> <SUF> {spm_share:.3f}, expected {spm_expected:.3f}: SPM plus "
        "PSM with an empty prefix",
        value=rate,
    )


def _context_matrix(chain: MarkovChain) -> torch.Tensor:
    """P (contexts, contexts): the probability of moving from one context to the next in one symbol."""
    C, V = chain.contexts, chain.vocab
    following = (torch.arange(C).unsqueeze(1) * V + torch.arange(V)) % C
    return torch.zeros(C, C, dtype=torch.float64).scatter_add_(1, following, chain.transitions)


def infill_posterior(chain: MarkovChain, doc: torch.Tensor, i: int, j: int) -> torch.Tensor:
    """The Bayes predictive of each middle symbol given everything before it and the whole suffix,
    p(x_t | x_<t, x_≥j) for t = i … j−1, (j − i, vocab), float64: forward (the chain's own step) times
    backward (the probability of reaching the suffix's first context, P^r) — the best any infilling can do.
    Needs a prefix and a suffix of at least ``chain.order`` symbols."""
    V, C, k = chain.vocab, chain.contexts, chain.order
    symbols: list[int] = doc.tolist()

    def context(end: int) -> int:  # the k symbols before position `end` as one base-V number
        return sum(s * V**p for p, s in enumerate(reversed(symbols[end - k : end])))

    P = _context_matrix(chain)
    target = context(j + k)  # the context once the suffix's first k symbols are written
    rows = []
    for t in range(i, j):
        c = context(t)
        after = (c * V + torch.arange(V)) % C  # (V,): the context after writing each candidate v
        reach = torch.linalg.matrix_power(P, j + k - 1 - t)[after, target]  # (V,): p(suffix start | c, v)
        p = chain.transitions[c] * reach
        rows.append(p / p.sum())
    return torch.stack(rows)


def _context_ids(seqs: torch.Tensor, order: int, vocab: int) -> torch.Tensor:
    """(B, n) symbols → (B, n − order): the context before each position t ≥ order as one base-V number."""
    n = seqs.shape[1]
    c = torch.zeros_like(seqs[:, order:])
    for q in range(order):  # the oldest symbol first, the newest least significant (as MarkovChain reads it)
        c = c * vocab + seqs[:, q : n - order + q]
    return c


def _check_bayes(ctx: RunContext, g: torch.Generator) -> None:
    """infill_posterior against enumerating every possible middle, for first- and second-order chains."""
    n = 10
    for order, (i, j) in itertools.product((1, 2), ((2, 3), (3, 5), (4, 7))):
        chain = MarkovChain.random(6, order=order, seed=ctx.seed + order)
        doc = chain.sample(1, n, g)[0]
        V, m = chain.vocab, j - i
        middles = torch.tensor(list(itertools.product(range(V), repeat=m)))  # (V^m, m): every middle
        candidates = doc.repeat(len(middles), 1)
        candidates[:, i:j] = middles
        logp = chain.transitions[_context_ids(candidates, order, V), candidates[:, order:]].log()  # t ≥ order
        # The middle and the suffix's first `order` symbols are all that differ between candidates.
        joint = logp[:, i - order : j].sum(dim=1).softmax(dim=0)  # p(middle | prefix, suffix), (V^m,)
        true = int((middles == doc[i:j]).all(dim=1).nonzero())
        post = infill_posterior(chain, doc, i, j)
        first = torch.zeros(V, dtype=torch.float64).index_add_(0, middles[:, 0], joint)
        name = f"order {order}, middle {i}:{j} of {n} (float64)"
        ctx.check_close(
            f"Bayes infilling: first middle symbol vs enumerating every middle, {name}", post[0], first
        )
        ctx.check_close(
            f"Bayes infilling: chain rule of the predictives = p(middle | prefix, suffix), {name}",
            post[torch.arange(m), doc[i:j]].prod(),
            joint[true],
        )


def _flat_logits(model: TinyTransformer, e: torch.Tensor) -> torch.Tensor:
    """TinyTransformer's causal forward from input embeddings e (1, N, D), flattened to (N·vocab,)."""
    for block in model.blocks:
        e = block(e, None)
    return (model.ln_f(e) @ model.embed.weight.T).flatten()


def _check_causality(ctx: RunContext) -> None:
    """FIM needs only a causal model: output t must not depend on any input after t (Jacobian)."""
    N = LENGTH + SENTINELS + 1  # odd on purpose
    for dtype in ctx.check_dtypes:
        model = TinyTransformer(VOCAB + SENTINELS, N, 32, 4, 2).to(ctx.device, dtype)
        with torch.no_grad():
            for p in model.parameters():
                p.normal_(0, 0.3)
        e = torch.randn(1, N, 32, dtype=dtype, device=ctx.device)
        J = torch.autograd.functional.jacobian(partial(_flat_logits, model), e)  # (N·vocab, 1, N, D)
        per_pair = J[:, 0].reshape(N, -1, N, 32).abs().amax(dim=(1, 3))  # (N, N): output t against input s
        lower = torch.ones(N, N, dtype=torch.bool, device=per_pair.device).tril()
        future, past = per_pair[~lower].max().item(), per_pair[lower].min().item()
        ctx.check_property(
            f"the model is causal: output t depends on input s exactly when s ≤ t, N = {N} "
            f"({dtype_name(dtype)})",
            future == 0.0 and past > 0.0,
            f"largest |∂out_t/∂x_s|, s > t: {future:.3g}; smallest, s ≤ t: {past:.3g}",
            value=future,
        )


# -- training -----------------------------------------------------------------------------------------------


def _fit(
    ctx: RunContext, cfg: Config, model: TinyTransformer, text: MarkovText, fim_rate: float, label: str
) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    g = torch.Generator().manual_seed(ctx.seed)  # the same documents and draws for both models
    for step in range(cfg.steps):
        tokens, targets = fim_batch(text.batch(cfg.batch, g), fim_rate, cfg.spm_rate, g, cfg.vocab)
        loss = F.cross_entropy(model(tokens)[:, :-1].flatten(0, 1), targets.flatten(), ignore_index=IGNORE)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 10 == 0:
            ctx.metric(f"train loss ({label})", step, loss.item())


def _infill_splits(n: int, length: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's split points of documents of ``length``, kept where prefix, middle and suffix are all
    non-empty (the Bayes reference needs a symbol on each side; an empty middle has nothing to score)."""
    i, j = split_points(8 * n, length, g)
    keep = (i >= ORDER) & (j > i) & (j <= length - ORDER)
    return i[keep][:n], j[keep][:n]


def _middle_scores(
    logits: torch.Tensor, tokens: torch.Tensor, first: torch.Tensor, m: torch.Tensor
) -> tuple[float, float]:
    """Mean −log p and accuracy of tokens[b, first_b … first_b + m_b − 1] under the next-token logits."""
    logp = logits[:, :-1].log_softmax(dim=-1)  # (B, N − 1, vocab): predictions of tokens 1 … N − 1
    t = torch.arange(1, tokens.shape[1], device=tokens.device)
    scored = (t >= first[:, None]) & (t < (first + m)[:, None])  # (B, N − 1)
    nll = -logp.gather(2, tokens[:, 1:, None])[..., 0][scored]
    right = logp.argmax(dim=-1) == tokens[:, 1:]
    return nll.mean().item(), right[scored].float().mean().item()


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    text = MarkovText.make(ctx.seed, vocab=cfg.vocab, order=ORDER, length=cfg.length, device=ctx.device)
    floor = text.floor
    ctx.measured("the chain's own left-to-right loss on the held-out documents (nats)", floor, "the floor")

    docs = text.held_out
    g = torch.Generator().manual_seed(ctx.seed + 2)
    i, j = (t.to(ctx.device) for t in _infill_splits(len(docs), cfg.length, g))
    docs = docs[: len(i)]
    m = j - i
    bayes, bayes_right, prefix_only, prefix_right = [], [], [], []
    for doc, a, b in zip(docs.cpu(), i.tolist(), j.tolist(), strict=True):
        post = infill_posterior(text.chain, doc, a, b)
        bayes.append(-post[torch.arange(b - a), doc[a:b]].log())
        bayes_right.append(post.argmax(dim=-1) == doc[a:b])
        alone = text.chain.transitions[doc[a - 1 : b - 1]]  # order 1: p(x_t | x_t−1), the prefix's view
        prefix_only.append(-alone[torch.arange(b - a), doc[a:b]].log())
        prefix_right.append(alone.argmax(dim=-1) == doc[a:b])
    bayes_loss, bayes_acc = torch.cat(bayes).mean().item(), torch.cat(bayes_right).float().mean().item()
    prefix_loss, prefix_acc = (
        torch.cat(prefix_only).mean().item(),
        torch.cat(prefix_right).float().mean().item(),
    )
    ctx.measured(
        "Bayes infilling loss given prefix and suffix (nats per middle symbol)",
        bayes_loss,
        f"accuracy {bayes_acc:.3f}; {len(i)} held-out documents, middles of {m.min()}–{m.max()} symbols",
    )
    ctx.measured(
        "Bayes loss of the same middles given the prefix alone (nats)",
        prefix_loss,
        f"accuracy {prefix_acc:.3f}: the best a left-to-right model can do",
    )

    # The FIM arm keeps the calibrated rate's name whatever fim_rate is (a sweep compares one number across
    # settings); a turned run says so in its targets' details.
    turned = "" if cfg.fim_rate == FIM_RATE else f"; the FIM arm at rate {cfg.fim_rate:g} (fim_rate)"
    arms = (("left-to-right only", 0.0), (f"FIM rate {FIM_RATE}", cfg.fim_rate))
    results = {}
    for done, (label, rate) in enumerate(arms):
        torch.manual_seed(ctx.seed)  # the same initial weights
        model = TinyTransformer(cfg.vocab + SENTINELS, cfg.length + SENTINELS, cfg.d_model, HEADS, cfg.layers)
        model = model.to(ctx.device)
        _fit(ctx, cfg, model, text, rate, label)
        with torch.no_grad():
            l2r = text.held_out_loss(model) - floor
            first = i + 3 + cfg.length - j  # where the middle starts in PSM and SPM alike
            psm = fim_transform(docs, i, j, torch.zeros_like(i, dtype=torch.bool), cfg.vocab)
            spm = fim_transform(docs, i, j, torch.ones_like(i, dtype=torch.bool), cfg.vocab)
            scores = {
                "PSM prompt": _middle_scores(model(psm), psm, first, m),
                "SPM prompt": _middle_scores(model(spm), spm, first, m),
                "prefix only": _middle_scores(model(docs), docs, i, m),
            }
        results[label] = l2r, scores
        ctx.measured(f"held-out left-to-right loss − the chain's, {label} (nats)", l2r)
        for how, (loss, acc) in scores.items():
            ctx.measured(f"middle loss, {label}, {how} (nats)", loss, f"accuracy {acc:.3f}")
        ctx.progress(done + 1, 2)

    (ar_l2r, ar), (fim_l2r, fim) = results.values()
    ctx.target(
        "FIM for free: left-to-right loss with FIM at rate 0.5 − without (nats)",
        fim_l2r - ar_l2r,
        0.05 if not ctx.quick else 0.1,
        higher_is_better=False,
        detail=f"{fim_l2r:+.3f} and {ar_l2r:+.3f} above the chain's own loss; {cfg.steps} Adam steps of "
        f"{cfg.batch} documents{turned}",
    )
    best = min(fim["PSM prompt"][0], fim["SPM prompt"][0])
    # Each model read in the format it was trained on: the FIM model from the sentinel prompt, the
    # left-to-right model from the prefix (fed the sentinels, which it never saw, it scores far worse: that
    # comparison is reported above, not asserted). Without FIM training (rate 0) this target fails by ~1 nat.
    ctx.target(
        "the FIM model infills from the SPM prompt: its middle loss − the left-to-right model's from the "
        "prefix (nats)",
        fim["SPM prompt"][0] - ar["prefix only"][0],
        0.1,
        higher_is_better=False,
        detail=f"{fim['SPM prompt'][0]:.3f} against {ar['prefix only'][0]:.3f}; the left-to-right model fed "
        f"the SPM prompt {ar['SPM prompt'][0]:.3f}{turned}",
    )
    if ctx.quick:
        ctx.measured(
            "FIM model's middle loss − Bayes given the prefix alone (nats)",
            best - prefix_loss,
            "negative once it uses the suffix: the full run's target",
        )
        return
    ctx.target(
        "the FIM model uses the suffix: its middle loss − Bayes given the prefix alone (nats)",
        fim["SPM prompt"][0] - prefix_loss,
        -0.1,
        higher_is_better=False,
        detail=f"SPM {fim['SPM prompt'][0]:.3f}, PSM {fim['PSM prompt'][0]:.3f}; Bayes with both sides "
        f"{bayes_loss:.3f}, prefix alone {prefix_loss:.3f}; the left-to-right model from the prefix "
        f"{ar['prefix only'][0]:.3f}{turned}",
        # held on full-run seeds 0-4, but 2.99 seed sds below −0.1 (issue 42's rule asks 3): reported (page)
        asserted=False,
    )


def bench(ctx: RunContext) -> None:
    batch = 8
    for n, length in enumerate((32, 128) if ctx.quick else (128, 512)):
        model = TinyTransformer(VOCAB + SENTINELS, length + SENTINELS, 64, 4, 2).to(ctx.device)
        params = list(model.parameters())
        docs = torch.randint(0, VOCAB, (batch, length), device=ctx.device)

        def step(
            rate: float,
            model: TinyTransformer = model,
            docs: torch.Tensor = docs,
            params: list[torch.nn.Parameter] = params,
        ) -> None:
            tokens, targets = fim_batch(docs, rate, SPM_RATE, torch.Generator().manual_seed(0), VOCAB)
            loss = F.cross_entropy(
                model(tokens)[:, :-1].flatten(0, 1), targets.flatten(), ignore_index=IGNORE
            )
            torch.autograd.grad(loss, params)

        for rate in (0.0, FIM_RATE):
            ctx.bench.measure(
                f"training step, {length}-token documents, FIM rate {rate}",
                partial(step, rate),
                baseline=n == 0 and rate == 0.0,
                tokens=batch * (length + SENTINELS),
                shape=(batch, length + SENTINELS),
                dtype=torch.float32,
            )
    ctx.bench.measure(  # the transformation's own share of the step, at the larger size
        f"fim_batch alone, {length}-token documents",
        partial(fim_batch, docs, FIM_RATE, SPM_RATE, torch.Generator().manual_seed(0), VOCAB),
        tokens=batch * (length + SENTINELS),
        shape=(batch, length + SENTINELS),
    )
