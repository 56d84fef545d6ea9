#!/usr/bin/env bash
# `scrape crawl` on a large generated site, and its memory on pages with very many links:
#
#     benches/scrape-crawl-100k.sh [--pages N] [--markdown]
#
# Generates a static site of N pages [100000] (page i links to pages 10i+1..10i+10 and to
# three pseudo-random pages, about 1 KB each) plus two link farms, serves it with nginx on
# 127.0.0.1, builds `scrape` in release mode, then measures (wall, CPU, peak RSS):
#
#   crawl       the whole site from /p/0.html (--max-pages N, unlimited depth, concurrency
#               64), checking every page was found once;
#   crawl_state the same crawl with --state (the journal's cost), and the same rows;
#   links_1k    a crawl of one page with 1,000 links at --max-pages 10;
#   links_1m    the same with 1,000,000 links (a 19 MB page): the crawl keeps no more URLs
#               than it can still fetch, so its peak RSS stays near links_1k's.
#
# Needs nginx (nginx-light), /usr/bin/time and python3; installs the first two with apt-get
# when missing (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."

pages=100000 markdown=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pages) pages="$2"; shift ;;
    --markdown) markdown=1 ;;
    *) echo "usage: benches/scrape-crawl-100k.sh [--pages N] [--markdown]" >&2; exit 2 ;;
  esac
  shift
done

missing=()
command -v nginx >/dev/null || missing+=(nginx-light)
[ -x /usr/bin/time ] || missing+=(time)
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
chmod 755 "$work" # nginx workers (www-data when started as root) read the site from here
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "generating a $pages-page site..." >&2
python3 - "$work/site" "$pages" <<'EOF'
import os, random, sys
root, pages = sys.argv[1], int(sys.argv[2])
os.makedirs(f"{root}/p")
rng = random.Random(7)
filler = "<p>" + "lorem ipsum dolor sit amet " * 20 + "</p>\n"
for i in range(pages):
    links = [k for k in range(10 * i + 1, 10 * i + 11) if k < pages]
    links += [rng.randrange(pages) for _ in range(3)]
    anchors = "".join(f'<li><a href="/p/{k}.html">page {k}</a></li>\n' for k in links)
    with open(f"{root}/p/{i}.html", "w") as f:
        f.write(f"<!doctype html><html><head><title>Page {i}</title></head><body>\n"
                f"<h1>Page {i}</h1>\n{filler}<ul>\n{anchors}</ul></body></html>\n")
for name, n in (("links-1k", 1000), ("links-1m", 1000000)):
    with open(f"{root}/{name}.html", "w") as f:
        f.write(f"<!doctype html><title>{name}</title>\n")
        f.writelines(f"<a href=/n/{k}>{k}</a>\n" for k in range(n))
EOF

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
  keepalive_requests 1000000;
  sendfile on;
  server {
    listen 127.0.0.1:$port;
    root $work/site;
  }
}
EOF
nginx -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf -o /dev/null "$base/p/0.html" && break; sleep 0.1; done
curl -sf -o /dev/null "$base/p/0.html" || { echo "nginx did not start:" >&2; cat "$work/nginx-error.log" >&2; exit 1; }

# measure NAME COMMAND...: appends "NAME wall user sys maxrss_kb" to $work/times
measure() {
  local name="$1"; shift
  /usr/bin/time -f "$name %e %U %S %M" -a -o "$work/times" "$@" >"$work/$name.out" 2>"$work/$name.err" \
    || { echo "$name failed:" >&2; tail -5 "$work/$name.err" >&2; exit 1; }
}
: >"$work/times"
crawl_opts=(--depth 1000000 --max-pages "$pages" --concurrency 64 --per-host 64 --quiet --format jsonl)
echo "crawling..." >&2
# a first crawl, not measured, brings the site into the page cache
"$scrape" crawl "$base/p/0.html" "${crawl_opts[@]}" --output /dev/null
measure crawl "$scrape" crawl "$base/p/0.html" "${crawl_opts[@]}" --output "$work/crawl.jsonl"
measure crawl_state "$scrape" crawl "$base/p/0.html" "${crawl_opts[@]}" \
  --state "$work/crawl.state" --output "$work/crawl-state.jsonl"
farm_opts=(--depth 1 --max-pages 10 --max-bytes 40000000 --quiet --output /dev/null)
measure links_1k "$scrape" crawl "$base/links-1k.html" "${farm_opts[@]}"
measure links_1m "$scrape" crawl "$base/links-1m.html" "${farm_opts[@]}"

python3 - "$work" "$pages" "$markdown" <<'EOF'
import json, sys
work, pages, markdown = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
runs = {}
for line in open(f"{work}/times"):
    name, wall, user, sys_, rss = line.split()
    runs[name] = (float(wall), float(user) + float(sys_), int(rss) / 1024)
for name in ("crawl", "crawl_state"):
    out = "crawl.jsonl" if name == "crawl" else "crawl-state.jsonl"
    urls = [json.loads(l)["url"] for l in open(f"{work}/{out}")]
    ok = len(urls) == len(set(urls)) == pages
    print(f"{name}: {len(urls)} rows, {len(set(urls))} distinct ({'all pages' if ok else 'MISSING PAGES'})")
rows = [
    ("crawl of the site", "crawl"),
    ("the same with --state", "crawl_state"),
    ("page with 1,000 links, --max-pages 10", "links_1k"),
    ("page with 1,000,000 links, --max-pages 10", "links_1m"),
]
if markdown:
    print("| run | wall | CPU | peak RSS |\n|---|---|---|---|")
for label, name in rows:
    wall, cpu, rss = runs[name]
    extra = f" ({pages / wall:,.0f} pages/s)" if name.startswith("crawl") else ""
    if markdown:
        print(f"| {label} | {wall:.2f} s{extra} | {cpu:.2f} s | {rss:.1f} MB |")
    else:
        print(f"{label:45} {wall:7.2f} s{extra:20} CPU {cpu:6.2f} s  peak RSS {rss:7.1f} MB")
w, s = runs["crawl"][0], runs["crawl_state"][0]
print(f"--state costs {s / w:.2f}x the crawl's wall time")
EOF
