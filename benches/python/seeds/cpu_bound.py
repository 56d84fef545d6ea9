# Seed 003, "CPU-Bound Task with ProcessPoolExecutor", verbatim.
# Port: examples/cpu_bound.rs (its "Calculation for" lines must be identical).
import concurrent.futures
import time
import multiprocessing


def cpu_bound_calculation(n):
    result = 0
    for i in range(n):
        result += i*i
    return result


if __name__ == '__main__':
    numbers = [10000000, 12000000, 11000000, 9000000, 13000000]
    start_time = time.time()
    with concurrent.futures.ProcessPoolExecutor(max_workers=multiprocessing.cpu_count()) as executor:
        results = executor.map(cpu_bound_calculation, numbers)
    end_time = time.time()
    print(f'ProcessPoolExecutor Execution Time: {end_time - start_time:.4f} seconds')
    for num, result in zip(numbers, results):
        print(f'Calculation for {num}: {result}')
