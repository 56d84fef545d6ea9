# Seed 000, the page download with as_completed. The seed's three internet
# URLs become three pages of a local server (there is no internet here):
# pass its base URL, e.g. `python3 download_pages.py http://127.0.0.1:8000`.
# Port: examples/download_pages.rs
import concurrent.futures
import sys
import time

import requests

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"


def download_page(url):
    response = requests.get(url)
    return response.status_code


urls = [
    f"{base}/page/example",
    f"{base}/page/google",
    f"{base}/page/wikipedia",
]
start_time = time.time()
with concurrent.futures.ThreadPoolExecutor() as executor:
    future_to_url = {executor.submit(download_page, url): url for url in urls}
    for future in concurrent.futures.as_completed(future_to_url):
        url = future_to_url[future]
        try:
            status_code = future.result()
            print(f"{url}: {status_code}")
        except Exception as exc:
            print(f"{url}: {exc}")
end_time = time.time()
print(f"Downloaded {len(urls)} pages in {end_time - start_time:.2f} seconds")
