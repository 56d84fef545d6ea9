# Seed 003, "I/O-Bound Task with ThreadPoolExecutor" (the seed forgot
# `import threading`; added). The five internet URLs become five pages of a
# local server: pass its base URL. Port: examples/fetch_lengths.rs
import concurrent.futures
import sys
import threading
import time

import requests

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
urls = [f"{base}/page/{name}" for name in ["google", "yahoo", "bing", "duckduckgo", "wikipedia"]]


def fetch_url(url):
    print(f'Fetching {url} in thread {threading.current_thread().name}')
    response = requests.get(url)
    return len(response.content)


if __name__ == '__main__':
    start_time = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as executor:
        results = executor.map(fetch_url, urls)
    end_time = time.time()
    print(f'ThreadPoolExecutor Execution Time: {end_time - start_time:.4f} seconds')
    for url, length in zip(urls, results):
        print(f'{url}: {length}')
