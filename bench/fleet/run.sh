#!/usr/bin/env bash
# Fleet benchmark: one gateway node (no fleet) vs a 3-node fleet (deploy/local-fleet.sh, a private
# redis-server), all on loopback, the same bot scenarios against each in one run; mosquitto's single-node
# p2p QoS 0 for scale. Pairs are cross-node in the fleet (--subscriber-offset 1: subscriber i on the node
# after publisher i's). Ends with kill -9 of one fleet node under QoS 1 persistent-session traffic.
#   bench/fleet/run.sh             # full run (about 6 minutes)
#   QUICK=1 bench/fleet/run.sh     # smoke run: small counts, short scenarios
#   NO_BUILD=1 bench/fleet/run.sh  # use the Release binaries already built
#   GATEWAY_BUILD=jit bench/fleet/run.sh   # the gateway's plain build instead of the ReadyToRun publish users run (fleet.sh)
#   NODE_ENV="DOTNET_TieredPGO=0" bench/fleet/run.sh   # environment for the gateway processes alone (fleet.sh)
#   LAT_ORDER="1 0" bench/fleet/run.sh     # the measured latency runs' order (default "0 1": QoS 0 first, straight after
#                                          # the unpaced runs), in every mode alike
# The brokers (nodes, redis, mosquitto) run on CPU $BROKER_CPUS and the bots on $BOT_CPUS (taskset), so
# the load generator does not take the brokers' core. Prints a markdown table; raw JSON goes to $OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
[ -x "$MOSQUITTO" ] || { echo "mosquitto not found (apt-get install mosquitto)"; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server not found (apt-get install redis-server)"; exit 1; }
command -v taskset >/dev/null || { echo "taskset not found (util-linux)"; exit 1; }

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  CONNS=1000; SECONDS_RUN=4; WARMUP=1; PAIRS=5; LAT_PAIRS=20; FAIL_PAIRS=30; FAIL_SECONDS=12; WARM_ROUNDS=1
else
  CONNS=15000; SECONDS_RUN=8; WARMUP=2; PAIRS=20; LAT_PAIRS=50; FAIL_PAIRS=150; FAIL_SECONDS=20; WARM_ROUNDS=5
fi
# Steady state is what is compared: tier-up of the JIT starts at once instead of 100 ms after the last tier-0
# compile (which a connect storm keeps postponing: Orleans is a lot of code), for every .NET process here alike,
# and each mode first runs every scenario short and unmeasured (warm_up).
export DOTNET_TC_CallCountingDelayMs=${DOTNET_TC_CallCountingDelayMs:-0}
# Trims (Memory:TrimAfterConnectStorm) may follow each other 5 s apart, so warm_up can leave a trimmed baseline; they
# come QUIET s after a storm settles (the gateway's default, 5).
QUIET=${QUIET:-5}
TRIM=(--Memory:TrimMinIntervalSeconds=5 "--Memory:TrimQuietSeconds=$QUIET")
# Mosquitto's p2p QoS 0 is stepped (total msg/s offered over $PAIRS pairs) up to the first rate it does not hold.
MOSQUITTO_RATES=${MOSQUITTO_RATES:-10000 20000 40000 60000 80000 100000 140000 200000}
SETTLE=${SETTLE:-$(( QUIET + 5 ))}; HOLD=$((SETTLE + 2))   # RSS read SETTLE s into the idle hold, after the trim
LAT_RATE=${LAT_RATE:-5000}                  # msg/s offered in total in the latency runs
LAT_ORDER=${LAT_ORDER:-0 1}                 # QoS of the measured latency runs, in run order
[[ $LAT_ORDER =~ ^[01]\ [01]$ ]] && [ "${LAT_ORDER:0:1}" != "${LAT_ORDER:2:1}" ] || { echo "LAT_ORDER must be \"0 1\" or \"1 0\""; exit 1; }
FAIL_RATE=${FAIL_RATE:-1500}                # msg/s offered in total in the kill -9 run
EXPIRY=${EXPIRY:-300}                       # session expiry of the persistent sessions, seconds
PAYLOAD=${PAYLOAD:-64}
NCPU=$(nproc)
BROKER_CPUS=${BROKER_CPUS:-0}
BOT_CPUS=${BOT_CPUS:-$((NCPU > 1 ? NCPU - 1 : 0))}
OUT=${OUT:-$(mktemp -d /tmp/fleet-bench.XXXXXX)}
mkdir -p "$OUT"
CLK_TCK=$(getconf CLK_TCK)

. "$ROOT/bench/side-by-side/servers.sh"
. "$ROOT/bench/fleet/fleet.sh"
build_binaries
fleet_gateway   # GATEWAY_DLL: the single node and the fleet's nodes run the same build
node_dotnet

stop_all() { stop_server; stop_fleet; }
trap stop_all EXIT

# cpu_ticks PID...: user + system clock ticks of the processes so far (0 for one that is gone).
cpu_ticks() {
  local total=0 pid stat
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }                     # past "pid (comm) "
    read -r -a f <<<"$stat"
    total=$((total + f[11] + f[12]))      # utime, stime (fields 14 and 15 of the whole line)
  done
  echo "$total"
}

