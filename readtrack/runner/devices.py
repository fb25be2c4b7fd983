"""Which device a plugin runs on, and a description of the machine that goes with every run record.

``--device`` takes ``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps`` or ``emu``/``emu:N``. ``auto`` picks CUDA,
then MPS, then the CPU, among the kinds the plugin supports. ``emu`` is CUDA's device rules emulated on the
CPU (:mod:`readtrack.runner.cuda_emulator`): a plugin that supports CUDA runs there, and a tensor left on the
wrong device fails as it would on a GPU. A device that is not there (no CUDA build, no such GPU index, not a
Mac) or that the plugin does not support is one :class:`~readtrack.base.errors.DeviceError` line (exit 2).

Float32 on CUDA: cuBLAS and cuDNN may compute float32 products and convolutions in TF32 (10 mantissa bits),
by torch's flags (convolutions and recurrent layers by default, matrix products when asked).
:func:`float32_precision` reads what is in force, :func:`ieee_float32` turns TF32 off for a block (the
runner's check and train stages), and a run's environment records what its bench got.

torch is imported inside the functions: the CLI imports this module only to run a plugin. Every
``torch.cuda``/``torch.mps`` call is behind an availability check, so nothing here fails on a CPU build.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
from collections.abc import Iterator, Sequence
from typing import Any

from readtrack.base.errors import DeviceError
from readtrack.base.words import plural
from readtrack.runner.precision import float32_precision

DEVICE_CHOICES = "auto, cpu, cuda, cuda:N, mps or emu (CUDA emulated on the CPU)"
_INDEXED = re.compile(r"^(cuda|emu):(\d+)$")


def _torch_label() -> str:
    import torch

    return f"torch {torch.__version__}"


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(
    request: str, supported: Sequence[str] = ("cpu", "cuda", "mps"), *, plugin: str = ""
) -> str:
    """Turn a ``--device`` value into a torch device string (``cpu``, ``cuda:0``, ``mps``), or raise.

    ``supported`` are the device kinds the plugin declares; ``plugin`` names it in messages.
    """
    request = request.strip().lower()
    who = f"plugin {plugin}" if plugin else "this plugin"
    if request == "auto":
        if "cuda" in supported and cuda_available():
            return "cuda:0"
        if "mps" in supported and mps_available():
            return "mps"
        if "cpu" in supported:
            return "cpu"
        raise DeviceError(f"{who} supports {', '.join(supported)}, and none of them is available here")

    index_match = _INDEXED.match(request)
    kind = index_match.group(1) if index_match else request
    if kind not in ("cpu", "cuda", "mps", "emu"):
        raise DeviceError(f"unknown device {request!r}: use {DEVICE_CHOICES}")
    if kind == "emu":
        if "cuda" not in supported:
            raise DeviceError(
                f"{who} does not support cuda, which emu emulates (it supports {', '.join(supported)})"
            )
        return _emulated(request, int(index_match.group(2)) if index_match else 0)
    if kind not in supported:
        raise DeviceError(f"{who} does not support {kind} (it supports {', '.join(supported)})")

    if kind == "cpu":
        return "cpu"
    if kind == "mps":
        if not mps_available():
            raise DeviceError(f"MPS is not available here ({_torch_label()}, {platform.system()})")
        return "mps"
    if not cuda_available():
        raise DeviceError(f"CUDA is not available here ({_torch_label()})")
    import torch

    count = torch.cuda.device_count()
    index = int(index_match.group(2)) if index_match else 0
    if index >= count:
        raise DeviceError(
            f"{request} is out of range: {plural(count, 'CUDA device')} here (cuda:0 to cuda:{count - 1})"
        )
    return f"cuda:{index}"


def _emulated(request: str, index: int) -> str:
    try:
        from readtrack.runner import cuda_emulator

        cuda_emulator.install()
    except (ImportError, RuntimeError) as err:
        raise DeviceError(f"the emulated CUDA device is not available here: {err}") from None
    if index >= cuda_emulator.DEVICE_COUNT:
        last = cuda_emulator.DEVICE_COUNT - 1
        raise DeviceError(
            f"{request} is out of range: {cuda_emulator.DEVICE_COUNT} emulated devices (emu:0 to emu:{last})"
        )
    return f"emu:{index}"


@contextlib.contextmanager
def current(device: str) -> Iterator[None]:
    """Make ``device`` the current device of its kind for the block, as ``torch.cuda.device(N)`` does: work
    that names no index (``device="cuda"``, a Triton launch, a CUDA event, a stream) then lands on it."""
    import torch

    kind, _, index = device.partition(":")
    module = getattr(torch, kind, None) if index else None
    if module is None or not hasattr(module, "device"):
        yield
        return
    with module.device(int(index)):
        yield


@contextlib.contextmanager
def ieee_float32() -> Iterator[None]:
    """TF32 off for matrix products, convolutions and recurrent layers inside the block (IEEE float32, as on
    the CPU); the flags as they were come back after. Through ``allow_tf32`` where torch answers it (the
    newer settings alone would make torch's own ``cudnn.flags()`` refuse as "a mix of APIs"), else through
    the newer settings, which are then in use already."""
    import torch

    backends: Any = torch.backends
    try:
        legacy = (backends.cuda.matmul.allow_tf32, backends.cudnn.allow_tf32)
    except RuntimeError:
        flags = [backends.cuda.matmul, backends.cudnn.conv, backends.cudnn.rnn]
        before = [f.fp32_precision for f in flags]
        for flag in flags:
            flag.fp32_precision = "ieee"
        try:
            yield
        finally:
            for flag, value in zip(flags, before, strict=True):
                flag.fp32_precision = value
        return
    backends.cuda.matmul.allow_tf32 = backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        backends.cuda.matmul.allow_tf32, backends.cudnn.allow_tf32 = legacy


def synchronize(device: str) -> None:
    """Wait for queued work on ``device`` (a no-op on the CPU); timing asynchronous devices needs it."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.synchronize(device)
    elif device == "mps" and mps_available():
        torch.mps.synchronize()


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo on Linux, else what ``platform`` knows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def device_name(device: str) -> str:
    """A human name for ``device``: the GPU's model, or the CPU's."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return str(torch.cuda.get_device_name(device))
    if device.startswith("emu"):
        return f"CUDA emulated on {cpu_name()}"
    if device == "mps":
        return f"Apple MPS ({platform.machine()})"
    return cpu_name()


def describe_environment(device: str) -> dict[str, Any]:
    """What a run record carries about where it ran: device, library versions, threads, CPU kernels,
    platform."""
    import torch

    from readtrack.base.version import __version__

    cuda = torch.version.cuda
    cudnn = None
    if device.startswith("cuda") and torch.backends.cudnn.is_available():
        cudnn = torch.backends.cudnn.version()
    return {
        "device": device,
        "device_name": device_name(device),
        "torch": str(torch.__version__),
        "cuda": cuda,
        "cudnn": cudnn,
        "cpu_threads": torch.get_num_threads(),
        # The vector kernels torch dispatches to on this CPU (AVX2, AVX512, ...): one seed's float results
        # repeat exactly only with the same kernels, torch build and thread count.
        "cpu_kernels": torch.backends.cpu.get_cpu_capability(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "readtrack": __version__,
        # What float32 products, convolutions and RNNs got outside check and train (which use IEEE float32):
        # the bench times a user's defaults, TF32 included.
        **({"float32": float32_precision()} if device.startswith(("cuda", "emu")) else {}),
    }


def environment_line(env: dict[str, Any]) -> str:
    """One line for reports: ``cpu (Xeon ...) · torch 2.13.0+cpu · 2 threads · AVX2 kernels · Python 3.11 ·
    Linux-...`` (records made before the kernels were stored leave them out)."""
    parts = [f"{env.get('device', '?')} ({env.get('device_name', '?')})", f"torch {env.get('torch', '?')}"]
    if env.get("cuda"):
        parts.append(f"CUDA {env['cuda']}")
    if env.get("cudnn"):
        parts.append(f"cuDNN {env['cudnn']}")
    tf32 = [area for area, value in (env.get("float32") or {}).items() if value == "tf32"]
    if env.get("float32"):
        parts.append(f"bench TF32: {', '.join(tf32)}" if tf32 else "bench IEEE float32")
    threads = env.get("cpu_threads")
    parts.append(plural(threads, "thread") if isinstance(threads, int) else f"{threads or '?'} threads")
    if env.get("cpu_kernels"):
        parts.append(f"{env['cpu_kernels']} kernels")
    parts.append(f"Python {env.get('python', '?')}")
    parts.append(str(env.get("platform", "?")))
    parts.append(f"readtrack {env.get('readtrack', '?')}")
    return " · ".join(parts)
