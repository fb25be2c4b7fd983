"""FlashAttention-2 as Triton kernels: the fused GPU version of ``model.flash_attention``.

Paper: Tri Dao, "FlashAttention-2: Faster Attention with Better Parallelism and Work Partitioning",
arXiv 2307.08691. Notation as in the paper, per (batch, head): Q ∈ R^{N_q×d}, K, V ∈ R^{N_k×d},
S = τ·QKᵀ with τ = 1/√d, P = softmax(S) row by row, O = PV, and L = m + log ℓ the log-sum-exp of each
row of S (m the row maximum, ℓ = Σ_j exp(S_ij − m)).

Forward, Algorithm 1. One program per block Q_i of B_r = BLOCK_M query rows (the outer loop of
FlashAttention-1 becomes the grid, §3.2: "parallelism over the sequence length"); it walks over the
blocks K_j, V_j of B_c = BLOCK_N keys and keeps in registers an unnormalised output and two numbers
per row::

    S_i^(j) = τ·Q_i K_jᵀ                                 (line 8; the paper folds τ into Q)
    m_i^(j) = max(m_i^(j-1), rowmax(S_i^(j)))
    P̃_i^(j) = exp(S_i^(j) − m_i^(j))                                 (line 9)
    ℓ_i^(j) = e^{m_i^(j-1) − m_i^(j)} ℓ_i^(j-1) + rowsum(P̃_i^(j))
    O_i^(j) = diag(e^{m_i^(j-1) − m_i^(j)}) O_i^(j-1) + P̃_i^(j) V_j   (line 10)
    O_i = diag(ℓ_i)⁻¹ O_i^(T_c),  L_i = m_i + log ℓ_i                (lines 12-13)

The division by ℓ happens once at the end, not in every step (§3.1.1, the first "tweak" over
FlashAttention-1). Only O (N×d) and L (N numbers) go back to memory; S and P never do.

Backward, Algorithm 2. The preprocessing kernel computes D_i = rowsum(dO_i ∘ O_i) (line 4; it equals
rowsum(dP_i ∘ P_i), the term the softmax's Jacobian subtracts). Then P is recomputed from the saved L
instead of being read::

    P_i^(j)  = exp(Q_i K_jᵀ·τ − L_i)                                  (line 11)
    dV_j    += P_i^(j)ᵀ dO_i                                          (line 12)
    dP_i^(j) = dO_i V_jᵀ                                              (line 13)
    dS_i^(j) = P_i^(j) ∘ (dP_i^(j) − D_i)                             (line 14)
    dQ_i    += τ · dS_i^(j) K_j                                       (line 15)
    dK_j    += τ · dS_i^(j)ᵀ Q_i                                      (line 16)

Algorithm 2 loops over key blocks j outside and query blocks i inside; the paper's CUDA code gives
each key block a thread block, which then update the shared dQ_i with atomic adds (§3.2). Here, as in
the Triton version in Dao's repository and Triton's fused-attention tutorial, the dK/dV kernel walks
over query blocks and dQ has a kernel of its own that walks over key blocks: S and P are recomputed
twice, but there are no atomics, so the gradients are deterministic.

Three implementation details, each from §3.1 of the paper or common practice:

- exp via exp2: e^x = 2^(x·log₂e), so τ·log₂e is folded into one scale (``qk_scale``) and the inner
  loop uses the hardware's base-2 exponential. L is still stored as a natural-log value.
- causal masking (§3.1.1): key blocks entirely right of the diagonal are skipped, and the mask is
  applied only to the blocks that straddle the diagonal or the end of the sequence; the others run
  without it. The mask is top-left aligned (query i sees keys 0..i), like
  ``scaled_dot_product_attention(is_causal=True)`` and ``model.flash_attention``.
- any N and any head dim up to 256: loads past the end are masked (``other=0``), scores of keys past
  the end are −∞, rows past the end are not stored, and the head dim is padded to a power of two ≥ 16
  (the smallest tile ``tl.dot`` takes).

Tensors are (batch, heads, seq, head_dim); fp16 and bf16 run on the tensor cores with fp32
accumulation; fp32 uses exact fp32 products (``input_precision="ieee"``), not TF32, so it can be
compared tightly. Under ``TRITON_INTERPRET=1`` the kernels run on the CPU through Triton's numpy
interpreter (slowly), which is how the tests check them on a machine without a GPU.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import triton
import triton.language as tl
from torch.autograd.function import once_differentiable

__all__ = ["compiled_before", "flash_attention_forward", "flash_attention_triton", "is_available"]

# Read once, as Triton reads it when it decorates the kernels below.
_INTERPRET = os.environ.get("TRITON_INTERPRET", "0").strip().lower() in {"1", "true", "yes", "on"}
_DTYPES = (torch.float16, torch.bfloat16, torch.float32)
_MAX_HEAD_DIM = 256
_LOG2E = 1.4426950408889634  # log₂e: exp(x) = exp2(x·log₂e)
_LOG2E_C = tl.constexpr(_LOG2E)  # the same, as the kernels may read a global only when it is constexpr


def compiled_before(arch: int) -> bool:
    """Whether Triton's on-disk cache holds a build of these kernels for GPUs of compute capability ``arch``
    (90: sm_90): a first run compiles them, for minutes."""
    folder = Path(os.environ.get("TRITON_CACHE_DIR") or Path.home() / ".triton" / "cache")
    for metadata in folder.glob("*/_fwd_kernel.json"):
        try:
            if json.loads(metadata.read_text(encoding="utf-8")).get("target", {}).get("arch") == arch:
                return True
        except (OSError, ValueError):
            continue
    return False


def is_available() -> bool:
    """True when these kernels can run here: Triton is importable and there is a CUDA device or the
    interpreter (``TRITON_INTERPRET=1``) is on."""
    if importlib.util.find_spec("triton") is None:
        return False
    return _INTERPRET or torch.cuda.is_available()


# -- autotuning ------------------------------------------------------------------------------------
# On the GPU the tile sizes, warps per program and pipeline depth are tuned per shape, among a handful of
# candidates chosen per dtype and head dim (the autotuner compiles every candidate it benchmarks, 3-40 s
# each on a first run, so a wide search made the first `--device cuda` run pass its stage timeout):
#
# - fp16/bf16 run on the tensor cores: tiles of 64-128 rows, one warpgroup (4 warps) or two (8), 2-4
#   stages of software pipelining; a larger head dim leaves fewer stages and smaller loop tiles in the
#   shared memory and registers of one program. These are the shapes of the Triton fused-attention
#   tutorial and Dao's Triton FlashAttention-2 on Ampere and Hopper (sm_80 has 163 KiB of shared memory
#   per program, sm_90 227 KiB: every candidate fits the smaller, see benchmarks/flashattention_compile.py).
# - fp32 uses exact fp32 products (input_precision="ieee": FMA, no tensor cores), whose operands live in
#   registers: 32×32 tiles, or 64×32 with 8 warps, are the ones whose sm_90 builds spill nothing (64×32
#   and 32×64 with 4 warps spilled 1-71 KB per thread block: `--first-run` of the compile script).
#
# Under the interpreter autotuning would only re-run slow numpy code, so there is one config, with small
# and unequal tiles so that tests cover several blocks per sequence and the diagonal bookkeeping for
# B_r != B_c. Candidates: (BLOCK_M, BLOCK_N, num_warps, num_stages), keyed by operand bits and the padded
# head dim's upper bound.
_Candidates = dict[tuple[int, int], list[tuple[int, int, int, int]]]
_FWD_CANDIDATES: _Candidates = {
    (16, 64): [(128, 64, 4, 3), (128, 128, 8, 3), (64, 64, 4, 4)],
    (16, 128): [(128, 64, 8, 3), (128, 128, 8, 2), (64, 64, 4, 3)],
    (16, 256): [(64, 64, 4, 2), (128, 32, 8, 2)],
    (32, 256): [(32, 32, 4, 2), (64, 32, 8, 2)],
}
# The backward programs hold two fp32 accumulators (dK and dV, or dQ) plus four input tiles, so their
# tiles are smaller along the loop dimension than the forward's (dK/dV walks BLOCK_M, dQ walks BLOCK_N).
_DQ_CANDIDATES: _Candidates = {
    (16, 64): [(128, 64, 8, 2), (64, 64, 4, 3), (128, 32, 8, 3)],
    (16, 128): [(64, 64, 4, 2), (128, 32, 8, 2), (64, 32, 4, 3)],
    (16, 256): [(64, 32, 4, 2), (32, 32, 4, 2)],
    (32, 256): [(32, 32, 4, 2), (64, 32, 8, 2)],
}
_DKDV_CANDIDATES: _Candidates = {
    (16, 64): [(32, 128, 8, 2), (64, 128, 8, 2), (64, 64, 4, 3)],
    (16, 128): [(32, 128, 8, 2), (32, 64, 4, 3), (64, 64, 8, 2)],
    (16, 256): [(32, 64, 4, 2), (32, 32, 4, 2)],
    (32, 256): [(32, 32, 8, 2)],
}


def candidates(table: _Candidates, bits: int, block_d: int) -> list[tuple[int, int, int, int]]:
    """The candidates of ``table`` for operands of ``bits`` (16 or 32) and a padded head dim ``block_d``."""
    keys = sorted(k for k in table if k[0] == min(bits, 32) and k[1] >= block_d)
    return table[keys[0]] if keys else table[max(k for k in table if k[0] == min(bits, 32))]


def _gpu_configs(table: _Candidates) -> list[Any]:
    every = dict.fromkeys(c for group in table.values() for c in group)
    return [
        triton.Config({"BLOCK_M": bm, "BLOCK_N": bn}, num_warps=warps, num_stages=stages)
        for bm, bn, warps, stages in every
    ]


if _INTERPRET:
    _FWD_CONFIGS = [triton.Config({"BLOCK_M": 32, "BLOCK_N": 16}, num_warps=4, num_stages=1)]
    _DQ_CONFIGS = [triton.Config({"BLOCK_M": 32, "BLOCK_N": 16}, num_warps=4, num_stages=1)]
    _DKDV_CONFIGS = [triton.Config({"BLOCK_M": 16, "BLOCK_N": 32}, num_warps=4, num_stages=1)]
    _PREPROCESS_BLOCK_M = 32
else:
    _FWD_CONFIGS = _gpu_configs(_FWD_CANDIDATES)
    _DQ_CONFIGS = _gpu_configs(_DQ_CANDIDATES)
    _DKDV_CONFIGS = _gpu_configs(_DKDV_CANDIDATES)
    _PREPROCESS_BLOCK_M = 128


@dataclass(frozen=True)
class _Footprint:
    """What one program of a kernel holds, counted in tiles: enough to drop hopeless autotune configs
    before compiling them (compiling is most of the autotuning time).

    loop_block: the tile size of the dimension the program walks (``BLOCK_N`` over key blocks,
    ``BLOCK_M`` over query blocks); the other one is the program's own block.
    streamed: (loop block × head dim) tiles loaded per iteration, ``num_stages`` copies in shared memory.
    resident: (own block × head dim) tiles loaded once, in shared memory.
    accumulators: fp32 (own block × head dim) tiles kept in registers (O; dQ; dK and dV).
    scores: fp32 (B_r × B_c) tiles live in registers at once (S and P; P and dP or dS).
    """

    loop_block: str
    streamed: int
    resident: int
    accumulators: int
    scores: int

    def fits(self, config: Any, block_d: int, element_size: int) -> bool:
        own_block = "BLOCK_M" if self.loop_block == "BLOCK_N" else "BLOCK_N"
        loop, own = config.kwargs[self.loop_block], config.kwargs[own_block]
        shared = (self.streamed * config.num_stages * loop + self.resident * own) * block_d * element_size
        fp32_values = self.accumulators * own * block_d + self.scores * loop * own
        threads = 32 * config.num_warps
        return shared <= _SHARED_MEMORY_LIMIT and fp32_values <= _FP32_VALUES_PER_THREAD * threads

    def prune(self, table: _Candidates) -> dict[str, Any]:
        """``prune_configs_by`` for ``triton.autotune``: the candidates of ``table`` for the operands' dtype
        and head dim that fit one program; keeps at least one config."""

        def early_config_prune(configs: list[Any], named_args: dict[str, Any], **kwargs: Any) -> list[Any]:
            element_size, block_d = named_args["Q"].element_size(), kwargs["BLOCK_D"]
            wanted = set(candidates(table, 8 * element_size, block_d))
            mine = [c for c in configs if _as_tuple(c) in wanted or _INTERPRET] or configs
            kept = [config for config in mine if self.fits(config, block_d, element_size)]
            return kept or mine[:1]

        return {"early_config_prune": early_config_prune}


def _as_tuple(config: Any) -> tuple[int, int, int, int]:
    return config.kwargs["BLOCK_M"], config.kwargs["BLOCK_N"], config.num_warps, config.num_stages


# Shared memory one program may use on sm_90 (227 KiB). Register budget: a thread has at most 255
# registers; in offline sm_90 builds of these kernels (bf16, d = 128) ptxas spilled to local memory when
# the fp32 tiles above came to more than about 160 values per thread, and not below.
_SHARED_MEMORY_LIMIT = 227 * 1024
_FP32_VALUES_PER_THREAD = 160
_FWD_FOOTPRINT = _Footprint("BLOCK_N", streamed=2, resident=1, accumulators=1, scores=1)  # K, V; Q; O; S
_DQ_FOOTPRINT = _Footprint("BLOCK_N", streamed=2, resident=2, accumulators=1, scores=2)  # K, V; Q, dO; dQ
_DKDV_FOOTPRINT = _Footprint("BLOCK_M", streamed=2, resident=2, accumulators=2, scores=2)  # Q, dO; K, V
_FWD_PRUNE = _FWD_FOOTPRINT.prune(_FWD_CANDIDATES)
_DQ_PRUNE = _DQ_FOOTPRINT.prune(_DQ_CANDIDATES)
_DKDV_PRUNE = _DKDV_FOOTPRINT.prune(_DKDV_CANDIDATES)


# Lengths enter the key as buckets (the next power of two), so a new N re-tunes only in a new bucket: with
# exact lengths every distinct N of a training run with variable lengths would benchmark every config.
# The autotuner adds the tensors' dtypes itself.
_TUNING_KEY = ["N_Q_BUCKET", "N_K_BUCKET", "HEAD_DIM", "CAUSAL"]


def length_bucket(n: int) -> int:
    """The autotune key for a length: the next power of two, at least 16 (the smallest block)."""
    return max(16, triton.next_power_of_2(n))


# -- kernels ---------------------------------------------------------------------------------------
# The kernels' parameters and arguments are grouped by tensor, several to a line.
# fmt: off


@triton.jit
def _mma(a, b, acc, PRECISION: tl.constexpr, UPCAST: tl.constexpr):
    """acc + a @ b with fp32 accumulation, on the tensor cores.

    UPCAST (set only under the interpreter, for bf16): Triton's numpy interpreter keeps bf16 as raw
    uint16 bits and multiplies those as integers in ``tl.dot``, so the operands, already rounded to bf16,
    are widened to fp32 first; the product is then what a bf16 MMA with fp32 accumulation gives.
    """
    if UPCAST:
        a = a.to(tl.float32)
        b = b.to(tl.float32)
    return tl.dot(a, b, acc, input_precision=PRECISION)


@triton.jit
def _fwd_inner(
    acc, l_i, m_i,                    # the running O_i (B_r, D), ℓ_i and m_i (B_r,), fp32
    q,                                # Q_i (B_r, D)
    K, V, stride_kn, stride_vn,       # this (batch, head)'s K and V and their sequence strides
    offs_m, offs_d, mask_d, N_K, qk_scale,
    lo, hi,                           # the key blocks to visit start in [lo, hi)
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr, MASK: tl.constexpr,
    PRECISION: tl.constexpr, UPCAST: tl.constexpr,
):
    """Algorithm 1 lines 6-11 for the key blocks starting in [lo, hi); MASK applies the score mask."""
    for start_n in range(lo, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        kv_mask = (offs_n[:, None] < N_K) & mask_d[None, :]
        k = tl.load(K + offs_n[:, None] * stride_kn + offs_d[None, :], mask=kv_mask, other=0.0)  # (B_c, D)
        v = tl.load(V + offs_n[:, None] * stride_vn + offs_d[None, :], mask=kv_mask, other=0.0)  # (B_c, D)
        # S_i^(j) = τ·Q_i K_jᵀ, here in log₂ units (τ·log₂e folded into qk_scale)
        s = _mma(q, tl.trans(k), tl.zeros([BLOCK_M, BLOCK_N], tl.float32), PRECISION, UPCAST)
        s = s * qk_scale  # (B_r, B_c)
        if MASK:
            visible = offs_n[None, :] < N_K
            if CAUSAL:
                visible = visible & (offs_n[None, :] <= offs_m[:, None])
            s = tl.where(visible, s, float("-inf"))
        # Every row has seen at least key 0 by now (block 0 is always visited first), so m_new is finite
        # and the −∞ entries give exp2(−∞) = 0, never NaN.
        m_new = tl.maximum(m_i, tl.max(s, 1))  # m_i^(j)
        alpha = tl.exp2(m_i - m_new)  # e^{m^(j-1) − m^(j)}: rescales what was accumulated so far
        p = tl.exp2(s - m_new[:, None])  # P̃_i^(j), (B_r, B_c)
        l_i = l_i * alpha + tl.sum(p, 1)  # ℓ_i^(j)
        acc = acc * alpha[:, None]
        acc = _mma(p.to(v.dtype), v, acc, PRECISION, UPCAST)  # O_i^(j) += P̃ V_j, (B_r, D)
        m_i = m_new
    return acc, l_i, m_i


@triton.autotune(configs=_FWD_CONFIGS, key=_TUNING_KEY, prune_configs_by=_FWD_PRUNE)
@triton.jit
def _fwd_kernel(
    Q, K, V, O, LSE,                  # Q, O (B, H, N_q, d); K, V (B, H, N_k, d); LSE (B, H, N_q) fp32
    stride_qb, stride_qh, stride_qn,  # element strides of batch, head, sequence (head_dim is contiguous)
    stride_kb, stride_kh, stride_kn,
    stride_vb, stride_vh, stride_vn,
    stride_ob, stride_oh, stride_on,
    n_heads, N_Q, N_K, N_Q_BUCKET, N_K_BUCKET, qk_scale,  # qk_scale = τ·log₂e; buckets: the tuning key
    HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, CAUSAL: tl.constexpr,
    PRECISION: tl.constexpr, UPCAST: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,  # B_r and B_c, chosen by the autotuner
):
    """Algorithm 1 for one block of queries of one (batch, head): grid = (⌈N_q/B_r⌉, batch·heads)."""
    start_m = tl.program_id(0) * BLOCK_M
    bh = tl.program_id(1)
    batch = (bh // n_heads).to(tl.int64)  # int64: batch·stride overflows int32 for large tensors
    head = (bh % n_heads).to(tl.int64)
    Q += batch * stride_qb + head * stride_qh
    K += batch * stride_kb + head * stride_kh
    V += batch * stride_vb + head * stride_vh
    O += batch * stride_ob + head * stride_oh
    LSE += bh.to(tl.int64) * N_Q

    offs_m = start_m + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    mask_d = offs_d < HEAD_DIM
    q_mask = (offs_m[:, None] < N_Q) & mask_d[None, :]
    q = tl.load(Q + offs_m[:, None] * stride_qn + offs_d[None, :], mask=q_mask, other=0.0)  # Q_i, (B_r, D)

    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)  # running row maximum (log₂ units)
    l_i = tl.zeros([BLOCK_M], tl.float32)  # running row sum ℓ
    acc = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)  # unnormalised O_i

    # Key blocks before `unmasked_end` need no mask: all their keys exist and, when causal, precede the
    # block's first query. Blocks in [unmasked_end, hi) straddle the diagonal or the end of the keys.
    if CAUSAL:
        hi = tl.minimum(start_m + BLOCK_M, N_K)  # blocks past the diagonal are skipped (§3.1.1)
        unmasked_end = (tl.minimum(start_m + 1, N_K) // BLOCK_N) * BLOCK_N
    else:
        hi = N_K
        unmasked_end = (N_K // BLOCK_N) * BLOCK_N
    acc, l_i, m_i = _fwd_inner(
        acc, l_i, m_i, q, K, V, stride_kn, stride_vn, offs_m, offs_d, mask_d, N_K, qk_scale,
        0, unmasked_end, BLOCK_M, BLOCK_N, CAUSAL, False, PRECISION, UPCAST,
    )
    acc, l_i, m_i = _fwd_inner(
        acc, l_i, m_i, q, K, V, stride_kn, stride_vn, offs_m, offs_d, mask_d, N_K, qk_scale,
        unmasked_end, hi, BLOCK_M, BLOCK_N, CAUSAL, True, PRECISION, UPCAST,
    )

    acc = acc / l_i[:, None]  # O_i = diag(ℓ_i)⁻¹ O_i^(T_c)  (line 12)
    lse = (m_i + tl.log2(l_i)) / _LOG2E_C  # L_i = m_i + log ℓ_i in natural-log units (line 13)
    tl.store(LSE + offs_m, lse, mask=offs_m < N_Q)
    tl.store(O + offs_m[:, None] * stride_on + offs_d[None, :], acc.to(O.dtype.element_ty), mask=q_mask)


@triton.jit
def _bwd_preprocess_kernel(
    O, DO, DELTA,                     # O, dO (B, H, N_q, d); DELTA (B, H, N_q) fp32
    stride_ob, stride_oh, stride_on,
    stride_dob, stride_doh, stride_don,
    n_heads, N_Q,
    HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr,
):
    """Algorithm 2 line 4: D_i = rowsum(dO_i ∘ O_i), one fp32 number per query row."""
    start_m = tl.program_id(0) * BLOCK_M
    bh = tl.program_id(1)
    batch = (bh // n_heads).to(tl.int64)
    head = (bh % n_heads).to(tl.int64)
    offs_m = start_m + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    mask = (offs_m[:, None] < N_Q) & (offs_d[None, :] < HEAD_DIM)
    # other=0.0: the padded head-dim lanes are summed below, and a masked load leaves them undefined.
    o = tl.load(
        O + batch * stride_ob + head * stride_oh + offs_m[:, None] * stride_on + offs_d[None, :],
        mask=mask,
        other=0.0,
    )
    do = tl.load(
        DO + batch * stride_dob + head * stride_doh + offs_m[:, None] * stride_don + offs_d[None, :],
        mask=mask,
        other=0.0,
    )
    delta = tl.sum(o.to(tl.float32) * do.to(tl.float32), 1)  # (B_r,)
    tl.store(DELTA + bh.to(tl.int64) * N_Q + offs_m, delta, mask=offs_m < N_Q)


@triton.jit
def _bwd_dkdv_inner(
    dk, dv,                           # the running dK_j, dV_j (B_c, D), fp32
    k, v,                             # K_j, V_j (B_c, D)
    Q, DO, LSE, DELTA, stride_qn, stride_don,
    offs_n, offs_d, mask_d, N_Q, qk_scale,
    lo, hi,                           # the query blocks to visit start in [lo, hi)
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, MASK: tl.constexpr,
    PRECISION: tl.constexpr, UPCAST: tl.constexpr,
):
    """Algorithm 2 lines 7-16 (without line 15) for the query blocks starting in [lo, hi).

    Works with transposed tiles, Sᵀ = K_j Q_iᵀ of shape (B_c, B_r), so that dV_j += Pᵀ dO_i and
    dK_j += dSᵀ Q_i are plain products. MASK applies the causal mask (key n visible to query m iff n ≤ m).
    """
    for start_m in range(lo, hi, BLOCK_M):
        offs_m = start_m + tl.arange(0, BLOCK_M)
        row_ok = offs_m < N_Q
        q_mask = row_ok[:, None] & mask_d[None, :]
        q = tl.load(Q + offs_m[:, None] * stride_qn + offs_d[None, :], mask=q_mask, other=0.0)  # (B_r, D)
        do = tl.load(DO + offs_m[:, None] * stride_don + offs_d[None, :], mask=q_mask, other=0.0)  # (B_r, D)
        # Rows past the end get L = +∞, so their recomputed P is exp(−∞) = 0 and they add nothing.
        lse2 = tl.load(LSE + offs_m, mask=row_ok, other=float("inf")) * _LOG2E_C  # (B_r,)
        delta = tl.load(DELTA + offs_m, mask=row_ok, other=0.0)  # D_i, (B_r,)
        s_t = _mma(k, tl.trans(q), tl.zeros([BLOCK_N, BLOCK_M], tl.float32), PRECISION, UPCAST)  # Sᵀ/τ
        p_t = tl.exp2(s_t * qk_scale - lse2[None, :])  # P_i^(j)ᵀ = exp(S − L)ᵀ  (line 11), (B_c, B_r)
        if MASK:
            p_t = tl.where(offs_n[:, None] <= offs_m[None, :], p_t, 0.0)
        dv = _mma(p_t.to(do.dtype), do, dv, PRECISION, UPCAST)  # dV_j += Pᵀ dO_i  (line 12)
        dp_t = _mma(v, tl.trans(do), tl.zeros([BLOCK_N, BLOCK_M], tl.float32), PRECISION, UPCAST)  # dPᵀ (13)
        ds_t = p_t * (dp_t - delta[None, :])  # dSᵀ = Pᵀ ∘ (dPᵀ − D)  (line 14)
        dk = _mma(ds_t.to(q.dtype), q, dk, PRECISION, UPCAST)  # dK_j += dSᵀ Q_i  (line 16, τ later)
    return dk, dv


@triton.autotune(configs=_DKDV_CONFIGS, key=_TUNING_KEY, prune_configs_by=_DKDV_PRUNE)
@triton.jit
def _bwd_dkdv_kernel(
    Q, K, V, DO, LSE, DELTA, DK, DV,  # LSE, DELTA (B, H, N_q) fp32; the others as in the forward
    stride_qb, stride_qh, stride_qn,
    stride_kb, stride_kh, stride_kn,
    stride_vb, stride_vh, stride_vn,
    stride_dob, stride_doh, stride_don,
    stride_dkb, stride_dkh, stride_dkn,
    stride_dvb, stride_dvh, stride_dvn,
    n_heads, N_Q, N_K, N_Q_BUCKET, N_K_BUCKET, sm_scale, qk_scale,  # sm_scale = τ, qk_scale = τ·log₂e
    HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, CAUSAL: tl.constexpr,
    PRECISION: tl.constexpr, UPCAST: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
):
    """dK_j and dV_j for one block of keys of one (batch, head): grid = (⌈N_k/B_c⌉, batch·heads)."""
    start_n = tl.program_id(0) * BLOCK_N
    bh = tl.program_id(1)
    batch = (bh // n_heads).to(tl.int64)
    head = (bh % n_heads).to(tl.int64)
    Q += batch * stride_qb + head * stride_qh
    K += batch * stride_kb + head * stride_kh
    V += batch * stride_vb + head * stride_vh
    DO += batch * stride_dob + head * stride_doh
    DK += batch * stride_dkb + head * stride_dkh
    DV += batch * stride_dvb + head * stride_dvh
    LSE += bh.to(tl.int64) * N_Q
    DELTA += bh.to(tl.int64) * N_Q

    offs_n = start_n + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    mask_d = offs_d < HEAD_DIM
    kv_mask = (offs_n[:, None] < N_K) & mask_d[None, :]
    # Keys past the end load as zeros; their rows of dK, dV are computed but never stored.
    k = tl.load(K + offs_n[:, None] * stride_kn + offs_d[None, :], mask=kv_mask, other=0.0)  # K_j, (B_c, D)
    v = tl.load(V + offs_n[:, None] * stride_vn + offs_d[None, :], mask=kv_mask, other=0.0)  # V_j, (B_c, D)
    dk = tl.zeros([BLOCK_N, BLOCK_D], tl.float32)
    dv = tl.zeros([BLOCK_N, BLOCK_D], tl.float32)

    if CAUSAL:
        # Queries before start_n see none of these keys. Query blocks starting at or after
        # `unmasked_start` see all of them; the ones in between straddle the diagonal.
        lo = (start_n // BLOCK_M) * BLOCK_M
        unmasked_start = tl.cdiv(start_n + BLOCK_N - 1, BLOCK_M) * BLOCK_M
        dk, dv = _bwd_dkdv_inner(
            dk, dv, k, v, Q, DO, LSE, DELTA, stride_qn, stride_don, offs_n, offs_d, mask_d, N_Q, qk_scale,
            lo, tl.minimum(unmasked_start, N_Q), BLOCK_M, BLOCK_N, True, PRECISION, UPCAST,
        )
    else:
        unmasked_start = 0
    dk, dv = _bwd_dkdv_inner(
        dk, dv, k, v, Q, DO, LSE, DELTA, stride_qn, stride_don, offs_n, offs_d, mask_d, N_Q, qk_scale,
        unmasked_start, N_Q, BLOCK_M, BLOCK_N, False, PRECISION, UPCAST,
    )

    dk = dk * sm_scale  # the τ of line 16, applied once
    tl.store(DK + offs_n[:, None] * stride_dkn + offs_d[None, :], dk.to(DK.dtype.element_ty), mask=kv_mask)
    tl.store(DV + offs_n[:, None] * stride_dvn + offs_d[None, :], dv.to(DV.dtype.element_ty), mask=kv_mask)


@triton.jit
def _bwd_dq_inner(
    dq,                               # the running dQ_i (B_r, D), fp32
    q, do, lse2, delta,               # Q_i, dO_i (B_r, D); L_i·log₂e and D_i (B_r,)
    K, V, stride_kn, stride_vn,
    offs_m, offs_d, mask_d, N_K, qk_scale,
    lo, hi,                           # the key blocks to visit start in [lo, hi)
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr, MASK: tl.constexpr,
    PRECISION: tl.constexpr, UPCAST: tl.constexpr,
):
    """Algorithm 2 lines 11, 13-15 for the key blocks starting in [lo, hi): dQ_i += dS K_j."""
    for start_n in range(lo, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        kv_mask = (offs_n[:, None] < N_K) & mask_d[None, :]
        k = tl.load(K + offs_n[:, None] * stride_kn + offs_d[None, :], mask=kv_mask, other=0.0)  # (B_c, D)
        v = tl.load(V + offs_n[:, None] * stride_vn + offs_d[None, :], mask=kv_mask, other=0.0)  # (B_c, D)
        s = _mma(q, tl.trans(k), tl.zeros([BLOCK_M, BLOCK_N], tl.float32), PRECISION, UPCAST)  # S/τ
        p = tl.exp2(s * qk_scale - lse2[:, None])  # P = exp(S − L)  (line 11), (B_r, B_c)
        if MASK:
            visible = offs_n[None, :] < N_K
            if CAUSAL:
                visible = visible & (offs_n[None, :] <= offs_m[:, None])
            p = tl.where(visible, p, 0.0)
        dp = _mma(do, tl.trans(v), tl.zeros([BLOCK_M, BLOCK_N], tl.float32), PRECISION, UPCAST)  # dP (13)
        ds = p * (dp - delta[:, None])  # dS = P ∘ (dP − D)  (line 14)
        dq = _mma(ds.to(k.dtype), k, dq, PRECISION, UPCAST)  # dQ_i += dS K_j  (line 15, τ later)
    return dq


@triton.autotune(configs=_DQ_CONFIGS, key=_TUNING_KEY, prune_configs_by=_DQ_PRUNE)
@triton.jit
def _bwd_dq_kernel(
    Q, K, V, DO, LSE, DELTA, DQ,
    stride_qb, stride_qh, stride_qn,
    stride_kb, stride_kh, stride_kn,
    stride_vb, stride_vh, stride_vn,
    stride_dob, stride_doh, stride_don,
    stride_dqb, stride_dqh, stride_dqn,
    n_heads, N_Q, N_K, N_Q_BUCKET, N_K_BUCKET, sm_scale, qk_scale,
    HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, CAUSAL: tl.constexpr,
    PRECISION: tl.constexpr, UPCAST: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
):
    """dQ_i for one block of queries of one (batch, head): grid = (⌈N_q/B_r⌉, batch·heads)."""
    start_m = tl.program_id(0) * BLOCK_M
    bh = tl.program_id(1)
    batch = (bh // n_heads).to(tl.int64)
    head = (bh % n_heads).to(tl.int64)
    Q += batch * stride_qb + head * stride_qh
    K += batch * stride_kb + head * stride_kh
    V += batch * stride_vb + head * stride_vh
    DO += batch * stride_dob + head * stride_doh
    DQ += batch * stride_dqb + head * stride_dqh
    LSE += bh.to(tl.int64) * N_Q
    DELTA += bh.to(tl.int64) * N_Q

    offs_m = start_m + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    mask_d = offs_d < HEAD_DIM
    row_ok = offs_m < N_Q
    q_mask = row_ok[:, None] & mask_d[None, :]
    q = tl.load(Q + offs_m[:, None] * stride_qn + offs_d[None, :], mask=q_mask, other=0.0)  # Q_i, (B_r, D)
    do = tl.load(DO + offs_m[:, None] * stride_don + offs_d[None, :], mask=q_mask, other=0.0)  # dO_i
    # Rows past the end reach no other row here (their dQ rows are not stored), unlike in the dK/dV kernel,
    # where rows are summed; `other=` keeps them finite all the same.
    lse2 = tl.load(LSE + offs_m, mask=row_ok, other=float("inf")) * _LOG2E_C  # L_i in log₂ units
    delta = tl.load(DELTA + offs_m, mask=row_ok, other=0.0)  # D_i
    dq = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)

    # The same split of the key blocks as in the forward kernel.
    if CAUSAL:
        hi = tl.minimum(start_m + BLOCK_M, N_K)
        unmasked_end = (tl.minimum(start_m + 1, N_K) // BLOCK_N) * BLOCK_N
    else:
        hi = N_K
        unmasked_end = (N_K // BLOCK_N) * BLOCK_N
    dq = _bwd_dq_inner(
        dq, q, do, lse2, delta, K, V, stride_kn, stride_vn, offs_m, offs_d, mask_d, N_K, qk_scale,
        0, unmasked_end, BLOCK_M, BLOCK_N, CAUSAL, False, PRECISION, UPCAST,
    )
    dq = _bwd_dq_inner(
        dq, q, do, lse2, delta, K, V, stride_kn, stride_vn, offs_m, offs_d, mask_d, N_K, qk_scale,
        unmasked_end, hi, BLOCK_M, BLOCK_N, CAUSAL, True, PRECISION, UPCAST,
    )

    dq = dq * sm_scale  # the τ of line 15, applied once
    tl.store(DQ + offs_m[:, None] * stride_dqn + offs_d[None, :], dq.to(DQ.dtype.element_ty), mask=q_mask)


# fmt: on


# -- launchers -------------------------------------------------------------------------------------


def _check_inputs(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    if q.dim() != 4 or k.dim() != 4 or v.dim() != 4:
        raise ValueError(
            "flash_attention_triton: expected q, k, v of shape (batch, heads, seq, head_dim); "
            f"got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}"
        )
    if q.shape[:2] != k.shape[:2] or k.shape != v.shape or q.shape[-1] != k.shape[-1]:
        raise ValueError(
            "flash_attention_triton: q (B, H, N_q, d), k and v (B, H, N_k, d) must agree in batch, heads and "
            f"head_dim; got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}"
        )
    if not (q.dtype == k.dtype == v.dtype) or q.dtype not in _DTYPES:
        raise ValueError(
            f"flash_attention_triton: q, k, v must share one dtype among fp16, bf16, fp32; "
            f"got {q.dtype}, {k.dtype}, {v.dtype}"
        )
    if not (1 <= q.shape[-1] <= _MAX_HEAD_DIM) or q.shape[-2] == 0 or k.shape[-2] == 0:
        raise ValueError(
            f"flash_attention_triton: need 1 <= head_dim <= {_MAX_HEAD_DIM} and non-empty sequences; "
            f"got head_dim {q.shape[-1]}, N_q {q.shape[-2]}, N_k {k.shape[-2]}"
        )
    if not (q.device == k.device == v.device):
        raise ValueError(
            f"flash_attention_triton: q, k, v on different devices ({q.device}, {k.device}, {v.device})"
        )
    if q.device.type != "cuda" and not _INTERPRET:
        raise ValueError(
            f"flash_attention_triton: tensors are on {q.device}; the kernels need a CUDA device "
            "(or TRITON_INTERPRET=1 set before triton is imported, to run them slowly on the CPU)"
        )


def _unit_stride_last(t: torch.Tensor) -> torch.Tensor:
    """The kernels take any batch/head/seq strides but read each row of head_dim as one contiguous run."""
    return t if t.stride(-1) == 1 else t.contiguous()


def _kernel_options(q: torch.Tensor, causal: bool) -> dict[str, Any]:
    head_dim = q.shape[-1]
    return {
        "HEAD_DIM": head_dim,
        "BLOCK_D": max(16, triton.next_power_of_2(head_dim)),
        "CAUSAL": bool(causal),
        "PRECISION": "ieee" if q.dtype == torch.float32 else "tf32",  # ignored for fp16/bf16 operands
        "UPCAST": _INTERPRET and q.dtype == torch.bfloat16,
    }


def _scale(q: torch.Tensor, scale: float | None) -> float:
    return 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)


def flash_attention_forward(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False, scale: float | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the forward kernel alone: O (B, H, N_q, d) in q's dtype and L (B, H, N_q) in fp32.

    L is the natural-log log-sum-exp of each row of S = scale·QKᵀ, the statistic the backward pass
    recomputes P from (``torch.logsumexp(S, -1)``). No autograd graph is recorded.
    """
    _check_inputs(q, k, v)
    q, k, v = (_unit_stride_last(t) for t in (q, k, v))
    batch, heads, n_q, _ = q.shape
    n_k = k.shape[2]
    sm_scale = _scale(q, scale)
    o = torch.empty_like(q)
    lse = torch.empty((batch, heads, n_q), device=q.device, dtype=torch.float32)

    def grid(meta: dict[str, Any]) -> tuple[int, int]:
        return (triton.cdiv(n_q, meta["BLOCK_M"]), batch * heads)

    _fwd_kernel[grid](
        q, k, v, o, lse,
        *q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *o.stride()[:3],
        heads, n_q, n_k, length_bucket(n_q), length_bucket(n_k), sm_scale * _LOG2E,
        **_kernel_options(q, causal),
    )  # fmt: skip
    return o, lse


