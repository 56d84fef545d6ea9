#!/usr/bin/env bash
# Runs each Python seed program of benches/python/seeds/ and its port in
# examples/, and checks that they print the same thing, line for line, where
# the output is deterministic:
#   cpu_bound    the five "Calculation for N: SUM" lines, exactly
#   map_squares  both lists, exactly
#   submit_as_completed  the same messages (their order varies in both)
# The process_* ports (ProcessPool, real child processes) are checked against the same seeds;
# what their workers print reaches stderr, so both streams are compared for them.
# Timing lines differ by nature and are not compared.
set -euo pipefail
cd "$(dirname "$0")/.."
examples=(cpu_bound map_squares submit_as_completed process_cpu_bound process_map_squares process_submit_as_completed)
# Ask cargo where it put the binaries (CARGO_TARGET_DIR, a build.target-dir setting...).
bins="$(cargo build --release -p futurepool "${examples[@]/#/--example=}" \
  --message-format=json-render-diagnostics \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "example" in m["target"]["kind"]:
        print(m["target"]["name"], m["executable"])')"
binary() { awk -v n="$1" '$1 == n {print $2}' <<<"$bins"; }
status=0
# check EXAMPLE FILTER [SEED] [SEED_PART]: SEED_PART picks the part of the seed's output that
# the example ports (the seeds run a ThreadPoolExecutor half, then a ProcessPoolExecutor half).
check() {
  local name="$1" filter="$2" seed="${3:-$1}" part="${4:-cat}" bin
  bin="$(binary "$name")"
  [ -x "$bin" ] || { echo "$name: cargo reported no binary" >&2; status=1; return; }
  if diff <(python3 "benches/python/seeds/$seed.py" | eval "$part" | eval "$filter") \
          <("$bin" 2>&1 | eval "$filter"); then
    echo "$name: same output as Python"
  else
    echo "$name: DIFFERENT from Python" >&2
    status=1
  fi
}
check cpu_bound "grep '^Calculation for'"
check map_squares "cat"
# Python's threads may print two messages on one line (print is not atomic):
# compare the messages, not the lines
check submit_as_completed "grep -o 'Started task [0-9]\\|Completed task [0-9]\\|All tasks completed' | sort"
check process_cpu_bound "grep '^Calculation for'" cpu_bound
check process_map_squares "cat" map_squares "tail -n 1"
check process_submit_as_completed "grep -o 'Started task [0-9]\\|Completed task [0-9]\\|All tasks completed' | sort" \
  submit_as_completed "awk 'second; /All tasks completed/ { second = 1 }'"
exit "$status"
