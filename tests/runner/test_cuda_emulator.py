"""The emulated CUDA device (readtrack.runner.cuda_emulator): CUDA's device rules caught on a CPU-only
machine, the numbers the CPU's, TF32 rounding where CUDA's flags say so, and the device index honoured.

The emulator stands in for what cannot exist here (a GPU); everything else is real: torch's dispatcher,
autograd, optimizers, the runner, plugins written to disk.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("torch")

import torch
from fake_plugins import write_plugin

from readtrack.base.errors import DeviceError
from readtrack.runner import (
    cuda_emulator,
    devices,
    run_plugin,
)

try:
    cuda_emulator.install()
except RuntimeError as err:  # a torch without Python backends (older than 2.8)
    pytest.skip(f"no emulated device: {err}", allow_module_level=True)


@pytest.fixture(autouse=True)
def _ieee() -> object:
    with cuda_emulator.tf32_rounding(False):
        yield


# -- the rules ---------------------------------------------------------------------------------------------
MISPLACED = {
    "torch.where with a CPU mask": lambda x: torch.where(torch.ones(3, 4, dtype=torch.bool), x, x),
    "torch.cat with a CPU tensor": lambda x: torch.cat([x, torch.zeros(1, 4)]),
    "an embedding looked up with CPU ids": lambda x: torch.nn.functional.embedding(torch.tensor([0, 2]), x),
    "a loss with CPU targets": lambda x: torch.nn.functional.cross_entropy(x, torch.tensor([0, 1, 2])),
    "a matrix product with a CPU weight": lambda x: x @ torch.ones(4, 2),
    "two device indices in one op": lambda x: x + x.to("emu:1"),
    "a 1-element CPU tensor is not a scalar": lambda x: x * torch.ones(1),
}


@pytest.mark.parametrize("mistake", MISPLACED, ids=list(MISPLACED))
def test_tensors_of_two_devices_in_one_op_fail_as_on_cuda(mistake: str) -> None:
    x = torch.randn(3, 4, device="emu")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        MISPLACED[mistake](x)


def test_what_cuda_allows_across_devices_is_allowed() -> None:
    x = torch.randn(3, 4, device="emu")
    assert (x * torch.tensor(2.0)).device == torch.device("emu:0")  # a 0-dim CPU tensor is a scalar
    assert x[torch.tensor([0, 2])].shape == (2, 4)  # CPU indices are copied by CUDA itself
    y = x.clone()
    y[torch.tensor([1])] = 0.0
    assert y.cpu()[1].abs().sum().item() == 0
    assert x.cpu().device.type == "cpu" and x.to("cpu").device.type == "cpu"
    assert torch.equal(torch.zeros(3, 4, device="emu").copy_(x.cpu()).cpu(), x.cpu())
    assert x.to("emu:1").device == torch.device("emu:1")


def test_a_generator_must_be_on_the_ops_device() -> None:
    with cuda_emulator.rules():  # as in the runner's stages on emu
        _generators_on_their_devices()


def _generators_on_their_devices() -> None:
    on_device = torch.Generator(device="emu").manual_seed(0)
    assert on_device.device == torch.device("emu:0")
    with pytest.raises(RuntimeError, match="Expected a 'emu' device type for generator but found 'cpu'"):
        torch.randn(3, device="emu", generator=torch.Generator().manual_seed(0))
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator but found 'emu'"):
        torch.randn(3, generator=on_device)
    with pytest.raises(RuntimeError, match="generator"):
        torch.zeros(3, device="emu").uniform_(generator=torch.Generator())
    # the device's generator draws what a CPU generator with the same seed draws
    drawn = torch.randn(5, device="emu", generator=on_device)
    assert torch.equal(drawn.cpu(), torch.randn(5, generator=torch.Generator().manual_seed(0)))
    assert isinstance(torch.default_generator, torch.Generator)


def test_numpy_of_a_device_tensor_is_refused_and_host_copies_work() -> None:
    pytest.importorskip("numpy")
    x = torch.arange(3.0, device="emu")
    with pytest.raises(TypeError, match="can't convert emu:0 device type tensor to numpy"):
        x.numpy()
    assert x.cpu().numpy().tolist() == [0.0, 1.0, 2.0]
    assert x.tolist() == [0.0, 1.0, 2.0] and x.sum().item() == 3.0 and f"{x.sum():.1f}" == "3.0"


def test_the_generator_rules_apply_inside_their_block_only() -> None:
    assert torch.Generator is torch._C.Generator
    with cuda_emulator.rules(), cuda_emulator.rules():
        assert torch.Generator is not torch._C.Generator
    assert torch.Generator is torch._C.Generator
    torch.randn(2, generator=torch.Generator())  # no rule left behind


# -- the numbers are the CPU's -----------------------------------------------------------------------------
def _train(device: str) -> list[torch.Tensor]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Dropout(0.1),
        torch.nn.Linear(4 * 6 * 6, 3),
    ).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    images = torch.randn(16, 1, 6, 6).to(device)
    labels = torch.randint(0, 3, (16,)).to(device)
    for _ in range(5):
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return [p.detach().cpu() for p in model.parameters()]


def test_a_training_loop_gives_exactly_the_cpus_numbers() -> None:
    on_cpu, emulated = _train("cpu"), _train("emu")
    assert all(torch.equal(a, b) for a, b in zip(on_cpu, emulated, strict=True))


@pytest.mark.parametrize("layer", [torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN])
def test_recurrent_layers_run_cudas_fused_cells_and_match_the_cpu(layer: type) -> None:
    torch.manual_seed(0)
    net = layer(3, 5, num_layers=2, batch_first=True).double()
    x = torch.randn(2, 7, 3, dtype=torch.float64)
    out, grads = _value_and_grads(net, x)
    net.to("emu")
    out_emu, grads_emu = _value_and_grads(net, x.to("emu"))
    torch.testing.assert_close(out_emu.cpu(), out, rtol=0, atol=1e-12)
    torch.testing.assert_close(grads_emu.cpu(), grads, rtol=0, atol=1e-12)


def _value_and_grads(net: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.detach().requires_grad_()
    out = net(x)[0]
    grads = torch.autograd.grad((out * out).sum(), [x, *net.parameters()])
    return out.detach(), torch.cat([g.flatten() for g in grads])


def test_complex_views_and_in_place_metadata_changes_keep_their_meaning() -> None:
    x = torch.randn(2, 8, dtype=torch.float64)
    w = torch.polar(torch.ones(4, dtype=torch.float64), torch.linspace(0, 1, 4, dtype=torch.float64))

    def rotate(t: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return torch.view_as_real(torch.view_as_complex(t.reshape(2, 4, 2)) * w).flatten(-2)

    grads = [
        torch.autograd.grad(rotate(t, w.to(t.device)).pow(3).sum(), t)[0].cpu()
        for t in (x.clone().requires_grad_(), x.to("emu").requires_grad_())
    ]
    assert torch.equal(grads[0], grads[1])
    y = torch.randn(2, 3, device="emu")
    y.transpose_(0, 1)
    assert y.shape == (3, 2) and y.cpu().shape == (3, 2)
    assert torch.arange(5, device="emu").tolist() == [0, 1, 2, 3, 4]


def test_module_dtype_changes_and_parameter_data_follow_the_tensor() -> None:
    net = torch.nn.Linear(2, 2).to("emu").double()
    assert net.weight.dtype == torch.float64 and net.weight.cpu().dtype == torch.float64
    assert net(torch.ones(2, dtype=torch.float64, device="emu")).dtype == torch.float64
    assert net.weight.untyped_storage().nbytes() == 4 * 8  # memory accounting sees the real storage


# -- TF32 ----------------------------------------------------------------------------------------------------
def test_tf32_keeps_ten_mantissa_bits_rounding_to_nearest() -> None:
    one_ulp = 2.0**-10
    x = torch.tensor([1.0, 1 + 2**-12, 1 + 2**-11, 1 + 3 * 2**-12, -(1 + 2**-11), float("inf")])
    expected = torch.tensor([1.0, 1.0, 1 + one_ulp, 1 + one_ulp, -(1 + one_ulp), float("inf")])
    assert torch.equal(cuda_emulator.to_tf32(x), expected)
    assert (cuda_emulator.to_tf32(torch.randn(1000)).view(torch.int32) & 0x1FFF).eq(0).all()


def test_tf32_rounding_follows_the_flags_in_force() -> None:
    torch.manual_seed(0)
    image, kernel = torch.randn(1, 3, 9, 9), torch.randn(4, 3, 3, 3)
    a, b = torch.randn(16, 32), torch.randn(32, 8)
    exact_conv = torch.nn.functional.conv2d(image, kernel)
    on = {"conv": "tf32", "rnn": "tf32"}
    with cuda_emulator.tf32_rounding():
        assert {k: devices.float32_precision()[k] for k in on} == on  # CUDA's defaults
        conv = torch.nn.functional.conv2d(image.to("emu"), kernel.to("emu")).cpu()
        expected = torch.nn.functional.conv2d(cuda_emulator.to_tf32(image), cuda_emulator.to_tf32(kernel))
        assert torch.equal(conv, expected) and not torch.allclose(conv, exact_conv, rtol=1e-5, atol=1e-6)
        assert torch.equal((a.to("emu") @ b.to("emu")).cpu(), a @ b)  # matmul: IEEE unless asked
        with devices.ieee_float32():
            assert devices.float32_precision() == {"matmul": "ieee", "conv": "ieee", "rnn": "ieee"}
            assert torch.equal(
                torch.nn.functional.conv2d(image.to("emu"), kernel.to("emu")).cpu(), exact_conv
            )
        assert devices.float32_precision()["conv"] == "tf32"  # restored


def test_a_recurrent_layer_is_rounded_under_cudnns_rnn_flag_only() -> None:
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(4, 8, batch_first=True)
    x = torch.randn(2, 5, 4)
    exact = lstm(x)[0]
    lstm.to("emu")
    with cuda_emulator.rules(), cuda_emulator.tf32_rounding():  # rules(): where a recurrent layer runs
        rounded = lstm(x.to("emu"))[0].cpu()
        with devices.ieee_float32():
            ieee = lstm(x.to("emu"))[0].cpu()
    assert (rounded - exact).abs().max() > 1e-5
    assert (ieee - exact).abs().max() < 1e-6


# -- devices and the runner ------------------------------------------------------------------------------
def test_emu_is_a_device_of_the_cli_for_plugins_that_support_cuda() -> None:
    assert devices.resolve_device("emu", ("cpu", "cuda")) == "emu:0"
    assert devices.resolve_device("EMU:1", ("cpu", "cuda")) == "emu:1"
    with pytest.raises(DeviceError, match="out of range: 2 emulated devices"):
        devices.resolve_device("emu:2", ("cpu", "cuda"))
    with pytest.raises(DeviceError, match="does not support cuda, which emu emulates"):
        devices.resolve_device("emu", ("cpu",), plugin="cpu-only")


def test_a_cuda_index_is_the_requests_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--device cuda:1`` on a machine with two GPUs. A second GPU is what a test here cannot have, so
    torch's two CUDA queries are faked (only they: the index is read and checked by our code)."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert devices.resolve_device("cuda:1", ("cpu", "cuda")) == "cuda:1"
    assert devices.resolve_device("CUDA:0", ("cpu", "cuda")) == "cuda:0"
    assert devices.resolve_device("cuda", ("cpu", "cuda")) == "cuda:0"
    with pytest.raises(DeviceError, match=r"cuda:2 is out of range: 2 CUDA devices here \(cuda:0 to cuda:1"):
        devices.resolve_device("cuda:2", ("cpu", "cuda"))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(DeviceError, match=r"1 CUDA device here \(cuda:0 to cuda:0\)"):
        devices.resolve_device("cuda:1", ("cpu", "cuda"))


ON_THE_CURRENT_DEVICE = """
import torch


