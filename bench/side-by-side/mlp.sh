#!/usr/bin/env bash
# MLP echo RPC against plain HTTP/2 (h2c, prior knowledge) on the same Kestrel, same payload and concurrency:
#   bench/side-by-side/mlp.sh                       # about 1 minute on the 2-core dev machine
#   CONNS=4 STREAMS=16 PAYLOAD=64 CALLS=200000 bench/side-by-side/mlp.sh
#   SDK=1 bench/side-by-side/mlp.sh                 # also a pass driven by the client SDK (extra column)
# MLP side: the gateway's built-in echo service, driven by `bots mlp-rpc --mlp-client lean` (raw socket,
# HELLO once, pre-encoded REQUESTs with an indexed header block, STREAMS pipelined per connection: what
# h2load is to HTTP/2). HTTP/2 side: bench/H2Echo (POST /echo answers the body), driven by h2load.
# Each side gets a warm-up pass, then a measured pass of CALLS calls over CONNS connections with
# STREAMS calls in flight per connection (h2load -c CONNS -m STREAMS; bots --count CONNS --concurrency
# STREAMS). Only one server runs at a time. CPU time of each client and server is read around the
# measured pass (bash `time`, /proc/PID/stat). Raw output goes to $OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
command -v h2load >/dev/null || { echo "h2load not found (apt-get install nghttp2-client)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed for the table"; exit 1; }

CONNS=${CONNS:-4}; STREAMS=${STREAMS:-16}; PAYLOAD=${PAYLOAD:-64}; CALLS=${CALLS:-200000}; WARM_CALLS=${WARM_CALLS:-40000}; SDK=${SDK:-0}
OUT=${OUT:-$(mktemp -d /tmp/side-by-side-mlp.XXXXXX)}
mkdir -p "$OUT"
PER_CONN=$((CALLS / CONNS)); CALLS=$((PER_CONN * CONNS)); WARM_PER_CONN=$((WARM_CALLS / CONNS))

echo "building (Release)..." >&2
dotnet build gateway/AccessLayer.Gateway.csproj -c Release -nologo -v q >/dev/null
dotnet build bots/AccessLayer.Bots.csproj -c Release -nologo -v q >/dev/null
dotnet build bench/H2Echo/AccessLayer.H2Echo.csproj -c Release -nologo -v q >/dev/null
BOTS="$ROOT/bots/bin/Release/net10.0/AccessLayer.Bots"
GATEWAY_DLL="$ROOT/gateway/bin/Release/net10.0/AccessLayer.Gateway.dll"
H2ECHO_DLL="$ROOT/bench/H2Echo/bin/Release/net10.0/AccessLayer.H2Echo.dll"

. "$ROOT/bench/side-by-side/servers.sh"
# CPU seconds (user+system) a process has used so far, from /proc (clock ticks).
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f\n", ($14 + $15) / hz}' "/proc/$1/stat"; }
# Runs a client, its stdout to $1, its CPU seconds (user+system) and wall seconds to $1.cpu.
timed() { local out=$1; shift; local TIMEFORMAT="%U %S %R"; { time "$@" >"$out" 2>"$out.err"; } 2>"$out.cpu"; }
mlp_bytes() { curl -s "http://127.0.0.1:$MANAGEMENT_PORT/metrics" | awk '/^accesslayer_mlp_bytes_received_bytes_total/{r=$2} /^accesslayer_mlp_bytes_sent_bytes_total/{s=$2} END{print r+0, s+0}'; }

head -c "$PAYLOAD" /dev/urandom >"$OUT/payload.bin"
STARTED=$(date +%s)

echo "MLP: gateway echo service, bots mlp-rpc --mlp-client lean" >&2
MLP_PORT=$(free_port); HTTP_PORT=$(free_port); MANAGEMENT_PORT=$(free_port)
dotnet "$GATEWAY_DLL" --Mqtt:Port=0 --Mlp:Port="$MLP_PORT" --Mlp:BindAddress=127.0.0.1 --Http:Port="$HTTP_PORT" --Http:BindAddress=127.0.0.1 \
  --Management:Port="$MANAGEMENT_PORT" --Management:BindAddress=127.0.0.1 \
  --Mlp:AllowAnonymous=true --Logging:LogLevel:Default=Warning >"$OUT/gateway.log" 2>&1 &
