#!/usr/bin/env bash
# A lent GPU session's third plan: after issue 54 made every quick run assert its paper's claim, does each claim
# hold on CUDA (a device, and a torch build, nobody calibrated on) over several seeds; and do the plugins whose
# code changed since the last lent session still pass their full run there. One device call within BUDGET s.
#
#   prepare here:   ../shared/gpu/wheels.sh && pip wheel --no-deps -w .whl .
#   on the device:  bash benchmarks/gpu_seeds.sh [BUDGET] NAME...   (carry [".whl"], from the repo's root)
#
# NAMES (longest first) go to changed_full.jsonl, their full runs on seed 0, FULL_JOBS at a time; beside them the
# whole shelf's quick runs on SEEDS go to shelf_quick_seeds.jsonl, QUICK_JOBS at a time; both stop 25 s before
# the budget (QUICK_NAMES="a b ...": those plugins' quick runs instead of the whole shelf's; no NAMES: no full
# runs). session.log and home.tgz as in gpu_session.sh.
set -u
BUDGET=${1:-540}
shift
NAMES="$*"
SEEDS=${SEEDS:-0-2}
FULL_JOBS=${FULL_JOBS:-4}
QUICK_JOBS=${QUICK_JOBS:-6}
QUICK_NAMES=${QUICK_NAMES:---all}
. "$(dirname "$0")/gpu_common.sh"

cd /tmp/wd
FULL=
if [ -n "$NAMES" ]; then
    setsid bash -c "readtrack run $NAMES --device $DEV --jobs $FULL_JOBS --json >$OUT/changed_full.jsonl 2>$LOGS/changed_full.err" &
    FULL=$!
fi
setsid bash -c "readtrack run $QUICK_NAMES --device $DEV --quick --seeds $SEEDS --jobs $QUICK_JOBS --json >$OUT/shelf_quick_seeds.jsonl 2>$LOGS/shelf_quick_seeds.err" &
QUICK=$!
say "started: full runs of $(echo "$NAMES" | wc -w) plugins; quick runs ($QUICK_NAMES) on seeds $SEEDS"

while [ "$(left)" -gt 25 ] && { kill -0 $FULL 2>/dev/null || kill -0 $QUICK 2>/dev/null; }; do sleep 2; done
for p in $FULL $QUICK; do kill -TERM -- -$p 2>/dev/null; done
sleep 3
for p in $FULL $QUICK; do kill -KILL -- -$p 2>/dev/null; done
say "full: $(grep -cE '"type": "(seed_)?record"' "$OUT/changed_full.jsonl" 2>/dev/null) of $(echo "$NAMES" | wc -w) records"
say "quick: $(grep -cE '"type": "(seed_)?record"' "$OUT/shelf_quick_seeds.jsonl" 2>/dev/null) records"
tail -n 8 "$LOGS/changed_full.err" "$LOGS/shelf_quick_seeds.err" >>"$LOG"
finish
