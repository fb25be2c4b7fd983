"""FlashAttention-3's techniques, one at a time: a ladder of Triton forward kernels for Hopper GPUs.

Paper: Jay Shah, Ganesh Bikshandi, Ying Zhang, Vijay Thakkar, Pradeep Ramani, Tri Dao, "FlashAttention-3: Fast
and Accurate Attention with Asynchrony and Low-precision", arXiv 2407.08608. It keeps FlashAttention-2's
algorithm (``triton_kernel.py``: Algorithm 1, the online softmax over key blocks, one program per block of
query rows) and changes how a Hopper GPU runs it:

- §3.1, producer-consumer asynchrony: the Tensor Memory Accelerator (TMA) copies whole tiles from global to
  shared memory on its own, and some warps (producers) only issue those copies while the others (consumers)
  only compute; 2-4 stages of K and V tiles are in flight at once.
- §3.2, overlapping GEMMs and softmax: while the softmax of block j runs on the multi-function units, the
  tensor cores already compute S for block j+1 (the paper's two-stage pipelining within a warpgroup).
- §3.3, low precision: FP8 (e4m3) operands with per-block scales, and incoherent processing (a random
  orthogonal Hadamard transform of Q and K, which leaves QKᵀ unchanged but spreads outliers) to cut the
  quantization error.

Each rung of the ladder (``RUNGS``, the ``kernel`` knob of this plugin) adds one technique to the rung it
stands on, so that timing two neighbours shows what that technique buys on your GPU (``python
benchmarks/flashattention_cuda.py --kernels``, benchmarks/RESULTS.md). The whole ladder is one kernel,
``_ladder_fwd_kernel``, whose compile-time switches are the rungs' techniques; reading it top to bottom with
one switch in mind shows that technique alone:

    fa2         FlashAttention-2 as in triton_kernel.py: every tile loaded with pointer arithmetic
    tma         + tiles loaded and stored through tensor descriptors (TMA on Hopper)                    §3.1
    stages      + a deeper software pipeline: 3-4 K/V tiles in flight instead of 2                      §3.1
    overlap     + S_{j+1} = Q K_{j+1}ᵀ issued before block j's softmax (two-stage pipelining)            §3.2
    persistent  + one program per SM walking over tiles, the heaviest causal tiles first (FA3's code,
                  not a section of the paper: its tile scheduler)
    ws          + Triton's automatic warp specialization of the key loop (producer and consumer warps)  §3.1
    fp8         ``overlap`` with e4m3 operands, per-block scales, optional Hadamard rotation            §3.3

What Triton decides and what it does not: Triton lays out shared memory, picks the tensor-core instructions
(wgmma on Hopper) and software-pipelines loops itself; a kernel chooses tile sizes, warps, pipeline depth and
the loop's structure. So a rung here is a change of *what the compiler is asked*, and whether the compiler
turns it into the paper's schedule is what the timings show. Two of the paper's techniques cannot be asked
for in Triton's language and are not here: pingpong scheduling of two warpgroups with named barriers (§3.1),
and the register re-allocation between producers and consumers (``setmaxnreg``), which Triton applies on its
own only where its warp specialization runs.

Backward: every bf16/fp16/fp32 rung's forward is paired with FlashAttention-2's backward kernels
(``triton_kernel.py``), which read O and L (the natural-log log-sum-exp of each row) as this forward writes
them, so ``flash_attention_rung(..., kernel=K)`` is differentiable for every rung but ``fp8``, which is
forward-only (the paper's FP8 results are forward-only too).

Inputs and limits: (batch, heads, seq, head_dim) tensors, fp16/bf16 (fp32 runs, with exact fp32 products,
for the CPU tests); head dims up to 256. A TMA descriptor needs 16-byte aligned rows, so a head dim whose rows
are not (d·bytes not a multiple of 16) is zero-padded first, and the operands are viewed as one
(batch·heads·seq, head_dim) matrix (made contiguous if they are not). Tiles that reach past the end of one
head's sequence read the next head's rows: their scores are masked as keys past the end are, and the rows of
a query block past the end are stored through a masked store, never through the descriptor.

Under ``TRITON_INTERPRET=1`` every rung runs on the CPU in Triton's interpreter (tensor descriptors, fp8
conversions and dots included; ``warp_specialize`` and ``num_stages`` are compile-time scheduling hints the
interpreter ignores, so the interpreter checks those rungs' arithmetic, not their schedules).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import triton
import triton.language as tl
from torch.autograd.function import once_differentiable

from .triton_kernel import (
    _INTERPRET,
    _LOG2E,
    _check_inputs,
    _flash_attention_backward,
    _mma,
    _scale,
    flash_attention_forward,
    length_bucket,
)

__all__ = ["RUNGS", "Rung", "flash_attention_rung", "fp8_forward", "quantize_fp8", "rung_forward"]


@dataclass(frozen=True)
class Rung:
    """One step of the ladder: the techniques it turns on, the rung it adds one of them to, and what the paper
    says that technique should buy."""

    name: str
    over: str | None  # the rung this one adds a single technique to (None: the bottom)
    tma: bool = False
    deep_pipeline: bool = False
    overlap: bool = False
    persistent: bool = False
    warp_specialize: bool = False
    fp8: bool = False
    section: str = ""
    buys: str = ""


RUNGS: dict[str, Rung] = {
    rung.name: rung
    for rung in (
        Rung(
            "fa2",
            None,
            section="FlashAttention-2, Algorithm 1 (triton_kernel.py)",
            buys="the baseline: the online softmax fused in one kernel, loads by pointer arithmetic",
        ),
        Rung(
            "tma",
            "fa2",
            tma=True,
            section="FlashAttention-3 §3.1 (TMA)",
            buys="tile copies by the TMA unit: no address arithmetic or predicates in the threads, "
            "fewer registers",
        ),
        Rung(
            "stages",
            "tma",
            tma=True,
            deep_pipeline=True,
            section="FlashAttention-3 §3.1 (a circular buffer of K/V stages)",
            buys="more copies in flight hide more memory latency, while shared memory allows",
        ),
        Rung(
            "overlap",
            "stages",
            tma=True,
            deep_pipeline=True,
            overlap=True,
            section="FlashAttention-3 §3.2 (intra-warpgroup GEMM-softmax pipelining)",
            buys="the tensor cores compute the next S while the exponentials of this block run",
        ),
        Rung(
            "persistent",
            "overlap",
            tma=True,
            deep_pipeline=True,
            overlap=True,
            persistent=True,
            section="FlashAttention-3's code (its persistent tile scheduler)",
            buys="no launch tail: each SM's program starts its next tile at once; causal tiles "
            "heaviest first",
        ),
        Rung(
            "ws",
            "persistent",
            tma=True,
            deep_pipeline=True,
            overlap=True,
            persistent=True,
            warp_specialize=True,
            section="FlashAttention-3 §3.1 (warp specialization)",
            buys="producer warps only load and consumer warps only compute, so loads never wait behind math",
        ),
        Rung(
            "fp8",
            "overlap",
            tma=True,
            deep_pipeline=True,
            overlap=True,
            fp8=True,
            section="FlashAttention-3 §3.3 (FP8 with block quantization)",
            buys="e4m3 tensor cores run at twice bf16's rate; per-block scales keep the error small",
        ),
    )
}

# FP8: one scale per block of QUANT_BLOCK rows of Q and of K (per head), one per head for V; e4m3's largest
# finite value is 448. P ∈ [0, 1] is multiplied by P_SCALE before its conversion, so that small probabilities
# land on e4m3's normal range (2⁻⁶ and up) rather than flushing to zero; P_SCALE = 2⁸ is a power of two, so
# the scaling is exact, and the output divides it out once.
E4M3_MAX = 448.0
QUANT_BLOCK = 128
P_SCALE = 256.0

# -- candidates ------------------------------------------------------------------------------------
# Fixed offline (each is compiled on a first run, 5-40 s each; benchmarks/flashattention_compile.py --ladder
# builds every one for sm_90 on the CPU and reports shared memory, registers and spills): two per rung,
# operand width and padded head dim, (BLOCK_M, BLOCK_N, num_warps, num_stages). BLOCK_M = 128 rows with 8
# warps gives each of the two warpgroups 64 rows, the tile shape of the paper's hdim-128 kernel (128 × 128 per
# program). `stages` and the rungs above it ask for deeper pipelines within sm_90's 227 KiB of shared memory
# per program: a stage of K and V holds 2·BLOCK_N·d·2 bytes (64 KiB at BLOCK_N = 128, d = 128, bf16).
_Candidates = dict[tuple[int, int], list[tuple[int, int, int, int]]]
_SHALLOW: _Candidates = {
    (8, 64): [(128, 128, 8, 2), (128, 64, 4, 2)],
    (8, 128): [(128, 128, 8, 2), (128, 64, 8, 2)],
    (8, 256): [(128, 64, 8, 2), (64, 64, 4, 2)],
    (16, 64): [(128, 128, 8, 2), (128, 64, 4, 2)],
    (16, 128): [(128, 128, 8, 2), (128, 64, 8, 2)],
    (16, 256): [(64, 64, 4, 2), (128, 32, 8, 2)],
    (32, 256): [(32, 32, 4, 2), (64, 32, 8, 2)],
}
_DEEP: _Candidates = {
    (8, 64): [(128, 128, 8, 4), (128, 64, 4, 5)],
    (8, 128): [(128, 128, 8, 4), (128, 64, 8, 5)],
    (8, 256): [(128, 64, 8, 3), (64, 64, 4, 3)],
    (16, 64): [(128, 128, 8, 4), (128, 64, 4, 4)],
    (16, 128): [(128, 128, 8, 3), (128, 64, 8, 4)],
    (16, 256): [(64, 64, 4, 3), (128, 32, 8, 3)],
    (32, 256): [(32, 32, 4, 3), (64, 32, 8, 3)],
}
# `overlap` and the rungs above it hold two score tiles (S_j and S_{j+1}) at once: more registers, and the
# deepest `stages` candidate at d = 128 (3 stages of 128-key tiles) no longer fits shared memory.
_OVERLAPPED: _Candidates = {
    (8, 64): [(128, 128, 8, 4), (128, 64, 8, 4)],
    (8, 128): [(128, 128, 8, 3), (128, 64, 8, 4)],
    (8, 256): [(128, 64, 8, 2), (64, 64, 4, 3)],
    (16, 64): [(128, 128, 8, 4), (128, 64, 4, 4)],
    (16, 128): [(128, 128, 8, 2), (128, 64, 8, 4)],
    (16, 256): [(64, 64, 4, 2), (128, 32, 8, 2)],
    (32, 256): [(32, 32, 4, 2), (64, 32, 8, 2)],
}


def candidates(rung: Rung, bits: int, block_d: int) -> list[tuple[int, int, int, int]]:
    """The (BLOCK_M, BLOCK_N, num_warps, num_stages) candidates of ``rung`` for operands of ``bits`` (8, 16,
    32)
    and a padded head dim ``block_d``."""
    table = _OVERLAPPED if rung.overlap else _DEEP if rung.deep_pipeline else _SHALLOW
    keys = sorted(k for k in table if k[0] == bits and k[1] >= block_d)
    return table[keys[0]] if keys else table[max(k for k in table if k[0] == bits)]


# -- the kernel ------------------------------------------------------------------------------------
# fmt: off


@triton.jit
def _block_scale(SCALES, start, QUANT_BLOCK: tl.constexpr, FP8: tl.constexpr):
    """The FP8 scale of the quantization block holding row ``start`` (1 when not FP8)."""
    scale = 1.0
    if FP8:
        scale = tl.load(SCALES + start // QUANT_BLOCK)
    return scale


@triton.jit
def _scores(q, desc_k, row, k_scale, qk_scale, PRECISION: tl.constexpr, UPCAST: tl.constexpr,
            BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """S_i^(j) = τ·Q_i K_jᵀ in log₂ units (τ·log₂e = qk_scale), for the key block whose first row in the
    (batch·heads·N_k, d) view is ``row``; ``k_scale`` is 1, or K_j's FP8 scale times Q_i's.
    (B_r, B_c), fp32."""
    k = desc_k.load([row, 0])  # K_j, (B_c, D): one TMA copy on Hopper
    s = _mma(q, tl.trans(k), tl.zeros([BLOCK_M, BLOCK_N], tl.float32), PRECISION, UPCAST)
    return s * (qk_scale * k_scale)


@triton.jit
def _softmax_pv(acc, l_i, m_i, s, desc_v, v_row, start_n, offs_m, N_K,
                BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr, MASK: tl.constexpr, FP8: tl.constexpr,
                PRECISION: tl.constexpr, UPCAST: tl.constexpr):
    """Algorithm 1 lines 9-10 for one key block given its scores ``s``: the online softmax update of m_i, ℓ_i
    and the unnormalised O_i, then O_i += P̃ V_j. FP8: V_j comes transposed, (D, B_c), from the e4m3 copy."""
    if MASK:  # keys past the end (or another head's rows), and keys after the query when causal
        offs_n = start_n + tl.arange(0, BLOCK_N)
        visible = offs_n[None, :] < N_K
        if CAUSAL:
            visible = visible & (offs_n[None, :] <= offs_m[:, None])
        s = tl.where(visible, s, float("-inf"))
    m_new = tl.maximum(m_i, tl.max(s, 1))  # m_i^(j); finite: block 0 is always visited first
    alpha = tl.exp2(m_i - m_new)
    p = tl.exp2(s - m_new[:, None])  # P̃_i^(j), (B_r, B_c)
    l_i = l_i * alpha + tl.sum(p, 1)
    acc = acc * alpha[:, None]
    if FP8:
        vt = desc_v.load([v_row, start_n])  # V_jᵀ, (D, B_c) e4m3: Hopper's FP8 MMA wants B K-major
        acc = _mma((p * 256.0).to(vt.dtype), tl.trans(vt), acc, PRECISION, UPCAST)  # P_SCALE = 256
    else:
        v = desc_v.load([v_row + start_n, 0])  # V_j, (B_c, D)
        acc = _mma(p.to(v.dtype), v, acc, PRECISION, UPCAST)
    return acc, l_i, m_new


@triton.jit
def _key_blocks(acc, l_i, m_i, q, desc_k, desc_v, K_SCALE, kv_row, v_row, offs_m, N_K, qk_scale, lo, hi,
                BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, QUANT_BLOCK: tl.constexpr,
                CAUSAL: tl.constexpr, MASK: tl.constexpr, OVERLAP: tl.constexpr, WARP_SPECIALIZE:
                tl.constexpr,
                FP8: tl.constexpr, PRECISION: tl.constexpr, UPCAST: tl.constexpr):
    """The key blocks starting in [lo, hi): Algorithm 1's inner loop. OVERLAP (§3.2) computes the next block's
    scores before this block's softmax, so that the two are independent and the tensor cores can work on one
    while the exponentials of the other run. An empty range adds nothing either way."""
    if OVERLAP:
        # S of the first block before the loop; each iteration then issues the next block's GEMM before this
        # block's softmax. The last iteration's "next" block lies past hi and is computed for nothing (one
        # GEMM in (hi - lo) / B_c, its rows zero or another head's, discarded): the loop needs no epilogue or
        # branch.
        s = _scores(q, desc_k, kv_row + lo, _block_scale(K_SCALE, lo, QUANT_BLOCK, FP8), qk_scale,
                    PRECISION, UPCAST, BLOCK_M, BLOCK_N)
        for start_n in tl.range(lo, hi, BLOCK_N, warp_specialize=WARP_SPECIALIZE):
            k_scale = _block_scale(K_SCALE, start_n + BLOCK_N, QUANT_BLOCK, FP8)
            s_next = _scores(q, desc_k, kv_row + start_n + BLOCK_N, k_scale, qk_scale, PRECISION, UPCAST,
                             BLOCK_M, BLOCK_N)  # GEMM0 of block j+1 ...
            # ... then the softmax of block j and its P V_j
            acc, l_i, m_i = _softmax_pv(acc, l_i, m_i, s, desc_v, v_row, start_n, offs_m, N_K,
                                        BLOCK_N, CAUSAL, MASK, FP8, PRECISION, UPCAST)
            s = s_next
    else:
        for start_n in tl.range(lo, hi, BLOCK_N, warp_specialize=WARP_SPECIALIZE):
            k_scale = _block_scale(K_SCALE, start_n, QUANT_BLOCK, FP8)
            s = _scores(q, desc_k, kv_row + start_n, k_scale, qk_scale, PRECISION, UPCAST, BLOCK_M, BLOCK_N)
            acc, l_i, m_i = _softmax_pv(acc, l_i, m_i, s, desc_v, v_row, start_n, offs_m, N_K,
                                        BLOCK_N, CAUSAL, MASK, FP8, PRECISION, UPCAST)
    return acc, l_i, m_i


@triton.jit
def _attend_tile(desc_q, desc_k, desc_v, desc_o, O, LSE, Q_SCALE, K_SCALE, V_SCALE,
                 bh, start_m, N_Q, N_K, qk_scale, stride_o_row, n_k_blocks,
                 HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                 QUANT_BLOCK: tl.constexpr, CAUSAL: tl.constexpr, OVERLAP: tl.constexpr,
                 WARP_SPECIALIZE: tl.constexpr, FP8: tl.constexpr, PRECISION: tl.constexpr,
                 UPCAST: tl.constexpr):
    """One block of B_r query rows of one (batch, head): Algorithm 1, loads and the O store through tensor
    descriptors over the (batch·heads·N, d) views."""
    q_row = bh * N_Q + start_m
    kv_row = bh * N_K
    v_row = bh * BLOCK_D if FP8 else kv_row  # FP8: Vᵀ is viewed as (batch·heads·D, N_k)
    offs_m = start_m + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    q = desc_q.load([q_row, 0])  # Q_i, (B_r, D)
    q_scale = _block_scale(Q_SCALE + bh * tl.cdiv(N_Q, QUANT_BLOCK), start_m, QUANT_BLOCK, FP8)
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
    if CAUSAL:
        hi = tl.minimum(start_m + BLOCK_M, N_K)
        unmasked_end = (tl.minimum(start_m + 1, N_K) // BLOCK_N) * BLOCK_N
    else:
        hi = N_K
        unmasked_end = (N_K // BLOCK_N) * BLOCK_N
    k_scales = K_SCALE + bh * n_k_blocks
    acc, l_i, m_i = _key_blocks(acc, l_i, m_i, q, desc_k, desc_v, k_scales, kv_row, v_row, offs_m, N_K,
                                    qk_scale * q_scale, 0, unmasked_end, BLOCK_M, BLOCK_N, QUANT_BLOCK,
                                    CAUSAL,
                                    False, OVERLAP, WARP_SPECIALIZE, FP8, PRECISION, UPCAST)
    acc, l_i, m_i = _key_blocks(acc, l_i, m_i, q, desc_k, desc_v, k_scales, kv_row, v_row, offs_m, N_K,
                                    qk_scale * q_scale, unmasked_end, hi, BLOCK_M, BLOCK_N, QUANT_BLOCK,
                                    CAUSAL, True, OVERLAP, False, FP8, PRECISION, UPCAST)
    if FP8:
        acc = acc * (tl.load(V_SCALE + bh) / 256.0)  # V's per-head scale and P_SCALE, divided out once
        # (ℓ counts P̃ before its ×P_SCALE; the scores were in scaled units all along, so L is exact)
    lse = (m_i + tl.log2(l_i)) / 1.4426950408889634  # L_i = m_i + log ℓ_i, natural log (line 13)
    out = (acc / l_i[:, None]).to(O.dtype.element_ty)
    tl.store(LSE + bh * N_Q + offs_m, lse, mask=offs_m < N_Q)
    if start_m + BLOCK_M <= N_Q:
        desc_o.store([q_row, 0], out)  # a whole block: one TMA copy back
    else:  # the last, partial block: its rows past N_Q belong to the next head, so a masked store
        o_ptrs = O + (q_row + tl.arange(0, BLOCK_M)).to(tl.int64)[:, None] * stride_o_row + offs_d[None, :]
        tl.store(o_ptrs, out, mask=(offs_m[:, None] < N_Q) & (offs_d[None, :] < HEAD_DIM))


def _descriptor_pre_hook(nargs: dict[str, Any]) -> None:
    """Each autotune config's tile shapes, given to the host-side tensor descriptors before its launch."""
    block_m, block_n, block_d = nargs["BLOCK_M"], nargs["BLOCK_N"], nargs["BLOCK_D"]
    nargs["desc_q"].block_shape = [block_m, block_d]
    nargs["desc_o"].block_shape = [block_m, block_d]
    nargs["desc_k"].block_shape = [block_n, block_d]
    nargs["desc_v"].block_shape = [block_d, block_n] if nargs["FP8"] else [block_n, block_d]


