"""How CUDA computes float32 under torch's flags (IEEE or TF32, for products, convolutions and recurrent
layers): what a run's environment records (`readtrack.runner.devices`) and what the emulated device rounds
to (`readtrack.runner.cuda_emulator`). torch is imported when asked, never at import."""

from __future__ import annotations

from typing import Any


def float32_precision() -> dict[str, str]:
    """``{"matmul": "ieee" | "tf32", "conv": ..., "rnn": ...}``: how CUDA computes float32 under the flags in
    force. torch's ``allow_tf32`` switches answer while they can (they follow the newer ``fp32_precision``
    settings); they refuse when those set convolutions and RNNs apart, and then the newer settings answer."""
    import torch

    backends: Any = torch.backends  # fp32_precision is newer than torch's stubs of some releases
    try:
        cudnn_tf32 = "tf32" if backends.cudnn.allow_tf32 else "ieee"
        matmul_tf32 = "tf32" if backends.cuda.matmul.allow_tf32 else "ieee"
    except RuntimeError:  # "a mix of the legacy and new APIs": conv and rnn set apart
        cudnn = backends.cudnn
        generic = getattr(backends, "fp32_precision", "none")

        def resolved(value: str, parent: str, default: str) -> str:
            return next((v for v in (value, parent, generic) if v in ("ieee", "tf32")), default)

        return {
            "matmul": resolved(backends.cuda.matmul.fp32_precision, "none", "ieee"),
            "conv": resolved(cudnn.conv.fp32_precision, cudnn.fp32_precision, "tf32"),
            "rnn": resolved(cudnn.rnn.fp32_precision, cudnn.fp32_precision, "tf32"),
        }
    return {"matmul": matmul_tf32, "conv": cudnn_tf32, "rnn": cudnn_tf32}
