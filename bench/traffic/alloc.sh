#!/usr/bin/env bash
# Bytes the gateway allocates per MLP call on the backend call path, in seconds, repeatable: the mlp-rpc bots (lean
# client) call service echo over long links; the gateway routes it with Mlp:Routes:echo to bench/H2Echo (h2c, the
# traffic bench's single route) and answers. dotnet-counters reads the gateway's dotnet.gc.heap.total_allocated over a
# window that holds a pass of a fixed number of calls; the figure is those bytes over the calls answered (the
# gateway's idle allocations in the window are a few KB/s, under 0.1 B per call). Allocation counts do not depend on
# the machine's load, so this runs without the bench lock; its bots load is short and small (8 connections).
#   bench/traffic/alloc.sh                      # about 30 s: 3 passes of 40,000 calls, one line each
#   ROUTE=builtin bench/traffic/alloc.sh        # the built-in echo instead (no backend hop; the 11 B of the echo bench)
#   TRACE=1 bench/traffic/alloc.sh              # also a dotnet-trace gc-verbose trace of one pass: $OUT/pass.nettrace
#                                               # (allocation samples every ~100 KB with type and stack)
#   GATEWAY_DLL=/path/to/other/AccessLayer.Gateway.dll NO_BUILD=1 bench/traffic/alloc.sh   # another build's, to compare
# Needs dotnet-counters (and dotnet-trace for TRACE=1): dotnet tool install -g dotnet-counters dotnet-trace.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
command -v python3 >/dev/null || { echo "python3 is needed"; exit 1; }

