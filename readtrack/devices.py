"""Which device a plugin runs on, and a description of the machine that goes with every run record.

``--device`` takes ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``. ``auto`` picks CUDA, then MPS, then the
CPU, among the kinds the plugin supports. A device that is not there (no CUDA build, no such GPU index, not
a Mac) or that the plugin does not support is one :class:`~readtrack.errors.DeviceError` line (exit 2).

torch is imported inside the functions: the CLI imports this module only to run a plugin. Every
``torch.cuda``/``torch.mps`` call is behind an availability check, so nothing here fails on a CPU build.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Sequence
from typing import Any

from readtrack.errors import DeviceError
from readtrack.words import plural

DEVICE_CHOICES = "auto, cpu, cuda, cuda:N or mps"
_CUDA_INDEX = re.compile(r"^cuda:(\d+)$")


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

    index_match = _CUDA_INDEX.match(request)
    kind = "cuda" if index_match else request
    if kind not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"unknown device {request!r}: use {DEVICE_CHOICES}")
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
    index = int(index_match.group(1)) if index_match else 0
    if index >= count:
        plural = "device" if count == 1 else "devices"
        raise DeviceError(
            f"{request} is out of range: {count} CUDA {plural} here (cuda:0 to cuda:{count - 1})"
        )
    return f"cuda:{index}"


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
    if device == "mps":
        return f"Apple MPS ({platform.machine()})"
    return cpu_name()


def describe_environment(device: str) -> dict[str, Any]:
    """What a run record carries about where it ran: device, library versions, threads, CPU kernels,
    platform."""
    import torch

    import readtrack

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
        "readtrack": readtrack.__version__,
    }


def environment_line(env: dict[str, Any]) -> str:
    """One line for reports: ``cpu (Xeon ...) · torch 2.13.0+cpu · 2 threads · AVX2 kernels · Python 3.11 ·
    Linux-...`` (records made before the kernels were stored leave them out)."""
    parts = [f"{env.get('device', '?')} ({env.get('device_name', '?')})", f"torch {env.get('torch', '?')}"]
    if env.get("cuda"):
        parts.append(f"CUDA {env['cuda']}")
    if env.get("cudnn"):
        parts.append(f"cuDNN {env['cudnn']}")
    threads = env.get("cpu_threads")
    parts.append(plural(threads, "thread") if isinstance(threads, int) else f"{threads or '?'} threads")
    if env.get("cpu_kernels"):
        parts.append(f"{env['cpu_kernels']} kernels")
    parts.append(f"Python {env.get('python', '?')}")
    parts.append(str(env.get("platform", "?")))
    parts.append(f"readtrack {env.get('readtrack', '?')}")
    return " · ".join(parts)
