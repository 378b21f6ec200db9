#!/usr/bin/env python3
"""Reads the per-scenario JSON written by run.sh and prints the side-by-side markdown table."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchjson  # noqa: E402
from benchjson import fmt, get, loss  # noqa: E402

out, conns, lat_pairs, lat_rate, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]


def load(broker, name):
    return benchjson.load(out, broker, name)


rows = []  # (label, ours, theirs, digits, higher_is_better, note_ours, note_theirs)


g, m = load("gateway", "conn"), load("mosquitto", "conn")
rows.append(("connect rate, conn/s (%s connections)" % f"{conns:,}", get(g, "connections", "connectRate"), get(m, "connections", "connectRate"), 0, True,
             f" ({get(g, 'connections', 'established')} up)" if g else "", f" ({get(m, 'connections', 'established')} up)" if m else ""))
rows.append(("connect latency p99, µs", get(g, "connections", "connectLatency", "p99"), get(m, "connections", "connectLatency", "p99"), 0, False, "", ""))
rows.append(("broker RSS per idle connection, KB", get(g, "brokerMemory", "kbPerConnection"), get(m, "brokerMemory", "kbPerConnection"), 2, False, "", ""))
for scenario in ("p2p", "fan-in", "fan-out"):
    for qos in (0, 1):
        g, m = load("gateway", f"{scenario}-q{qos}"), load("mosquitto", f"{scenario}-q{qos}")
        rows.append((f"{scenario} QoS {qos}, delivered msg/s", get(g, "messages", "receiveRate"), get(m, "messages", "receiveRate"), 0, True, loss(g), loss(m)))
for qos in (0, 1):
    g, m = load("gateway", f"latency-q{qos}"), load("mosquitto", f"latency-q{qos}")
    offered = f"{lat_pairs * lat_rate:,.0f} msg/s offered, p2p {lat_pairs} pairs"
    rows.append((f"latency p50 µs, QoS {qos} ({offered})", get(g, "latency", "p50"), get(m, "latency", "p50"), 0, False, loss(g), loss(m)))
    rows.append((f"latency p99 µs, QoS {qos}", get(g, "latency", "p99"), get(m, "latency", "p99"), 0, False, "", ""))

print(f"| figure (payload {payload} B) | gateway | mosquitto | gateway ÷ mosquitto |")
print("|---|---:|---:|---:|")
for label, ours, theirs, digits, higher, note_ours, note_theirs in rows:
    ratio = "n/a"
    if ours is not None and theirs:
        r = ours / theirs
        better = (r >= 1) if higher else (r <= 1)
        ratio = f"{r:.2f}× ({'better' if better else 'worse'})"
    print(f"| {label} | {fmt(ours, digits)}{note_ours} | {fmt(theirs, digits)}{note_theirs} | {ratio} |")

benchjson.print_errors(out, ("gateway", "mosquitto"))
