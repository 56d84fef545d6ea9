#!/usr/bin/env python3
"""The seed documents' workloads, timed with CPython's concurrent.futures.

Each workload is written the way the seed documents write it; the Rust side
(`cargo bench --bench python_compare`) runs the same workloads with futurepool.
Prints one JSON document on stdout:

    {"side": "python", "python": "3.11.7", "machine": {...},
     "results": [{"workload": ..., "seconds": ..., "items": ..., "check": ...}, ...]}

`seconds` is the median of --repeat runs; `check` is a value derived from the
results (a sum or a count) that the Rust side must reproduce exactly.

Usage: seeds_bench.py [--url http://127.0.0.1:PORT] [--repeat 3] [--quick]
Without --url, a local server (server.py beside this file) is started for the
download workloads and stopped at the end.
"""
import argparse
import concurrent.futures
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

try:  # the seeds use requests; fall back to the standard library if it is missing
    import requests

    def http_get_status(url):
        return requests.get(url).status_code

    HTTP_CLIENT = "requests " + requests.__version__
except ImportError:  # pragma: no cover - depends on the machine
    import urllib.request

    def http_get_status(url):
        with urllib.request.urlopen(url) as response:
            response.read()
            return response.status

    HTTP_CLIENT = "urllib"


# --- the seeds' functions -------------------------------------------------

def task(n):
    # seed 001: `def task(n): return n * n` (ThreadPoolExecutor) / `n ** 2` (ProcessPoolExecutor)
    return n * n


def cpu_bound_calculation(n):
    # seed 003, verbatim
    result = 0
    for i in range(n):
        result += i * i
    return result


def download_page(url):
    # seed 000, with the client chosen above
    return http_get_status(url)


# --- workloads ----------------------------------------------------------

def thread_submit_as_completed(n):
    total = 0
    with concurrent.futures.ThreadPoolExecutor() as executor:
        futures = [executor.submit(task, i) for i in range(n)]
        for future in concurrent.futures.as_completed(futures):
            total += future.result()
    return total


def thread_map(n):
    with concurrent.futures.ThreadPoolExecutor() as executor:
        return sum(executor.map(task, range(n)))


def process_map(n):
    with concurrent.futures.ProcessPoolExecutor() as executor:
        return sum(executor.map(task, range(n)))


NUMBERS = [10_000_000, 12_000_000, 11_000_000, 9_000_000, 13_000_000]


def cpu_bound(_n):
    with concurrent.futures.ProcessPoolExecutor(max_workers=multiprocessing.cpu_count()) as executor:
        results = list(executor.map(cpu_bound_calculation, NUMBERS))
    return sum(results)


def make_download(base, workers):
    def run(n):
        urls = [f"{base}/page/{i}" for i in range(n)]
        ok = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as executor:
            future_to_url = {executor.submit(download_page, url): url for url in urls}
            for future in concurrent.futures.as_completed(future_to_url):
                try:
                    if future.result() == 200:
                        ok += 1
                except Exception as exc:  # the seed prints it and goes on
                    print(f"{future_to_url[future]}: {exc}", file=sys.stderr)
        return ok
    return run


def time_it(fn, n, repeat):
    times, check = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        check = fn(n)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), check


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description="seed workloads on concurrent.futures")
    ap.add_argument("--url", help="base URL of a running server.py (default: start one)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="smaller inputs, one run")
    ap.add_argument("--only", help="comma-separated workload names")
    args = ap.parse_args()
    if args.quick:
        args.repeat = 1

    server = None
    base = args.url
    if base is None:
        server = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "server.py"), "--latency-ms", "20", "--lifetime", "600"],
            stdout=subprocess.PIPE, text=True,
        )
        base = server.stdout.readline().split()[1]

    default_workers = min(32, (os.cpu_count() or 1) + 4)  # ThreadPoolExecutor's default
    scale = 10 if args.quick else 1
    workloads = [
        ("thread_submit_as_completed", thread_submit_as_completed, 100_000 // scale),
        ("thread_map", thread_map, 100_000 // scale),
        ("process_map", process_map, 20_000 // scale),
        ("cpu_bound_calculation", cpu_bound, len(NUMBERS)),
        (f"download_{default_workers}_workers", make_download(base, default_workers), 300 // scale),
        ("download_50_workers", make_download(base, 50), 1000 // scale),
    ]
    only = set(args.only.split(",")) if args.only else None
    results = []
    try:
        for name, fn, n in workloads:
            if only and name not in only and name.split("_")[0] not in only:
                continue
            seconds, check = time_it(fn, n, args.repeat)
            results.append({"workload": name, "seconds": seconds, "items": n, "check": check})
            print(f"{name}: {seconds:.4f} s", file=sys.stderr)
    finally:
        if server is not None:
            server.terminate()
            server.wait()

    print(json.dumps({
        "side": "python",
        "python": platform.python_version(),
        "http_client": HTTP_CLIENT,
        "machine": {"nproc": os.cpu_count(), "cpu": cpu_model()},
        "repeat": args.repeat,
        "results": results,
    }, indent=1))


if __name__ == "__main__":
    main()
