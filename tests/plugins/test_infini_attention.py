"""The infini-attention plugin: the compressive memory and local attention on more shapes than the check,
the memory's properties (causality, constant size, streaming, the delta rule's bindings, the passkey
task's layout), and checks that fail for a memory stored before it is read, a dropped normaliser, σ
without its +1 or a delta rule that adds instead of subtracting."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.infini_attention import experiment, model
from readtrack_plugins.infini_attention.experiment import (
    ASK,
    FILLER,
    KEY,
    SEGMENT,
    delta_rule_reference,
    explicit_linear_attention,
    passkey_batch,
    reference_layer,
    sdpa_per_segment,
)
from readtrack_plugins.infini_attention.model import (
    InfiniAttention,
    InfiniTransformer,
    compressive_memory,
    local_attention,
    retrieve,
    sigma,
    update,
)

from readtrack.testing import check_catches, failures, run_stage

SHAPES = [(1, 1), (1, 4), (3, 4), (4, 4), (9, 4), (17, 5), (12, 1), (7, 16)]  # (T, N), incl. T < N


def _qkv(T: int, heads: int = 2, d_k: int = 3, d_v: int = 4) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(T)
    q, k = (torch.randn(3, heads, T, d_k, generator=g, dtype=torch.float64) for _ in range(2))
    return q, k, torch.randn(3, heads, T, d_v, generator=g, dtype=torch.float64)


@pytest.mark.parametrize(("T", "N"), SHAPES)
@pytest.mark.parametrize("delta", [False, True])
def test_memory_equals_its_reference_forward_and_backward(T: int, N: int, delta: bool) -> None:
    q, k, v = (t.requires_grad_() for t in _qkv(T))
    ours = compressive_memory(q, k, v, N, delta=delta)[0]
    ref = (delta_rule_reference if delta else explicit_linear_attention)(q, k, v, N)
    torch.testing.assert_close(ours, ref)
    # A seeded upstream gradient, so that a failure is the same whatever tests ran before.
    w = torch.randn(ref.shape, generator=torch.Generator().manual_seed(T), dtype=ref.dtype)
    grads = torch.autograd.grad((ours * w).sum(), (q, k, v), materialize_grads=True)
    ref_grads = torch.autograd.grad((ref * w).sum(), (q, k, v), materialize_grads=True)  # the last keys: 0
    torch.testing.assert_close(grads, ref_grads)


@pytest.mark.parametrize(("T", "N"), SHAPES)
def test_local_attention_equals_sdpa_causal_in_each_segment(T: int, N: int) -> None:
    q, k, v = _qkv(T, d_k=4, d_v=4)
    torch.testing.assert_close(local_attention(q, k, v, N), sdpa_per_segment(q, k, v, N))


@pytest.mark.parametrize(("T", "N", "delta"), [(1, 3, False), (10, 3, True), (16, 4, False), (6, 1, True)])
def test_the_layer_equals_its_reference(T: int, N: int, delta: bool) -> None:
    layer = InfiniAttention(12, 4, N, delta=delta).double()
    with torch.no_grad():
        layer.beta.normal_(0, 2)
    x = torch.randn(2, T, 12, dtype=torch.float64)
    torch.testing.assert_close(layer(x)[0], reference_layer(layer, x))


def test_the_first_segment_reads_nothing_and_its_gradients_are_zero_not_nan() -> None:
    q, k, v = (t.requires_grad_() for t in _qkv(4))
    A_mem, _ = compressive_memory(q, k, v, 4)  # one segment: 0/0 of the empty memory, read as 0
    assert (A_mem == 0).all()
    grads = torch.autograd.grad(A_mem.sum(), (q, k, v), materialize_grads=True)
    assert all(torch.equal(g, torch.zeros_like(g)) for g in grads)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("delta", [False, True])
def test_a_large_upstream_gradient_through_the_empty_memory_stays_finite(
    dtype: torch.dtype, delta: bool
) -> None:
    """Two segments, an upstream gradient of 10 everywhere: the first segment's 0/0 must pass back 0, not the
    gradient/tiny that overflows to inf and meets M = 0 as NaN (one random upstream gradient in ~300 did)."""
    q, k, v = (t.to(dtype).requires_grad_() for t in _qkv(8))
    ours = compressive_memory(q, k, v, 4, delta=delta)[0]
    grads = torch.autograd.grad((ours * 10.0).sum(), (q, k, v))
    assert all(g.isfinite().all() for g in grads)
    ref = (delta_rule_reference if delta else explicit_linear_attention)(q, k, v, 4)
    torch.testing.assert_close(grads, torch.autograd.grad((ref * 10.0).sum(), (q, k, v)))


def test_a_key_reaches_the_later_segments_only() -> None:
    """Changing one key of segment 1 changes A_mem in segments 2 and 3, never in 0 or 1."""
    q, k, v = _qkv(16)
    before, _ = compressive_memory(q, k, v, 4)
    k = k.clone()
    k[:, :, 5] += 1.0
    after, _ = compressive_memory(q, k, v, 4)
    changed = (after - before).abs().amax(dim=(0, 1, 3)) > 0  # (T,)
    assert changed.tolist() == [False] * 8 + [True] * 8


@pytest.mark.parametrize("delta", [False, True])
def test_the_memory_holds_d_k_by_d_v_plus_d_k_numbers_per_head_whatever_the_length(delta: bool) -> None:
    layer = InfiniAttention(16, 4, 8, delta=delta)
    for T in (1, 8, 50, 400):
        _, memory = layer(torch.randn(2, T, 16))
        assert memory is not None
        M, z = memory
        assert M.shape == (2, 4, 4, 4) and z.shape == (2, 4, 4)


@pytest.mark.parametrize("delta", [False, True])
def test_a_stream_read_in_whole_segments_equals_one_pass(delta: bool) -> None:
    lm = InfiniTransformer(12, 16, 2, 2, 4, delta=delta).double().eval()
    tokens = torch.randint(0, 12, (2, 22))
    with torch.no_grad():
        whole, _ = lm(tokens)
        memories, parts = None, []
        for start, stop in ((0, 4), (4, 12), (12, 22)):
            out, memories = lm(tokens[:, start:stop], memories)
            parts.append(out)
    torch.testing.assert_close(torch.cat(parts, dim=1), whole)


def test_without_memory_each_segment_is_read_alone() -> None:
    layer = InfiniAttention(8, 2, 4, use_memory=False).double()
    x = torch.randn(1, 12, 8, dtype=torch.float64)
    y, memory = layer(x)
    assert memory is None
    torch.testing.assert_close(y[:, 8:], layer(x[:, 8:])[0])


def test_the_gate_moves_between_memory_and_local_attention() -> None:
    layer = InfiniAttention(8, 2, 4).double()
    x = torch.randn(1, 12, 8, dtype=torch.float64)
    local = InfiniAttention(8, 2, 4, use_memory=False).double()
    local.load_state_dict(layer.state_dict())
    with torch.no_grad():
        layer.beta.fill_(-60.0)  # sigmoid(−60) ≈ 1e-26: local attention alone
        torch.testing.assert_close(layer(x)[0], local(x)[0])
        layer.beta.fill_(60.0)  # memory alone: the first segment, with nothing stored, gives 0
        assert layer(x)[0][:, :4].abs().max() < 1e-20


def test_the_delta_rule_leaves_a_held_binding_alone_and_the_linear_rule_doubles_it() -> None:
    sk = sigma(torch.full((3, 3), -50.0, dtype=torch.float64).fill_diagonal_(0.5)).view(1, 1, 3, 3)
    V = torch.randn(1, 1, 3, 2, dtype=torch.float64)
    empty = (torch.zeros(1, 1, 3, 2, dtype=torch.float64), torch.zeros(1, 1, 3, dtype=torch.float64))
    held = update(sk, V, empty, delta=True)
    torch.testing.assert_close(retrieve(sk, *held), V)  # σ keys orthogonal: each key returns its value
    torch.testing.assert_close(update(sk, V, held, delta=True)[0], held[0])
    torch.testing.assert_close(update(sk, V, held, delta=False)[0], 2 * held[0])
    assert torch.equal(update(sk, V, held, delta=True)[1], 2 * held[1])  # z counts every store (eq. 4)


def test_sigma_is_elu_plus_one_and_positive() -> None:
    x = torch.linspace(-30, 5, 101, dtype=torch.float64)
    torch.testing.assert_close(sigma(x), torch.where(x > 0, x + 1, x.exp()))
    assert (sigma(x) > 0).all()


def test_the_passkey_sits_in_the_first_segment_and_ask_ends_the_stream() -> None:
    x, key = passkey_batch(64, 5, torch.Generator().manual_seed(0))
    assert x.shape == (64, 5 * SEGMENT) and (x[:, -1] == ASK).all()
    at = (x == KEY).int().argmax(dim=1)
    assert ((x == KEY).sum(1) == 1).all() and (at < SEGMENT - 1).all()
    assert torch.equal(x[torch.arange(64), at + 1], key) and (key >= FILLER).all()
    assert (x[:, SEGMENT:-1] < FILLER).all()  # only filler after the first segment


def test_no_state_is_created_off_the_input_device() -> None:
    layer = InfiniAttention(8, 2, 4, delta=True).to("meta")
    y, memory = layer(torch.empty(2, 10, 8, device="meta"))
    assert memory is not None
    assert y.device.type == memory[0].device.type == memory[1].device.type == "meta"


def update_before_retrieval(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    segment: int,
    memory: model.Memory | None = None,
    delta: bool = False,
) -> tuple[torch.Tensor, model.Memory]:
    """A broken memory: each segment is stored first and then read, so a token sees later ones."""
    memory = memory if memory is not None else model.empty_memory(q, v.shape[-1])
    out = []
    for q_s, k_s, v_s in zip(*(t.split(segment, dim=-2) for t in (q, k, v)), strict=True):
        memory = model.update(sigma(k_s), v_s, memory, delta)
        out.append(model.retrieve(sigma(q_s), *memory))
    return torch.cat(out, dim=-2), memory


def without_normaliser(sq: torch.Tensor, M: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """A broken eq. 3: σ(Q) M without dividing by σ(Q) z."""
    return sq @ M


def delta_added(sk: torch.Tensor, v: torch.Tensor, memory: model.Memory, delta: bool) -> model.Memory:
    """A broken eq. 5: what the memory returns is added to V instead of subtracted."""
    M, z = memory
    if delta:
        v = v + retrieve(sk, M, z)
    return M + sk.transpose(-2, -1) @ v, z + sk.sum(dim=-2)


@pytest.mark.parametrize(
    ("targets", "broken", "caught_by"),
    [
        (("experiment.compressive_memory", "model.compressive_memory"), update_before_retrieval, "causal"),
        (("model.retrieve",), without_normaliser, "memory retrieval (eqs. 3, 4)"),
        (("model.sigma",), F.elu, "memory retrieval (eqs. 3, 4)"),
        (("model.update", "experiment.update"), delta_added, "delta-rule memory (eq. 5)"),
    ],
    ids=["stored before read", "no normaliser z", "sigma without +1", "delta rule adds"],
)
def test_the_check_stage_catches_a_broken_memory(
    monkeypatch: pytest.MonkeyPatch, targets: tuple[str, ...], broken: object, caught_by: str
) -> None:
    for target in targets:
        module, name = target.split(".")
        monkeypatch.setattr({"model": model, "experiment": experiment}[module], name, broken)
    check_catches("infini-attention", caught_by)


def test_the_train_claim_fails_without_the_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """The idea removed: every model built by the train stage has its gate forced to local attention, so the
    passkey, which lies in an earlier segment, is out of reach and the with-memory targets fail."""

    def memoryless(*args: object) -> InfiniTransformer:
        *rest, _ = args  # the last positional argument is use_memory
        return InfiniTransformer(*rest, False)

    monkeypatch.setattr(experiment, "InfiniTransformer", memoryless)
    result = run_stage("infini-attention", "train")
    assert result.verdict() == "failed"
    assert all(not t.passed for t in result.targets), failures(result)
