#!/usr/bin/env bash
# RemotePool vs dask.distributed, side by side in one run:
#   20,000 tiny tasks over 1, 2 and 3 worker processes (tasks/s and the ratio), the same with
#   2 workers on a three-node JetStream cluster with replicas(3) beside one server, one submit
#   round trip, and the seed's CPU workload over 3 remote workers vs one CpuPool.
# Creates a venv with `distributed` (minutes the first time; kept in $VENV), starts its own
# nats-server (installed by scripts/ensure-nats-server.sh when missing).
#
#   benches/remote.sh [TASKS]
set -euo pipefail
cd "$(dirname "$0")/.."
TASKS="${1:-20000}"
VENV="${VENV:-${CARGO_TARGET_DIR:-target}/venv-dask}"
scripts/ensure-nats-server.sh
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import distributed" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q distributed
fi
echo "== dask.distributed $("$VENV/bin/python" -c 'import distributed; print(distributed.__version__)')" >&2
DASK_JSON="$("$VENV/bin/python" benches/python/dask_bench.py "$TASKS" 2>/dev/null | tail -1)"
echo "== futurepool RemotePool" >&2
cargo bench -q -p futurepool-remote --bench remote -- --tasks "$TASKS" --dask "$DASK_JSON"
