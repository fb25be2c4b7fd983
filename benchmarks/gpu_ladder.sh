#!/usr/bin/env bash
# Issue 86 in one device call: the FlashAttention-3 ladder on Hopper, each step time-boxed so that the whole
# ends within BUDGET seconds (default 540) and what it measured comes back even when a step is cut short.
#
#   prepare here:   ../shared/gpu/wheels.sh && pip wheel --no-deps -w .whl .   (.whl/, ignored by git)
#   on the device:  bash benchmarks/gpu_ladder.sh [BUDGET]   (carry [".whl"], from the repo's root)
#
# Files back in $OUT: session.log (versions, each step's summary), ladder_compile.txt (every rung and candidate
# built for sm_90 by the device's own Triton: shared memory, registers, spills, which Hopper instructions),
# warmup.log, ladder_tests.log (every rung against float64 on the GPU), ladder.json / ladder.md
# (benchmarks/flashattention_cuda.py --kernels: every row, the ladder's table, the errors against float64),
# bench.log (its rows as they came).
set -u
BUDGET=${1:-540}
. "$(dirname "$0")/gpu_common.sh"
cd "$REPO"

# The device's Triton builds every rung for sm_90 (CPU only), in the background.
(python3 benchmarks/flashattention_compile.py --ladder --dtype bf16 --head-dim 128 64 --no-write \
    >"$OUT/ladder_compile.txt" 2>&1) &
COMPILE=$!

# Fill Triton's cache in parallel: every rung, d 128 and 64, causal and not (autotuning compiles each candidate).
t=$(date +%s)
(timeout -k 5 "$(cap 260 120)" python3 -m pytest -q -rs -n 6 -p no:cacheprovider \
    tests/plugins/test_flashattention_ladder.py -k "gpu" >"$OUT/ladder_tests.log" 2>&1
    echo "rc $?" >>"$OUT/ladder_tests.log") &
TESTS=$!
timeout -k 5 "$(cap 250 130)" python3 benchmarks/ladder_warmup.py --jobs 10 >"$OUT/warmup.log" 2>&1
say "warm-up: rc $? in $(($(date +%s) - t)) s; $(tail -n 1 "$OUT/warmup.log")"
wait $TESTS
say "ladder tests on the GPU: $(tail -n 2 "$OUT/ladder_tests.log" | tr '\n' ' ')"
kill $COMPILE 2>/dev/null
wait $COMPILE 2>/dev/null
say "offline builds: $(grep -c '✓' "$OUT/ladder_compile.txt") ok, $(grep -c '✗' "$OUT/ladder_compile.txt") failed"

# The benchmark, alone on the GPU.
timeout -k 5 "$(cap 10 600)" python3 benchmarks/flashattention_cuda.py --quick --head-dims 128 64 --kernels \
    --bwd-kernels fa2 overlap persistent \
    --json "$OUT/ladder.json" --markdown "$OUT/ladder.md" >"$OUT/bench.log" 2>&1
say "benchmark: rc $?"
grep -A 12 "^fwd, d = 128, not causal" "$OUT/bench.log" >>"$LOG"
say "done"