def _configs() -> list[Any]:
    if _INTERPRET:  # one small config with unequal tiles, so that tests cross several blocks and the diagonal
        return [triton.Config({"BLOCK_M": 32, "BLOCK_N": 16}, num_warps=4, num_stages=1,
        pre_hook=_descriptor_pre_hook)]
    tables = (_SHALLOW, _DEEP, _OVERLAPPED)
    every = dict.fromkeys(c for table in tables for group in table.values() for c in group)
    return [
        triton.Config({"BLOCK_M": bm, "BLOCK_N": bn}, num_warps=w, num_stages=st,
        pre_hook=_descriptor_pre_hook)
        for bm, bn, w, st in every
    ]


def _prune(configs: list[Any], named_args: dict[str, Any], **kwargs: Any) -> list[Any]:
    """The rung's own candidates for this operand width and head dim (the kernel's other configs belong to
    other rungs); under the interpreter, its one config."""
    if _INTERPRET:
        return configs
    rung = Rung("", None, deep_pipeline=bool(kwargs["DEEP"]), overlap=bool(kwargs["OVERLAP"]))
    bits = 8 if kwargs["FP8"] else 8 * named_args["O"].element_size()
    wanted = set(candidates(rung, bits, kwargs["BLOCK_D"]))
    mine = [
        c for c in configs if (c.kwargs["BLOCK_M"], c.kwargs["BLOCK_N"], c.num_warps, c.num_stages) in wanted
    ]
    return mine or configs[:1]


