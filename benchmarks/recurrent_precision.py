"""How far float32 recurrent layers land from float64, ours against torch's, on the device given.

    python benchmarks/recurrent_precision.py --device cuda      # or cpu; --seeds 50

Why: on an H200 (torch 2.11, cuDNN 9.19) the rnn plugin's float32 check failed one case by 1.7× its
tolerance (gradients, B=4 T=9 I=2 H=5, two layers, time-major), where the CPU's float32 stays under 0.13×
of it on 200 seeds. This says which side is off: for every case of the recurrent check
(``readtrack.plugin_kit.recurrent.CASES``) and many seeds, the worst error ratio of our layer and of torch's
module in float32 against the same module in float64 on the CPU (the check's weighting of the output, the
check's float32 tolerances: |got − want| / (1e-5 + 1e-4·|want|)), with cuDNN on and off, TF32 off as the
runner's check has it. Prints one table row per (module, cuDNN, case).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plugins.gru.model import GRU
from plugins.lstm.model import LSTM
from plugins.rnn.model import RNN
from readtrack.plugin_kit.recurrent import CASES, flatten
from readtrack.runner.devices import ieee_float32

PAIRS = {"rnn": (RNN, nn.RNN), "lstm": (LSTM, nn.LSTM), "gru": (GRU, nn.GRU)}


def grads(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The check's quantity: the gradients of linspace(−1, 1)-weighted outputs wrt x and every parameter."""
    leaf = x.detach().clone().requires_grad_()
    out = flatten(module(leaf))
    weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype, device=out.device)
    got = torch.autograd.grad((out * weights).sum(), [leaf, *module.parameters()])
    return torch.cat([g.flatten() for g in got]).double().cpu()


def ratio(got: torch.Tensor, want: torch.Tensor) -> float:
    return float(((got - want).abs() / (1e-5 + 1e-4 * want.abs())).max())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--seeds", type=int, default=50)
    args = parser.parse_args()
    print(
        "| module | cuDNN | (B, T, I, H, layers, batch_first) | ours vs f64 | torch vs f64 | ours vs torch |"
    )
    print("|---|---|---|---:|---:|---:|")
    with ieee_float32():
        for name, (ours_cls, torch_cls) in PAIRS.items():
            for cudnn in (True, False):
                for B, T, n_in, H, layers, batch_first, _ in CASES:
                    worst = [0.0, 0.0, 0.0]  # ours vs float64, torch's vs float64, ours vs torch's
                    for seed in range(args.seeds):
                        torch.manual_seed(seed)
                        ref = torch_cls(n_in, H, layers, batch_first=batch_first).double()
                        ours = ours_cls(n_in, H, layers, batch_first=batch_first).double()
                        ours.load_state_dict(ref.state_dict())
                        x = torch.randn((B, T, n_in) if batch_first else (T, B, n_in), dtype=torch.float64)
                        truth = grads(ref, x)
                        x32 = x.float().to(args.device)
                        with torch.backends.cudnn.flags(enabled=cudnn, allow_tf32=False):
                            got = grads(ours.to(args.device, torch.float32), x32)
                            want = grads(ref.to(args.device, torch.float32), x32)
                        for i, r in enumerate((ratio(got, truth), ratio(want, truth), ratio(got, want))):
                            worst[i] = max(worst[i], r)
                    case = (B, T, n_in, H, layers, batch_first)
                    cells = " | ".join(f"{w:.3f}" for w in worst)
                    print(f"| {name} | {'on' if cudnn else 'off'} | {case} | {cells} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