# bot NAME ARGS...: one scenario against $ENDPOINTS, JSON to $OUT/$MODE-NAME.json, the node processes'
# CPU ticks over it to NAME.cpu, and NAME.dead when a node ($NODE_PIDS) died during it.
bot() {
  local name=$1; shift
  echo "  $MODE $name" >&2
  local before redis_before; before=$(cpu_ticks $NODE_PIDS); redis_before=$(cpu_ticks $REDIS_PID)
  if ! timeout 180 taskset -c "$BOT_CPUS" "$BOTS" "$@" --endpoints "$ENDPOINTS" --size "$PAYLOAD" --json --quiet \
      >"$OUT/$MODE-$name.json" 2>>"$OUT/$MODE-errors.log"; then
    echo "  ($MODE $name failed: see $OUT/$MODE-errors.log)" >&2
  fi
  echo "$(( $(cpu_ticks $NODE_PIDS) - before )) $(( $(cpu_ticks $REDIS_PID) - redis_before )) $CLK_TCK" >"$OUT/$MODE-$name.cpu"
  local pid
  for pid in $NODE_PIDS; do
    kill -0 "$pid" 2>/dev/null || { echo "node pid $pid died during $name" >>"$OUT/$MODE-$name.dead"; echo "  $MODE: node $pid died during $name" >&2; }
  done
}