@triton.autotune(
    configs=_configs(),
    key=["N_Q_BUCKET", "N_K_BUCKET", "HEAD_DIM", "CAUSAL", "DEEP", "OVERLAP", "PERSISTENT",
    "WARP_SPECIALIZE", "FP8"],
    prune_configs_by={"early_config_prune": _prune},
)
@triton.jit
def _ladder_fwd_kernel(
    desc_q, desc_k, desc_v, desc_o,   # descriptors over the (batch·heads·N, D) views (FP8: V as (·D, N))
    O, LSE,                           # O's storage (for a partial last block) and L (batch·heads, N_q), fp32
    Q_SCALE, K_SCALE, V_SCALE,        # FP8 scales: per (head, block of rows) for Q and K, per head for V
    n_bh, N_Q, N_K, N_Q_BUCKET, N_K_BUCKET, qk_scale, stride_o_row, n_k_blocks, num_programs,
    HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, CAUSAL: tl.constexpr,
    DEEP: tl.constexpr, OVERLAP: tl.constexpr, PERSISTENT: tl.constexpr, WARP_SPECIALIZE: tl.constexpr,
    FP8: tl.constexpr, QUANT_BLOCK: tl.constexpr, PRECISION: tl.constexpr, UPCAST: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
):
    """Every rung above fa2. Not persistent: grid = (⌈N_q/B_r⌉, batch·heads), one tile per program.
    PERSISTENT:
    grid = (num_programs,), the SM count; program p takes tiles p, p + num_programs, ... (head-major, so that
    programs running together share a head's K and V in L2; causal: each head's longest rows first)."""
    n_m = tl.cdiv(N_Q, BLOCK_M)
    if PERSISTENT:
        for tile in tl.range(tl.program_id(0), n_m * n_bh, num_programs, num_stages=1):
            bh = tile // n_m
            m_block = tile % n_m
            if CAUSAL:
                m_block = n_m - 1 - m_block  # the heaviest query blocks (most keys) first
            _attend_tile(desc_q, desc_k, desc_v, desc_o, O, LSE, Q_SCALE, K_SCALE, V_SCALE,
                         bh, m_block * BLOCK_M, N_Q, N_K, qk_scale, stride_o_row, n_k_blocks,
                         HEAD_DIM, BLOCK_D, BLOCK_M, BLOCK_N, QUANT_BLOCK, CAUSAL, OVERLAP, WARP_SPECIALIZE,
                         FP8,
                         PRECISION, UPCAST)
    else:
        _attend_tile(desc_q, desc_k, desc_v, desc_o, O, LSE, Q_SCALE, K_SCALE, V_SCALE,
                     tl.program_id(1), tl.program_id(0) * BLOCK_M, N_Q, N_K, qk_scale, stride_o_row,
                     n_k_blocks,
                     HEAD_DIM, BLOCK_D, BLOCK_M, BLOCK_N, QUANT_BLOCK, CAUSAL, OVERLAP, WARP_SPECIALIZE, FP8,
                     PRECISION, UPCAST)


