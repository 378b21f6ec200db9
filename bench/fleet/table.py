#!/usr/bin/env python3
"""Reads what bench/fleet/run.sh wrote to $OUT and prints the single node vs fleet markdown table.

A figure from a broken run is refused, not printed: a node that died, connections lost outside the
kill -9 run, fewer connections than asked, or messages lost beyond the tolerance of their QoS."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "side-by-side"))
import benchjson  # noqa: E402
from benchjson import fmt, get  # noqa: E402

out, conns, lat_pairs, lat_rate, payload, fail_pairs, fail_rate = (
    sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], int(sys.argv[6]), float(sys.argv[7]))
LOSS_TOLERANCE = {0: 0.01, 1: 0.001}  # QoS 0 may be shed under overload; QoS 1 may not


def load(mode, name):
    return benchjson.load(out, mode, name)


def broken(mode, name, qos=None, failover=False):
    """Why the run MODE-NAME cannot be reported, or None."""
    report = load(mode, name)
    if report is None:
        return "no result"
    dead = os.path.join(out, f"{mode}-{name}.dead")
    if os.path.exists(dead):
        return "a node died"
    c = report.get("connections", {})
    if c.get("established", 0) < c.get("target", 0):
        return f"{c.get('established')} of {c.get('target')} connected"
    if failover:
        if c.get("reconnects", 0) < c.get("lost", 0):
            return f"{c.get('reconnects')} of {c.get('lost')} lost clients resumed"
        return None
    if c.get("lost", 0):
        return f"{c['lost']} connections lost"
    expected, lost = get(report, "messages", "expected"), get(report, "messages", "lost")
    if qos is not None and not expected:
        return "no messages measured"
    if qos is not None and expected and expected > 0 and lost is not None and lost > LOSS_TOLERANCE[qos] * expected:
        return f"{100.0 * lost / expected:.2f}% lost"
    return None


def cpu_us_per_message(mode, name):
    """Node processes' CPU seconds over the whole bot run / messages delivered in the measured window (an upper bound)."""
    report = load(mode, name)
    try:
        with open(os.path.join(out, f"{mode}-{name}.cpu")) as f:
            nodes, redis, tck = (int(v) for v in f.read().split())
    except (OSError, ValueError):
        return None, None
    received = get(report, "messages", "received")
    if not received:
        return None, None
    return 1e6 * nodes / tck / received, 1e6 * redis / tck / received


rows = []  # (label, single, fleet, digits, higher_is_better, target text, target met?, mosquitto)


def figure(mode, name, *keys, qos=None):
    reason = broken(mode, name, qos)
    if not reason:
        return get(load(mode, name), *keys)
    rate = get(load(mode, name), "messages", "receiveRate")
    return f"refused: {reason}" + (f" (delivered {rate:,.0f}/s)" if rate and keys[-1] == "receiveRate" else "")


def cell(value, digits):
    return value if isinstance(value, str) else fmt(value, digits)


def ratio(single, fleet, higher):
    if isinstance(single, str) or isinstance(fleet, str) or single is None or fleet is None or not single:
        return None, "n/a"
    r = fleet / single
    return r, f"{r:.2f}×"


s, f = figure("single", "conn", "connections", "connectRate"), figure("fleet", "conn", "connections", "connectRate")
r, _ = ratio(s, f, True)
rows.append((f"connect rate, conn/s ({conns:,} connections)", s, f, 0, True, "fleet ≥ 0.5× single", None if r is None else r >= 0.5, None))
s, f = figure("single", "conn", "brokerMemory", "kbPerConnection"), figure("fleet", "conn", "brokerMemory", "kbPerConnection")
if isinstance(s, (int, float)) and s <= 0:
    s = f"{s:.2f} (RSS fell: trimmed during the hold; no ratio)"
r, _ = ratio(s, f, False)
rows.append(("idle RSS per connection, KB (fleet: summed over its 3 node processes)", s, f, 2, False, "within 10% of single", None if r is None else r <= 1.10, None))
def mosquitto_held():
    """Mosquitto's p2p QoS 0 stepped by offered rate: the highest delivered rate of a step held (< 0.1% lost, no broken run)."""
    best, tried = None, 0
    for name in sorted((n[len("mosquitto-"):-len(".json")] for n in os.listdir(out) if n.startswith("mosquitto-p2p-q0-r") and n.endswith(".json")),
                       key=lambda n: int(n.rsplit("r", 1)[1])):
        tried += 1
        report = load("mosquitto", name)
        expected, lost = get(report, "messages", "expected"), get(report, "messages", "lost")
        if broken("mosquitto", name, 0) or not expected or lost is None or lost > 0.001 * expected:
            break
        rate = get(report, "messages", "receiveRate")
        best = rate if best is None or rate > best else best
    return best if best is not None else ("refused: no step held" if tried else None)


