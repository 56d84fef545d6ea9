#!/usr/bin/env bash
# `scrape` against curl and wget2 on a real static site, in one run:
#
#     benches/scrape-vs-curl-wget2.sh [--quick] [--markdown]
#
# The site is Debian's python3.11-doc package (the Python 3.11 documentation:
# 530 HTML pages, about 96 KB each), served by nginx on 127.0.0.1. Installs
# nginx-light, wget2, curl, time and the doc package with apt-get when they are
# missing (needs root), builds `scrape` in release mode, then runs, interleaved,
# median of the rounds:
#
#   fetch  5,300 page URLs (each page ten times, made distinct by a query
#          string) with `scrape fetch --concurrency 64 --per-host 64` and with
#          `curl --parallel --parallel-max 64`;
#   crawl  the whole site from its index with `scrape crawl` (default
#          concurrency, unlimited depth) and with `wget2 --spider -r`
#          (default threads, unlimited depth), and checks both found the same
#          HTML pages;
#   parse  the fetch and the crawl again with every HTML body scanned on the
#          CpuPool, chunk by chunk as it arrives (by default only bodies over
#          256 KB are; these pages are about 96 KB, so they are scanned on the
#          runtime);
#   memory the peak RSS of a 20,000-URL fetch.
#
# Prints wall time, CPU time (user + system) and peak RSS per run, and the
# ratios baseline / scrape (above 1: scrape is faster).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0 markdown=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --markdown) markdown=1 ;;
    *) echo "usage: benches/scrape-vs-curl-wget2.sh [--quick] [--markdown]" >&2; exit 2 ;;
  esac
done
rounds=$(( quick ? 1 : 3 ))
copies=$(( quick ? 2 : 10 ))
doc_package=python3.11-doc
site=/usr/share/doc/python3.11/html

missing=()
command -v nginx >/dev/null || missing+=(nginx-light)
command -v wget2 >/dev/null || missing+=(wget2)
command -v curl >/dev/null || missing+=(curl)
[ -x /usr/bin/time ] || missing+=(time)
[ -f "$site/index.html" ] || missing+=("$doc_package")
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}..." >&2
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
fi

echo "building scrape (release)..." >&2
scrape="$(cargo build --release -p futurepool-scraper --bin scrape --message-format=json-render-diagnostics \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["executable"])' | tail -1)"
[ -x "$scrape" ] || { echo "cannot find the scrape binary" >&2; exit 1; }

work="$(mktemp -d)"
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  keepalive_requests 100000;
  sendfile on;
  server {
    listen 127.0.0.1:$port;
    root $site;
  }
}
EOF
nginx -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 50); do curl -sf -o /dev/null "$base/index.html" && break; sleep 0.1; done
curl -sf -o /dev/null "$base/index.html" || { echo "nginx did not start" >&2; exit 1; }

# URL lists: every page, `copies` times, made distinct with a query string
(cd "$site" && find -L . -name '*.html' | sed 's#^\./##' | sort) >"$work/pages.txt"
pages=$(wc -l <"$work/pages.txt")
for i in $(seq "$copies"); do sed "s#^#$base/#; s#\$#?copy=$i#" "$work/pages.txt"; done >"$work/urls.txt"
urls=$(wc -l <"$work/urls.txt")
# (written whole, then cut: `head` closing a pipe would end the script under pipefail)
for i in $(seq 38); do sed "s#^#$base/#; s#\$#?m=$i#" "$work/pages.txt"; done >"$work/urls-38x.txt"
head -20000 "$work/urls-38x.txt" >"$work/urls-20k.txt"
awk '{print "url = \"" $0 "\"\noutput = \"/dev/null\""}' "$work/urls.txt" >"$work/curl.cfg"

# measure NAME COMMAND...: appends "NAME wall user sys maxrss_kb" to $work/times
measure() {
  local name="$1"; shift
  /usr/bin/time -f "$name %e %U %S %M" -a -o "$work/times" "$@" >"$work/$name.out" 2>"$work/$name.err" \
    || { echo "$name failed:" >&2; tail -5 "$work/$name.err" >&2; exit 1; }
}

