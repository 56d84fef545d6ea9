# Seed 002, both examples, verbatim. Port: examples/submit_as_completed.rs
import concurrent.futures


def task(n):
    print(f'Started task {n}')
    # Perform some time-consuming operation here
    print(f'Completed task {n}')


if __name__ == '__main__':
    with concurrent.futures.ThreadPoolExecutor() as executor:
        tasks = [executor.submit(task, i) for i in range(5)]

        for future in concurrent.futures.as_completed(tasks):
            # Wait for each task to complete
            pass

    print('All tasks completed')

    with concurrent.futures.ProcessPoolExecutor() as executor:
        tasks = [executor.submit(task, i) for i in range(5)]

        for future in concurrent.futures.as_completed(tasks):
            # Wait for each task to complete
            pass

    print('All tasks completed')
