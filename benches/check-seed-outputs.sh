#!/usr/bin/env bash
# Runs each Python seed program of benches/python/seeds/ and its port in
# examples/, and checks that they print the same thing, line for line, where
# the output is deterministic:
#   cpu_bound    the five "Calculation for N: SUM" lines, exactly
#   map_squares  both lists, exactly
#   submit_as_completed  the same messages (their order varies in both)
# Timing lines differ by nature and are not compared.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p futurepool --example cpu_bound --example map_squares --example submit_as_completed >&2
status=0
check() {
  local name="$1" filter="$2"
  if diff <(python3 "benches/python/seeds/$name.py" | eval "$filter") \
          <("target/release/examples/$name" | eval "$filter"); then
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
exit "$status"
