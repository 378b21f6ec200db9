#!/usr/bin/env bash
# Capacity, the comparison a sceptic asks for: each broker pinned to one core ($BROKER_CPUS) and the bots to the other
# ($BOT_CPUS), the offered rate stepped up (doubling from $START, then $REFINE bisections between the last rate held
# and the first not held), capacity = the highest delivered msg/s held with < 0.1% lost and p99 < $P99_MS ms.
# p2p, fan-in and fan-out at QoS 0 and 1, against our gateway, mosquitto and the MQTTnet 5 server, one after another.
#   bench/capacity/run.sh            # full run (10 to 25 minutes: it stops stepping where a broker stops holding)
#   QUICK=1 bench/capacity/run.sh    # smoke run: short steps, low ceiling
#   BROKERS=gateway,mosquitto bench/capacity/run.sh
# Prints a markdown table (bench/capacity/capacity.py); raw JSON per step goes to $OUT. A broken lowest step prints
# "broken: <reason>" instead of a figure and the script exits 1. The unpaced overload rows stay in side-by-side/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
[ -x "$MOSQUITTO" ] || { echo "mosquitto not found (apt-get install mosquitto)"; exit 1; }
command -v taskset >/dev/null || { echo "taskset not found (util-linux)"; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores: the broker on one, the bots on the other"; exit 1; }

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  COUNT=5; SECONDS_RUN=2; WARMUP=1; DRAIN=2; START=2000; MAX=8000; REFINE=0
else
  COUNT=20; SECONDS_RUN=5; WARMUP=1; DRAIN=3; START=${START:-5000}; MAX=${MAX:-640000}; REFINE=${REFINE:-2}
fi
P99_MS=${P99_MS:-10}
PAYLOAD=${PAYLOAD:-64}
BROKER_CPUS=${BROKER_CPUS:-0}
BOT_CPUS=${BOT_CPUS:-1}
OUT=${OUT:-$(mktemp -d /tmp/capacity.XXXXXX)}
mkdir -p "$OUT"
BROKERS=${BROKERS:-gateway,mosquitto,mqttnet}

. "$ROOT/bench/side-by-side/servers.sh"
build_binaries
case ",$BROKERS," in *,mqttnet,*) build_mqttnet ;; esac

# step SCENARIO QOS RATE: one run at RATE delivered msg/s offered; exit status as capacity.py judge (0 held).
step() {
  local scenario=$1 qos=$2 rate=$3 name="$1-q$2" per=$3 status=0
  [ "$scenario" = fan-out ] && per=$(( (rate + COUNT - 1) / COUNT ))   # one publisher, COUNT deliveries a publish
  echo "  $BROKER $name at $rate msg/s" >&2
  timeout 120 taskset -c "$BOT_CPUS" "$BOTS" "$scenario" --count "$COUNT" --qos "$qos" --total-rate "$per" \
    --duration "$SECONDS_RUN" --warmup "$WARMUP" --drain "$DRAIN" --size "$PAYLOAD" --port "$PORT" --json --quiet \
    >"$OUT/$BROKER-$name-r$rate.json" 2>>"$OUT/$BROKER-errors.log" || status=$?
  [ "$status" = 0 ] || echo "exit status $status$([ "$status" = 124 ] && echo ', timed out after 120 s')" >"$OUT/$BROKER-$name-r$rate.failed"
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "during $name at $rate msg/s" >"$OUT/$BROKER-$name-r$rate.dead"; DIED=1
  fi
  python3 "$ROOT/bench/capacity/capacity.py" judge "$OUT" "$BROKER" "$name" "$rate" "$P99_MS" >&2
}

# climb SCENARIO QOS: doubling until a step does not hold, then bisections between the last held and the first not.
climb() {
  local scenario=$1 qos=$2 rate=$START held=0 failed=0 verdict refine
  while [ "$rate" -le "$MAX" ] && [ -z "$DIED" ]; do
    verdict=0; step "$scenario" "$qos" "$rate" || verdict=$?
    [ "$verdict" = 0 ] || { failed=$rate; break; }
    held=$rate; rate=$((rate * 2))
  done
  [ "$held" -gt 0 ] && [ "$failed" -gt 0 ] || return 0
  [ "$verdict" = 1 ] || return 0   # broken: nothing to bisect
  for refine in $(seq "$REFINE"); do
    rate=$(( (held + failed) / 2 / 1000 * 1000 ))
    [ "$rate" -gt "$held" ] && [ -z "$DIED" ] || break
    verdict=0; step "$scenario" "$qos" "$rate" || verdict=$?
    if [ "$verdict" = 0 ]; then held=$rate; else failed=$rate; fi
  done
}

# Every scenario once, short and not judged, so the steps see code the runtime has already compiled (the .NET brokers
# JIT on first use; a cold first step measured 30 ms p99 where a warm one holds 3 ms).
warm_up() {
  local scenario qos
  for scenario in p2p fan-in fan-out; do
    for qos in 0 1; do
      timeout 60 taskset -c "$BOT_CPUS" "$BOTS" "$scenario" --count "$COUNT" --qos "$qos" --total-rate "$START" --duration 3 \
        --warmup 1 --drain 1 --size "$PAYLOAD" --port "$PORT" --json --quiet >/dev/null 2>>"$OUT/$BROKER-errors.log" || true
    done
  done
}

started=$(date +%s)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/loadavg" >&2
IFS=, read -r -a broker_list <<<"$BROKERS"
for BROKER in "${broker_list[@]}"; do
  DIED=""
  echo "$BROKER (CPU $BROKER_CPUS; bots on CPU $BOT_CPUS):" >&2
  case $BROKER in
    gateway) start_gateway ;;
    mosquitto) start_mosquitto ;;
    mqttnet) start_mqttnet ;;
    *) echo "unknown broker $BROKER" >&2; exit 64 ;;
  esac
  warm_up
  for scenario in p2p fan-in fan-out; do
    for qos in 0 1; do climb "$scenario" "$qos"; done
  done
  stop_server
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/loadavg" >&2
echo "finished in $(( $(date +%s) - started )) s; raw results in $OUT" >&2

python3 "$ROOT/bench/capacity/capacity.py" table "$OUT" "$P99_MS" "${broker_list[@]}"
