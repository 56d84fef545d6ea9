"""The dask side of the remote pool's bench: 20,000 tiny tasks through a LocalCluster of 1, 2
and 3 worker processes (one thread each), submit + as_completed, and one submit round trip.
Prints one JSON object. Run by benches/remote.sh inside a venv with `distributed`."""

import json
import statistics
import sys
import time

from dask.distributed import Client, LocalCluster, as_completed


def square(n):
    return n * n


def run(workers, tasks):
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        # Warm up: every worker has the function and a connection.
        for f in as_completed([client.submit(square, i, pure=False) for i in range(200)]):
            f.result()
        start = time.perf_counter()
        futures = [client.submit(square, i, pure=False) for i in range(tasks)]
        total = 0
        for f in as_completed(futures):
            total += f.result()
        elapsed = time.perf_counter() - start
        assert total == sum(i * i for i in range(tasks))
        latency = None
        if workers == 1:
            rounds = []
            for i in range(200):
                t = time.perf_counter()
                client.submit(square, i, pure=False).result()
                rounds.append(time.perf_counter() - t)
            latency = statistics.median(rounds)
        return tasks / elapsed, latency


def main():
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    out = {}
    for workers in (1, 2, 3):
        rate, latency = run(workers, tasks)
        out[f"tasks_per_s_{workers}"] = rate
        if latency is not None:
            out["round_trip_s"] = latency
    print(json.dumps(out))


if __name__ == "__main__":
    main()
