#!/usr/bin/env python3
"""Per latency run and hop, the age of the bots' messages (µs since the bot stamped them, 50 µs buckets): what a probe
build (bench/fleet/hop-probe.patch) wrote to DIR/hops-PID.txt, in the runs bench/fleet/latency-runs.sh marked in DIR/marks
("run qos start_ms end_ms"). Only lines from 3 s after a run's start (the bots' connect and 2 s warm-up) to its end count.
  python3 bench/fleet/hops.py DIR
"""
import collections
import glob
import sys

NAMES = ["A read", "A queued", "A sent", "B received", "B written", "B flushed"]


def percentile(hist, q):
    total, seen = sum(hist.values()), 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        if seen >= q * total:
            return bucket * 50 + 25
    return -1


def main(probe):
    rows = []
    for path in glob.glob(f"{probe}/hops-*.txt"):
        for line in open(path):
            parts = line.split()
            rows.append((int(parts[0]), int(parts[1]), [tuple(map(int, p.split(":"))) for p in parts[2:]]))
    for mark in open(f"{probe}/marks"):
        run, qos, start, end = mark.split()
        start, end = int(start) + 3000, int(end)
        hists = collections.defaultdict(collections.Counter)
        for t, hop, buckets in rows:
            if start <= t <= end:
                for bucket, count in buckets:
                    hists[hop][bucket] += count
        cells = [f"{NAMES[hop]} p50 {percentile(h, .5)} p99 {percentile(h, .99)} p99.9 {percentile(h, .999)} (n {sum(h.values())})"
                 for hop, h in sorted(hists.items())]
        print(f"run {run} QoS {qos}: " + " | ".join(cells))


if __name__ == "__main__":
    main(sys.argv[1])
