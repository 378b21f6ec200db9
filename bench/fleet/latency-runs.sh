#!/usr/bin/env bash
# Repeated cross-node latency runs on one warmed 3-node fleet, to see what the QoS 0 tail at 5,000 msg/s is made of.
# Starts redis-server and deploy/local-fleet.sh 3 pinned as bench/fleet/run.sh pins them (brokers on $BROKER_CPUS, bots
# on $BOT_CPUS; bench/fleet/fleet.sh), runs bench/fleet/run.sh's warm-up and unpaced runs, then RUNS latency runs of
# LAT_SECONDS each, one line per run; then the same latency run and a p2p QoS 0 step of 80,000 msg/s against mosquitto
# on the same core, the machine's yardstick for that hour. Uses the binaries already built (the bots: dotnet build -c
# Release; the gateway as GATEWAY_BUILD says, see bench/fleet/fleet.sh: r2r, the default, is the ReadyToRun publish).
#   bench/fleet/latency-runs.sh                    # 6 runs of 8 s on the ReadyToRun publish (dotnet publish gateway -c
#                                                  #   Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true,
#                                                  #   or deploy/local-fleet.sh, run first)
#   GATEWAY_BUILD=jit bench/fleet/latency-runs.sh  # the plain Release build (dotnet build gateway -c Release, run first)
#   NODE_ENV="DOTNET_TieredPGO=0" bench/fleet/latency-runs.sh   # environment for the nodes alone (not the bots)
#   COUNTERS=1 bench/fleet/latency-runs.sh         # + JIT time, methods compiled and GC pause per run, summed over the
#                                                  #   nodes (dotnet-counters; it makes the nodes compile metrics code)
#   JIT_LOG=DIR bench/fleet/latency-runs.sh        # + every method each node compiles (DOTNET_JitDisasmSummary) in
#                                                  #   DIR/jit-PID.txt, and which lines fell in which run (DIR/marks)
#   NICE_AB=-10 bench/fleet/latency-runs.sh        # even runs with the nodes' I/O threads (epoll-N, fleet-link-in)
#                                                  #   reniced to -10, odd runs at 0: an A/B in one fleet (root)
#   LAT_QOS="1 0" bench/fleet/latency-runs.sh      # run i at the ((i-1) mod n)-th QoS of the list (here QoS 1, 0, 1, 0,
#                                                  #   ...): QoS 0 against QoS 1 in one fleet, alternated; the yardstick
#                                                  #   then runs one latency run per QoS of the list
#   STORM=15000 bench/fleet/latency-runs.sh        # + run.sh's idle-connection scenario (STORM connections, held 12 s,
#                                                  #   then let go; 2 s pause) before the unpaced runs: run.sh's order
#   PROBE=DIR bench/fleet/latency-runs.sh          # a probe build's hop timings (ACCESSLAYER_HOP_PROBE=DIR for the
#                                                  #   nodes) and DIR/marks: "run qos start_ms end_ms" per latency run
#   AGAIN=2 bench/fleet/latency-runs.sh            # the unpaced runs again before every AGAIN-th latency run (runs 1,
#                                                  #   3, 5, ...): with LAT_QOS="0 1 1 0", each QoS both first and
#                                                  #   second after an unpaced (overload) run, as run.sh orders them
# env: RUNS (6), LAT_SECONDS (8), LAT_RATE (5000), LAT_PAIRS (50), LAT_QOS (0), OUT (a new /tmp dir), YARDSTICK (1; 0: no
# mosquitto).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
command -v redis-server >/dev/null || { echo "redis-server not found (apt-get install redis-server)"; exit 1; }
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
RUNS=${RUNS:-6}; LAT_SECONDS=${LAT_SECONDS:-8}; LAT_RATE=${LAT_RATE:-5000}; LAT_PAIRS=${LAT_PAIRS:-50}
read -r -a LAT_QOS <<<"${LAT_QOS:-0}"
for q in "${LAT_QOS[@]}"; do [[ $q =~ ^[012]$ ]] || { echo "LAT_QOS: '$q' is not 0, 1 or 2"; exit 1; }; done
STORM=${STORM:-0}; PROBE=${PROBE:-}; AGAIN=${AGAIN:-0}
COUNTERS=${COUNTERS:-0}; JIT_LOG=${JIT_LOG:-}; NICE_AB=${NICE_AB:-}; YARDSTICK=${YARDSTICK:-1}
[ "$YARDSTICK" = 1 ] && [ ! -x "$MOSQUITTO" ] && { echo "mosquitto not found (apt-get install mosquitto), or YARDSTICK=0"; exit 1; }
NCPU=$(nproc); BROKER_CPUS=${BROKER_CPUS:-0}; BOT_CPUS=${BOT_CPUS:-$((NCPU > 1 ? NCPU - 1 : 0))}
OUT=${OUT:-$(mktemp -d /tmp/fleet-latency.XXXXXX)}; mkdir -p "$OUT"
COUNTERS_TOOL=${COUNTERS_TOOL:-$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")}
[ "$COUNTERS" = 1 ] && [ ! -x "$COUNTERS_TOOL" ] && { echo "dotnet-counters not found (dotnet tool install -g dotnet-counters)"; exit 1; }
. "$ROOT/bench/side-by-side/servers.sh"
. "$ROOT/bench/fleet/fleet.sh"
BOTS="$ROOT/bots/bin/Release/net10.0/AccessLayer.Bots"
[ -x "$BOTS" ] || { echo "build first: dotnet build bots -c Release"; exit 1; }
if [ -n "$PROBE" ]; then mkdir -p "$PROBE"; PROBE=$(cd "$PROBE" && pwd); NODE_ENV="${NODE_ENV:-} ACCESSLAYER_HOP_PROBE=$PROBE"; fi
NO_BUILD=1 fleet_gateway
export DOTNET_TC_CallCountingDelayMs=${DOTNET_TC_CallCountingDelayMs:-0}   # as bench/fleet/run.sh

if [ -n "$JIT_LOG" ]; then
  mkdir -p "$JIT_LOG"; JIT_LOG=$(cd "$JIT_LOG" && pwd)
  node_dotnet "export DOTNET_JitDisasmSummary=1 DOTNET_JitStdOutFile=$JIT_LOG/jit-\$\$.txt"
else
  node_dotnet
fi

stop_all() { stop_server; stop_fleet; }
trap stop_all EXIT

start_fleet --Memory:TrimMinIntervalSeconds=5 --Memory:TrimQuietSeconds=5

bot() {
  local name=$1; shift
  timeout 180 taskset -c "$BOT_CPUS" "$BOTS" "$@" --endpoints "$ENDPOINTS" --size 64 --json --quiet >"$OUT/$name.json" \
    2>>"$OUT/errors.log" || { echo "$name failed: see $OUT/errors.log" >&2; return 1; }
}

# bench/fleet/run.sh's warm-up, then its unpaced runs, which come before its latency runs.
warm="--duration 4 --warmup 1 --drain 2"
for round in 1 2 3 4 5; do
  bot "warm-conn-$round" conn --count 3000 --source-addresses 4 --connect-rate 0 --connect-concurrency 200 --hold 1 --duration 60
done
for qos in 0 1; do
  bot "warm-p2p-q$qos" p2p --count 20 --qos "$qos" --subscriber-offset 1 $warm
  bot "warm-latency-q$qos" p2p --count "$LAT_PAIRS" --qos "$qos" --total-rate "$LAT_RATE" --subscriber-offset 1 $warm
done
bot warm-durable-q1 p2p --count 20 --qos 1 --mqtt-version 5 --session-expiry 60 --subscriber-offset 1 --client-prefix "warm-$$" $warm
if [ "$STORM" -gt 0 ]; then
  # run.sh's warm-up ends so: 3,600 connections held past the trim's quiet time, let go, quiet again.
  bot warm-conn-trim conn --count 3600 --source-addresses 4 --connect-rate 0 --connect-concurrency 200 --hold 10 --duration 120
  sleep 10
  pids=($NODE_PIDS)
  bot conn conn --count "$STORM" --source-addresses 8 --connect-rate 0 --connect-concurrency 200 --hold 12 --settle 10 --duration 120 \
    --broker-pid "${pids[0]}" --broker-pids "$(IFS=,; echo "${pids[*]:1}")"
  sleep 2
fi
for qos in 0 1; do bot "p2p-q$qos" p2p --count 20 --qos "$qos" --subscriber-offset 1 --duration 8 --warmup 2 --drain 5; done

jit_lines() { local f; for f in "$JIT_LOG"/jit-*.txt; do [ -f "$f" ] && echo "$1 $2 $(basename "$f") $(wc -l <"$f")"; done; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$RUNS"); do
  qos=${LAT_QOS[$(( (i - 1) % ${#LAT_QOS[@]} ))]}
  note=""
  [ ${#LAT_QOS[@]} -gt 1 ] && note=" QoS $qos"
  if [ "$AGAIN" -gt 0 ] && [ "$i" -gt 1 ] && [ $(( (i - 1) % AGAIN )) = 0 ]; then
    for q in 0 1; do bot "p2p-q$q-before-$i" p2p --count 20 --qos "$q" --subscriber-offset 1 --duration 8 --warmup 2 --drain 5; done
  fi
  if [ "$AGAIN" -gt 0 ]; then
    after=$(( (i - 1) % AGAIN + 1 ))
    note="$note, latency run $after after the unpaced runs"
  fi
  if [ -n "$NICE_AB" ]; then
    n=0; [ $((i % 2)) = 0 ] && n=$NICE_AB
    for pid in $NODE_PIDS; do
      for task in /proc/"$pid"/task/*; do
        case "$(cat "$task/comm" 2>/dev/null)" in epoll-[0-9]*|fleet-link-in) renice -n "$n" -p "${task##*/}" >/dev/null ;; esac
      done
    done
    note="$note I/O threads nice $n"
  fi
  counters=()
  if [ "$COUNTERS" = 1 ]; then
    for pid in $NODE_PIDS; do
      timeout $((LAT_SECONDS + 10)) "$COUNTERS_TOOL" collect -p "$pid" --format csv -o "$OUT/counters-$i-$pid.csv" --refresh-interval 1 \
        --counters 'System.Runtime[dotnet.jit.compilation.time,dotnet.jit.compiled_methods,dotnet.gc.pause.time]' \
        --duration "00:00:$(printf %02d $((LAT_SECONDS + 5)))" >/dev/null 2>&1 &
      counters+=($!)
    done
    sleep 1
  fi
  [ -n "$JIT_LOG" ] && jit_lines "$i" start >>"$JIT_LOG/marks"
  # Threads per node (all of a process's threads: thread pool, epoll, fleet links, Orleans) as the run starts.
  for pid in $NODE_PIDS; do ls "/proc/$pid/task" 2>/dev/null | wc -l; done | paste -sd/ >"$OUT/threads-$i"
  started_ms=$(date +%s%3N)
  bot "latency-$i" p2p --count "$LAT_PAIRS" --qos "$qos" --total-rate "$LAT_RATE" --subscriber-offset 1 --duration "$LAT_SECONDS" --warmup 2 --drain 3 \
    --interval 0.5 --interval-log "$OUT/latency-$i.intervals" || continue
  [ -n "$PROBE" ] && echo "$i $qos $started_ms $(date +%s%3N)" >>"$PROBE/marks"
  [ ${#counters[@]} -gt 0 ] && { wait "${counters[@]}" || true; }
  [ -n "$JIT_LOG" ] && jit_lines "$i" end >>"$JIT_LOG/marks"
  python3 - "$OUT" "$i" "$note" $([ "$COUNTERS" = 1 ] && echo $NODE_PIDS) <<'PY'
import csv, json, sys
out, i, note, pids = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
run = json.load(open(f"{out}/latency-{i}.json"))
lat, msgs = run["latency"], run["messages"]
line = f"run {i}:{note} p50 {lat['p50']} µs, p99 {lat['p99']} µs, p99.9 {lat['p999']} µs, max {lat['max']} µs, lost {msgs['lost']}"
try:
    line += f" | node threads {open(f'{out}/threads-{i}').read().strip()}"
except OSError:
    pass
# Where the tail is in time: the measured half-seconds (after the 2 s warm-up) whose own p99 passed 5 ms, and the worst.
try:
    halves = [json.loads(l) for l in open(f"{out}/latency-{i}.intervals") if '"publishing"' in l][4:]
    halves = [h for h in halves if h["latency"]["count"]]
    over = [h for h in halves if h["latency"]["p99"] > 5000]
    worst = max(halves, key=lambda h: h["latency"]["max"])
    line += f" | half-seconds with p99 > 5 ms: {len(over)} of {len(halves)}, worst max {worst['latency']['max']} µs at {worst['elapsed']:.1f} s"
except (OSError, ValueError, KeyError):
    pass
if pids:
    jit = gc = 0.0; methods = 0
    for pid in pids:
        try:
            rows = list(csv.reader(open(f"{out}/counters-{i}-{pid}.csv")))[1:]
        except OSError:
            continue
        for row in rows:
            if len(row) < 5:
                continue
            try:
                value = float(row[4])
            except ValueError:
                continue
            if "compilation.time" in row[2]: jit += value
            elif "compiled_methods" in row[2]: methods += int(value)
            elif "pause.time" in row[2]: gc += value
    line += f" | JIT {jit:.3f} s, {methods} methods, GC pause {gc * 1000:.1f} ms (sum over the nodes)"
print(line)
PY
done
echo "load average after the fleet's runs: $(cut -d' ' -f1-3 /proc/loadavg)"

# The yardstick: mosquitto on the brokers' core, the same latency run (no node to cross) and one p2p QoS 0 step of
# 80,000 msg/s over 20 pairs (held in every run on a quiet machine, bench/fleet/run.sh's steps), so a slow hour shows.
if [ "$YARDSTICK" = 1 ]; then
  stop_fleet
  start_mosquitto; ENDPOINTS="127.0.0.1:$PORT"
  for qos in $(printf '%s\n' "${LAT_QOS[@]}" | sort -u); do
    bot "mosquitto-latency-q$qos" p2p --count "$LAT_PAIRS" --qos "$qos" --total-rate "$LAT_RATE" --duration "$LAT_SECONDS" --warmup 2 --drain 3 || true
  done
  bot mosquitto-p2p-q0-r80000 p2p --count 20 --qos 0 --total-rate 80000 --duration 8 --warmup 2 --drain 5 || true
  stop_server
  python3 - "$OUT" "${LAT_QOS[@]}" <<'PY'
import json, sys
out, qos = sys.argv[1], sorted(set(sys.argv[2:]))
def load(name):
    try:
        return json.loads(open(f"{out}/{name}.json").read().strip().splitlines()[-1])
    except (OSError, ValueError):
        return None
step = load("mosquitto-p2p-q0-r80000")
line = "mosquitto (yardstick):"
for q in qos:
    lat = load(f"mosquitto-latency-q{q}")
    label = f" QoS {q}" if len(qos) > 1 else ""
    if lat and lat["messages"]["expected"]:
        line += f"{label} p50 {lat['latency']['p50']} µs, p99 {lat['latency']['p99']} µs, lost {lat['messages']['lost']};"
    else:
        line += f"{label} latency run failed;"
if step and step["messages"]["expected"]:
    m = step["messages"]
    line += f" p2p QoS 0 at 80,000 msg/s offered: {m['receiveRate']:,.0f} msg/s delivered, {100.0 * m['lost'] / m['expected']:.2f}% not delivered"
else:
    line += " 80,000 msg/s step failed"
print(line)
PY
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); raw results in $OUT"
