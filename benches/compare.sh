#!/usr/bin/env bash
# Python's concurrent.futures vs futurepool on the seed documents' workloads,
# on this machine, in one command:
#
#     benches/compare.sh [--quick] [--markdown]
#
# Starts one local HTTP server (benches/python/server.py, 20 ms per page) that
# both sides download from, builds and runs the futurepool side
# (`cargo bench --bench python_compare`), then the Python side
# (benches/python/seeds_bench.py), one after the other, and prints one table:
# workload, Python seconds, futurepool seconds, ratio (Python / futurepool).
# Needs python3; the download workloads use `requests` if it is installed
# (it is pip-installed when missing and pip works), else urllib.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=() markdown=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=(--quick) ;;
    --markdown) markdown=(--markdown) ;;
    *) echo "usage: benches/compare.sh [--quick] [--markdown]" >&2; exit 2 ;;
  esac
done

python3 -c 'import requests' 2>/dev/null \
  || python3 -m pip install --quiet requests >/dev/null 2>&1 \
  || echo "note: requests unavailable; the Python side uses urllib" >&2

out="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$out"
}
trap cleanup EXIT

python3 benches/python/server.py --latency-ms 20 --lifetime 1800 >"$out/server.txt" &
server_pid=$!
for _ in $(seq 100); do
  grep -q LISTENING "$out/server.txt" 2>/dev/null && break
  sleep 0.1
done
url="$(awk '/LISTENING/ {print $2}' "$out/server.txt")"
[ -n "$url" ] || { echo "the local server did not start" >&2; exit 1; }

echo "building the futurepool side..." >&2
cargo bench -p futurepool --bench python_compare --no-run >&2
echo "running the futurepool side..." >&2
cargo bench -p futurepool --bench python_compare -- --json --url "$url" "${quick[@]}" >"$out/rust.json"
echo "running the Python side..." >&2
python3 benches/python/seeds_bench.py --url "$url" "${quick[@]}" >"$out/python.json"
python3 benches/python/table.py "$out/python.json" "$out/rust.json" "${markdown[@]}"