CONNS=${CONNS:-8}; STREAMS=${STREAMS:-4}; PAYLOAD=${PAYLOAD:-64}; CALLS=${CALLS:-40000}; PASSES=${PASSES:-3}
ROUTE=${ROUTE:-backend}
OUT=${OUT:-$(mktemp -d /tmp/alloc-bench.XXXXXX)}
DOTNET_COUNTERS=${DOTNET_COUNTERS:-$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")}
DOTNET_TRACE=${DOTNET_TRACE:-$(command -v dotnet-trace || echo "$HOME/.dotnet/tools/dotnet-trace")}
mkdir -p "$OUT"
WINDOW=${WINDOW:-25}; ATTACH=${ATTACH:-8}   # seconds of each counters window; seconds given to dotnet-counters to attach before the pass
PER_CONN=$((CALLS / CONNS)); CALLS=$((PER_CONN * CONNS))
SECRET=bench-token-secret

if [ "${NO_BUILD:-0}" != 1 ]; then
  echo "building (Release)..." >&2
  dotnet build gateway/AccessLayer.Gateway.csproj -c Release -nologo -v q >/dev/null
  dotnet build bots/AccessLayer.Bots.csproj -c Release -nologo -v q >/dev/null
  dotnet build bench/H2Echo/AccessLayer.H2Echo.csproj -c Release -nologo -v q >/dev/null
fi
BOTS="$ROOT/bots/bin/Release/net10.0/AccessLayer.Bots"
GATEWAY_DLL=${GATEWAY_DLL:-"$ROOT/gateway/bin/Release/net10.0/AccessLayer.Gateway.dll"}
H2ECHO_DLL="$ROOT/bench/H2Echo/bin/Release/net10.0/AccessLayer.H2Echo.dll"

. "$ROOT/bench/traffic/procs.sh"

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/load.txt" >&2
H2_PORT=$(free_port)
dotnet "$H2ECHO_DLL" --port "$H2_PORT" >"$OUT/h2echo.log" 2>&1 9>&- &
PIDS+=($!)
wait_listening "$H2_PORT"

MLP_PORT=$(free_port); HTTP_PORT=$(free_port); MANAGEMENT_PORT=$(free_port)
ROUTE_ARGS=()
[ "$ROUTE" = backend ] && ROUTE_ARGS=(--Mlp:Routes:echo:Url="http://localhost:$H2_PORT/" --Mlp:Routes:echo:Http2=true)
dotnet "$GATEWAY_DLL" --Mqtt:Port=0 --Mlp:Port="$MLP_PORT" --Mlp:BindAddress=127.0.0.1 --Http:Port="$HTTP_PORT" --Http:BindAddress=127.0.0.1 \
  --Management:Port="$MANAGEMENT_PORT" --Management:BindAddress=127.0.0.1 --Mlp:TokenSecret=$SECRET --Mqtt:SysInterval=0 \
  --Logging:LogLevel:Default=Warning "${ROUTE_ARGS[@]}" >"$OUT/gateway.log" 2>&1 9>&- &
GATEWAY_PID=$!
PIDS+=("$GATEWAY_PID")
wait_listening "$MLP_PORT"

RPC=(mlp-rpc --port "$MLP_PORT" --count "$CONNS" --concurrency "$STREAMS" --size "$PAYLOAD" --token-secret "$SECRET" --user-per-device
     --mlp-client lean --json --quiet --warmup 0 --duration 60 --drain 2)
# Warm: JIT, the HTTP pool, the thread pool.
"$BOTS" "${RPC[@]}" --messages "$PER_CONN" >"$OUT/warm.json" 2>"$OUT/warm.err" || true
sleep 1
echo "pass | calls answered | errors | bytes allocated on the gateway | bytes per call"
for pass in $(seq "$PASSES"); do
  CSV="$OUT/pass-$pass.csv"
  rm -f "$CSV"
  # A fixed window (dotnet-counters writes its file when it ends); the pass must start after it attached, checked below.
  "$DOTNET_COUNTERS" collect -p "$GATEWAY_PID" --counters 'System.Runtime[dotnet.gc.heap.total_allocated]' --format csv \
    -o "$CSV" --refresh-interval 1 --duration "00:00:00:$WINDOW" >/dev/null 2>&1 9>&- &
  COUNTER_PID=$!
  sleep "$ATTACH"
  date +%s >"$OUT/pass-$pass.start"
  "$BOTS" "${RPC[@]}" --messages "$PER_CONN" >"$OUT/pass-$pass.json" 2>"$OUT/pass-$pass.err" || true
  date +%s >"$OUT/pass-$pass.end"
  wait "$COUNTER_PID" 2>/dev/null || true
  python3 - "$OUT/pass-$pass.json" "$CSV" "$pass" "$(cat "$OUT/pass-$pass.start")" "$(cat "$OUT/pass-$pass.end")" <<'PY'
import json, sys, datetime
m = json.load(open(sys.argv[1]))
calls, errors = m["messages"]["received"], m["errors"]
start, end = int(sys.argv[4]), int(sys.argv[5])
total, stamps = 0.0, []
for line in open(sys.argv[2]):
    cells = line.strip().split(",")
    if len(cells) >= 5 and "total_allocated" in cells[2]:
        try: total += float(cells[-1])
        except ValueError: continue
        stamps.append(datetime.datetime.strptime(cells[0], "%m/%d/%Y %H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp())
# The window must hold the pass: first sample before its start, last after its end (the machine's clock is UTC).
if not stamps or stamps[0] > start or stamps[-1] < end + 1:
    print(f"{sys.argv[3]} | {calls:,} | {errors} | window did not hold the pass (raise WINDOW or ATTACH) | -")
else:
    print(f"{sys.argv[3]} | {calls:,} | {errors} | {total:,.0f} | {total / max(1, calls):,.0f}")
PY
done
if [ "${TRACE:-0}" = 1 ]; then
  "$DOTNET_TRACE" collect -p "$GATEWAY_PID" --profile gc-verbose -o "$OUT/pass.nettrace" --duration "00:00:00:$WINDOW" >"$OUT/trace.log" 2>&1 9>&- </dev/null &
  TRACE_PID=$!
  sleep "$ATTACH"
  "$BOTS" "${RPC[@]}" --messages "$PER_CONN" >"$OUT/trace-pass.json" 2>"$OUT/trace-pass.err" || true
  wait "$TRACE_PID" 2>/dev/null || true
  echo "trace: $OUT/pass.nettrace" >&2
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt" >&2
echo "raw: $OUT" >&2
