"""Time the flashattention plugin's Triton FlashAttention-2 against PyTorch's attention kernels on a GPU.

    python benchmarks/flashattention_cuda.py            # the whole table (see benchmarks/RESULTS.md)
    python benchmarks/flashattention_cuda.py --help     # choose N, d, causal, modes, implementations

Prints a markdown table as it goes and writes benchmarks/results/flashattention_cuda.{json,md}. Without
CUDA it prints one line saying so and exits with status 2. The work is in
plugins/flashattention/cuda_bench.py; this script only makes it runnable from a plain checkout too (on a
GPU machine where readtrack is not installed, the repository root is put on the import path).
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    from readtrack_plugins.flashattention.cuda_bench import main
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from plugins.flashattention.cuda_bench import main

if __name__ == "__main__":
    sys.exit(main())
