"""The table of bench/tls/run.sh: table.py OUT HANDSHAKES IDLE; exit 1 when a cell is broken.

Per broker and key: full and resumed TLS 1.3 handshakes (+ MQTT CONNECT) by several clients at once, as handshakes/s
and as the broker's CPU per handshake (µs; 1 s divided by it is what one saturated broker core would do); and RSS
per idle TLS connection. A resumed run is broken unless the server resumed (nearly) every handshake. Also plain TCP
connect + CONNECT (the fixed cost TLS comes on top of) and, per key, the resumed ÷ full rate per core (issue 14's
target: 3×)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "side-by-side"))
import benchjson  # noqa: E402

BROKERS = [("gateway", "gateway"), ("mosquitto", "mosquitto")]
KEYS = [("ec", "ECDSA P-256"), ("rsa", "RSA 2048")]


def handshakes(out, broker, key, mode, count):
    """(per second, CPU µs per handshake, None) or (None, None, reason)."""
    path = os.path.join(out, f"{broker}-{key}-{mode}.json")
    try:
        with open(path) as f:
            lines = [json.loads(line) for line in f.read().splitlines() if line.strip()]
    except (OSError, ValueError):
        return None, None, "no result"
    runs = [line for line in lines if "mode" in line]
    cpu = next((line for line in lines if "cpuTicks" in line), None)
    if not runs or cpu is None or cpu.get("status"):
        return None, None, f"the client failed (exit {cpu.get('status') if cpu else '?'})"
    done, resumed = sum(r["count"] for r in runs), sum(r["resumed"] for r in runs)
    if done < count * 0.99:
        return None, None, f"{done} of {count} handshakes"
    if mode not in ("full", "plain") and resumed < done - len(runs):  # each client's first offers no ticket
        return None, None, f"only {resumed} of {done} resumed"
    if mode == "full" and resumed:
        return None, None, f"{resumed} resumed in the full run"
    return done / max(r["seconds"] for r in runs), cpu["cpuTicks"] / cpu["clkTck"] * 1e6 / done, None


def main(out, count, idle):
    broken = False
    print(f"| TLS 1.3 + MQTT CONNECT, {count:,} by several clients at once | " + " | ".join(name for _, name in BROKERS) + " | gateway ÷ mosquitto |")
    print("|---|" + "---|" * (len(BROKERS) + 1))
    per_key = {}
    for key, key_name in KEYS:
        for mode in ("plain", "full", "resumed", "resumed-psk") if key == "ec" else ("full", "resumed", "resumed-psk"):
            cells, cpus = [], []
            for broker, _ in BROKERS:
                rate, cpu, reason = handshakes(out, broker, key, mode, count)
                if reason:
                    broken = True
                    cells.append(f"broken: {reason}")
                    cpus.append(None)
                else:
                    cells.append(f"{rate:,.0f}/s; broker CPU {cpu:,.0f} µs each ({1e6 / cpu:,.0f}/s per core)")
                    cpus.append(cpu)
            ratio = f"{cpus[1] / cpus[0]:.2f}× (handshakes per core)" if None not in cpus else "n/a"
            per_key[(key, mode)] = cpus
            label = {"plain": "no TLS: plain TCP connect + CONNECT, the fixed cost", "full": "full", "resumed": "resumed (psk_dhe_ke)", "resumed-psk": "resumed, client offers psk_ke (gateway: Tls:ResumeWithoutKeyExchange=true; mosquitto: psk_dhe_ke)"}[mode]
            print(f"| {key_name}, {label} | " + " | ".join(cells) + f" | {ratio} |")
        cells = []
        for i, _ in enumerate(BROKERS):
            full = per_key.get((key, "full"), [None, None])[i]
            parts = []
            for mode, name in (("resumed", "psk_dhe_ke"), ("resumed-psk", "psk_ke offered")):
                cpu = per_key.get((key, mode), [None, None])[i]
                parts.append(f"{name} {full / cpu:.2f}×" if full and cpu else f"{name} n/a")
            cells.append(", ".join(parts))
        print(f"| {key_name}, resumed ÷ full handshakes per core (target ≥ 3×) | " + " | ".join(cells) + " | |")
    cells, figures = [], []
    for broker, _ in BROKERS:
        reason = benchjson.broken(out, broker, "idle", messages=False)
        kb = benchjson.get(benchjson.load(out, broker, "idle"), "brokerMemory", "kbPerConnection")
        if reason or kb is None:
            broken = True
            cells.append(f"broken: {reason or 'no memory figure'}")
            figures.append(None)
        else:
            cells.append(f"{kb:.1f}")
            figures.append(kb)
    ratio = f"{figures[0] / figures[1]:.2f}× (lower is better)" if None not in figures else "n/a"
    print(f"| RSS per idle TLS connection, KB ({idle:,}, ECDSA) | " + " | ".join(cells) + f" | {ratio} |")
    return 1 if broken else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
