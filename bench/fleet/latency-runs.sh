#!/usr/bin/env bash
# Repeated cross-node latency runs on one warmed 3-node fleet, to see what the QoS 0 tail at 5,000 msg/s is made of.
# Starts redis-server and deploy/local-fleet.sh 3 pinned as bench/fleet/run.sh pins them (brokers on $BROKER_CPUS, bots
# on $BOT_CPUS), runs bench/fleet/run.sh's warm-up and unpaced runs, then RUNS latency runs of LAT_SECONDS each, one
# line per run. Uses the Release binaries already built (dotnet build -c Release).
#   bench/fleet/latency-runs.sh                    # 6 runs of 8 s
#   COUNTERS=1 bench/fleet/latency-runs.sh         # + JIT time, methods compiled and GC pause per run, summed over the
#                                                  #   nodes (dotnet-counters; it makes the nodes compile metrics code)
#   JIT_LOG=DIR bench/fleet/latency-runs.sh        # + every method each node compiles (DOTNET_JitDisasmSummary) in
#                                                  #   DIR/jit-PID.txt, and which lines fell in which run (DIR/marks)
#   NICE_AB=-10 bench/fleet/latency-runs.sh        # even runs with the nodes' I/O threads (epoll-N, fleet-link-in)
#                                                  #   reniced to -10, odd runs at 0: an A/B in one fleet (root)
# env: RUNS (6), LAT_SECONDS (8), LAT_RATE (5000), LAT_PAIRS (50), OUT (a new /tmp dir).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
command -v redis-server >/dev/null || { echo "redis-server not found (apt-get install redis-server)"; exit 1; }
RUNS=${RUNS:-6}; LAT_SECONDS=${LAT_SECONDS:-8}; LAT_RATE=${LAT_RATE:-5000}; LAT_PAIRS=${LAT_PAIRS:-50}
COUNTERS=${COUNTERS:-0}; JIT_LOG=${JIT_LOG:-}; NICE_AB=${NICE_AB:-}
NCPU=$(nproc); BROKER_CPUS=${BROKER_CPUS:-0}; BOT_CPUS=${BOT_CPUS:-$((NCPU > 1 ? NCPU - 1 : 0))}
OUT=${OUT:-$(mktemp -d /tmp/fleet-latency.XXXXXX)}; mkdir -p "$OUT"
COUNTERS_TOOL=${COUNTERS_TOOL:-$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")}
[ "$COUNTERS" = 1 ] && [ ! -x "$COUNTERS_TOOL" ] && { echo "dotnet-counters not found (dotnet tool install -g dotnet-counters)"; exit 1; }
. "$ROOT/bench/side-by-side/servers.sh"
BOTS="$ROOT/bots/bin/Release/net10.0/AccessLayer.Bots"
GATEWAY_DLL="$ROOT/gateway/bin/Release/net10.0/AccessLayer.Gateway.dll"
[ -x "$BOTS" ] && [ -f "$GATEWAY_DLL" ] || { echo "build first: dotnet build AccessLayer.sln -c Release"; exit 1; }
export DOTNET_TC_CallCountingDelayMs=${DOTNET_TC_CallCountingDelayMs:-0}   # as bench/fleet/run.sh

dotnet_cmd=dotnet
if [ -n "$JIT_LOG" ]; then
  mkdir -p "$JIT_LOG"; JIT_LOG=$(cd "$JIT_LOG" && pwd)
  printf '#!/bin/sh\nexport DOTNET_JitDisasmSummary=1 DOTNET_JitStdOutFile=%s/jit-$$.txt\nexec dotnet "$@"\n' "$JIT_LOG" >"$OUT/dotnet-jit"
  chmod +x "$OUT/dotnet-jit"; dotnet_cmd="$OUT/dotnet-jit"
fi

REDIS_PID=""; FLEET_PID=""; NODE_PIDS=""
stop_all() {
  [ -n "$FLEET_PID" ] && kill -TERM "$FLEET_PID" 2>/dev/null || true
  for _ in $(seq 100); do [ -n "$FLEET_PID" ] && kill -0 "$FLEET_PID" 2>/dev/null || break; sleep 0.1; done
  local pid; for pid in $NODE_PIDS; do kill -9 "$pid" 2>/dev/null || true; done
  [ -n "$REDIS_PID" ] && kill -9 "$REDIS_PID" 2>/dev/null || true
}
trap stop_all EXIT

redis_port=$(free_port)
taskset -c "$BROKER_CPUS" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --protected-mode no \
  --dir "$OUT" >"$OUT/redis.log" 2>&1 &
REDIS_PID=$!
wait_listening "$redis_port"
DOTNET=$dotnet_cmd taskset -c "$BROKER_CPUS" "$ROOT/deploy/local-fleet.sh" 3 --no-build --dll "$GATEWAY_DLL" \
  --redis "127.0.0.1:$redis_port" --logs "$OUT/fleet-logs" -- --Mqtt:MaxInflight=32 --Mqtt:MaxQueuedMessages=1000 \
  --Logging:LogLevel:Default=Warning --Memory:TrimMinIntervalSeconds=5 --Memory:TrimQuietSeconds=5 >"$OUT/local-fleet.out" 2>&1 &
FLEET_PID=$!
for _ in $(seq 1200); do
  grep -q '^fleet ready' "$OUT/local-fleet.out" && break
  kill -0 "$FLEET_PID" 2>/dev/null || { cat "$OUT/local-fleet.out" >&2; exit 1; }
  sleep 0.1
done
grep -q '^fleet ready' "$OUT/local-fleet.out" || { echo "fleet did not start in 120 s" >&2; exit 1; }
ENDPOINTS=$(sed -n 's/^bots: --endpoints //p' "$OUT/local-fleet.out")
NODE_PIDS=$(sed -n 's/^node pids: //p' "$OUT/local-fleet.out")

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
for qos in 0 1; do bot "p2p-q$qos" p2p --count 20 --qos "$qos" --subscriber-offset 1 --duration 8 --warmup 2 --drain 5; done

jit_lines() { local f; for f in "$JIT_LOG"/jit-*.txt; do [ -f "$f" ] && echo "$1 $2 $(basename "$f") $(wc -l <"$f")"; done; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$RUNS"); do
  note=""
  if [ -n "$NICE_AB" ]; then
    n=0; [ $((i % 2)) = 0 ] && n=$NICE_AB
    for pid in $NODE_PIDS; do
      for task in /proc/"$pid"/task/*; do
        case "$(cat "$task/comm" 2>/dev/null)" in epoll-[0-9]*|fleet-link-in) renice -n "$n" -p "${task##*/}" >/dev/null ;; esac
      done
    done
    note=" I/O threads nice $n"
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
  bot "latency-$i" p2p --count "$LAT_PAIRS" --qos 0 --total-rate "$LAT_RATE" --subscriber-offset 1 --duration "$LAT_SECONDS" --warmup 2 --drain 3 || continue
  [ ${#counters[@]} -gt 0 ] && { wait "${counters[@]}" || true; }
  [ -n "$JIT_LOG" ] && jit_lines "$i" end >>"$JIT_LOG/marks"
  python3 - "$OUT" "$i" "$note" $([ "$COUNTERS" = 1 ] && echo $NODE_PIDS) <<'PY'
import csv, json, sys
out, i, note, pids = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
run = json.load(open(f"{out}/latency-{i}.json"))
lat, msgs = run["latency"], run["messages"]
line = f"run {i}:{note} p50 {lat['p50']} µs, p99 {lat['p99']} µs, p99.9 {lat['p999']} µs, max {lat['max']} µs, lost {msgs['lost']}"
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
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); raw results in $OUT"
