#!/usr/bin/env python3
"""Join the Python and the futurepool result files into one table.

Usage: table.py PYTHON.json FUTUREPOOL.json [--markdown]
ratio = Python seconds / futurepool seconds (above 1: futurepool is faster).
A row whose `check` values differ is marked: the two sides did not compute
the same thing, and its timing means nothing.
"""
import json
import sys


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    with open(args[0]) as f:
        py = json.load(f)
    with open(args[1]) as f:
        rs = json.load(f)
    rs_by_name = {r["workload"]: r for r in rs["results"]}
    rows = []
    for p in py["results"]:
        r = rs_by_name.get(p["workload"])
        if r is None:
            rows.append((p["workload"], p["items"], f'{p["seconds"]:.4f}', "missing", "-", "", ""))
            continue
        ratio = p["seconds"] / r["seconds"] if r["seconds"] > 0 else float("inf")
        same = str(p["check"]) == str(r["check"])
        rows.append((
            p["workload"], p["items"], f'{p["seconds"]:.4f}', f'{r["seconds"]:.4f}',
            f"{ratio:.1f}x", r.get("futurepool", ""), "" if same else "CHECK MISMATCH",
        ))
    header = ("workload", "items", "Python s", "futurepool s", "ratio", "futurepool side", "")
    m = py.get("machine", {})
    print(f'machine: {m.get("nproc")} cores, {m.get("cpu")}; Python {py.get("python")} '
          f'({py.get("http_client")}); median of {py.get("repeat")} runs each side')
    if markdown:
        print("| " + " | ".join(header[:6]) + " |")
        print("|" + "---|" * 6)
        for row in rows:
            print("| " + " | ".join(str(c) for c in row[:6]) + (" " + row[6] if row[6] else "") + " |")
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
        for row in [header] + rows:
            print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    if any(row[6] for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