fetch_opts=(--concurrency 64 --per-host 64 --format jsonl --quiet)
crawl_opts=(--depth 100000 --max-pages 1000000 --format jsonl --quiet)
echo "site: $doc_package, $pages pages at $base; fetch of $urls URLs; $rounds round(s)" >&2
: >"$work/times"
for r in $(seq "$rounds"); do
  echo "round $r..." >&2
  measure curl curl --parallel --parallel-max 64 -s -K "$work/curl.cfg"
  measure scrape_fetch "$scrape" fetch --input "$work/urls.txt" "${fetch_opts[@]}" --output "$work/fetch.jsonl"
  measure scrape_fetch_pool "$scrape" fetch --input "$work/urls.txt" "${fetch_opts[@]}" --offload-parse-bytes 0 --output /dev/null
  # wget2 exits 8 when the server answered an error (here: 404 for robots.txt and a few links)
  measure wget2 sh -c 'wget2 "$@"; [ $? -le 8 ]' wget2 --spider -r -l 0 -q "$base/index.html"
  measure scrape_crawl "$scrape" crawl "$base/index.html" "${crawl_opts[@]}" --output "$work/crawl.jsonl"
  measure scrape_crawl_pool "$scrape" crawl "$base/index.html" "${crawl_opts[@]}" --offload-parse-bytes 0 --output /dev/null
done
# the pages wget2 finds, from its per-URL statistics (written outside the timed runs)
wget2 --spider -r -l 0 -q --stats-site="csv:$work/wget2-site.csv" "$base/index.html" || [ $? -le 8 ]
measure scrape_fetch_20k "$scrape" fetch --input "$work/urls-20k.txt" "${fetch_opts[@]}" --output /dev/null

python3 - "$work" "$base" "$urls" "$markdown" <<'EOF'
import csv, json, statistics, sys
work, base, urls, markdown = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
runs = {}
for line in open(f"{work}/times"):
    name, wall, user, sys_, rss = line.split()
    runs.setdefault(name, []).append((float(wall), float(user) + float(sys_), int(rss) / 1024))
med = {n: tuple(statistics.median(v[i] for v in rs) for i in range(3)) for n, rs in runs.items()}

fetched = [json.loads(l) for l in open(f"{work}/fetch.jsonl")]
fetch_ok = sum(1 for r in fetched if r["status"] == 200 and r["title"])
def html(ct):
    return (ct or "").split(";")[0].strip() == "text/html"
crawl_pages = {r["final_url"] for r in map(json.loads, open(f"{work}/crawl.jsonl"))
               if r["status"] == 200 and html(r["content_type"])}
wget_pages = set()
# wget2's site stats have no Content-Type: its HTML pages are the .html paths
with open(f"{work}/wget2-site.csv") as f:
    for row in csv.DictReader(f):
        url = row["URL"].split("#")[0]
        if row["Status"] == "200" and url.split("?")[0].endswith(".html"):
            wget_pages.add(url)
norm = lambda s: {u.split("#")[0] for u in s}
same = norm(crawl_pages) == norm(wget_pages)

rows = [
    ("fetch", f"curl --parallel --parallel-max 64 ({urls} URLs)", "curl", None),
    ("fetch", "scrape fetch --concurrency 64 --per-host 64", "scrape_fetch", "curl"),
    ("fetch", "  the same, every body scanned on the CpuPool", "scrape_fetch_pool", "curl"),
    ("crawl", "wget2 --spider -r -l 0 (5 threads)", "wget2", None),
    ("crawl", "scrape crawl --depth 100000 (32 / 8 per host)", "scrape_crawl", "wget2"),
    ("crawl", "  the same, every body scanned on the CpuPool", "scrape_crawl_pool", "wget2"),
    ("memory", "scrape fetch of 20,000 URLs, --concurrency 64", "scrape_fetch_20k", None),
]
head = ["task", "run", "wall s", "CPU s", "peak RSS MB", "wall ratio", "CPU ratio"]
table = []
for task, label, name, baseline in rows:
    wall, cpu, rss = med[name]
    wr = cr = ""
    if baseline:
        wr = f"{med[baseline][0] / wall:.2f}x"
        cr = f"{med[baseline][1] / cpu:.2f}x"
    table.append([task, label, f"{wall:.3f}", f"{cpu:.3f}", f"{rss:.1f}", wr, cr])
if markdown:
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in table:
        print("| " + " | ".join(r) + " |")
else:
    widths = [max(len(r[i]) for r in table + [head]) for i in range(len(head))]
    for r in [head] + table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
print()
print(f"fetch: {fetch_ok} of {urls} rows with status 200 and a title")
print(f"crawl: scrape found {len(crawl_pages)} HTML pages, wget2 {len(wget_pages)}: "
      + ("the same pages" if same else "DIFFERENT pages"))
if not same:
    for u in sorted(norm(crawl_pages) - norm(wget_pages))[:5]: print("  only scrape:", u)
    for u in sorted(norm(wget_pages) - norm(crawl_pages))[:5]: print("  only wget2:", u)
print("ratios: baseline / scrape, medians of the rounds; above 1, scrape is faster or cheaper")
EOF
