#!/usr/bin/env bash
# A lent GPU session's checks in one device call (../shared/GPU.md, steps 1-5), each step time-boxed so that the
# whole ends within BUDGET seconds (default 540) and what it measured comes back even when a step is cut short.
#
#   prepare here:   ../shared/gpu/wheels.sh && pip wheel --no-deps -w .whl .   (.whl/, ignored by git)
#                   (readtrack's own wheel too: building it there would need setuptools >= 77 for its
#                   `license = "MIT"`, which the device's python3 may lack, with no registry to fetch one)
#   on the device:  bash benchmarks/gpu_session.sh [BUDGET]  (run with carry [".whl"], from the repo's root)
#
# The device returns at most 8 files from $OUT, so there are 8: session.log (every step's summary and the
# versions), named_quick.jsonl / named_full.jsonl (`readtrack run flashattention --device $DEV [--quick] --json`),
# shelf_quick.jsonl / shelf_full.jsonl (the other 57 plugins on cuda), fa_bench.json / fa_bench.md
# (benchmarks/flashattention_cuda.py, written when it finishes; its rows go to bench.log as they come) and
# home.tgz (READTRACK_HOME, with every run recorded in its database, and the steps' full logs).
#
# Timeline: the shelf runs in the background from the start (quick, then full); the named command's quick run
# first, on an empty Triton cache (its time is the first compile); then its full run beside the CUDA kernel
# tests; the shelf is stopped BENCH_S seconds before the end so that the FlashAttention benchmark runs alone.
set -u
BUDGET=${1:-540}
BENCH_S=${BENCH_S:-180}
. "$(dirname "$0")/gpu_common.sh"

# readtrack runs outside the clone: inside it, ./papers.yaml and ./plugins would be taken as the user's own.
cd /tmp/wd
NAMES=$(readtrack plugins --json | python3 -c "import json,sys; print(' '.join(p['name'] for p in json.load(sys.stdin) if p['name'] != 'flashattention'))")
say "shelf: $(echo "$NAMES" | wc -w) plugins beside flashattention"

# 5 (background). The shelf on cuda: quick runs, then full runs until the benchmark's turn.
setsid bash -c "readtrack run $NAMES --device $DEV --quick --jobs 6 --json >$OUT/shelf_quick.jsonl 2>$LOGS/shelf_quick.err;
    echo \"[shelf quick done, rc \$?]\" >>$LOGS/shelf_quick.err;
    readtrack run $NAMES --device $DEV --jobs 6 --json >$OUT/shelf_full.jsonl 2>$LOGS/shelf_full.err" &
SHELF=$!

# 3. The named command, quick, on an empty Triton cache.
t=$(date +%s)
timeout -k 10 "$(cap $((BENCH_S + 60)) 240)" readtrack run flashattention --device $DEV --quick --json >"$OUT/named_quick.jsonl" 2>"$LOGS/named_quick.err"
say "named quick: rc $? in $(($(date +%s) - t)) s (first compile included)"
tail -n 15 "$LOGS/named_quick.err" >>"$LOG"

# 3 (full) beside 2 (the CUDA kernel tests: full-size and random shapes against float64).
t=$(date +%s)
(timeout -k 10 "$(cap $((BENCH_S + 15)) 200)" readtrack run flashattention --device $DEV --json >"$OUT/named_full.jsonl" 2>"$LOGS/named_full.err"
    echo "named full: rc $? in $(($(date +%s) - t)) s" >>"$LOGS/named_full.err") &
FULL=$!
cd "$REPO"
timeout -k 10 "$(cap $((BENCH_S + 20)) 300)" python3 -m pytest -q -rs -n 6 -p no:cacheprovider \
    tests/plugins/test_flashattention_triton.py -k "compiled_kernels or first_compile" >"$LOGS/pytest.log" 2>&1
say "CUDA kernel tests: rc $?"
tail -n 25 "$LOGS/pytest.log" >>"$LOG"
wait $FULL
tail -n 15 "$LOGS/named_full.err" >>"$LOG"
say "$(tail -n 1 "$LOGS/named_full.err")"

# 4. The benchmark, alone on the GPU: the shelf stops first (its finished runs are in the JSON lines).
while [ "$(left)" -gt "$BENCH_S" ] && kill -0 $SHELF 2>/dev/null; do sleep 2; done
kill -TERM -- -$SHELF 2>/dev/null
sleep 3
kill -KILL -- -$SHELF 2>/dev/null
say "shelf stopped: $(grep -c '"type": "plugin_done"' "$OUT/shelf_quick.jsonl" 2>/dev/null) quick, $(grep -c '"type": "plugin_done"' "$OUT/shelf_full.jsonl" 2>/dev/null) full records"
tail -n 5 "$LOGS/shelf_quick.err" >>"$LOG"
timeout -k 5 "$(cap 15 600)" python3 benchmarks/flashattention_cuda.py --quick --head-dims 128 64 \
    --impls triton sdpa-flash sdpa-cudnn --json "$OUT/fa_bench.json" --markdown "$OUT/fa_bench.md" \
    >"$LOGS/bench.log" 2>&1
say "benchmark: rc $?"
tail -n 12 "$LOGS/bench.log" >>"$LOG"

finish