SERVER_PID=$!
wait_listening "$MLP_PORT"
RPC=(mlp-rpc --port "$MLP_PORT" --count "$CONNS" --concurrency "$STREAMS" --size "$PAYLOAD" --warmup 0 --duration 60 --json --quiet)
"$BOTS" "${RPC[@]}" --mlp-client lean --messages "$WARM_PER_CONN" >"$OUT/mlp-warmup.json"
read -r MLP_IN0 MLP_OUT0 < <(mlp_bytes)
CPU0=$(cpu_seconds "$SERVER_PID")
timed "$OUT/mlp.json" "$BOTS" "${RPC[@]}" --mlp-client lean --messages "$PER_CONN"
CPU1=$(cpu_seconds "$SERVER_PID")
read -r MLP_IN1 MLP_OUT1 < <(mlp_bytes)
echo "$((MLP_IN1 - MLP_IN0)) $((MLP_OUT1 - MLP_OUT0)) $CPU0 $CPU1" >"$OUT/mlp-server.txt"
if [ "$SDK" = 1 ]; then
  echo "MLP: the same through the client SDK (bots mlp-rpc --mlp-client sdk)" >&2
  "$BOTS" "${RPC[@]}" --mlp-client sdk --messages "$WARM_PER_CONN" >"$OUT/sdk-warmup.json"
  read -r MLP_IN0 MLP_OUT0 < <(mlp_bytes)
  CPU0=$(cpu_seconds "$SERVER_PID")
  timed "$OUT/sdk.json" "$BOTS" "${RPC[@]}" --mlp-client sdk --messages "$PER_CONN"
  CPU1=$(cpu_seconds "$SERVER_PID")
  read -r MLP_IN1 MLP_OUT1 < <(mlp_bytes)
  echo "$((MLP_IN1 - MLP_IN0)) $((MLP_OUT1 - MLP_OUT0)) $CPU0 $CPU1" >"$OUT/sdk-server.txt"
fi
stop_server

echo "HTTP/2: H2Echo, h2load" >&2
H2_PORT=$(free_port)
dotnet "$H2ECHO_DLL" --port "$H2_PORT" --stats "$OUT/h2-stats.txt" >"$OUT/h2echo.log" 2>&1 &
SERVER_PID=$!
wait_listening "$H2_PORT"
h2load -n "$WARM_CALLS" -c "$CONNS" -m "$STREAMS" --data="$OUT/payload.bin" "http://127.0.0.1:$H2_PORT/echo" >"$OUT/h2load-warmup.txt"
sleep 0.3; cp "$OUT/h2-stats.txt" "$OUT/h2-stats-before.txt"
CPU0=$(cpu_seconds "$SERVER_PID")
timed "$OUT/h2load.txt" h2load -n "$CALLS" -c "$CONNS" -m "$STREAMS" --data="$OUT/payload.bin" --log-file="$OUT/h2load-requests.tsv" "http://127.0.0.1:$H2_PORT/echo"
CPU1=$(cpu_seconds "$SERVER_PID")
echo "$CPU0 $CPU1" >"$OUT/h2-server-cpu.txt"
sleep 0.3
stop_server

python3 - "$OUT" "$CALLS" "$CONNS" "$STREAMS" "$PAYLOAD" "$SDK" <<'PY'
import json, os, re, sys
out, calls, conns, streams, payload, sdk = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6] == "1"
def client_cpu(output_file):
    user, system, wall = map(float, open(f"{out}/{output_file}.cpu").read().split())
    return user + system, wall
