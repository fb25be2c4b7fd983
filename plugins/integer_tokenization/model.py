"""Integer tokenization (Millidge 2023, "Integer tokenization is insane"): how a BPE trained on text cuts
integers, and the addition task on which its tokens and single-digit tokens are compared.

A GPT-style BPE keeps a run of digits in one pre-tokenizer piece and merges inside it by frequency, so the
tokens of a number depend on which digit strings were common in the training text, not on place value:

    1987 → 1987          (a year: one token)          2000 → 2000
    1234 → 12|34         5306 → 5|30|6                 3141 → 3|14|1

The same digit sits in different tokens in different numbers, so a model doing arithmetic on these tokens
has to learn, per token, which digits it holds and where they fall. With ``split_digits=True`` (LLaMA's and
PaLM's rule) every digit is its own piece and so its own token: place value is the position in the sequence.

The addition examples, for a model reading left to right:

    a + b = reverse(str(a + b)) <eos>          tokens: enc(a) enc(+) enc(b) enc(=) enc(reversed sum) <eos>
    07+42=940 <eos>                            width=2: operands zero-padded, the sum one digit wider

The sum is written least significant digit first for both tokenizers (Lee et al. 2023, "Teaching arithmetic
to small transformers"), so that each answer digit needs only the carry of the one before it and a 2-layer
model learns addition on a CPU budget; a + b and the answer string are the same for both tokenizers, only
their tokens differ. Loss and evaluation cover the answer and <eos>:

    nats(a, b) = − Σ_t log p(y_t | y_<t, prompt)      over the answer's tokens y (and <eos>)
    exact(a, b) = [arg-max y_t = y_t for every t]     (= greedy decoding gives the sum: checked)

``nats`` is −log p(answer string), a number both tokenizations share, so it compares them where accuracy
is still 0 for both.
"""

from __future__ import annotations

import random
from collections import Counter

import torch
import torch.nn.functional as F

from readtrack.plugin_kit.bpe import BPE
from readtrack.plugin_kit.tasks import IGNORE

WORDS = (
    "the",
    "in",
    "of",
    "and",
    "to",
    "a",
    "was",
    "for",
    "by",
    "year",
    "born",
    "sold",
    "units",
    "page",
    "item",
    "price",
    "km",
    "people",
    "from",
    "about",
    "at",
    "costs",
    "population",
    "founded",
    "died",
    "model",
    "number",
    "vote",
    "votes",
    "game",
    "score",
    "points",
    "chapter",
    "route",
    "flight",
    "room",
)
ROUND = (10, 20, 25, 50, 100, 150, 200, 250, 300, 500, 1000, 1500, 2000, 2500, 5000, 10000)


def number_word(rng: random.Random) -> str:
    """A number as text mentions them: years, round amounts, Benford-like counts (log-uniform up to 10⁶)."""
    r = rng.random()
    if r < 0.25:
        return str(rng.randint(1900, 2030))
    if r < 0.45:
        return str(rng.choice(ROUND) * rng.randint(1, 9))
    return str(int(10 ** rng.uniform(0, 6)))


def number_text(seed: int, lines: int) -> list[str]:
    """Seeded lines of made-up text, 40% of whose words are numbers (the tokenizer's training text)."""
    rng = random.Random(seed)
    return [
        " ".join(number_word(rng) if rng.random() < 0.4 else rng.choice(WORDS) for _ in range(12)) + "."
        for _ in range(lines)
    ]


def splitting(bpe: BPE, n: int) -> tuple[int, ...]:
    """How ``bpe`` cuts the digits of ``n``: the lengths of its tokens, e.g. 5306 → 5|30|6 → (1, 2, 1)."""
    return tuple(len(piece) for piece in bpe.token_strings(bpe.encode(str(n))))


def splittings(bpe: BPE, numbers: range) -> Counter[tuple[int, ...]]:
    """How many of ``numbers`` get each splitting."""
    return Counter(splitting(bpe, n) for n in numbers)