# fmt: on


# -- launchers -------------------------------------------------------------------------------------

_SM_COUNT: dict[int, int] = {}


def _programs(device: torch.device) -> int:
    """Programs of a persistent launch: one per SM (a 128-row tile's registers and shared memory fill an SM);
    under the interpreter, 3, so that the tests see programs take several tiles each."""
    if _INTERPRET or device.type != "cuda":
        return 3
    index = device.index if device.index is not None else torch.cuda.current_device()
    if index not in _SM_COUNT:
        _SM_COUNT[index] = torch.cuda.get_device_properties(index).multi_processor_count
    return _SM_COUNT[index]


def _block_d(width: int) -> int:
    return max(16, triton.next_power_of_2(width))


def _rows(t: torch.Tensor, width: int) -> torch.Tensor:
    """``t`` (B, H, N, d) as one contiguous (B·H·N, width) matrix, zero-padded from d to ``width`` columns."""
    b, h, n, d = t.shape
    if width != d:
        t = torch.nn.functional.pad(t, (0, width - d))
    return t.reshape(b * h * n, width).contiguous()


def _descriptor(t: torch.Tensor) -> Any:
    from triton.tools.tensor_descriptor import TensorDescriptor

    return TensorDescriptor(t, shape=list(t.shape), strides=list(t.stride()), block_shape=[1, 1])


