"""The megabyte plugin: the patch offsets and the whole model against the loop-written reference on more
shapes and patch sizes, what the offsets guarantee (causality, padding), the FLOP formulas, and checks that
fail for a global input without the one-patch offset or a local input that sees its own byte; the train claim
misses without the local model's bytes."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.megabyte.experiment import (
    ReferenceStack,
    counted_flops,
    flat_flops,
    global_input_loop,
    local_offset_loop,
    megabyte_flops,
    reference_megabyte,
)
from readtrack_plugins.megabyte.model import Flat, Megabyte, MegabyteConfig, global_input, local_offset

from readtrack.runner import run_plugin
from readtrack.testing import check_catches, reported_claim


def _model(P: int, seed: int = 0) -> Megabyte:
    torch.manual_seed(seed)
    cfg = MegabyteConfig(vocab=5, P=P, max_len=24, d_G=3, d_L=6, global_layers=1, local_layers=2, heads=3)
    model = Megabyte(cfg).double()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.3 if p.dim() == 2 else 1.0)
    return model


@pytest.mark.parametrize("P", [1, 2, 3, 5])
@pytest.mark.parametrize("T", [1, 2, 7, 10, 11])
def test_the_model_equals_the_loop_written_reference(P: int, T: int) -> None:
    model = _model(P)
    x = torch.randint(0, 5, (3, T), generator=torch.Generator().manual_seed(T))
    stacks = (ReferenceStack(model.global_model), ReferenceStack(model.local_model))
    torch.testing.assert_close(model(x), reference_megabyte(model, stacks, x))


@pytest.mark.parametrize(("K", "P"), [(1, 1), (2, 1), (4, 2), (3, 7)])
def test_the_offsets_equal_the_loops(K: int, P: int) -> None:
    h, pad = torch.randn(2, K * P, 3), torch.randn(P * 3)
    assert torch.equal(global_input(h, pad, P), global_input_loop(h, pad, P))
    e, pad_l = torch.randn(2, K, P, 4), torch.randn(4)
    assert torch.equal(local_offset(e, pad_l), local_offset_loop(e, pad_l))


@pytest.mark.parametrize("P", [2, 3, 4])
def test_changing_byte_t_changes_no_prediction_up_to_t(P: int) -> None:
    """Row t predicts x_t: it must not move when any byte ≥ t changes, and must move for some byte < t."""
    model = _model(P)
    x = torch.randint(0, 5, (1, 13), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        base = model(x)
        for t in range(13):
            y = x.clone()
            y[0, t] = (y[0, t] + 1) % 5
            changed = (model(y) - base).abs().amax(dim=-1)[0] > 1e-12  # (T,)
            assert not bool(changed[: t + 1].any()), (t, changed)
            assert bool(changed[t + 1 :].all()), (t, changed)


def test_without_local_bytes_a_patch_s_own_bytes_reach_no_prediction_in_it() -> None:
    """``local_bytes=False`` (the knob ``local=pad``): a byte changes no prediction in its own patch, only
    those of later patches, through the global model."""
    torch.manual_seed(0)
    cfg = MegabyteConfig(vocab=5, P=4, max_len=12, d_G=3, d_L=6, global_layers=1, heads=3, local_bytes=False)
    model = Megabyte(cfg).double()
    x = torch.randint(0, 5, (1, 12), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        for t in range(12):
            y = x.clone()
            y[0, t] = (y[0, t] + 1) % 5
            changed = (model(y) - model(x)).abs().amax(dim=-1)[0] > 1e-12  # (T,)
            end = (t // 4 + 1) * 4  # the end of t's patch
            assert not bool(changed[:end].any()), (t, changed)
            assert bool(changed[end:].all()), (t, changed)


def test_padding_and_too_long_sequences() -> None:
    model = _model(4)
    x = torch.randint(0, 5, (2, 24))
    with torch.no_grad():
        for T in (1, 5, 21):
            torch.testing.assert_close(model(x[:, :T]), model(x)[:, :T])
    with pytest.raises(ValueError, match="max_len"):
        model(torch.zeros(1, 25, dtype=torch.long))


@pytest.mark.parametrize(("P", "T", "B"), [(1, 5, 1), (3, 10, 2), (8, 64, 1)])
def test_the_flop_formulas_count_every_matmul(P: int, T: int, B: int) -> None:
    cfg = MegabyteConfig(vocab=9, P=P, max_len=64, d_G=4, d_L=12, global_layers=2, local_layers=1, heads=2)
    x = torch.randint(0, 9, (B, T))
    assert counted_flops(Megabyte(cfg), x) == megabyte_flops(cfg, B, T)
    assert counted_flops(Flat(9, 64, 16, 2, 3), x) == flat_flops(9, 16, 3, B, T)


def test_megabyte_is_cheaper_per_byte_as_sequences_grow() -> None:
    """Global attention over T/P patches and local attention within P bytes: the FLOP ratio to the flat
    model of the same width falls with T (the flat model's T² attention term)."""
    cfg = MegabyteConfig(vocab=16, P=4, max_len=4096, d_G=16, d_L=32, global_layers=2)
    ratios = [megabyte_flops(cfg, 1, T) / flat_flops(16, 64, 2, 1, T) for T in (32, 256, 4096)]
    assert ratios[0] < 0.5 and ratios[0] > ratios[1] > ratios[2]


def no_patch_offset(h_embed: torch.Tensor, pad: torch.Tensor, P: int) -> torch.Tensor:
    """Broken eq. 2: patch k holds its own bytes, so the global model sees the bytes it must predict."""
    B, T, D = h_embed.shape
    return h_embed.reshape(B, T // P, P * D)


def no_byte_offset(byte_embed: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
    """Broken eq. 4: position p holds byte p of its patch, the byte it predicts."""
    return byte_embed


@pytest.mark.parametrize(
    ("target", "broken", "caught_by"),
    [
        ("readtrack_plugins.megabyte.model.global_input", no_patch_offset, "MEGABYTE logits vs eqs. 1-6"),
        ("readtrack_plugins.megabyte.model.local_offset", no_byte_offset, "causal: no output of MEGABYTE"),
    ],
)
def test_the_check_stage_catches_a_missing_offset(
    monkeypatch: pytest.MonkeyPatch, target: str, broken: object, caught_by: str
) -> None:
    monkeypatch.setattr(target, broken)
    check_catches("megabyte", caught_by)


def test_the_train_claim_fails_without_the_local_model_s_bytes() -> None:
    """``--set local=pad``, the idea removed: the local model sees no byte of its own patch (every position
    holds the pad), so a byte is predicted from earlier patches only. The quick run's claim (MEGABYTE at least
    0.1 nats ahead of the flat model at equal compute), reported since a knob is turned, must then miss."""
    record = run_plugin(
        "megabyte", device="cpu", quick=True, only="train", settings={"local": "pad"}, keep_history=False
    )
    (stage,) = record.stages
    assert not stage.targets
    lead = reported_claim(stage, "MEGABYTE nats above the floor minus the flat model's")
    assert not lead.passed and lead.value > 0, lead
