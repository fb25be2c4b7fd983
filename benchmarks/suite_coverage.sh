#!/usr/bin/env bash
# Line and branch coverage of readtrack/ and plugins/ over the whole suite, subprocesses included (issue 91):
# every Python process the tests start (the CLI's, the fork servers and their forked runs, Triton's
# interpreter scripts, the guide's venv, Ray's workers) is measured through coverage's `patch = subprocess`,
# `fork` and `_exit`, and the data of them all combined. A measurement, run before and after a change to the
# suite: its total must not fall.
#
# Run from the repository's root, in its venv: bash benchmarks/suite_coverage.sh [PYTEST ARGS]
# (default -n auto). Writes the report to coverage.txt in a temporary folder it names, prints the totals.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$(mktemp -d /tmp/suite-coverage-XXXXXX)
python=${PYTHON:-.venv/bin/python}
"$python" -m pip install -q "coverage>=7.10,<8"
cat > "$out/coveragerc" <<RC
[run]
branch = True
parallel = True
sigterm = True
patch = subprocess, fork, _exit
source =
    $root/readtrack
    $root/plugins
data_file = $out/.coverage
RC
[ "$#" -gt 0 ] || set -- -n auto
# Under coverage's tracer a run stopped in a worker thread is never stopped (issue 91's run: the two tests
# below spun for 20 minutes, and their thread kept the worker from ever exiting), and the terminal test waited
# as long for its screen: they are left out, before and after a change alike; --timeout bounds the rest.
set +e
"$python" -m coverage run --rcfile="$out/coveragerc" -m pytest -p no:cacheprovider --timeout 900 \
    --deselect tests/runner/test_runner.py::test_declared_stage_timeout_applies_and_a_run_in_a_worker_thread_is_stopped_too \
    --deselect tests/runner/test_runner.py::test_cancel_event_stops_a_run_in_a_worker_thread \
    --deselect tests/tui/test_terminal_start.py::test_readtrack_opens_the_list_in_a_terminal_and_quits_on_q \
    "$@"
status=$?
set -e
"$python" -m coverage combine --rcfile="$out/coveragerc" -q
"$python" -m coverage report --rcfile="$out/coveragerc" > "$out/coverage.txt"
"$python" -m coverage json --rcfile="$out/coveragerc" -q -o "$out/coverage.json"
"$python" - "$out/coverage.json" <<'PY'
import json, sys
totals = json.load(open(sys.argv[1]))["totals"]
print(f"lines {totals['covered_lines']}/{totals['num_statements']}, branches "
      f"{totals['covered_branches']}/{totals['num_branches']}: {totals['percent_covered']:.2f} % "
      "(coverage's combined figure)")
PY
echo "report: $out/coverage.txt (pytest exited $status)"
