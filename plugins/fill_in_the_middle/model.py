"""The fill-in-the-middle data transformation (Bavarian et al. 2022, arXiv 2207.14255, section 3).

A document x of L tokens is cut at two points drawn uniformly from {0, …, L} and sorted, i ≤ j, into
prefix x[:i], middle x[i:j] and suffix x[j:]; with probability ``fim_rate`` it is rearranged so that the
middle comes last, behind three sentinel tokens, and a causal model trained on it learns to infill:

    PSM:  <PRE> prefix <SUF> suffix <MID> middle <EOT>
    SPM:  <PRE> <SUF> suffix <MID> prefix middle <EOT>      (appendix D's variant: prefix and middle adjacent)

Either way the document is kept whole (a permutation of it plus four sentinels) and the training loss is the
ordinary next-token loss on the whole rearranged sequence. At inference the prompt is everything up to and
including <MID>; the model then writes the middle and ends it with <EOT>.

Tokens 0 … V−1 are the ordinary symbols; the sentinels are V (<PRE>), V+1 (<SUF>), V+2 (<MID>), V+3 (<EOT>).
"""

from __future__ import annotations

import torch

from readtrack.plugin_kit.tasks import IGNORE

SENTINELS = 4  # <PRE>, <SUF>, <MID>, <EOT>


def sentinels(vocab: int) -> tuple[int, int, int, int]:
    """The ids of <PRE>, <SUF>, <MID> and <EOT> after ``vocab`` ordinary symbols."""
    return vocab, vocab + 1, vocab + 2, vocab + 3


def split_points(batch: int, length: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two cut points per document, each uniform on {0, …, L}, sorted: i ≤ j, both (batch,) int64. Prefix,
    middle or suffix may be empty (section 3: "split at two uniformly random positions")."""
    cuts = torch.randint(0, length + 1, (batch, 2), generator=g).sort(dim=1).values  # (batch, 2)
    return cuts[:, 0], cuts[:, 1]


def fim_transform(
    docs: torch.Tensor, i: torch.Tensor, j: torch.Tensor, spm: torch.Tensor, vocab: int
) -> torch.Tensor:
    """docs (B, L) → (B, L + 4): each row rearranged as PSM, or SPM where ``spm`` (B,) bool is True, with
    prefix x[:i], middle x[i:j], suffix x[j:] (i, j (B,) int64, 0 ≤ i ≤ j ≤ L).

    Each output slot t reads one slot of the extended document [x, <PRE>, <SUF>, <MID>, <EOT>] (B, L + 4):
    a gather with per-row indices, so a batch of any split points is one operation."""
    B, L = docs.shape
    PRE, SUF, MID, EOT = range(L, L + SENTINELS)  # where the sentinels sit in the extended document
    extended = torch.cat((docs, torch.tensor(sentinels(vocab), device=docs.device).expand(B, -1)), dim=1)
    t = torch.arange(L + SENTINELS, device=docs.device).expand(B, -1)  # (B, L + 4): output slots
    i, j, spm = i[:, None], j[:, None], spm[:, None]  # (B, 1) each
    n_suf = L - j
    # PSM: <PRE> at 0, prefix at 1 … i, <SUF> at i+1, suffix from i+2, <MID> at i+2+|suffix|, middle, <EOT>.
    psm = torch.where(t <= i, t - 1, -1)
    psm = torch.where(t == 0, PRE, psm)
    psm = torch.where(t == i + 1, SUF, psm)
    psm = torch.where((t >= i + 2) & (t < i + 2 + n_suf), j + t - (i + 2), psm)
    psm = torch.where(t == i + 2 + n_suf, MID, psm)
    psm = torch.where(t > i + 2 + n_suf, i + t - (i + 3 + n_suf), psm)
    # SPM: <PRE> <SUF> at 0, 1, suffix from 2, <MID> at 2+|suffix|, then prefix and middle (x[:j]) in order.
    spm_index = torch.where(t < 2 + n_suf, j + t - 2, t - (3 + n_suf))
    spm_index = torch.where(t == 0, PRE, torch.where(t == 1, SUF, spm_index))
    spm_index = torch.where(t == 2 + n_suf, MID, spm_index)
    index = torch.where(spm, spm_index, psm)
    index[:, -1] = EOT  # both end with <EOT>
    return extended.gather(1, index)  # (B, L + 4)


def fim_inverse(seq: torch.Tensor, vocab: int) -> torch.Tensor:
    """(B, L + 4) rearranged documents, PSM or SPM → the documents (B, L).

    One rule serves both: x = seq[<PRE>+1 : <SUF>] + seq[<MID>+1 : <EOT>] + seq[<SUF>+1 : <MID>]. In SPM the
    first piece is empty and the second holds prefix and middle together."""
    B, n = seq.shape
    L = n - SENTINELS
    _, SUF, MID, _ = sentinels(vocab)
    s = (seq == SUF).int().argmax(dim=1, keepdim=True)  # (B, 1): where <SUF> is
    m = (seq == MID).int().argmax(dim=1, keepdim=True)  # (B, 1): where <MID> is
    n_pre, n_after_mid = s - 1, L + 2 - m  # tokens between <PRE> and <SUF>; between <MID> and <EOT>
    t = torch.arange(L, device=seq.device).expand(B, -1)  # (B, L): document positions
    index = torch.where(t < n_pre, 1 + t, m + 1 + t - n_pre)
    index = torch.where(t >= n_pre + n_after_mid, s + 1 + t - n_pre - n_after_mid, index)
    return seq.gather(1, index)


def fim_batch(
    docs: torch.Tensor, fim_rate: float, spm_rate: float, g: torch.Generator, vocab: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Training inputs and next-token targets for documents (B, L), each rearranged with probability
    ``fim_rate`` (as SPM with probability ``spm_rate``, else PSM), the rest left as they are:

    tokens (B, L + 4): a FIM document, or x <EOT> followed by <EOT> padding;
    targets (B, L + 3): tokens shifted by one, IGNORE on the padding (the loss covers every real token).

    The random draws (which documents, where, which mode) come from ``g`` whatever ``fim_rate`` is, so two
    runs with the same ``g`` read the same documents in the same order."""
    B, L = docs.shape
    i, j = split_points(B, L, g)
    u = torch.rand(B, 2, generator=g)
    transform = (u[:, 0] < fim_rate).to(docs.device)  # (B,): which documents become FIM documents
    spm = (u[:, 1] < spm_rate).to(docs.device)
    _, _, _, EOT = sentinels(vocab)
    plain = torch.cat((docs, torch.full((B, SENTINELS), EOT, device=docs.device)), dim=1)  # x <EOT> pad
    fim = fim_transform(docs, i.to(docs.device), j.to(docs.device), spm, vocab)
    tokens = torch.where(transform[:, None], fim, plain)  # (B, L + 4)
    targets = tokens[:, 1:].clone()  # (B, L + 3)
    targets[:, L:] = torch.where(transform[:, None], targets[:, L:], IGNORE)  # plain: nothing after <EOT>
    return tokens, targets
