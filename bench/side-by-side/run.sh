#!/usr/bin/env bash
# Side-by-side: our gateway, mosquitto and the MQTTnet 5 server on this machine, the same bot scenarios against each in turn.
#   bench/side-by-side/run.sh            # full run (about 9 minutes)
#   QUICK=1 bench/side-by-side/run.sh    # smoke run: small counts, short scenarios (about 2 minutes)
#   BROKERS=gateway,mosquitto bench/side-by-side/run.sh   # a subset (ours first)
# Prints a markdown table (one column per broker, ratios of ours to each); raw JSON per scenario goes to $OUT
# (printed at the end). A broken run (no report, broker died, bot failed, a client not connected or lost, bot
# errors, nothing received) is printed as "broken: <reason>" instead of a figure, and the script then exits 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
[ -x "$MOSQUITTO" ] || { echo "mosquitto not found (apt-get install mosquitto)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed for the table"; exit 1; }

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  CONNS=2000; WORKERS=1; SECONDS_RUN=4; WARMUP=1; PAIRS=5; LAT_PAIRS=20
else
  CONNS=15000; WORKERS=3; SECONDS_RUN=10; WARMUP=2; PAIRS=20; LAT_PAIRS=100
fi
# RSS is read SETTLE s into the idle hold: the gateway trims memory once a connect storm has been
# quiet for Memory:TrimQuietSeconds (5 s), mosquitto does not need to.
SETTLE=${SETTLE:-10}; HOLD=$((SETTLE + 2))
LAT_RATE=${LAT_RATE:-50}          # msg/s per publisher in the latency runs: LAT_PAIRS x LAT_RATE offered in total
PAYLOAD=${PAYLOAD:-64}
OUT=${OUT:-$(mktemp -d /tmp/side-by-side.XXXXXX)}
mkdir -p "$OUT"

BROKERS=${BROKERS:-gateway,mosquitto,mqttnet}
. "$ROOT/bench/side-by-side/servers.sh"
build_binaries
case ",$BROKERS," in *,mqttnet,*) build_mqttnet ;; esac

# bot NAME ARGS...: one scenario against the running broker, JSON to $OUT/$BROKER-NAME.json; a failed bot
# leaves $OUT/$BROKER-NAME.failed, a broker that died $OUT/$BROKER-NAME.dead (and no later scenario runs on it).
bot() {
  local name=$1 status=0; shift
  if [ -n "$DIED" ]; then
    echo "the broker died during $DIED" >"$OUT/$BROKER-$name.dead"; return 0
  fi
  echo "  $BROKER $name" >&2
  timeout 180 "$BOTS" "$@" --port "$PORT" --json --quiet >"$OUT/$BROKER-$name.json" 2>>"$OUT/$BROKER-errors.log" || status=$?
  if [ "$status" != 0 ]; then
    echo "exit status $status$([ "$status" = 124 ] && echo ', timed out after 180 s')" >"$OUT/$BROKER-$name.failed"
    echo "  ($BROKER $name failed: see $OUT/$BROKER-errors.log)" >&2
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "during $name" >"$OUT/$BROKER-$name.dead"; DIED=$name
    echo "  $BROKER died during $name" >&2
  fi
}

suite() {
  local run="--duration $SECONDS_RUN --warmup $WARMUP --drain 5 --size $PAYLOAD"
  # Memory and connect rate first, on a fresh broker: CONNS idle connections over worker processes and source addresses.
  bot conn conn --count "$CONNS" --workers "$WORKERS" --source-addresses 8 --connect-rate 0 --connect-concurrency 300 \
    --hold "$HOLD" --settle "$SETTLE" --duration 75 --broker-pid "$SERVER_PID"
  sleep 2
  for qos in 0 1; do
    bot "p2p-q$qos" p2p --count "$PAIRS" --qos "$qos" $run
    bot "fan-in-q$qos" fan-in --count "$PAIRS" --qos "$qos" $run
    bot "fan-out-q$qos" fan-out --count "$PAIRS" --qos "$qos" $run
  done
  for qos in 0 1; do
    bot "latency-q$qos" p2p --count "$LAT_PAIRS" --qos "$qos" --rate "$LAT_RATE" $run
  done
}

started=$(date +%s)
for BROKER in ${BROKERS//,/ }; do
  DIED=""
  case $BROKER in
    gateway) echo "gateway (Release):" >&2; start_gateway ;;
    mosquitto) echo "mosquitto ($("$MOSQUITTO" -h 2>/dev/null | head -1 | awk '{print $3}')):" >&2; start_mosquitto ;;
    mqttnet) echo "MQTTnet.Server 5.2.0.1603:" >&2; start_mqttnet ;;
    *) echo "unknown broker $BROKER (gateway, mosquitto, mqttnet)" >&2; exit 2 ;;
  esac
  suite; stop_server
done
echo "finished in $(( $(date +%s) - started )) s; raw results in $OUT" >&2

python3 "$ROOT/bench/side-by-side/table.py" "$OUT" "$CONNS" "$LAT_PAIRS" "$LAT_RATE" "$PAYLOAD" "$BROKERS"
