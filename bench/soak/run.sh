#!/usr/bin/env bash
# Soak: a Release gateway under a steady, modest, mixed load for --minutes; the gateway's RSS and the bots'
# p99 per interval, to see leaks and drift (flat is the target), not capacity.
#   bench/soak/run.sh --minutes 60                  # the soak (about 62 minutes with build and start)
#   bench/soak/run.sh --minutes 3 --interval 30     # check the script
# Options: --minutes N (required), --interval S (default 60), --out DIR (default a temp dir), --no-build.
# Load (all paced, 64-byte payloads), about 6,100 messages/s offered in total:
#   p2p-q0     MQTT 3.1.1 QoS 0, 20 pairs x 100 msg/s                 2,000 msg/s
#   p2p-q1-v5  MQTT 5.0 QoS 1, 20 pairs x 100 msg/s                   2,000 msg/s
#   fanout-q1  MQTT 3.1.1 QoS 1, 1 publisher x 50 msg/s to 20 subscribers (1,000 deliveries/s)
#   mlp-rpc    MLP echo calls through the client SDK, 4 connections x 250 calls/s   1,000 calls/s
#   mlp-push   MLP push API, 20 devices, 100 pushes/s (one device each)
#   churn      MQTT connection churn: 200 connections opened at 100/s, held 5 s, closed; repeated
# A bot run is capped at one hour; longer soaks chain runs (each chain restarts its connections).
# Output in $OUT: soak.csv (one row per interval: RSS and each load's p99 and rate), soak.md (the same as a
# markdown table), meta.txt (commit, command, start and end), rss.csv (the sampler), *.jsonl (the bots' --interval lines), *.json (their final reports),
# gateway.log, churn.jsonl (one JSON report per churn cycle).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

