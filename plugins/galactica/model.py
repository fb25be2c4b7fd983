"""Galactica's ``<work>`` token (Taylor et al. 2022, arXiv 2211.09085, section 3.1.1 "Working Memory Token")
for multi-digit addition: the two data formats, their parser, and greedy decoding with a key/value cache.

A transformer computes each token with a fixed number of layers; Galactica wraps step-by-step reasoning in
``<work> … </work>`` so that the model writes down what it would otherwise have to hold internally ("working
memory"), and is trained on such traces. For a + b with D digits each (zero-padded), most significant first:

    direct:       a_(D−1) … a_0  +  b_(D−1) … b_0  =  s_D s_(D−1) … s_0
    scratchpad:   a_(D−1) … a_0  +  b_(D−1) … b_0  =  <work>  [a_i b_i s_i c_(i+1)] for i = 0 … D−1  </work>
                  s_D s_(D−1) … s_0

    with c_0 = 0,  a_i + b_i + c_i = s_i + 10·c_(i+1),  s_D = c_D

Each step of the work copies the two digits, writes their sum digit and the carry it passes on, from the
least significant digit up; the answer (always D + 1 digits) stays most significant first in both formats,
so the direct model must resolve the whole carry chain before its first answer digit (a reversed answer
would make direct addition easy for a causal model and hide the effect).

``greedy`` decodes with a key/value cache over ``plugin_kit``'s TinyTransformer: each new token attends to
the cached keys and values of all earlier ones, so a step costs one token's work.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from readtrack.plugin_kit.transformer import KV, TinyTransformer

PLUS, EQUALS, WORK, END_WORK = 10, 11, 12, 13  # tokens 0 … 9 are the digits
VOCAB = 14
NAMES = [*"0123456789", "+", "=", "<work>", "</work>"]
STEP = 4  # tokens per digit of work: a_i, b_i, s_i, c_(i+1)


def digits(n: int, width: int) -> list[int]:
    """``n`` as ``width`` decimal digits, least significant first."""
    return [n // 10**i % 10 for i in range(width)]


def prompt(a: int, b: int, D: int, scratchpad: bool) -> list[int]:
    """``a+b=`` (and ``<work>``, which asks for working in the scratchpad format), most significant first."""
    head = [*digits(a, D)[::-1], PLUS, *digits(b, D)[::-1], EQUALS]
    return [*head, WORK] if scratchpad else head


def work(a: int, b: int, D: int) -> list[int]:
    """The trace: for i = 0 … D−1, a_i, b_i, the sum digit s_i and the carry c_(i+1) out of it."""
    trace, carry = [], 0
    for a_i, b_i in zip(digits(a, D), digits(b, D), strict=True):
        total = a_i + b_i + carry
        carry = total // 10
        trace += [a_i, b_i, total % 10, carry]
    return trace


def format_example(a: int, b: int, D: int, scratchpad: bool) -> list[int]:
    """The whole sequence: prompt, the work and ``</work>`` if ``scratchpad``, the D + 1 answer digits."""
    answer = digits(a + b, D + 1)[::-1]
    if scratchpad:
        return [*prompt(a, b, D, True), *work(a, b, D), END_WORK, *answer]
    return [*prompt(a, b, D, False), *answer]


def format_batch(a: torch.Tensor, b: torch.Tensor, D: int, scratchpad: bool) -> torch.Tensor:
    """``format_example`` for tensors a, b (B,) at once → (B, length), from the closed form of the carry:
    c_(i+1) = ⌊(a mod 10^(i+1) + b mod 10^(i+1)) / 10^(i+1)⌋."""
    power = 10 ** torch.arange(D + 1, device=a.device)  # (D + 1,)
    a, b = a[:, None], b[:, None]  # (B, 1)
    a_i, b_i = (a // power[:D] % 10, b // power[:D] % 10)  # (B, D), least significant first
    s_i = (a + b) // power % 10  # (B, D + 1)
    carry = (a % power[1:] + b % power[1:]) // power[1:]  # (B, D): c_1 … c_D
    B = a.shape[0]
    signs = torch.tensor([PLUS, EQUALS, WORK, END_WORK], device=a.device).expand(B, 4)
    head = [a_i.flip(1), signs[:, :1], b_i.flip(1), signs[:, 1:2]]
    if not scratchpad:
        return torch.cat([*head, s_i.flip(1)], dim=1)
    trace = torch.stack((a_i, b_i, s_i[:, :D], carry), dim=2).flatten(1)  # (B, 4·D): [a_i b_i s_i c_(i+1)]
    return torch.cat([*head, signs[:, 2:3], trace, signs[:, 3:], s_i.flip(1)], dim=1)


def sequence_length(D: int, scratchpad: bool) -> int:
    return 2 * D + 2 + (1 + STEP * D + 1 if scratchpad else 0) + D + 1


@dataclass(frozen=True)
class Parsed:
    a: int
    b: int
    work: list[tuple[int, int, int, int]]  # (a_i, b_i, s_i, c_(i+1)) per digit, least significant first
    answer: int | None  # None when the answer is not D + 1 digits


def _number(tokens: list[int]) -> int | None:
    if not tokens or any(t > 9 for t in tokens):
        return None
    return int("".join(map(str, tokens)))


def parse(tokens: list[int], D: int) -> Parsed:
    """Read a sequence in either format back (``format_example``'s inverse); the answer of a generated
    sequence is None if it is malformed."""
    a, b = _number(tokens[:D]), _number(tokens[D + 1 : 2 * D + 1])
    if a is None or b is None or tokens[D] != PLUS or tokens[2 * D + 1] != EQUALS:
        raise ValueError(f"not an addition prompt of {D} digits: {[NAMES[t] for t in tokens[: 2 * D + 2]]}")
    rest, steps = tokens[2 * D + 2 :], []
    if rest[:1] == [WORK]:
        trace = rest[1 : 1 + STEP * D]
        steps = [(trace[i], trace[i + 1], trace[i + 2], trace[i + 3]) for i in range(0, len(trace) - 3, STEP)]
        rest = rest[1 + STEP * D + 1 :]
    answer = _number(rest) if len(rest) == D + 1 else None
    return Parsed(a, b, steps, answer)


def loss_mask(D: int, scratchpad: bool) -> torch.Tensor:
    """(length − 1,) bool: which next-token predictions are trained, the answer's (and the work's and
    ``</work>``'s for the scratchpad); the prompt is given, never predicted."""
    length = sequence_length(D, scratchpad)
    start = 2 * D + 2 + (1 if scratchpad else 0)  # first generated position
    return torch.arange(1, length) >= start


def decode_step(model: TinyTransformer, token: torch.Tensor, position: int, cache: KV) -> torch.Tensor:
    """One token (B,) at ``position`` through the model, appending its keys and values to ``cache`` (one
    (K, V) pair per block, each (B, H, position, d)); returns the next-token logits (B, vocab)."""
    logits, extended = model.forward_cached(token[:, None], position, cache)  # (B, 1, vocab)
    cache[:] = extended
    return logits[:, 0]


@torch.no_grad()
def greedy(model: TinyTransformer, prompts: torch.Tensor, new_tokens: int) -> torch.Tensor:
    """Prompts (B, P) → the ``new_tokens`` arg-max continuations (B, new_tokens), with a key/value cache."""
    cache: KV = []
    for position in range(prompts.shape[1]):  # prefill, a token at a time
        logits = decode_step(model, prompts[:, position], position, cache)
    out = []
    for step in range(new_tokens):
        out.append(logits.argmax(dim=-1))
        if step + 1 < new_tokens:
            logits = decode_step(model, out[-1], prompts.shape[1] + step, cache)
    return torch.stack(out, dim=1)
