"""Sequence to sequence learning (Sutskever, Vinyals and Le 2014, arXiv 1409.3215), like nanoGPT.

An encoder LSTM reads the source and its final state (h, c) starts a decoder LSTM, which models the target
one token at a time (section 2):

    p(y_1 … y_T' | x_1 … x_T) = Π_t p(y_t | v, y_1 … y_{t−1}),   v = the encoder's last state

Two details of the paper are here: the source is fed reversed ("we found it extremely valuable to reverse
the order of the words of the input sentence", section 3.3), and decoding keeps the B most likely partial
hypotheses (a left-to-right beam search, section 3.2) instead of the single most likely next token.
"""

from __future__ import annotations

import torch
from torch import nn

BOS = 0  # the decoder's first input; source and target tokens are 1 … V − 1


class Seq2Seq(nn.Module):
    def __init__(self, vocab: int, d_embed: int = 32, d_hidden: int = 128, layers: int = 1) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_embed)
        self.encoder = nn.LSTM(d_embed, d_hidden, layers, batch_first=True)
        self.decoder = nn.LSTM(d_embed, d_hidden, layers, batch_first=True)
        self.head = nn.Linear(d_hidden, vocab)

    def encode(self, source: torch.Tensor, reverse: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The encoder's final (h, c), each (layers, batch, d_hidden), from source (batch, T)."""
        if reverse:
            source = source.flip(dims=[1])  # "a, b, c → α, β, γ" becomes "c, b, a → α, β, γ"
        _, state = self.encoder(self.embed(source))
        return state

    def forward(self, source: torch.Tensor, target: torch.Tensor, reverse: bool = True) -> torch.Tensor:
        """Teacher forcing: logits (batch, T', vocab) for every target token given the ones before it."""
        inputs = torch.cat((torch.full_like(target[:, :1], BOS), target[:, :-1]), dim=1)  # shifted right
        out, _ = self.decoder(self.embed(inputs), self.encode(source, reverse))
        return self.head(out)

    def step(
        self, token: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One decoding step: token (batch,) → log-probabilities (batch, vocab) and the new state."""
        out, state = self.decoder(self.embed(token)[:, None], state)
        return self.head(out[:, 0]).log_softmax(dim=-1), state


@torch.no_grad()
def greedy_decode(model: Seq2Seq, source: torch.Tensor, length: int, reverse: bool = True) -> torch.Tensor:
    """The most likely next token at every step: (batch, length)."""
    state = model.encode(source, reverse)
    token = torch.full((source.shape[0],), BOS, dtype=torch.long, device=source.device)
    out = []
    for _ in range(length):
        logp, state = model.step(token, state)
        token = logp.argmax(dim=-1)
        out.append(token)
    return torch.stack(out, dim=1)


@torch.no_grad()
def beam_search(
    model: Seq2Seq, source: torch.Tensor, length: int, beam: int, reverse: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-to-right beam search of fixed length (section 3.2): (best sequences (batch, length), their
    log-probabilities (batch,)). Each step extends every kept hypothesis by every token and keeps the
    ``beam`` best by total log-probability."""
    batch, vocab = source.shape[0], model.head.out_features
    state = model.encode(source, reverse)  # (layers, batch·k, d) with k = 1 hypothesis to start
    scores = source.new_zeros(batch, 1, dtype=state[0].dtype)  # (batch, k): log p of each hypothesis
    sequences = source.new_zeros(batch, 1, 0)  # (batch, k, t)
    token = torch.full((batch,), BOS, dtype=torch.long, device=source.device)  # (batch·k,)
    for _ in range(length):
        logp, state = model.step(token, state)  # (batch·k, vocab)
        k = scores.shape[1]
        total = (scores[:, :, None] + logp.view(batch, k, vocab)).view(batch, k * vocab)
        scores, best = total.topk(min(beam, k * vocab), dim=1)  # (batch, k'): the best extensions
        parent, token = best // vocab, best % vocab
        kept = torch.gather(
            sequences, 1, parent[..., None].expand(-1, -1, sequences.shape[2])
        )  # (batch, k', t)
        sequences = torch.cat((kept, token[..., None]), dim=2)
        rows = (
            parent + torch.arange(batch, device=source.device)[:, None] * k
        ).flatten()  # each parent's row
        state = (state[0][:, rows], state[1][:, rows])
        token = token.flatten()
    return sequences[:, 0], scores[:, 0]


def sequence_logprob(
    model: Seq2Seq, source: torch.Tensor, target: torch.Tensor, reverse: bool = True
) -> torch.Tensor:
    """log p(target | source) under teacher forcing: (batch,)."""
    logp = model(source, target, reverse).log_softmax(dim=-1)
    return torch.gather(logp, 2, target[..., None]).squeeze(-1).sum(dim=1)
