# Seed 001, both chapters, verbatim. Port: examples/map_squares.rs
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import ProcessPoolExecutor


def task(n):
    return n * n


def task2(n):
    return n ** 2


if __name__ == '__main__':
    with ThreadPoolExecutor(max_workers=3) as executor:
        results = executor.map(task, [1, 2, 3, 4])
    print(list(results))

    with ProcessPoolExecutor() as executor:
        results = executor.map(task2, range(10))
    print(list(results))
