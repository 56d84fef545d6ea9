#!/usr/bin/env python3
"""A small local HTTP/1.1 server for the download workloads.

Every GET of /page/<n> answers after a fixed latency with a small HTML page
(title "Page <n>"). Keep-alive is supported, so clients that pool
connections can reuse them; clients that do not (the seed's bare
``requests.get``) open one connection per request.

Usage: server.py [--port 0] [--latency-ms 20] [--bytes 2048]
Prints ``LISTENING http://127.0.0.1:<port>`` on stdout once it accepts
connections, then serves until killed (or until --lifetime seconds pass).
Only ever binds 127.0.0.1.
"""
import argparse
import asyncio
import sys


def make_body(path: str, size: int) -> bytes:
    title = path.strip("/").replace("/", " ").title() or "Index"
    head = f"<!doctype html><html><head><title>{title}</title></head><body><p>"
    tail = "</p></body></html>"
    filler = "x" * max(0, size - len(head) - len(tail))
    return (head + filler + tail).encode()


async def handle(reader, writer, latency, size):
    try:
        while True:
            request_line = await reader.readline()
            if not request_line:
                break
            headers = {}
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            parts = request_line.decode("latin-1").split()
            path = parts[1] if len(parts) > 1 else "/"
            version = parts[2] if len(parts) > 2 else "HTTP/1.0"
            length = int(headers.get("content-length", "0") or 0)
            if length:
                await reader.readexactly(length)
            if latency:
                await asyncio.sleep(latency)
            if path.startswith("/page/") or path == "/":
                status, body = "200 OK", make_body(path, size)
            else:
                status, body = "404 Not Found", b"not found"
            conn = headers.get("connection", "").lower()
            keep = (version == "HTTP/1.1" and conn != "close") or conn == "keep-alive"
            writer.write(
                (
                    f"HTTP/1.1 {status}\r\n"
                    f"Content-Type: text/html; charset=utf-8\r\n"
                    f"Content-Length: {len(body)}\r\n"
                    f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n"
                ).encode()
                + body
            )
            await writer.drain()
            if not keep:
                break
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--bytes", type=int, default=2048)
    ap.add_argument("--lifetime", type=float, default=3600.0,
                    help="stop by itself after this many seconds")
    args = ap.parse_args()
    latency = args.latency_ms / 1000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, latency, args.bytes),
        "127.0.0.1", args.port, backlog=1024,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"LISTENING http://127.0.0.1:{port}", flush=True)
    async with server:
        try:
            await asyncio.wait_for(server.serve_forever(), args.lifetime)
        except asyncio.TimeoutError:
            pass


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