mosq = mosquitto_held()
s, f = figure("single", "p2p-q0", "messages", "receiveRate", qos=0), figure("fleet", "p2p-q0", "messages", "receiveRate", qos=0)
met = None if isinstance(f, str) or f is None or isinstance(mosq, str) or not mosq else (f >= 200_000 and f >= 3 * mosq)
rows.append(("cross-node p2p QoS 0, delivered msg/s", s, f, 0, True, "≥ 200,000 and ≥ 3× mosquitto", met, mosq))
s, f = figure("single", "p2p-q1", "messages", "receiveRate", qos=1), figure("fleet", "p2p-q1", "messages", "receiveRate", qos=1)
rows.append(("cross-node p2p QoS 1, delivered msg/s", s, f, 0, True, "", None, None))
for qos in (0, 1):
    offered = f"{lat_rate:,.0f} msg/s offered over {lat_pairs} pairs"
    s, f = figure("single", f"latency-q{qos}", "latency", "p50", qos=qos), figure("fleet", f"latency-q{qos}", "latency", "p50", qos=qos)
    rows.append((f"cross-node latency p50 µs, QoS {qos} ({offered})", s, f, 0, False, "", None, None))
    s, f = figure("single", f"latency-q{qos}", "latency", "p99", qos=qos), figure("fleet", f"latency-q{qos}", "latency", "p99", qos=qos)
    target = "fleet ≤ 5,000 µs" if qos == 0 else ""
    met = (f <= 5000) if qos == 0 and not isinstance(f, str) and f is not None else None
    rows.append((f"cross-node latency p99 µs, QoS {qos}", s, f, 0, False, target, met, None))
s, f = figure("single", "durable-q1", "messages", "receiveRate", qos=1), figure("fleet", "durable-q1", "messages", "receiveRate", qos=1)
rows.append(("persistent sessions (MQTT 5, expiry > 0) p2p QoS 1, delivered msg/s", s, f, 0, True, "", None, None))

print(f"| figure (payload {payload} B) | single node | 3-node fleet | fleet ÷ single | target | met | mosquitto (single node; QoS 0 stepped: highest rate held, < 0.1% lost) |")
print("|---|---:|---:|---:|---|---|---:|")
for label, single, fleet, digits, higher, target, met, mosquitto in rows:
    _, text = ratio(single, fleet, higher)
    verdict = "" if met is None else ("yes" if met else "**no**")
    print(f"| {label} | {cell(single, digits)} | {cell(fleet, digits)} | {text} | {target} | {verdict} | {'' if mosquitto is None else cell(mosquitto, 0)} |")

print("\nCPU per delivered message, µs (the broker processes' CPU over the whole run, connects and warm-up included,"
      " / messages delivered in the measured window: an upper bound)\n")
print("| scenario | single node | 3-node fleet: nodes | 3-node fleet: redis-server |")
print("|---|---:|---:|---:|")
for name, qos in (("p2p-q0", 0), ("p2p-q1", 1), ("latency-q0", 0), ("latency-q1", 1), ("durable-q1", 1)):
    single = "refused" if broken("single", name, qos) else cell(cpu_us_per_message("single", name)[0], 1)
    fleet_nodes, fleet_redis = cpu_us_per_message("fleet", name)
    fleet_cells = ("refused", "refused") if broken("fleet", name, qos) else (cell(fleet_nodes, 1), cell(fleet_redis, 1))
    print(f"| {name} | {single} | {fleet_cells[0]} | {fleet_cells[1]} |")
for name in sorted((n[len("mosquitto-"):-len(".json")] for n in os.listdir(out) if n.startswith("mosquitto-p2p-q0-r") and n.endswith(".json")),
                   key=lambda n: int(n.rsplit("r", 1)[1])):
    mosquitto_cpu = cpu_us_per_message("mosquitto", name)[0]
    if mosquitto_cpu is not None and not broken("mosquitto", name, 0):
        print(f"| {name}, mosquitto | {cell(mosquitto_cpu, 1)} | | |")

print(f"\nkill -9 of one of 3 nodes under load ({fail_pairs} cross-node pairs, QoS 1, persistent sessions, {fail_rate:,.0f} msg/s offered)\n")
reason = broken("fleet", "failover", failover=True)
report = load("fleet", "failover")
if reason:
    print(f"refused: {reason}")
else:
    c, m = report["connections"], report["messages"]
    print("| figure | value |")
    print("|---|---:|")
    print(f"| connections lost / resumed on another node | {c['lost']:,} / {c['reconnects']:,} |")
    print(f"| first loss to all resumed, s | {c['recoverySeconds']:.2f} |")
    print(f"| takeover (reconnect to another node: connect to CONNACK) p50 / p99, µs | {fmt(get(c, 'reconnectLatency', 'p50'))} / {fmt(get(c, 'reconnectLatency', 'p99'))} |")
    print(f"| messages published / delivered (after the 1 s warm-up) | {m['published']:,} / {m['received']:,} |")
    print(f"| messages not delivered (includes publishes in flight on the killed node, which the bots do not resend) | {m['lost']:,} |")

benchjson.print_errors(out, ("single", "fleet", "mosquitto"))
try:
    with open(os.path.join(out, "loadavg")) as f:
        print("\n" + f.read().strip())
except OSError:
    pass