def _flash_attention_backward(
    do: torch.Tensor,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    o: torch.Tensor,
    lse: torch.Tensor,
    causal: bool,
    sm_scale: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Algorithm 2: the preprocessing kernel for D, then the dK/dV and the dQ kernels."""
    do = _unit_stride_last(do)  # e.g. the gradient of out.sum() is an expanded tensor with stride 0
    batch, heads, n_q, head_dim = q.shape
    n_k = k.shape[2]
    options = _kernel_options(q, causal)
    delta = torch.empty((batch, heads, n_q), device=q.device, dtype=torch.float32)
    _bwd_preprocess_kernel[(triton.cdiv(n_q, _PREPROCESS_BLOCK_M), batch * heads)](
        o, do, delta, *o.stride()[:3], *do.stride()[:3], heads, n_q,
        HEAD_DIM=head_dim, BLOCK_D=options["BLOCK_D"], BLOCK_M=_PREPROCESS_BLOCK_M,
    )  # fmt: skip

    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    qk_scale = sm_scale * _LOG2E

    def dkdv_grid(meta: dict[str, Any]) -> tuple[int, int]:
        return (triton.cdiv(n_k, meta["BLOCK_N"]), batch * heads)

    _bwd_dkdv_kernel[dkdv_grid](
        q, k, v, do, lse, delta, dk, dv,
        *q.stride()[:3], *k.stride()[:3], *v.stride()[:3],
        *do.stride()[:3], *dk.stride()[:3], *dv.stride()[:3],
        heads, n_q, n_k, length_bucket(n_q), length_bucket(n_k), sm_scale, qk_scale,
        **options,
    )  # fmt: skip

    def dq_grid(meta: dict[str, Any]) -> tuple[int, int]:
        return (triton.cdiv(n_q, meta["BLOCK_M"]), batch * heads)

    _bwd_dq_kernel[dq_grid](
        q, k, v, do, lse, delta, dq,
        *q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *do.stride()[:3], *dq.stride()[:3],
        heads, n_q, n_k, length_bucket(n_q), length_bucket(n_k), sm_scale, qk_scale,
        **options,
    )  # fmt: skip
    return dq, dk, dv


class _FlashAttentionTriton(torch.autograd.Function):
    """Saves Q, K, V, O and L (no N×N tensor); the backward recomputes P from them."""

    @staticmethod
    def forward(
        ctx: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, scale: float | None
    ) -> torch.Tensor:
        o, lse = flash_attention_forward(q, k, v, causal, scale)
        ctx.save_for_backward(_unit_stride_last(q), _unit_stride_last(k), _unit_stride_last(v), o, lse)
        ctx.causal = causal
        ctx.sm_scale = _scale(q, scale)
        return o

    @staticmethod
    @once_differentiable  # the kernels record no graph: a second derivative would be silently wrong
    def backward(ctx: Any, do: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        q, k, v, o, lse = ctx.saved_tensors
        dq, dk, dv = _flash_attention_backward(do, q, k, v, o, lse, ctx.causal, ctx.sm_scale)
        return dq, dk, dv, None, None


def flash_attention_triton(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False, scale: float | None = None
) -> torch.Tensor:
    """softmax(scale·QKᵀ)V with the FlashAttention-2 kernels, differentiable in q, k and v.

    q: (batch, heads, N_q, d); k, v: (batch, heads, N_k, d); fp16, bf16 or fp32, on a CUDA device (or on
    the CPU under ``TRITON_INTERPRET=1``). ``scale`` defaults to 1/√d; ``causal`` masks key n for query m
    when n > m (top-left aligned, as ``scaled_dot_product_attention(is_causal=True)``). Returns
    (batch, heads, N_q, d) in the inputs' dtype.
    """
    _check_inputs(q, k, v)
    out: torch.Tensor = _FlashAttentionTriton.apply(q, k, v, bool(causal), scale)
    return out
