#!/usr/bin/env bash
# MLP echo RPC against plain HTTP/2 (h2c, prior knowledge) on the same Kestrel, same payload and concurrency:
#   bench/side-by-side/mlp.sh                       # about 1 minute on the 2-core dev machine
#   CONNS=4 STREAMS=16 PAYLOAD=64 CALLS=200000 bench/side-by-side/mlp.sh
# MLP side: the gateway's built-in echo service, driven by `bots mlp-rpc` (the client SDK).
# HTTP/2 side: bench/H2Echo (POST /echo answers the body), driven by h2load (nghttp2-client).
# Each side gets a warm-up pass, then a measured pass of CALLS calls over CONNS connections with
# STREAMS calls in flight per connection. Only one server runs at a time. Raw output goes to $OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
command -v h2load >/dev/null || { echo "h2load not found (apt-get install nghttp2-client)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed for the table"; exit 1; }

CONNS=${CONNS:-4}; STREAMS=${STREAMS:-16}; PAYLOAD=${PAYLOAD:-64}; CALLS=${CALLS:-200000}; WARM_CALLS=${WARM_CALLS:-40000}
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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap stop_server EXIT
wait_listening() {
  for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2; return 1
}
mlp_bytes() { curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^accesslayer_mlp_bytes_received_bytes_total/{r=$2} /^accesslayer_mlp_bytes_sent_bytes_total/{s=$2} END{print r+0, s+0}'; }

head -c "$PAYLOAD" /dev/urandom >"$OUT/payload.bin"
STARTED=$(date +%s)

echo "MLP: gateway echo service, bots mlp-rpc" >&2
MLP_PORT=$(free_port); HTTP_PORT=$(free_port)
dotnet "$GATEWAY_DLL" --Mqtt:Port=0 --Mlp:Port="$MLP_PORT" --Mlp:BindAddress=127.0.0.1 --Http:Port="$HTTP_PORT" --Http:BindAddress=127.0.0.1 \
  --Mlp:AllowAnonymous=true --Logging:LogLevel:Default=Warning >"$OUT/gateway.log" 2>&1 &
SERVER_PID=$!
wait_listening "$MLP_PORT"
RPC=(mlp-rpc --port "$MLP_PORT" --count "$CONNS" --concurrency "$STREAMS" --size "$PAYLOAD" --warmup 0 --duration 60 --json --quiet)
"$BOTS" "${RPC[@]}" --messages "$WARM_PER_CONN" >"$OUT/mlp-warmup.json"
read -r MLP_IN0 MLP_OUT0 < <(mlp_bytes)
"$BOTS" "${RPC[@]}" --messages "$PER_CONN" >"$OUT/mlp.json"
read -r MLP_IN1 MLP_OUT1 < <(mlp_bytes)
echo "$((MLP_IN1 - MLP_IN0)) $((MLP_OUT1 - MLP_OUT0))" >"$OUT/mlp-server-bytes.txt"
stop_server

echo "HTTP/2: H2Echo, h2load" >&2
H2_PORT=$(free_port)
dotnet "$H2ECHO_DLL" --port "$H2_PORT" --stats "$OUT/h2-stats.txt" >"$OUT/h2echo.log" 2>&1 &
SERVER_PID=$!
wait_listening "$H2_PORT"
h2load -n "$WARM_CALLS" -c "$CONNS" -m "$STREAMS" --data="$OUT/payload.bin" "http://127.0.0.1:$H2_PORT/echo" >"$OUT/h2load-warmup.txt"
sleep 0.3; cp "$OUT/h2-stats.txt" "$OUT/h2-stats-before.txt"
h2load -n "$CALLS" -c "$CONNS" -m "$STREAMS" --data="$OUT/payload.bin" --log-file="$OUT/h2load-requests.tsv" "http://127.0.0.1:$H2_PORT/echo" >"$OUT/h2load.txt"
sleep 0.3
stop_server

python3 - "$OUT" "$CALLS" "$CONNS" "$STREAMS" "$PAYLOAD" <<'PY'
import json, re, sys
out, calls, conns, streams, payload = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
m = json.load(open(f"{out}/mlp.json"))
mlp_in, mlp_out = map(int, open(f"{out}/mlp-server-bytes.txt").read().split())
mlp_calls = m["messages"]["received"]
h2 = open(f"{out}/h2load.txt").read()
rps = float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", h2).group(1))
done = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", h2)
traffic = re.search(r"traffic: .*?\((\d+)\) total, .*?\((\d+)\) headers .*?\((\d+)\) data", h2)
lat = sorted(int(line.split("\t")[2]) for line in open(f"{out}/h2load-requests.tsv") if line.strip())
pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
b_in0, b_out0, _ = map(int, open(f"{out}/h2-stats-before.txt").read().split())
b_in1, b_out1, _ = map(int, open(f"{out}/h2-stats.txt").read().split())
h2_ok = int(done.group(1))
rows = [
    ("calls (succeeded / errors)", f"{m['messages']['acked']:,} / {sum(m['errors'].values())}", f"{h2_ok:,} / {int(done.group(2)) + int(done.group(3)) + int(done.group(4))}"),
    ("requests per second", f"{m['mlp']['callsPerSecond']:,.0f}", f"{rps:,.0f}"),
    ("latency p50 µs", f"{m['latency']['p50']:,}", f"{pct(0.50):,}"),
    ("latency p99 µs", f"{m['latency']['p99']:,}", f"{pct(0.99):,}"),
    ("latency max µs", f"{m['latency']['max']:,}", f"{lat[-1]:,}"),
    ("bytes per call, client → server (server socket counter)", f"{mlp_in / mlp_calls:.1f}", f"{(b_in1 - b_in0) / h2_ok:.1f}"),
    ("bytes per call, server → client (server socket counter)", f"{mlp_out / mlp_calls:.1f}", f"{(b_out1 - b_out0) / h2_ok:.1f}"),
    ("bytes per call, client's own count (sent / received)", f"{m['mlp']['bytesSentPerCall']:.1f} / {m['mlp']['bytesReceivedPerCall']:.1f} (SDK, REQUEST/RESPONSE frames)", f"- / {int(traffic.group(1)) / h2_ok:.1f} (h2load traffic: headers {int(traffic.group(2)) / h2_ok:.1f}, data {int(traffic.group(3)) / h2_ok:.1f})"),
]
print(f"\n{calls:,} echo calls, {payload} B body, {conns} connections x {streams} in flight\n")
print("| figure | MLP (gateway echo, bots mlp-rpc) | HTTP/2 h2c (Kestrel, h2load) | MLP ÷ HTTP/2 |")
print("|---|---:|---:|---:|")
ratio = lambda a, b: f"{a / b:.2f}×" if b else ""
num = lambda s: float(s.split()[0].replace(",", "")) if s[0].isdigit() else 0
for name, a, b in rows:
    r = ratio(num(a), num(b)) if name.startswith(("requests", "latency", "bytes per call, c", "bytes per call, s")) and num(b) else ""
    print(f"| {name} | {a} | {b} | {r} |")
print(f"\nraw output: {out}")
PY
echo "whole script: $(( $(date +%s) - STARTED )) s (after the build)" >&2
