#!/usr/bin/env bash
# Side-by-side: our gateway and mosquitto on this machine, the same bot scenarios against each in turn.
#   bench/side-by-side/run.sh            # full run (about 6 minutes)
#   QUICK=1 bench/side-by-side/run.sh    # smoke run: small counts, short scenarios (about 1.5 minutes)
# Prints a markdown table (ours, mosquitto, ratio); raw JSON per scenario goes to $OUT (printed at the end).
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

. "$ROOT/bench/side-by-side/servers.sh"
build_binaries

# bot NAME ARGS...: one scenario against the running broker, JSON to $OUT/$BROKER-NAME.json
bot() {
  local name=$1; shift
  echo "  $BROKER $name" >&2
  if ! timeout 180 "$BOTS" "$@" --port "$PORT" --json --quiet >"$OUT/$BROKER-$name.json" 2>>"$OUT/$BROKER-errors.log"; then
    echo "  ($BROKER $name failed: see $OUT/$BROKER-errors.log)" >&2
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "  $BROKER died during $name" >&2; return 1; }
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
BROKER=gateway; echo "gateway (Release):" >&2; start_gateway; suite; stop_server
BROKER=mosquitto; echo "mosquitto ($("$MOSQUITTO" -h 2>/dev/null | head -1 | awk '{print $3}')):" >&2; start_mosquitto; suite; stop_server
echo "finished in $(( $(date +%s) - started )) s; raw results in $OUT" >&2

python3 "$ROOT/bench/side-by-side/table.py" "$OUT" "$CONNS" "$LAT_PAIRS" "$LAT_RATE" "$PAYLOAD"
