# The start and end every lent-GPU script shares (sourced; BUDGET set by the caller): the carried wheels
# installed, the clock (now, left, cap, say), the machine's versions in session.log, and `finish`, which packs
# READTRACK_HOME (every run recorded in its database) and the steps' logs into home.tgz.
DEV=${DEV:-cuda} # DEV=cpu tries the plumbing on a machine without a GPU
START=$(date +%s)
OUT=${OUT:-/tmp/gpu-out}
LOGS=/tmp/gpu-logs
REPO=$PWD
mkdir -p "$OUT" "$LOGS" /tmp/wd
LOG=$OUT/session.log
now() { echo $(($(date +%s) - START)); }
left() { echo $((BUDGET - $(now))); }
# cap RESERVE MAX: seconds a step may take, leaving RESERVE for what follows, at most MAX, at least 5
cap() {
    local c=$(($(left) - $1))
    [ "$c" -gt "$2" ] && c=$2
    [ "$c" -lt 5 ] && c=5
    echo "$c"
}
say() { echo "[$(now) s] $*" | tee -a "$LOG"; }
finish() {
    cp -r "$LOGS" /tmp/rt/logs 2>/dev/null
    tar czf "$OUT/home.tgz" -C /tmp rt
    say "done"
}

python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
    >"$LOGS/install.log" 2>&1 || { say "install failed"; cat "$LOGS/install.log" >>"$LOG"; exit 1; }
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1 READTRACK_HOME=/tmp/rt
export TRITON_CACHE_DIR=/tmp/triton-cache # empty: the named command's first compile is timed
say "installed"
{
    nvidia-smi
    nproc
    python3 - <<'PY'
import sys, torch, triton
print("python", sys.version.split()[0], "| torch", torch.__version__, "| CUDA", torch.version.cuda,
      "| cuDNN", torch.backends.cudnn.version(), "| triton", triton.__version__)
print(torch.cuda.get_device_name(0), "sm", torch.cuda.get_device_capability(0), torch.cuda.get_device_properties(0))
PY
} >>"$LOG" 2>&1
say "versions written"
