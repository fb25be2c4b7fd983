"""In-context learning in the form GPT-3 measures it (Brown et al. 2020, arXiv 2005.14165): the model is
conditioned on k demonstrations of a task and a query, and answers the query with no weight update.

Each prompt holds demonstrations of a map f: X → Y drawn afresh for every prompt (all |Y|^|X| maps equally
likely), so a model can know f only from the prompt. A demonstration is one token d = (x, f(x)), a query is
the token x, and the answer is the demonstration token of the query:

    prompt    x_1 d_1 x_2 d_2 … x_k d_k x_q       d_i = (x_i, f(x_i)), the token |X| + x_i·|Y| + f(x_i)
    answer    argmax over y ∈ Y of p((x_q, y) | prompt)    (the candidates ranked, as in section 2.4)
    ceiling   P(x_q ∈ {x_1 … x_k}) + (1 − P)/|Y|,  P = 1 − (1 − 1/|X|)^k

The ceiling is the Bayes-optimal accuracy: a shown x fixes f(x); an unshown one is uniform over Y whatever
the rest of the prompt says, so with k = 0 no model beats chance, 1/|Y|.

The network is ``plugin_kit.transformer.TinyTransformer`` (a GPT-2-style decoder, as GPT-3's is): the
paper's idea is the prompt, not the architecture. It is trained as a language model on such prompts, its
loss on the demonstration tokens, each of which answers the query before it with the shots before that.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.plugin_kit.transformer import TinyTransformer


def causal_mask(n: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """(n, n) bool, True where query position i may attend key j: j ≤ i."""
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()


def pair_token(x: torch.Tensor, y: torch.Tensor, n_x: int, n_y: int) -> torch.Tensor:
    """The token of the demonstration "x → y": n_x + x·|Y| + y (after the |X| query tokens)."""
    return n_x + x * n_y + y


def prompts(
    batch: int,
    shots: int,
    n_x: int,
    n_y: int,
    g: torch.Generator,
    *,
    fixed_map: torch.Tensor | None = None,
    device: str | torch.device = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` prompts, each under its own random map (or all under ``fixed_map`` (n_x,)): tokens
    (batch, 2·shots + 2) = x_1 d_1 x_2 d_2 … x_(shots+1) d_(shots+1), d_i the pair token of (x_i, f(x_i)),
    and the answers f(x_i) (batch, shots + 1). Cut after x_(k+1), a prompt holds k shots and a query: one
    sequence asks the question with 0 … shots shots at once."""
    f = torch.randint(0, n_y, (batch, n_x), generator=g)  # f[b, x]: a fresh map per prompt
    if fixed_map is not None:
        f = fixed_map.cpu().expand(batch, n_x)
    x = torch.randint(0, n_x, (batch, shots + 1), generator=g)  # (B, k+1): the shots' x, then the query's
    y = f.gather(1, x)  # (B, k+1): f(x_i)
    tokens = torch.stack((x, pair_token(x, y, n_x, n_y)), dim=-1).flatten(1)  # (B, 2k+2): x_1 d_1 x_2 d_2 …
    return tokens.to(device), y.to(device)


def answer_logits(model: TinyTransformer, tokens: torch.Tensor, n_x: int, n_y: int) -> torch.Tensor:
    """Logits of the |Y| candidate answers (x_q, y) after every query x_q: (B, shots + 1, |Y|); index k
    holds the answer to x_(k+1) given the k demonstrations before it."""
    logits = model(tokens, mask=causal_mask(tokens.shape[1], tokens.device))  # (B, 2k+2, vocab)
    queries = tokens[:, 0::2]  # (B, k+1): x_1 … x_(k+1)
    candidates = pair_token(queries.unsqueeze(-1), torch.arange(n_y, device=tokens.device), n_x, n_y)
    return logits[:, 0::2].gather(-1, candidates)  # (B, k+1, |Y|): read at the query positions


def answer_loss(model: TinyTransformer, tokens: torch.Tensor) -> torch.Tensor:
    """The language-model loss on the demonstration tokens, each d_i predicted from x_1 d_1 … x_i: its x is
    the query's, so this is −log p(f(x_i) | prompt) plus whatever mass the model puts off the candidates."""
    logits = model(tokens, mask=causal_mask(tokens.shape[1], tokens.device))  # (B, 2k+2, vocab)
    return F.cross_entropy(logits[:, 0::2].flatten(0, 1), tokens[:, 1::2].flatten())


def accuracy_by_shots(
    model: TinyTransformer, tokens: torch.Tensor, answers: torch.Tensor, n_x: int, n_y: int
) -> torch.Tensor:
    """Share of right answers with k = 0 … shots shots before the query: (shots + 1,)."""
    with torch.no_grad():
        guess = answer_logits(model, tokens, n_x, n_y).argmax(-1)  # (B, shots + 1)
    return (guess == answers).double().mean(dim=0)


def bayes_ceiling(k: int, n_x: int, n_y: int) -> float:
    """The best expected accuracy with k shots: P(query shown) + (1 − P)/|Y|."""
    shown = 1 - (1 - 1 / n_x) ** k
    return shown + (1 - shown) / n_y
