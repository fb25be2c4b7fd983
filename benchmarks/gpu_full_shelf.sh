#!/usr/bin/env bash
# A lent GPU session's second plan (after gpu_session.sh's first): the full runs the first session had no time
# for, the re-check of what it fixed, and the named command's full run again (its bench stage now times the
# Triton kernel in bfloat16 too), in one device call that ends within BUDGET seconds (default 540).
#
#   prepare here:   ../shared/gpu/wheels.sh && pip wheel --no-deps -w .whl .
#   on the device:  bash benchmarks/gpu_full_shelf.sh [BUDGET] NAME...   (carry [".whl"], from the repo's root)
#
# NAMES are the plugins whose full run goes to shelf_full2.jsonl, eight at a time, in the order given (longest
# first, so that the budget cuts the short ones); recheck.jsonl has `readtrack run rnn t5 --quick --only check`
# and named_full.jsonl the named command's full run; session.log and home.tgz as in gpu_session.sh.
set -u
BUDGET=${1:-540}
shift
NAMES="$*"
JOBS=${JOBS:-8}
. "$(dirname "$0")/gpu_common.sh"

cd /tmp/wd
t=$(date +%s)
readtrack run rnn t5 --device $DEV --quick --only check --json >"$OUT/recheck.jsonl" 2>"$LOGS/recheck.err"
say "rnn, t5 check: rc $? in $(($(date +%s) - t)) s"
tail -n 6 "$LOGS/recheck.err" >>"$LOG"

setsid bash -c "readtrack run $NAMES --device $DEV --jobs $JOBS --json >$OUT/shelf_full2.jsonl 2>$LOGS/shelf_full2.err" &
SHELF=$!
t=$(date +%s)
timeout -k 10 "$(cap 40 300)" readtrack run flashattention --device $DEV --json >"$OUT/named_full.jsonl" 2>"$LOGS/named_full.err"
say "named full: rc $? in $(($(date +%s) - t)) s (first compile included)"
tail -n 25 "$LOGS/named_full.err" >>"$LOG"

while [ "$(left)" -gt 25 ] && kill -0 $SHELF 2>/dev/null; do sleep 2; done
kill -TERM -- -$SHELF 2>/dev/null
sleep 3
kill -KILL -- -$SHELF 2>/dev/null
say "shelf: $(grep -c '"type": "plugin_done"' "$OUT/shelf_full2.jsonl" 2>/dev/null) of $(echo "$NAMES" | wc -w) full records"
tail -n 8 "$LOGS/shelf_full2.err" >>"$LOG"
finish