suite() {
  local run="--duration $SECONDS_RUN --warmup $WARMUP --drain 5"
  local pids=($NODE_PIDS)
  local extra=""; [ ${#pids[@]} -gt 1 ] && extra="--broker-pids $(IFS=,; echo "${pids[*]:1}")"
  bot conn conn --count "$CONNS" --source-addresses 8 --connect-rate 0 --connect-concurrency 200 \
    --hold "$HOLD" --settle "$SETTLE" --duration 120 --broker-pid "${pids[0]}" $extra
  sleep 2
  for qos in 0 1; do
    bot "p2p-q$qos" p2p --count "$PAIRS" --qos "$qos" --subscriber-offset 1 $run
  done
  for qos in $LAT_ORDER; do
    bot "latency-q$qos" p2p --count "$LAT_PAIRS" --qos "$qos" --total-rate "$LAT_RATE" --subscriber-offset 1 $run
  done
  # Persistent sessions (MQTT 5, clean start on the first connect, session expiry > 0): in the fleet every
  # QoS 1 message for them is in Redis before the publisher's PUBACK.
  bot durable-q1 p2p --count "$PAIRS" --qos 1 --mqtt-version 5 --session-expiry "$EXPIRY" --subscriber-offset 1 \
    --client-prefix "durable-$MODE-$$" $run
}

# Every scenario, short and not measured, so the measured runs see code the runtime has already tiered up.
warm_up() {
  local run="--duration 4 --warmup 1 --drain 2" round
  for round in $(seq "$WARM_ROUNDS"); do
    bot "warm-conn-$round" conn --count 3000 --source-addresses 4 --connect-rate 0 --connect-concurrency 200 --hold 1 --duration 60
  done
  for qos in 0 1; do
    bot "warm-p2p-q$qos" p2p --count "$PAIRS" --qos "$qos" --subscriber-offset 1 $run
    bot "warm-latency-q$qos" p2p --count "$LAT_PAIRS" --qos "$qos" --total-rate "$LAT_RATE" --subscriber-offset 1 $run
  done
  bot warm-durable-q1 p2p --count "$PAIRS" --qos 1 --mqtt-version 5 --session-expiry 60 --subscriber-offset 1 \
    --client-prefix "warm-$MODE-$$" $run
  # Last: held past the trim's quiet time, then let go and quiet again. The gateway trims at 3,600 (a fleet node at
  # its 1,200) and again at 0, so the idle-memory scenario starts from a trimmed baseline as it ends on a trimmed hold.
  bot warm-conn-trim conn --count 3600 --source-addresses 4 --connect-rate 0 --connect-concurrency 200 --hold $((QUIET + 5)) --duration 120
  sleep $((QUIET + 5))
}

# The kill -9 run: FAIL_PAIRS cross-node pairs, QoS 1, persistent sessions, FAIL_RATE msg/s offered; 4 s into
# publishing node 3 is killed and its clients reconnect to the next node (the bots' reconnect summary).
failover() {
  local pids=($NODE_PIDS) victim
  victim=${pids[2]}
  echo "  $MODE kill -9 (node pid $victim)" >&2
  : >"$OUT/fleet-failover.intervals"
  timeout 180 taskset -c "$BOT_CPUS" "$BOTS" p2p --count "$FAIL_PAIRS" --qos 1 --mqtt-version 5 --session-expiry "$EXPIRY" \
    --subscriber-offset 1 --total-rate "$FAIL_RATE" --duration "$FAIL_SECONDS" --warmup 1 --drain 15 --reconnect-max-backoff 1 \
    --client-prefix "failover-$$" --endpoints "$ENDPOINTS" --size "$PAYLOAD" --interval 0.5 --interval-log "$OUT/fleet-failover.intervals" \
    --json --quiet >"$OUT/fleet-failover.json" 2>>"$OUT/fleet-errors.log" &
  local bots=$!
  for _ in $(seq 600); do grep -q '"publishing"' "$OUT/fleet-failover.intervals" && break; sleep 0.1; done
  sleep 4
  date +%s.%N >"$OUT/fleet-failover.killed"
  kill -9 "$victim"
  wait "$bots" || echo "  (failover run failed: see $OUT/fleet-errors.log)" >&2
  local pid
  for pid in "${pids[@]:0:2}"; do
    kill -0 "$pid" 2>/dev/null || echo "node pid $pid died during failover" >>"$OUT/fleet-failover.dead"
  done
}

started=$(date +%s)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/loadavg" >&2
MODE=single; echo "single node (Release, no fleet):" >&2
start_gateway "${TRIM[@]}"; NODE_PIDS=$SERVER_PID; ENDPOINTS="127.0.0.1:$PORT"
warm_up; suite; stop_server
MODE=fleet; echo "3-node fleet:" >&2
start_fleet "${TRIM[@]}"; warm_up; suite; failover; stop_fleet
MODE=mosquitto; echo "mosquitto ($("$MOSQUITTO" -h 2>/dev/null | head -1 | awk '{print $3}')), single node:" >&2
start_mosquitto; NODE_PIDS=$SERVER_PID; ENDPOINTS="127.0.0.1:$PORT"
for rate in $MOSQUITTO_RATES; do
  bot "p2p-q0-r$rate" p2p --count "$PAIRS" --qos 0 --total-rate "$rate" --duration "$SECONDS_RUN" --warmup "$WARMUP" --drain 5
  # Held: under 0.1% not delivered. The first rate not held ends the steps.
  python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["messages"]; sys.exit(0 if m["expected"] and m["lost"] <= 0.001 * m["expected"] else 1)' \
    "$OUT/$MODE-p2p-q0-r$rate.json" 2>/dev/null || break
done
stop_server
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/loadavg" >&2
echo "finished in $(( $(date +%s) - started )) s; raw results in $OUT" >&2

python3 "$ROOT/bench/fleet/table.py" "$OUT" "$CONNS" "$LAT_PAIRS" "$LAT_RATE" "$PAYLOAD" "$FAIL_PAIRS" "$FAIL_RATE"
