#!/usr/bin/env python3
"""Soak table: one row per interval from rss.csv (the gateway's memory) and the bots' --interval lines.
Usage: table.py OUT_DIR INTERVAL_SECONDS. Writes OUT_DIR/soak.csv and prints a markdown table and a summary."""
import csv, glob, json, os, statistics, sys
from datetime import datetime

out, interval = sys.argv[1], int(sys.argv[2])
meta = open(os.path.join(out, "meta.txt")).read()
start = datetime.fromisoformat(meta.split("started: ")[1].split()[0].replace("Z", "+00:00")).timestamp()

def bucket(iso):
    t = datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    return max(1, int((t - start + interval - 1) // interval))  # interval k ends at start + k*interval

series = {}
for path in sorted(glob.glob(os.path.join(out, "*.jsonl"))):
    name = os.path.basename(path)[:-6]
    if name == "churn":
        continue
    rows = {}
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        if r.get("seconds", 0) < interval / 4:  # a run's short last line
            continue
        b = rows.setdefault(bucket(r["time"]), {"received": 0, "seconds": 0.0, "p99": 0, "p50": 0, "count": 0, "errors": 0})
        b["received"] += r["received"]; b["seconds"] = max(b["seconds"], r["seconds"]); b["errors"] += r["errors"]
        b["p99"] = max(b["p99"], r["latency"]["p99"]); b["p50"] = max(b["p50"], r["latency"]["p50"]); b["count"] += r["latency"]["count"]
    series[name] = rows

churn = {}
churn_path = os.path.join(out, "churn.jsonl")
if os.path.exists(churn_path):
    for line in open(churn_path):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        # A conn report has no end time: count it in the interval the file says it finished (by order).
        churn.setdefault("reports", []).append(r)

rss = list(csv.DictReader(open(os.path.join(out, "rss.csv"))))
names = sorted(series)
header = ["interval", "elapsed min", "RSS MB", "threads", "load"] + [f"{n} p99 µs" for n in names] + [f"{n} recv/s" for n in names]
table = []
for row in rss:
    k = max(1, round(int(row["elapsed_s"]) / interval))
    cells = [k, round(int(row["elapsed_s"]) / 60, 1), round(int(row["rss_kb"]) / 1024, 1), row["threads"], row["loadavg"]]
    for n in names:
        b = series[n].get(k)
        cells.append(b["p99"] if b else "")
    for n in names:
        b = series[n].get(k)
        cells.append(round(b["received"] / max(1e-9, b["seconds"])) if b else "")
    table.append(cells)

with open(os.path.join(out, "soak.csv"), "w", newline="") as f:
    w = csv.writer(f); w.writerow(header); w.writerows(table)

print("| " + " | ".join(header) + " |")
print("|" + "|".join(["---:"] * len(header)) + "|")
for cells in table:
    print("| " + " | ".join(str(c) for c in cells) + " |")

print()
if rss:
    values = [int(r["rss_kb"]) / 1024 for r in rss]
    q = max(1, len(values) // 4)
    print(f"RSS MB: first {values[0]:.1f}, last {values[-1]:.1f}, min {min(values):.1f}, max {max(values):.1f}; "
          f"median of the first quarter {statistics.median(values[:q]):.1f}, of the last quarter {statistics.median(values[-q:]):.1f}")
last = max((max(1, round(int(r["elapsed_s"]) / interval)) for r in rss), default=0)
for n in names:
    p99 = [series[n][k]["p99"] for k in sorted(series[n]) if k <= last]
    if p99:
        q = max(1, len(p99) // 4)
        total = sum(b["received"] for b in series[n].values()); errors = sum(b["errors"] for b in series[n].values())
        print(f"{n}: p99 µs median of the first quarter {statistics.median(p99[:q]):.0f}, of the last quarter {statistics.median(p99[-q:]):.0f}, "
              f"max {max(p99)}; received {total}, errors {errors}")
reports = churn.get("reports", [])
if reports:
    est = sum(r.get("connections", {}).get("established", 0) for r in reports)
    failed = sum(r.get("connections", {}).get("failed", 0) for r in reports)
    p99 = [r["connections"]["connectLatency"]["p99"] for r in reports if "connections" in r]
    print(f"churn: {len(reports)} cycles, {est} connections opened and closed, {failed} failed; "
          f"connect p99 µs first cycle {p99[0] if p99 else '-'}, last {p99[-1] if p99 else '-'}, max {max(p99) if p99 else '-'}")
