#!/usr/bin/env python3
"""Reads the per-scenario JSON written by run.sh and prints the side-by-side markdown table.

Usage: table.py OUT CONNS LAT_PAIRS LAT_RATE PAYLOAD [BROKERS]
BROKERS: comma-separated, ours first (default gateway,mosquitto,mqttnet); one column per broker and a
ratio column of ours against each of the others.

A figure from a broken run (benchjson.broken: no report, the broker died, the bot failed, a client did
not connect or was lost, the bot counted errors, no message arrived) is not printed: its cell reads
"broken: <reason>", it has no ratio, and the script exits with status 1 once the table is out."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchjson  # noqa: E402
from benchjson import fmt, get, loss  # noqa: E402

out, conns, lat_pairs, lat_rate, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
brokers = (sys.argv[6] if len(sys.argv) > 6 else "gateway,mosquitto,mqttnet").split(",")
NAMES = {"gateway": "gateway", "mosquitto": "mosquitto", "mqttnet": "MQTTnet"}
ours, peers = brokers[0], brokers[1:]


class Broken(str):
    """A cell refused because its run was broken."""


def figure(broker, name, *keys, messages=True):
    reason = benchjson.broken(out, broker, name, messages)
    if reason:
        return Broken(f"broken: {reason}")
    return get(benchjson.load(out, broker, name), *keys)


def note(broker, name):
    """The share not delivered, for a run that is not broken."""
    return "" if benchjson.broken(out, broker, name) else loss(benchjson.load(out, broker, name))


rows = []  # (label, {broker: value}, {broker: note}, digits, higher_is_better)
rows.append((f"connect rate, conn/s ({conns:,} connections)",
             {b: figure(b, "conn", "connections", "connectRate", messages=False) for b in brokers}, {}, 0, True))
rows.append(("connect latency p99, µs", {b: figure(b, "conn", "connections", "connectLatency", "p99", messages=False) for b in brokers}, {}, 0, False))
def rss(broker):
    """RSS per idle connection; a broker that trimmed memory during the hold reads less than before the connects: no figure."""
    value = figure(broker, "conn", "brokerMemory", "kbPerConnection", messages=False)
    return "n/a (RSS fell during the hold: trimmed)" if isinstance(value, (int, float)) and value <= 0 else value


rows.append(("broker RSS per idle connection, KB", {b: rss(b) for b in brokers}, {}, 2, False))
for scenario in ("p2p", "fan-in", "fan-out"):
    for qos in (0, 1):
        name = f"{scenario}-q{qos}"
        rows.append((f"{scenario} QoS {qos}, delivered msg/s", {b: figure(b, name, "messages", "receiveRate") for b in brokers},
                     {b: note(b, name) for b in brokers}, 0, True))
for qos in (0, 1):
    name = f"latency-q{qos}"
    offered = f"{lat_pairs * lat_rate:,.0f} msg/s offered, p2p {lat_pairs} pairs"
    rows.append((f"latency p50 µs, QoS {qos} ({offered})", {b: figure(b, name, "latency", "p50") for b in brokers},
                 {b: note(b, name) for b in brokers}, 0, False))
    rows.append((f"latency p99 µs, QoS {qos}", {b: figure(b, name, "latency", "p99") for b in brokers}, {}, 0, False))


def cell(value, digits):
    return value if isinstance(value, str) else fmt(value, digits)


def ratio(mine, theirs, higher):
    if isinstance(mine, str) or isinstance(theirs, str) or mine is None or not theirs:
        return "n/a"
    r = mine / theirs
    better = (r >= 1) if higher else (r <= 1)
    return f"{r:.2f}× ({'better' if better else 'worse'})"


header = [f"figure (payload {payload} B)"] + [NAMES.get(b, b) for b in brokers] + [f"{NAMES.get(ours, ours)} ÷ {NAMES.get(p, p)}" for p in peers]
print("| " + " | ".join(header) + " |")
print("|---|" + "---:|" * (len(header) - 1))
refused = 0
for label, values, notes, digits, higher in rows:
    refused += sum(isinstance(v, Broken) for v in values.values())
    cells = [f"{cell(values[b], digits)}{notes.get(b, '')}" for b in brokers]
    ratios = [ratio(values[ours], values[p], higher) for p in peers]
    print("| " + " | ".join([label] + cells + ratios) + " |")

benchjson.print_errors(out, brokers)
if refused:
    print(f"\n{refused} figure(s) refused: their runs were broken (see the cells marked broken).")
    sys.exit(1)