MINUTES=""; INTERVAL=60; OUT=""; BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$MINUTES" =~ ^[0-9]+$ ]] && [ "$MINUTES" -ge 1 ] || { echo "--minutes N (a whole number >= 1) is required" >&2; exit 2; }
[[ "$INTERVAL" =~ ^[0-9]+$ ]] && [ "$INTERVAL" -ge 5 ] || { echo "--interval must be a whole number of seconds >= 5" >&2; exit 2; }
OUT=${OUT:-$(mktemp -d /tmp/soak.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

if [ "$BUILD" = 1 ]; then
  echo "building (Release)..." >&2
  dotnet build gateway/AccessLayer.Gateway.csproj -c Release -nologo -v q >/dev/null
  dotnet build bots/AccessLayer.Bots.csproj -c Release -nologo -v q >/dev/null
fi
# Run copies, so a rebuild in this checkout during a long soak cannot touch the running binaries.
rm -rf "$OUT/bin"; mkdir -p "$OUT/bin"
cp -r "$ROOT/bots/bin/Release/net10.0" "$OUT/bin/bots"; cp -r "$ROOT/gateway/bin/Release/net10.0" "$OUT/bin/gateway"
BOTS="$OUT/bin/bots/AccessLayer.Bots"
GATEWAY_DLL="$OUT/bin/gateway/AccessLayer.Gateway.dll"

. "$ROOT/bench/side-by-side/servers.sh"
BOT_PIDS=()
cleanup() {
  for pid in "${BOT_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_server
}
trap cleanup EXIT

SECRET=soak-$(date +%s)
MQTT_PORT=$(free_port); MLP_PORT=$(free_port); HTTP_PORT=$(free_port)
GATEWAY_ARGS=(--Mqtt:Port="$MQTT_PORT" --Mqtt:BindAddress=127.0.0.1 --Mlp:Port="$MLP_PORT" --Mlp:BindAddress=127.0.0.1
  --Http:Port="$HTTP_PORT" --Http:BindAddress=127.0.0.1 --Mlp:AllowAnonymous=true --Mlp:TokenSecret="$SECRET"
  --Logging:LogLevel:Default=Warning)
# The push API and /metrics live on the management port, behind its bearer token.
PUSH_PORT=$(free_port)
MANAGEMENT_TOKEN=soak-management-$(date +%s)
GATEWAY_ARGS+=(--Management:Port="$PUSH_PORT" --Management:BindAddress=127.0.0.1 --Management:Token="$MANAGEMENT_TOKEN")
(cd "$OUT/bin/gateway" && exec dotnet "$GATEWAY_DLL" "${GATEWAY_ARGS[@]}") >"$OUT/gateway.log" 2>&1 &
SERVER_PID=$!
wait_listening "$MQTT_PORT"; wait_listening "$MLP_PORT"; wait_listening "$PUSH_PORT"

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- gateway protocol sessions bots || echo "+dirty")
START=$(date +%s); END=$((START + MINUTES * 60))
{
  echo "commit: $COMMIT"
  echo "started: $(date -u +%FT%TZ)  minutes: $MINUTES  interval: ${INTERVAL}s"
  echo "gateway pid $SERVER_PID: dotnet $GATEWAY_DLL ${GATEWAY_ARGS[*]}"
  echo "cores: $(nproc)  load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/meta.txt" >&2

# chain NAME ARGS...: the bot run repeated until the end (a run lasts at most an hour), JSON reports appended.
chain() {
  local name=$1; shift
  while :; do
    local left=$((END - $(date +%s)))
    [ "$left" -gt 10 ] || break
    [ "$left" -le 3600 ] || left=3600
    "$BOTS" "$@" --duration "$left" --warmup 5 --drain 5 --interval "$INTERVAL" --interval-log "$OUT/$name.jsonl" \
      --topic-prefix "soak/$name" --client-prefix "$name" --json --quiet >>"$OUT/$name.json" 2>>"$OUT/$name.err" \
      || echo "{\"failed\": \"$name exit $?\", \"time\": \"$(date -u +%FT%TZ)\"}" >>"$OUT/$name.json"
  done
}

# churn: short conn runs back to back until the end, one JSON report per cycle.
churn() {
  while [ $(($(date +%s) + 15)) -lt "$END" ]; do
    "$BOTS" conn --port "$MQTT_PORT" --count 200 --connect-rate 100 --hold 5 --duration 15 --client-prefix churn \
      --json --quiet >>"$OUT/churn.jsonl" 2>>"$OUT/churn.err" || true
  done
}

chain p2p-q0 p2p --port "$MQTT_PORT" --count 20 --qos 0 --rate 100 & BOT_PIDS+=($!)
chain p2p-q1-v5 p2p --port "$MQTT_PORT" --count 20 --qos 1 --mqtt-version 5 --rate 100 & BOT_PIDS+=($!)
chain fanout-q1 fan-out --port "$MQTT_PORT" --count 20 --qos 1 --rate 50 & BOT_PIDS+=($!)
chain mlp-rpc mlp-rpc --port "$MLP_PORT" --count 4 --concurrency 1 --rate 250 --size 64 & BOT_PIDS+=($!)
chain mlp-push mlp-push --port "$MLP_PORT" --management "http://127.0.0.1:$PUSH_PORT" --management-token "$MANAGEMENT_TOKEN" --count 20 --rate 100 --concurrency 4 --token-secret "$SECRET" & BOT_PIDS+=($!)
churn & BOT_PIDS+=($!)

# The sampler: the gateway's memory and threads once per interval until the end.
echo "time,elapsed_s,rss_kb,hwm_kb,threads,fds,gateway_cpu_s,loadavg" >"$OUT/rss.csv"
HZ=$(getconf CLK_TCK)
while [ "$(date +%s)" -lt "$END" ]; do
  sleep "$INTERVAL" || true
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "gateway died: see $OUT/gateway.log" >&2; break; }
  now=$(date +%s)
  rss=$(awk '/^VmRSS/{print $2}' "/proc/$SERVER_PID/status"); hwm=$(awk '/^VmHWM/{print $2}' "/proc/$SERVER_PID/status")
  threads=$(awk '/^Threads/{print $2}' "/proc/$SERVER_PID/status"); fds=$(ls "/proc/$SERVER_PID/fd" | wc -l)
  cpu=$(awk -v hz="$HZ" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$SERVER_PID/stat")
  echo "$(date -u +%FT%TZ),$((now - START)),$rss,$hwm,$threads,$fds,$cpu,$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$OUT/rss.csv" >&2
done

echo "waiting for the bots to finish..." >&2
for pid in "${BOT_PIDS[@]}"; do wait "$pid" || true; done
BOT_PIDS=()
curl -s "http://127.0.0.1:$PUSH_PORT/metrics" >"$OUT/metrics-end.txt" || true
echo "finished: $(date -u +%FT%TZ)  load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/meta.txt" >&2
stop_server

python3 "$ROOT/bench/soak/table.py" "$OUT" "$INTERVAL" | tee "$OUT/soak.md"
echo "output in $OUT" >&2
