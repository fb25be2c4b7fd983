"""Classic mistakes in Infini-attention's compressive memory, for ``readtrack practice``: the check must
catch them (tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import Memory, empty_memory, retrieve, sigma
from .model import update as store


@mistake("compressive_memory", fails="memory retrieval (eqs. 3, 4) vs explicit linear attention, T=8")
def compressive_memory(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    segment: int,
    memory: Memory | None = None,
    delta: bool = False,
) -> tuple[torch.Tensor, Memory]:
    """Stores the segment before retrieving: each segment reads its own keys through the memory, without a
    causal mask, so every token sees the later tokens of its segment."""
    memory = memory if memory is not None else empty_memory(q, v.shape[-1])
    out = []
    for q_s, k_s, v_s in zip(*(t.split(segment, dim=-2) for t in (q, k, v)), strict=True):
        memory = store(sigma(k_s), v_s, memory, delta)
        out.append(retrieve(sigma(q_s), *memory))
    return torch.cat(out, dim=-2), memory


@mistake("update", fails="delta-rule memory (eq. 5) vs a token-by-token reference, T=32")
def update(sk: torch.Tensor, v: torch.Tensor, memory: Memory, delta: bool) -> Memory:
    """The delta rule subtracts σ(K) M without dividing by σ(K) z: the memory's raw sum, not what it
    returns for these keys."""
    M, z = memory
    if delta:
        v = v - sk @ M
    return M + sk.transpose(-2, -1) @ v, z + sk.sum(dim=-2)


@mistake("compressive_memory", fails="the returned memory (M, z) holds every segment, the short last one too")
def whole_segments_only_are_stored(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    segment: int,
    memory: Memory | None = None,
    delta: bool = False,
) -> tuple[torch.Tensor, Memory]:
    """Loops over the T // N whole segments and lets the short last one only read: every A_mem is right,
    but that segment's keys and values never reach the returned memory, so a stream continued from it has
    lost them."""
    memory = memory if memory is not None else empty_memory(q, v.shape[-1])
    whole = q.shape[-2] // segment
    out = []
    for s in range(whole):
        q_s, k_s, v_s = (t[..., s * segment : (s + 1) * segment, :] for t in (q, k, v))
        out.append(retrieve(sigma(q_s), *memory))
        memory = store(sigma(k_s), v_s, memory, delta)
    if q.shape[-2] > whole * segment:
        out.append(retrieve(sigma(q[..., whole * segment :, :]), *memory))
    return torch.cat(out, dim=-2), memory