def _launch(
    rung: Rung,
    q2: torch.Tensor,
    k2: torch.Tensor,
    v2: torch.Tensor,
    scales: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None,
    shape: tuple[int, int, int, int, int],
    causal: bool,
    sm_scale: float,
    out_dtype: torch.dtype,
    quant_block: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the ladder's kernel on prepared (rows, width) operands; returns O as (B·H·N_q, width) and L."""
    batch, heads, n_q, n_k, width = shape
    device = q2.device
    o2 = torch.empty((batch * heads * n_q, width), device=device, dtype=out_dtype)
    lse = torch.empty((batch, heads, n_q), device=device, dtype=torch.float32)
    block_d = _block_d(width)
    if scales is None:  # not read: any fp32 tensor will do
        scales = (lse, lse, lse)
    programs = _programs(device)
    bits = 32 if q2.dtype == torch.float32 else 16

    def grid(meta: dict[str, Any]) -> tuple[int, ...]:
        if rung.persistent:
            return (programs,)
        return (triton.cdiv(n_q, meta["BLOCK_M"]), batch * heads)

    _ladder_fwd_kernel[grid](
        _descriptor(q2), _descriptor(k2), _descriptor(v2), _descriptor(o2), o2, lse, *scales,
        batch * heads, n_q, n_k, length_bucket(n_q), length_bucket(n_k), sm_scale * _LOG2E, o2.stride(0),
        triton.cdiv(n_k, quant_block), programs,
        HEAD_DIM=width, BLOCK_D=block_d, CAUSAL=bool(causal),
        DEEP=rung.deep_pipeline, OVERLAP=rung.overlap, PERSISTENT=rung.persistent,
        WARP_SPECIALIZE=rung.warp_specialize, FP8=rung.fp8, QUANT_BLOCK=quant_block,
        PRECISION="ieee" if bits == 32 else "tf32",
        UPCAST=_INTERPRET and (q2.dtype == torch.bfloat16 or out_dtype == torch.bfloat16),
    )  # fmt: skip
    return o2, lse


def _rung(kernel: str) -> Rung:
    if kernel not in RUNGS:
        raise ValueError(f"unknown kernel {kernel!r}; the ladder's rungs: {', '.join(RUNGS)}")
    return RUNGS[kernel]


def rung_forward(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = False,
    scale: float | None = None,
    kernel: str = "tma",
) -> tuple[torch.Tensor, torch.Tensor]:
    """The forward pass of one rung: O (B, H, N_q, d) in q's dtype and L (B, H, N_q) in fp32, L the
    natural-log
    log-sum-exp of each row of scale·QKᵀ (what FlashAttention-2's backward recomputes P from). ``fp8``:
    ``fp8_forward`` with its defaults."""
    rung = _rung(kernel)
    if rung.name == "fa2":
        return flash_attention_forward(q, k, v, causal, scale)
    if rung.fp8:
        return fp8_forward(q, k, v, causal, scale)
    _check_inputs(q, k, v)
    batch, heads, n_q, d = q.shape
    n_k = k.shape[2]
    per_row = 16 // q.element_size()  # a TMA row must be a multiple of 16 bytes
    width = -(-d // per_row) * per_row
    q2, k2, v2 = (_rows(t, width) for t in (q, k, v))
    o2, lse = _launch(
        rung,
        q2,
        k2,
        v2,
        None,
        (batch, heads, n_q, n_k, width),
        causal,
        _scale(q, scale),
        q.dtype,
        QUANT_BLOCK,
    )
    return o2.view(batch, heads, n_q, width)[..., :d], lse


# -- FP8 ---------------------------------------------------------------------------------------------


def hadamard(n: int, seed: int = 0, device: torch.device | str = "cpu") -> torch.Tensor:
    """A random orthogonal n × n matrix M = H·diag(±1)/√n (n a power of two, H Sylvester's Hadamard matrix):
    (QM)(KM)ᵀ = QKᵀ exactly, while an outlier of one column of Q or K is spread over all n (§3.3's incoherent
    processing). float32."""
    h = torch.ones(1, 1)
    while h.shape[0] < n:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    signs = torch.randint(0, 2, (n,), generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return (h * signs[None, :] / math.sqrt(n)).to(device)


def quantize_fp8(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, block: int = QUANT_BLOCK, rotate: bool = False
) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, torch.Tensor, torch.Tensor], int]:
    """Q, K, V in e4m3 with their scales, laid out as the fp8 rung reads them.

    Q and K: one scale per (head, block of ``block`` rows) = that block's max |x| / 448, so every block uses
    e4m3's whole range; V: one scale per head, transposed to (B·H·D, N_k) with N_k padded to a multiple of 16
    (Hopper's FP8 MMA reads its B operand K-major, i.e. with the summed dimension contiguous: for P·V that is
    the key dimension of V). Head dims are zero-padded to the kernel's power of two D. ``rotate``: Q and K are
    first multiplied by ``hadamard(D)`` (QKᵀ unchanged). Returns ((q8, k8, vt8), (q_scale, k_scale,
    v_scale), D).
    """
    batch, heads, _, d = q.shape
    n_k = k.shape[2]
    width = _block_d(d)
    e4m3 = torch.float8_e4m3fn

    def pad(t: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.pad(t.float(), (0, width - d)) if width != d else t.float()

    qf, kf, vf = pad(q), pad(k), pad(v)
    if rotate:
        m = hadamard(width, device=q.device)
        qf, kf = qf @ m, kf @ m

    def per_block(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = t.shape[2]
        blocks = -(-n // block)
        padded = torch.nn.functional.pad(t, (0, 0, 0, blocks * block - n))
        amax = padded.reshape(batch * heads, blocks, block * width).abs().amax(-1)
        scale = (amax / E4M3_MAX).clamp_min(torch.finfo(torch.float32).tiny)
        x = (t.reshape(batch * heads, n, width) / scale.repeat_interleave(block, 1)[:, :n, None]).to(e4m3)
        return x.reshape(batch * heads * n, width), scale.contiguous()

    q8, q_scale = per_block(qf)
    k8, k_scale = per_block(kf)
    # `overlap` computes one block past the end of each key range (its result discarded), so the last head's
    # scale lookup reads one entry past its own: a spare 1.0 keeps that read inside the tensor.
    k_scale = torch.cat([k_scale.flatten(), k_scale.new_ones(1)])
    v_scale = (vf.reshape(batch * heads, -1).abs().amax(-1) / E4M3_MAX).clamp_min(
        torch.finfo(torch.float32).tiny
    )
    n_pad = -(-n_k // 16) * 16
    vt = (vf.reshape(batch * heads, n_k, width) / v_scale[:, None, None]).transpose(1, 2)
    vt8 = torch.nn.functional.pad(vt, (0, n_pad - n_k)).to(e4m3).reshape(batch * heads * width, n_pad)
    return (q8, k8, vt8.contiguous()), (q_scale, k_scale, v_scale.contiguous()), width


def fp8_forward(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = False,
    scale: float | None = None,
    rotate: bool = False,
    block: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The fp8 rung: quantize (``quantize_fp8``), then the ladder's kernel on e4m3 operands. O in q's dtype
    (B, H, N_q, d), L as ``rung_forward``'s. The quantization runs in PyTorch, outside the kernel: the
    benchmark times the kernel alone and, in a row of its own, the two together."""
    _check_inputs(q, k, v)
    batch, heads, n_q, d = q.shape
    n_k = k.shape[2]
    block = block or (32 if _INTERPRET else QUANT_BLOCK)
    (q8, k8, vt8), scales, width = quantize_fp8(q, k, v, block=block, rotate=rotate)
    return fp8_attention(
        q8, k8, vt8, scales, (batch, heads, n_q, n_k, width), d, causal, _scale(q, scale), q.dtype, block
    )


def fp8_attention(
    q8: torch.Tensor,
    k8: torch.Tensor,
    vt8: torch.Tensor,
    scales: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    shape: tuple[int, int, int, int, int],
    d: int,
    causal: bool,
    sm_scale: float,
    out_dtype: torch.dtype,
    block: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The fp8 rung's kernel on operands ``quantize_fp8`` made (what the benchmark times)."""
    batch, heads, n_q, _, width = shape
    o2, lse = _launch(RUNGS["fp8"], q8, k8, vt8, scales, shape, causal, sm_scale, out_dtype, block)
    return o2.view(batch, heads, n_q, width)[..., :d], lse


# -- autograd ------------------------------------------------------------------------------------------


class _RungAttention(torch.autograd.Function):
    """A rung's forward, FlashAttention-2's backward (from the O and L this forward saved)."""

    @staticmethod
    def forward(
        ctx: Any,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        causal: bool,
        scale: float | None,
        kernel: str,
    ) -> torch.Tensor:
        o, lse = rung_forward(q, k, v, causal, scale, kernel)
        ctx.save_for_backward(q, k, v, o, lse)
        ctx.causal = causal
        ctx.sm_scale = _scale(q, scale)
        return o

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, do: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        q, k, v, o, lse = ctx.saved_tensors
        q, k, v = (t if t.stride(-1) == 1 else t.contiguous() for t in (q, k, v))
        dq, dk, dv = _flash_attention_backward(do, q, k, v, o, lse, ctx.causal, ctx.sm_scale)
        return dq, dk, dv, None, None, None


def flash_attention_rung(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = False,
    scale: float | None = None,
    kernel: str = "tma",
) -> torch.Tensor:
    """softmax(scale·QKᵀ)V with the forward kernel of the ladder's rung ``kernel`` (``RUNGS``), differentiable
    through FlashAttention-2's backward for every rung but ``fp8`` (forward-only: asking it for gradients
    is an error). Shapes and conventions as ``triton_kernel.flash_attention_triton``."""
    rung = _rung(kernel)
    if rung.fp8:
        if torch.is_grad_enabled() and any(t.requires_grad for t in (q, k, v)):
            raise ValueError(
                "flash_attention_rung: the fp8 rung is forward-only (as FlashAttention-3's FP8 results are); "
                "call it under torch.no_grad(), or pick a bf16 rung for training"
            )
        return fp8_forward(q, k, v, causal, scale)[0]
    out: torch.Tensor = _RungAttention.apply(q, k, v, bool(causal), scale, rung.name)
    return out
