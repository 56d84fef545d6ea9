#!/usr/bin/env python3
"""CPython's ProcessPoolExecutor on the workloads of futurepool's ProcessPool bench.

Run by `cargo bench -p futurepool-process --bench process` (which prints both sides and
their ratios), or alone:

    python3 benches/python/process_bench.py [--tasks N] [--runs N] [--map-items N]
        [--chunksize N] [--workers N] [--seed]

Prints one line per measurement, `name value...` (one value per run):
    submit_as_completed  tasks per second (submit N tiny tasks, collect with as_completed)
    map                  items per second (executor.map over --map-items, --chunksize)
    seed_seconds         the seed's cpu_bound_calculation over its five numbers (with --seed)
    seed_result_<n>      each of its results
"""

import argparse
import concurrent.futures
import time


def tiny(n):
    return n * n


def cpu_bound_calculation(n):
    result = 0
    for i in range(n):
        result += i * i
    return result


NUMBERS = [10000000, 12000000, 11000000, 9000000, 13000000]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--map-items", type=int, default=1000000)
    parser.add_argument("--map-runs", type=int, default=3)
    parser.add_argument("--chunksize", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", action="store_true")
    args = parser.parse_args()

    with concurrent.futures.ProcessPoolExecutor(max_workers=args.workers) as executor:
        # Start the workers before timing, as the Rust side does.
        list(executor.map(tiny, range(args.workers * 4)))

        rates = []
        for _ in range(args.runs):
            start = time.perf_counter()
            futures = [executor.submit(tiny, i) for i in range(args.tasks)]
            total = sum(f.result() for f in concurrent.futures.as_completed(futures))
            elapsed = time.perf_counter() - start
            assert total == sum(i * i for i in range(args.tasks))
            rates.append(args.tasks / elapsed)
        print("submit_as_completed " + " ".join(f"{r:.1f}" for r in rates), flush=True)

        rates = []
        for _ in range(args.map_runs):
            start = time.perf_counter()
            total = sum(executor.map(tiny, range(args.map_items), chunksize=args.chunksize))
            elapsed = time.perf_counter() - start
            assert total == sum(i * i for i in range(args.map_items))
            rates.append(args.map_items / elapsed)
        print("map " + " ".join(f"{r:.1f}" for r in rates), flush=True)

        if args.seed:
            start = time.perf_counter()
            results = list(executor.map(cpu_bound_calculation, NUMBERS))
            elapsed = time.perf_counter() - start
            print(f"seed_seconds {elapsed:.4f}", flush=True)
            for n, r in zip(NUMBERS, results):
                print(f"seed_result_{n} {r}", flush=True)


if __name__ == "__main__":
    main()