def check(ctx):
    kind = torch.device(ctx.device).type  # "cuda" or "emu": no index, as much plugin code writes it
    g = torch.Generator(device=ctx.device).manual_seed(ctx.seed)
    x = torch.randn(8, device=kind, generator=g)
    ctx.check_property("made on the run's device", str(x.device) == ctx.device, str(x.device))
    ctx.check_close("x + x", x + x, 2 * x)


def train(ctx):
    w = torch.zeros(3, device=torch.device(ctx.device).type, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.5)
    for step in range(5):
        loss = ((w - 1) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        ctx.metric("loss", step, loss.item())
    ctx.target("loss", loss.item(), 0.1, higher_is_better=False)


def bench(ctx):
    x = torch.randn(64, 64, device=ctx.device)
    ctx.bench.measure("x @ x", lambda: x @ x, baseline=True)
"""


def test_a_run_on_index_1_puts_nothing_on_index_0(tmp_path: object, user_dir: object) -> None:
    write_plugin(user_dir, "current_device", ON_THE_CURRENT_DEVICE)
    before = cuda_emulator.created.copy()
    logs: list[str] = []

    def emit(event: dict) -> None:
        if event["type"] == "log":
            logs.append(event["message"])

    record = run_plugin("current_device", device="emu:1", quick=True, emit=emit)
    assert record.status == "passed", [(s.stage, s.error) for s in record.stages]
    made = cuda_emulator.created - before
    assert made[1] > 0 and made[0] == 0, made
    # Without the runner making index 1 current, the same code lands on index 0: the test can fail.
    assert torch.zeros(1, device="emu").device == torch.device("emu:0")
    assert record.info.environment["float32"]["conv"] in ("tf32", "ieee")
    assert record.info.environment["device_name"].startswith("CUDA emulated on")
    assert any("times the emulator on the CPU, not a GPU" in message for message in logs)


def test_set_up_after_a_backward_pass_it_says_so_in_words() -> None:
    """torch's autograd counts devices at a process's first backward pass: later, one clear line."""
    import subprocess
    import sys

    code = (
        "import torch\n"
        "x = torch.ones(1, requires_grad=True); (2 * x).sum().backward()\n"
        "from readtrack.runner import devices\n"
        "devices.resolve_device('emu', ('cpu', 'cuda'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert (
        "DeviceError: the emulated CUDA device is not available here: the emulated device must be set up"
        in last
    )
    assert "before this process's first backward pass" in last


def test_ieee_float32_keeps_torchs_own_cudnn_flags_working_and_a_users_settings() -> None:
    backends: Any = torch.backends  # cudnn.conv and cudnn.rnn: set at runtime, by newer torch only
    assert devices.float32_precision() == {"matmul": "ieee", "conv": "tf32", "rnn": "tf32"}  # CUDA's defaults
    with devices.ieee_float32():
        assert devices.float32_precision() == {"matmul": "ieee", "conv": "ieee", "rnn": "ieee"}
        with backends.cudnn.flags(enabled=True, allow_tf32=False):  # torch's own context manager still works
            pass
    assert devices.float32_precision() == {"matmul": "ieee", "conv": "tf32", "rnn": "tf32"}
    if not hasattr(getattr(backends.cudnn, "conv", None), "fp32_precision"):
        return
    before = backends.cudnn.conv.fp32_precision, backends.cudnn.rnn.fp32_precision
    try:  # a user who set convolutions apart from RNNs with torch's newer settings
        backends.cudnn.conv.fp32_precision = "ieee"
        assert devices.float32_precision()["conv"] == "ieee" and devices.float32_precision()["rnn"] == "tf32"
        with devices.ieee_float32():
            assert set(devices.float32_precision().values()) == {"ieee"}
        assert devices.float32_precision()["rnn"] == "tf32"
    finally:
        backends.cudnn.conv.fp32_precision, backends.cudnn.rnn.fp32_precision = before
    assert devices.float32_precision() == {"matmul": "ieee", "conv": "tf32", "rnn": "tf32"}


def test_torchs_random_state_helpers_work_with_the_device_installed() -> None:
    """torch.random.fork_rng forks the current accelerator's state, here the emulator's (the CPU's)."""
    torch.manual_seed(5)
    with torch.random.fork_rng():
        torch.randn(3)
    after_fork = torch.randn(3)
    torch.manual_seed(5)
    assert torch.equal(after_fork, torch.randn(3))
    torch.emu.manual_seed(7)  # type: ignore[attr-defined]  # registered by cuda_emulator.install()
    drawn = torch.randn(2, device="emu").cpu()
    assert torch.equal(drawn, torch.randn(2, generator=torch.Generator().manual_seed(7)))
