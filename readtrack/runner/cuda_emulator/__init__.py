"""An emulated CUDA device on the CPU: CUDA's device rules enforced, the numbers computed on the CPU.

No plugin can be tried on a GPU most of the time (the project is lent one to about one task in twenty), yet
most CUDA bugs of a plugin are not about the GPU at all: a tensor made on the CPU meets one on the device
(``torch.where(mask_cpu, x_cuda, y_cuda)``), a CPU generator is handed to a device factory, ``.numpy()`` is
called on a device tensor. This module makes those bugs fail on a CPU-only machine:

    from readtrack.runner import cuda_emulator
    kind = cuda_emulator.install()          # "emu": torch now knows the devices emu:0 and emu:1
    readtrack.runner.run.run_plugin("gqa", device="emu:0", quick=True)

or from the shell, ``readtrack run gqa --device emu``. A tensor on ``emu:N`` is a wrapper around a CPU tensor
(``torch.Tensor._make_wrapper_subclass`` with PrivateUse1 renamed to ``emu``, so ``t.device`` says ``emu:0``);
every aten op on it goes through :func:`_dispatch`, which

- refuses tensors of two devices in one op, as CUDA does: every tensor argument on the op's device, except
  0-dim CPU tensors (CUDA's TensorIterator takes them as scalars), the indices of ``index``/``index_put_``
  (CUDA copies CPU indices itself), and the copies between devices (``to``, ``copy_``);
- refuses a generator of another device in a random op on the device;
- computes the op on the CPU tensors and wraps the results on the op's device, so real numbers, ``.item()``,
  autograd and whole training loops work and give exactly the CPU's numbers;
- optionally rounds the float32 inputs of matrix products, convolutions and recurrent layers to TF32 (10
  mantissa bits) **where CUDA's flags in force say TF32** (``torch.backends.cuda.matmul`` for products,
  ``torch.backends.cudnn.conv`` / ``.rnn`` for the others), as cuBLAS and cuDNN would
  (``install(tf32=True)``, or :func:`tf32_rounding` for a block);
- counts the tensors made on each device (``created``), so a test can show that nothing landed on ``emu:0``
  in a run on ``emu:1``.

Factory functions (``torch.zeros(..., device="emu")``) reach the PrivateUse1 dispatch key, where a fallback
sends them to the same code; a device without an index is the current one (``torch.emu.set_device``,
``with torch.emu.device(1):``), as for CUDA. ``.numpy()`` of a device tensor is refused. What it cannot show:
anything about kernels (speed, Triton, cuDNN's algorithms), memory, streams, or CUDA's random numbers (the
CPU generator serves the device, so a seeded run repeats the CPU's numbers exactly). torch itself sees every
emulated tensor on index 0 (its autograd engine counts devices once, at a process's first backward pass:
set the emulator up before that); the emulator keeps the real index, so a factory that names index 0
explicitly while another index is current lands on the current one, and a gradient flowing back through a
copy between two emulated devices stays on the copy's side.

torch is imported when this module is; the CLI imports it only for ``--device emu``.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import torch

from readtrack.runner.cuda_emulator.fused_cells import FUSED_CELLS
from readtrack.runner.precision import float32_precision

__all__ = ["DEVICE_COUNT", "KIND", "EmulatedTensor", "created", "install", "installed", "tf32_rounding"]

#: The device kind, as in ``emu:0``; PrivateUse1 takes one name per process.
KIND = "emu"
#: Devices ``emu:0`` to ``emu:1``: two, so that a run on index 1 can be told from one on index 0.
DEVICE_COUNT = 2

aten = torch.ops.aten
_lock = threading.Lock()
_installed = False
_libraries: list[Any] = []  # the registrations live as long as these objects
_current = 0
_rules_depth = 0
_autograd_error: str | None = None
_tf32 = False
#: How many tensors each op made on each device index (results of ops and factories): ``created[1]``.
created: Counter[int] = Counter()
# The index EmulatedTensor.to is moving a tensor to (torch's own code would name index 0 for every one).
_moving_to: contextvars.ContextVar[int | None] = contextvars.ContextVar("readtrack_emu_to", default=None)
# Set while a recurrent layer runs (cuDNN's RNN precision applies to the products inside it).
_in_rnn: contextvars.ContextVar[bool] = contextvars.ContextVar("readtrack_emu_in_rnn", default=False)

# Ops that move data between devices: their arguments may be on different devices.
_COPIES = {
    aten._to_copy.default,
    aten.copy_.default,
    aten._copy_from.default,
    aten._copy_from_and_resize.default,
}
# Ops whose ``indices`` may stay on the CPU when ``self`` is on the device (CUDA moves them).
_INDEXING = {
    aten.index.Tensor,
    aten.index_put_.default,
    aten.index_put.default,
    aten._index_put_impl_.default,
}
_MATMULS = {
    aten.mm.default,
    aten.bmm.default,
    aten.addmm.default,
    aten.baddbmm.default,
    aten.addbmm.default,
    aten._addmm_activation.default,
}
_CONVOLUTIONS = {aten.convolution.default, aten.convolution_backward.default}
_ROUNDED = _MATMULS | _CONVOLUTIONS
_UNBOUNDED = 2**60
_CPU = torch.device("cpu")
_TENSOR_DATA: Any = vars(torch._C.TensorBase)["data"]  # torch's own ``Tensor.data`` descriptor

_RNN_FUNCTIONS = {"lstm", "gru", "rnn_tanh", "rnn_relu"}


class DeviceMismatch(RuntimeError):
    """What CUDA raises for tensors of two devices in one op (a RuntimeError, as torch's own is)."""


class EmulatedTensor(torch.Tensor):
    """A tensor on ``emu:N``: a CPU tensor (``.cpu_data``) seen through the device's rules."""

    cpu_data: torch.Tensor
    device_index: int

    @staticmethod
    def __new__(cls, data: torch.Tensor, index: int) -> EmulatedTensor:
        wrapper = torch.Tensor._make_wrapper_subclass(
            cls,
            data.shape,
            strides=data.stride(),
            storage_offset=data.storage_offset(),
            dtype=data.dtype,
            layout=data.layout,
            # torch's own code (autograd's engine) knows one device: the index is the emulator's, below.
            device=torch.device(KIND, 0),
            requires_grad=False,
            # A storage without memory, large enough that resizing the wrapper (an op's out=, transpose_)
            # never meets its bounds: the data lives in cpu_data.
            storage_size=_UNBOUNDED,
        )
        wrapper.cpu_data = data
        wrapper.device_index = index
        return wrapper

    # Autograd, views and in-place ops work on the wrapper; the function layer adds nothing of its own.
    __torch_function__ = torch._C._disabled_torch_function_impl  # type: ignore[assignment]

    @classmethod
    def __torch_dispatch__(  # type: ignore[override]
        cls, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        return _dispatch(func, args, kwargs or {})

    def __repr__(self, *, tensor_contents: Any = None) -> str:  # type: ignore[override]
        body = repr(self.cpu_data.detach())
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"{body[:-1]}, device='{KIND}:{self.device_index}'{grad})"

    @property
    def device(self) -> torch.device:  # type: ignore[override]
        return torch.device(KIND, self.device_index)

    def to(self, *args: Any, **kwargs: Any) -> Any:
        # torch sees every emulated tensor on index 0, so it would take emu:1 → emu:0 for a no-op and
        # emu:1 → emu:1 with a new dtype for a move to emu:0: a move to an emulated device is done here.
        device, dtype, non_blocking, memory_format = torch._C._nn._parse_to(*args, **kwargs)
        if device is None or device.type != KIND:
            return super().to(*args, **kwargs)
        index = _index_of(device)
        if index == self.device_index and dtype in (None, self.dtype) and not kwargs.get("copy"):
            return self
        token = _moving_to.set(index)
        try:
            return aten._to_copy.default(
                self,
                dtype=dtype or self.dtype,
                device=torch.device(KIND, index),
                non_blocking=non_blocking,
                memory_format=memory_format or torch.preserve_format,
            )
        finally:
            _moving_to.reset(token)

    @property
    def data(self) -> torch.Tensor:
        return _TENSOR_DATA.__get__(self)

    @data.setter
    def data(self, value: torch.Tensor) -> None:
        # Module.to(dtype) sets param.data: the wrapper takes the new tensor's metadata and its CPU data too.
        _TENSOR_DATA.__set__(self, value)
        if type(value) is EmulatedTensor:
            self.cpu_data, self.device_index = value.cpu_data, value.device_index

    def untyped_storage(self) -> torch.UntypedStorage:
        """The memory the tensor lives in (its CPU data's): ``nbytes()`` and aliasing are the device's."""
        return self.cpu_data.untyped_storage()

    def data_ptr(self) -> int:
        return self.cpu_data.data_ptr()

    def __format__(self, spec: str) -> str:
        return self.item().__format__(spec) if self.dim() == 0 else super().__format__(spec)

    def numpy(self, *, force: bool = False) -> Any:
        raise TypeError(
            f"can't convert {KIND}:{self.device_index} device type tensor to numpy. "
            "Use Tensor.cpu() to copy the tensor to host memory first."
        )

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        return self.numpy()

    def tolist(self) -> Any:
        return self.cpu_data.tolist()


def install(*, tf32: bool | None = None) -> str:
    """Register the emulated device (once per process) and return its kind, ``"emu"``.

    ``tf32=True`` rounds float32 inputs to TF32 where CUDA's precision flags in force say TF32 (see the
    module docstring); ``tf32=False`` (the first call's default) computes in IEEE float32 whatever the flags
    say; ``None`` leaves the setting as it is. Raises RuntimeError
    where this torch cannot host a Python backend, or PrivateUse1 already has another name.
    """
    global _installed, _tf32
    with _lock:
        if tf32 is not None:
            _tf32 = tf32
        if _installed:
            return KIND
        from torch.utils import backend_registration

        setup = getattr(backend_registration, "_setup_privateuseone_for_python_backend", None)
        name = torch._C._get_privateuse1_backend_name()
        if setup is None:
            raise RuntimeError(
                f"torch {torch.__version__} cannot host a Python device (torch 2.8 or newer can)"
            )
        if name not in ("privateuseone", KIND):
            raise RuntimeError(f"PrivateUse1 is already taken by {name!r} in this process")
        setup(rename=KIND, backend_module=_BackendModule())
        fallback = torch.library.Library("_", "IMPL")
        fallback.fallback(_factory_fallback, "PrivateUse1")
        # torch.tensor(data, device=...) copies with the Python key excluded, where a fallback cannot run:
        # the allocation and the copy it makes have kernels of their own.
        _kernels = torch.library.Library("aten", "IMPL")
        for name in ("empty.memory_format", "empty_strided", "_copy_from", "_copy_from_and_resize"):
            _kernels.impl(name, _kernel_for(name), "PrivateUse1")
        _libraries.extend([fallback, _kernels])
        _installed = True
    _probe_autograd()
    return KIND


def _probe_autograd() -> None:
    """torch's autograd engine counts each kind's devices once, at the process's first backward pass: a
    device registered after that has no queue there, and every backward on it fails with an internal
    assertion. Say so in words instead."""
    global _autograd_error
    if _autograd_error is None:
        try:
            probe = torch.ones(1, device=torch.device(KIND, 0), requires_grad=True)
            (probe * 2).sum().backward()
            _autograd_error = ""
        except RuntimeError:
            _autograd_error = (
                "the emulated device must be set up before this process's first backward pass (torch's "
                "autograd counts devices once): set it up first, or run in a new process"
            )
    if _autograd_error:
        raise RuntimeError(_autograd_error)


@contextlib.contextmanager
def rules() -> Iterator[None]:
    """The rules that need more than the dispatcher, for the block (the runner's stages on ``emu`` run in
    it, through ``torch.emu.device``): ``torch.Generator(device="emu:N")`` makes a device generator, and a
    random op whose generator is on another device fails. Re-entrant; this thread's torch calls only."""
    global _rules_depth
    with _lock:
        if _rules_depth == 0:
            torch.Generator = _Generator  # type: ignore[misc]
        _rules_depth += 1
    try:
        with _FunctionRules():
            yield
    finally:
        with _lock:
            _rules_depth -= 1
            if _rules_depth == 0:
                torch.Generator = _CpuGenerator  # type: ignore[misc]


def installed() -> bool:
    """Whether :func:`install` ran in this process."""
    return _installed


@contextlib.contextmanager
def tf32_rounding(enabled: bool = True) -> Iterator[None]:
    """Round to TF32 where the flags say so (``enabled``) inside the block, as :func:`install`'s ``tf32``."""
    global _tf32
    before, _tf32 = _tf32, enabled
    try:
        yield
    finally:
        _tf32 = before


# -- generators -------------------------------------------------------------------------------------------
# PrivateUse1 cannot make generators from Python, so a generator on the device is a CPU generator that says
# it is on the device; the rule that an op's generator is on the op's device is checked where the Python
# generator object is still itself (the dispatcher hands ops a new one): in a torch function mode.
_CpuGenerator = torch._C.Generator


class _GeneratorType(type(_CpuGenerator)):  # type: ignore[misc]
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, _CpuGenerator)


class _Generator(_CpuGenerator, metaclass=_GeneratorType):
    """``torch.Generator`` while the emulator is installed: ``torch.Generator(device="emu:1")`` is a CPU
    generator whose ``device`` is ``emu:1``; any other device gives torch's own generator."""

    def __new__(cls, device: Any = "cpu") -> Any:
        where = torch.device(device)
        if where.type != KIND:
            return _CpuGenerator(where)
        generator: Any = _CpuGenerator.__new__(cls, "cpu")  # type: ignore[call-arg]
        generator._device = torch.device(KIND, _index_of(where))
        return generator

    def __init__(self, device: Any = "cpu") -> None:
        pass

    @property
    def device(self) -> torch.device:  # type: ignore[override]
        return self._device  # type: ignore[attr-defined]


class _FunctionRules(torch.overrides.TorchFunctionMode):
    """Refuses a random op whose generator is on another device than the op, as CUDA does; marks the
    products inside a recurrent layer as cuDNN's (their TF32 flag is ``torch.backends.cudnn.rnn``)."""

    def __torch_function__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        kwargs = kwargs or {}
        generator = kwargs.get("generator")
        if generator is not None:
            target = kwargs.get("device")
            if target is not None:
                kind = torch.device(target).type
            else:
                tensor = next((a for a in args if isinstance(a, torch.Tensor)), None)
                kind = tensor.device.type if tensor is not None else "cpu"
            if generator.device.type != kind:
                raise RuntimeError(
                    f"Expected a '{kind}' device type for generator but found '{generator.device.type}'"
                )
        if _tf32 and getattr(func, "__name__", None) in _RNN_FUNCTIONS:
            token = _in_rnn.set(True)
            try:
                return func(*args, **kwargs)
            finally:
                _in_rnn.reset(token)
        return func(*args, **kwargs)


class _BackendModule:
    """``torch.emu``: what torch asks of a device module, and CUDA's ``set_device``/``device``."""

    def is_available(self) -> bool:
        return True

    def is_initialized(self) -> bool:
        return True

    def _is_in_bad_fork(self) -> bool:
        return False

    def device_count(self) -> int:
        return DEVICE_COUNT

    def current_device(self) -> int:
        return _current

    def set_device(self, device: Any) -> None:
        global _current
        _current = _index_of(torch.device(KIND, device) if isinstance(device, int) else torch.device(device))

    @contextlib.contextmanager
    def device(self, device: Any) -> Iterator[None]:
        """``device`` current for the block, as ``torch.cuda.device``; the emulator's :func:`rules` apply."""
        before = _current
        self.set_device(device)
        try:
            with rules():
                yield
        finally:
            self.set_device(before)

    def synchronize(self, device: Any = None) -> None:
        """Work on the emulated device is done when its op returns."""

    # The CPU's generator serves the device: its random state is the CPU's (torch.random.fork_rng, seeding).
    def manual_seed(self, seed: int) -> None:
        torch.default_generator.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.default_generator.manual_seed(seed)

    def seed(self) -> None:
        torch.default_generator.seed()

    def seed_all(self) -> None:
        torch.default_generator.seed()

    def initial_seed(self) -> int:
        return torch.default_generator.initial_seed()

    def get_rng_state(self, device: Any = None) -> torch.Tensor:
        return torch.default_generator.get_state()

    def set_rng_state(self, state: torch.Tensor, device: Any = None) -> None:
        torch.default_generator.set_state(state)

    def get_rng_state_all(self) -> list[torch.Tensor]:
        return [self.get_rng_state(i) for i in range(DEVICE_COUNT)]

    def set_rng_state_all(self, states: list[torch.Tensor]) -> None:
        for state in states[:1]:
            self.set_rng_state(state)

    def get_amp_supported_dtype(self) -> list[torch.dtype]:
        return [torch.bfloat16, torch.float16]


def _index_of(device: torch.device) -> int:
    index = _current if device.index is None else device.index
    if not 0 <= index < DEVICE_COUNT:
        raise RuntimeError(f"{KIND}:{index} is out of range: {DEVICE_COUNT} emulated devices")
    return index


def _on_device(value: Any) -> bool:
    return isinstance(value, torch.device) and value.type == KIND


def _where(value: Any) -> str:
    return f"{KIND}:{value.device_index}" if isinstance(value, EmulatedTensor) else str(value.device)


def _tensors(value: Any, out: list[torch.Tensor]) -> list[torch.Tensor]:
    """The tensors in ``value`` (an op's arguments: tensors, lists and tuples of them, anything else)."""
    if isinstance(value, torch.Tensor):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _tensors(item, out)
    return out


def _map(fn: Callable[[Any], Any], value: Any) -> Any:
    """``fn`` applied to every leaf of ``value`` (lists and tuples rebuilt; faster than torch's pytree)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_map(fn, item) for item in value)
    return fn(value)


def _devices_of(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int | None, list[Any]]:
    """The device index of the op's emulated tensors (None: none), after checking CUDA's rules."""
    checked: list[Any] = [*args, *kwargs.values()]
    if func in _INDEXING:
        checked = [args[0], *args[2:], *kwargs.values()]  # the indices (args[1]) may be CPU tensors
    tensors = _tensors(checked, [])
    emulated = [t for t in tensors if type(t) is EmulatedTensor]
    if not emulated or func in _COPIES:
        return (emulated[0].device_index if emulated else None), emulated
    first = emulated[0]
    if len(emulated) < len(tensors) or any(t.device_index != first.device_index for t in emulated):
        for t in tensors:
            if type(t) is EmulatedTensor:
                if t.device_index != first.device_index:
                    raise _mismatch(func, first, t)
            elif t.device.type != "cpu" or t.dim() != 0:
                raise _mismatch(func, first, t)
    return first.device_index, emulated


def _mismatch(func: Any, a: Any, b: Any) -> DeviceMismatch:
    return DeviceMismatch(
        f"Expected all tensors to be on the same device, but found at least two devices, {_where(a)} and "
        f"{_where(b)}! (in {func})"
    )


def _unwrap(value: Any) -> Any:
    if type(value) is EmulatedTensor:
        return value.cpu_data
    if isinstance(value, torch.device) and value.type == KIND:
        return _CPU
    return value


def _dispatch(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run ``func`` as CUDA would on the emulated device: check the rules, compute on the CPU, wrap."""
    index, emulated = _devices_of(func, args, kwargs)
    target = kwargs.get("device")
    if func is aten._to_copy.default and _moving_to.get() is not None:
        index = _moving_to.get()  # EmulatedTensor.to: an explicit move between emulated devices
    elif func is aten._to_copy.default and target is not None and not _on_device(target):
        index = None  # .to("cpu") leaves the device
    elif isinstance(target, torch.device) and target.type == KIND and (index is None or target.index):
        # A factory, or an explicit index. torch's own code names index 0 for every emulated tensor's
        # device (x.new_zeros(), zeros_like(x), SDPA's causal mask from q.options()): an op on emulated
        # tensors keeps their index, and a factory told "index 0" makes its tensor on the current device.
        index = _index_of(target) if target.index else _current
    cpu_args, cpu_kwargs = _map(_unwrap, args), {k: _map(_unwrap, v) for k, v in kwargs.items()}
    if index is None:  # nothing stays or lands on the device: a plain CPU op (a copy to the host)
        return func(*cpu_args, **cpu_kwargs)
    if _tf32 and func in _ROUNDED:
        cpu_args = _round_to_tf32(func, cpu_args)
    result = _CPU_KERNELS.get(func, func)(*cpu_args, **cpu_kwargs)
    if func is aten.copy_.default:
        return args[0]
    mine = {id(t.cpu_data): t for t in emulated}

    def wrap(value: Any) -> Any:
        if not isinstance(value, torch.Tensor) or type(value) is EmulatedTensor:
            return value
        if id(value) in mine:  # an in-place or out= op: the same wrapper, as CUDA returns self
            return _resized(mine[id(value)])
        if value.is_conj() or value.is_neg():  # the wrapper cannot carry torch's lazy conj and neg bits
            value = value.resolve_conj().resolve_neg()
        created[index] += 1
        return EmulatedTensor(value, index)

    return _map(wrap, result)


def _resized(wrapper: EmulatedTensor) -> EmulatedTensor:
    """``wrapper`` with the sizes and strides its data took in an in-place op (``transpose_``, ``out=``)."""
    data = wrapper.cpu_data
    if wrapper.shape != data.shape or wrapper.stride() != data.stride():
        with torch._C._ExcludeDispatchKeyGuard(torch._C.DispatchKeySet(torch._C.DispatchKey.Python)):
            aten.as_strided_.default(wrapper, data.shape, data.stride(), data.storage_offset())
    return wrapper


def _kernel_for(name: str) -> Callable[..., Any]:
    packet, _, overload = name.partition(".")
    func = getattr(getattr(aten, packet), overload or "default")
    return lambda *args, **kwargs: _dispatch(func, args, kwargs)


def _factory_fallback(func: Any, *args: Any, **kwargs: Any) -> Any:
    # Ops that reach PrivateUse1 with no emulated tensor among their arguments: factories on the device.
    return _dispatch(func, args, kwargs)


def _copy_from(src: torch.Tensor, dst: torch.Tensor, non_blocking: bool = False) -> torch.Tensor:
    return dst.copy_(src)


def _copy_from_and_resize(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    return dst.resize_(src.shape).copy_(src)


_CPU_KERNELS: dict[Any, Callable[..., Any]] = {
    aten._copy_from.default: _copy_from,
    aten._copy_from_and_resize.default: _copy_from_and_resize,
    **FUSED_CELLS,
}


# -- TF32 -------------------------------------------------------------------------------------------------
def to_tf32(x: torch.Tensor) -> torch.Tensor:
    """``x`` (float32) rounded to TF32: 10 mantissa bits, to nearest, ties away from zero (``cvt.rna``)."""
    bits = x.view(torch.int32)
    rounded = ((bits + 0x1000) & ~0x1FFF).view(torch.float32)
    return torch.where(torch.isfinite(x), rounded, x)


def _round_to_tf32(func: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    area = "conv" if func in _CONVOLUTIONS else "rnn" if _in_rnn.get() else "matmul"
    if float32_precision()[area] != "tf32":
        return args

    def rounded(value: Any) -> Any:
        if isinstance(value, torch.Tensor) and value.dtype == torch.float32:
            return to_tf32(value)
        return value

    return tuple(rounded(a) for a in args)
