"""Capacity by stepped offered rate (bench/capacity/run.sh): whether one step held, and the table of the highest held.

  capacity.py judge OUT BROKER NAME RATE P99_MS   exit 0: held; 1: not held; 2: broken
  capacity.py table OUT P99_MS BROKER...          the markdown table; exit 1 when a row is broken

A step is BROKER-NAME-rRATE.json (a bot's --json report; RATE is delivered msg/s offered), with .failed/.dead beside
it as side-by-side/run.sh writes them. It held when the run is sound (benchjson.broken), the publishers sent at least
95% of the rate asked, under 0.1% of the expected messages were lost and p99 latency stayed under P99_MS. Publishers
held back below the rate asked did not sustain it: a broker pushes back through TCP (and QoS 1 through its PUBACKs),
and the bots on their one core have a ceiling of their own; the table names the shortfall, and the run's highest
publish rate anywhere says which it can be."""
import glob
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "side-by-side"))
import benchjson  # noqa: E402

SCENARIOS = [
    ("p2p-q0", "p2p QoS 0"), ("p2p-q1", "p2p QoS 1"),
    ("fan-in-q0", "fan-in QoS 0"), ("fan-in-q1", "fan-in QoS 1"),
    ("fan-out-q0", "fan-out QoS 0"), ("fan-out-q1", "fan-out QoS 1"),
]
NAMES = {"gateway": "gateway", "mosquitto": "mosquitto", "mqttnet": "MQTTnet"}
HELD, NOT_HELD, BROKEN = 0, 1, 2


def judge(out, broker, name, rate, p99_ms):
    """(verdict, detail) of the step BROKER-NAME-rRATE."""
    step = f"{name}-r{rate}"
    reason = benchjson.broken(out, broker, step)
    if reason:
        return BROKEN, reason
    report = benchjson.load(out, broker, step)
    expected = benchjson.get(report, "messages", "expected") or 0
    lost = benchjson.get(report, "messages", "lost") or 0
    p99 = (benchjson.get(report, "latency", "p99") or 0) / 1000.0
    published = benchjson.get(report, "messages", "publishRate") or 0.0
    sent = benchjson.get(report, "messages", "published") or 0
    fan = expected / sent if sent else 1.0  # deliveries per publish: 1 (p2p, fan-in) or the subscribers (fan-out)
    asked = rate / fan if fan else rate
    detail = f"{100.0 * lost / expected if expected else 100:.2f}% lost, p99 {p99:.1f} ms"
    if published < 0.95 * asked:
        return NOT_HELD, f"publishers held back to {published:,.0f}/s of {asked:,.0f}/s asked"
    if expected <= 0 or lost > 0.001 * expected or p99 >= p99_ms:
        return NOT_HELD, detail
    return HELD, detail


def steps(out, broker, name):
    """Offered rates stepped for BROKER-NAME, ascending."""
    rates = set()
    for path in glob.glob(os.path.join(out, f"{broker}-{name}-r*.*")):
        match = re.search(rf"-{re.escape(name)}-r(\d+)\.(json|failed|dead)$", os.path.basename(path))
        if match:
            rates.add(int(match.group(1)))
    return sorted(rates)


def capacity(out, broker, name, p99_ms):
    """(text, value, bound) for one cell: bound is '=' (measured), '>=' (lower bound) or None (broken/none held)."""
    rates = steps(out, broker, name)
    if not rates:
        return "not run", None, None
    verdicts = [(rate, *judge(out, broker, name, rate, p99_ms)) for rate in rates]
    first_rate, first, first_detail = verdicts[0]
    if first == BROKEN:
        return f"broken: {first_detail}", None, None
    held = [(rate, detail) for rate, verdict, detail in verdicts if verdict == HELD]
    failed = [(rate, verdict, detail) for rate, verdict, detail in verdicts if verdict != HELD]
    if not held:
        return f"< {first_rate:,} ({first_detail} at {first_rate:,})", None, None
    best, best_detail = held[-1]
    p99 = best_detail.split("p99 ")[-1]
    above = [f for f in failed if f[0] > best]
    if not above:
        return f"≥ {best:,} (p99 {p99}; highest offered)", best, ">="
    rate, verdict, detail = above[0]
    if verdict == BROKEN:
        return f"{best:,} (p99 {p99}; broken at {rate:,}: {detail})", best, "="
    return f"{best:,} (p99 {p99}; {rate:,}: {detail})", best, "="


def ratio(ours, theirs):
    value, bound = ours[1], ours[2]
    other, other_bound = theirs[1], theirs[2]
    if value is None or other is None or (bound == ">=" and other_bound == ">="):
        return "n/a"
    text = f"{value / other:.2f}×"
    if bound == ">=":
        return "≥ " + text
    if other_bound == ">=":
        return "≤ " + text
    return text


def table(out, p99_ms, brokers):
    broken_rows = False
    header = [f"delivered msg/s held (< 0.1% lost, p99 < {p99_ms:g} ms)"] + [NAMES.get(b, b) for b in brokers]
    peers = [b for b in brokers[1:]]
    header += [f"{NAMES.get(brokers[0], brokers[0])} ÷ {NAMES.get(p, p)}" for p in peers]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, label in SCENARIOS:
        cells = [capacity(out, broker, name, p99_ms) for broker in brokers]
        if any(cell[0].startswith("broken") for cell in cells):
            broken_rows = True
        row = [label] + [cell[0] for cell in cells] + [ratio(cells[0], cell) for cell in cells[1:]]
        lines.append("| " + " | ".join(row) + " |")
    print("\n".join(lines))
    benchjson.print_errors(out, brokers)
    return 1 if broken_rows else 0


def main(argv):
    if len(argv) >= 6 and argv[1] == "judge":
        verdict, detail = judge(argv[2], argv[3], argv[4], int(argv[5]), float(argv[6]))
        print(detail)
        return verdict
    if len(argv) >= 5 and argv[1] == "table":
        return table(argv[2], float(argv[3]), argv[4:])
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