def task_tokens(bpe: BPE) -> list[int]:
    """The tokenizer's ids that can occur in ``a+b=c``: its tokens made of digits only, "+" and "="."""
    return [i for i, v in enumerate(bpe.vocab) if v.isdigit() or v in (b"+", b"=")]


class AdditionFormat:
    """``a+b=`` then the reversed sum in the tokens of ``bpe``, as ids of a model whose vocabulary is the
    tokenizer's digit tokens, "+" and "=" (``task_tokens``), then <eos> and <pad>. ``vocab`` is the model's
    size: the same for every tokenizer compared, so their models have the same parameters. ``width``: None
    for numbers as written (``7+42=94``), or the operands' fixed width, zero-padded, the answer one digit
    wider (``07+42=940``), so each digit of a digit tokenization has the same position in every example."""

    def __init__(self, bpe: BPE, vocab: int, width: int | None = None) -> None:
        self.bpe, self.vocab, self.width = bpe, vocab, width
        self.tokens = task_tokens(bpe)  # model id → tokenizer id
        self.model_id = {t: i for i, t in enumerate(self.tokens)}
        if len(self.tokens) + 2 > vocab:
            raise ValueError(
                f"{len(self.tokens)} task tokens and <eos>, <pad> do not fit a vocabulary of {vocab}"
            )
        self.eos, self.pad = vocab - 2, vocab - 1
        self._examples: dict[tuple[int, int], tuple[list[int], list[int]]] = {}

    def encode(self, text: str) -> list[int]:
        return [self.model_id[t] for t in self.bpe.encode(text)]

    def example(self, a: int, b: int) -> tuple[list[int], list[int]]:
        """(prompt, answer): enc("a+b="), enc(reversed a + b) + [eos]; zero-padded to ``width`` if set."""
        if (a, b) not in self._examples:
            w = self.width or 0
            prompt = self.encode(f"{a:0{w}d}+{b:0{w}d}=")
            self._examples[a, b] = (prompt, [*self.encode(f"{a + b:0{w + 1 if w else 0}d}"[::-1]), self.eos])
        prompt, answer = self._examples[a, b]
        return list(prompt), list(answer)

    def batch(
        self, pairs: list[tuple[int, int]], device: str | torch.device
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens x (B, N), padded, and targets y (B, N): y[t] = x[t + 1] where x[t + 1] is an answer token,
        IGNORE elsewhere (the prompt is given, never predicted)."""
        examples = [self.example(a, b) for a, b in pairs]
        N = max(len(p) + len(s) for p, s in examples)
        xs, ys = [], []
        for prompt, answer in examples:
            pad = N - len(prompt) - len(answer)
            xs.append(prompt + answer + [self.pad] * pad)
            ys.append([IGNORE] * (len(prompt) - 1) + answer + [IGNORE] * (pad + 1))
        x, y = torch.tensor(xs), torch.tensor(ys)  # (B, N) each
        return x.to(device), y.to(device)

    def read_answer(self, answer: list[int]) -> int | None:
        """The sum a generated answer states (tokens up to <eos>), or None if it is no number."""
        if self.eos in answer:
            answer = answer[: answer.index(self.eos)]
        text = self.bpe.decode([self.tokens[t] for t in answer if t < len(self.tokens)])[::-1]
        return int(text) if text.isdigit() else None


def answer_nats(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """logits (B, N, V), targets y (B, N) → (B,) nats of each answer, −Σ_t log p(y_t), IGNORE left out."""
    scored = y != IGNORE
    nll = F.cross_entropy(logits.flatten(0, 1), y.clamp(min=0).flatten(), reduction="none")  # (B·N,)
    return (nll.view_as(y) * scored).sum(dim=1)


def exact_match(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(B,) bool: every answer token is the arg-max under teacher forcing (so greedy decoding writes it)."""
    return ((logits.argmax(dim=-1) == y) | (y == IGNORE)).all(dim=1)
