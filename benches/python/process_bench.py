#!/usr/bin/env python3
"""CPython's ProcessPoolExecutor on the workloads of futurepool's ProcessPool bench.

Run by `cargo bench -p futurepool-process --bench process` (which prints both sides and
their ratios), or alone:

    python3 benches/python/process_bench.py [--tasks N] [--workers N] [--seed]

Prints one line per measurement, `name value`:
    submit_as_completed  tasks per second (submit N tiny tasks, collect with as_completed)
    map                  tasks per second (executor.map, chunksize 1)
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
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", action="store_true")
    args = parser.parse_args()

    with concurrent.futures.ProcessPoolExecutor(max_workers=args.workers) as executor:
        # Start the workers before timing, as the Rust side does.
        list(executor.map(tiny, range(args.workers * 4)))

        start = time.perf_counter()
        futures = [executor.submit(tiny, i) for i in range(args.tasks)]
        total = sum(f.result() for f in concurrent.futures.as_completed(futures))
        elapsed = time.perf_counter() - start
        assert total == sum(i * i for i in range(args.tasks))
        print(f"submit_as_completed {args.tasks / elapsed:.1f}", flush=True)

        start = time.perf_counter()
        total = sum(executor.map(tiny, range(args.tasks)))
        elapsed = time.perf_counter() - start
        assert total == sum(i * i for i in range(args.tasks))
        print(f"map {args.tasks / elapsed:.1f}", flush=True)

        if args.seed:
            start = time.perf_counter()
            results = list(executor.map(cpu_bound_calculation, NUMBERS))
            elapsed = time.perf_counter() - start
            print(f"seed_seconds {elapsed:.4f}", flush=True)
            for n, r in zip(NUMBERS, results):
                print(f"seed_result_{n} {r}", flush=True)


if __name__ == "__main__":
    main()