def mlp_side(name):
    m = json.load(open(f"{out}/{name}.json"))
    b_in, b_out, c0, c1 = open(f"{out}/{name}-server.txt").read().split()
    good = max(1, m["messages"]["received"])
    cpu, _ = client_cpu(f"{name}.json")
    return {
        "calls": f"{m['messages']['acked']:,} / {sum(m['errors'].values())}",
        "rps": m["mlp"]["callsPerSecond"], "p50": m["latency"]["p50"], "p99": m["latency"]["p99"], "max": m["latency"]["max"],
        "in": int(b_in) / good, "out": int(b_out) / good,
        "own": f"{m['mlp']['bytesSentPerCall']:.1f} / {m['mlp']['bytesReceivedPerCall']:.1f}",
        "server_us": (float(c1) - float(c0)) * 1e6 / good, "client_us": cpu * 1e6 / good,
    }
mlp = mlp_side("mlp")
sdk_side = mlp_side("sdk") if sdk else None
h2 = open(f"{out}/h2load.txt").read()
rps = float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", h2).group(1))
done = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", h2)
traffic = re.search(r"traffic: .*?\((\d+)\) total, .*?\((\d+)\) headers .*?\((\d+)\) data", h2)
lat = sorted(int(line.split("\t")[2]) for line in open(f"{out}/h2load-requests.tsv") if line.strip())
pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
b_in0, b_out0, _ = map(int, open(f"{out}/h2-stats-before.txt").read().split())
b_in1, b_out1, _ = map(int, open(f"{out}/h2-stats.txt").read().split())
h2_ok = int(done.group(1))
c0, c1 = map(float, open(f"{out}/h2-server-cpu.txt").read().split())
h2cpu, _ = client_cpu("h2load.txt")
h2s = {
    "calls": f"{h2_ok:,} / {int(done.group(2)) + int(done.group(3)) + int(done.group(4))}",
    "rps": rps, "p50": pct(0.50), "p99": pct(0.99), "max": lat[-1],
    "in": (b_in1 - b_in0) / h2_ok, "out": (b_out1 - b_out0) / h2_ok,
    "own": f"- / {int(traffic.group(1)) / h2_ok:.1f} (headers {int(traffic.group(2)) / h2_ok:.1f}, data {int(traffic.group(3)) / h2_ok:.1f})",
    "server_us": (c1 - c0) * 1e6 / h2_ok, "client_us": h2cpu * 1e6 / h2_ok,
}
rows = [
    ("calls (succeeded / errors)", "calls", None, False),
    ("requests per second", "rps", "{:,.0f}", True),
    ("latency p50 µs", "p50", "{:,}", True),
    ("latency p99 µs", "p99", "{:,}", True),
    ("latency max µs", "max", "{:,}", True),
    ("bytes per call, client → server (server socket counter)", "in", "{:.1f}", True),
    ("bytes per call, server → client (server socket counter)", "out", "{:.1f}", True),
    ("bytes per call, client's own count (sent / received)", "own", None, False),
    ("server CPU µs per call (user+system)", "server_us", "{:.1f}", True),
    ("load generator CPU µs per call (user+system)", "client_us", "{:.1f}", True),
]
print(f"\n{calls:,} echo calls, {payload} B body, {conns} connections x {streams} in flight; load average {os.getloadavg()[0]:.2f}\n")
head = "| figure | MLP (gateway echo, bots lean client) | HTTP/2 h2c (Kestrel, h2load) | MLP ÷ HTTP/2 |"
sep = "|---|---:|---:|---:|"
if sdk_side:
    head += " MLP via the SDK (bots mlp-rpc --mlp-client sdk) |"
    sep += "---:|"
print(head)
print(sep)
for name, key, fmt, ratio in rows:
    cell = lambda side: fmt.format(side[key]) if fmt else side[key]
    r = f"{mlp[key] / h2s[key]:.2f}×" if ratio and h2s[key] else ""
    line = f"| {name} | {cell(mlp)} | {cell(h2s)} | {r} |"
    if sdk_side:
        line += f" {cell(sdk_side)} |"
    print(line)
print(f"\nraw output: {out}")
PY
echo "whole script: $(( $(date +%s) - STARTED )) s (after the build)" >&2
