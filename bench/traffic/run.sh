#!/usr/bin/env bash
# The mlp-rpc bots through a traffic table of 3 zones in 2 sites vs a single Mlp:Routes route (docs/traffic.md,
# "Figures"; target: the table at >= 90% of the single route's calls per second).
#   bench/traffic/run.sh                       # about 2 minutes: 2 rounds of (single, table), 20 s measured each
#   ROUNDS=3 DURATION=30 CONNS=64 STREAMS=8 CLIENT=sdk bench/traffic/run.sh
#   MODES="single one-site table" bench/traffic/run.sh   # also the table with no cross-site share
#   MODES="single table steered" bench/traffic/run.sh    # also the two-site table with clients steered home (Traffic:Steer=Hint, bots --follow-home)
#   FORWARD=h2c bench/traffic/run.sh           # forwards over h2c to B's Traffic:ForwardPort instead of a site link
#   FORWARD=http1 bench/traffic/run.sh         # forwards over HTTP/1.1 to B's Http:Port
#   NO_BUILD=1 bench/traffic/run.sh            # use the Release binaries already built
#   PERF=1 MODES=table ROUNDS=1 bench/traffic/run.sh   # also a CPU profile of A and B over the measured pass
#                                              # (perf record -g, the runtime's perf map): $OUT/MODE-ROUND-{a,b}.perf.txt
#   ALLOC=1 bench/traffic/run.sh               # also bytes allocated per call on A and B (dotnet-counters, System.Runtime's
#                                              # dotnet.gc.heap.total_allocated over the measured pass; dotnet tool install -g dotnet-counters)
# Processes, all on loopback: one backend (bench/H2Echo: h2c, POST /echo answers the body), gateway A (site sh, the one
# the bots call) and gateway B (site bj, a second process). Single route: A with --Mlp:Routes:echo pointing at H2Echo.
# Table: A and B with the same table file: zones sh-a (shards 0-39) and sh-b (40-69) in site sh, bj-a (70-99) in site
# bj, every zone's echo service on the same H2Echo; a call of a bj-a user is forwarded by A to B (one hop), which calls
# the backend. The bots mint one device token per connection with its own user (--user-per-device), so the users spread
# over the shards. Same bots load for both (mlp-rpc, CONNS connections, STREAMS calls in flight each, PAYLOAD bytes),
# the modes alternate round by round. A run with errors or no calls is refused: its row is not printed and the script
# fails. Raw bots JSON and logs go to $OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
command -v python3 >/dev/null || { echo "python3 is needed for the table"; exit 1; }

CONNS=${CONNS:-64}; STREAMS=${STREAMS:-4}; PAYLOAD=${PAYLOAD:-64}; DURATION=${DURATION:-20}; WARM=${WARM:-5}; ROUNDS=${ROUNDS:-2}
CLIENT=${CLIENT:-lean}
MODES=${MODES:-single table}   # add one-site for the same table with every shard in site sh (no hop to bj), steered for the two-site table with bj's users connected to B
FORWARD=${FORWARD:-link}   # how gateway A forwards to gateway B: link (a site link to Traffic:ForwardPort, the table's site link: true), h2c (the same port, http2: true) or http1 (B's Http:Port)
OUT=${OUT:-$(mktemp -d /tmp/traffic-bench.XXXXXX)}
DOTNET_COUNTERS=${DOTNET_COUNTERS:-$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")}
mkdir -p "$OUT"
SECRET=bench-token-secret; TRAFFIC_SECRET=bench-traffic-secret-0123456789
export DOTNET_TC_CallCountingDelayMs=${DOTNET_TC_CallCountingDelayMs:-0}
# With PERF=1 the runtime writes /tmp/perf-PID.map, so perf names the JIT-compiled methods.
[ "${PERF:-0}" = 1 ] && export DOTNET_PerfMapEnabled=1

if [ "${NO_BUILD:-0}" != 1 ]; then
  echo "building (Release)..." >&2
  dotnet build gateway/AccessLayer.Gateway.csproj -c Release -nologo -v q >/dev/null
  dotnet build bots/AccessLayer.Bots.csproj -c Release -nologo -v q >/dev/null
  dotnet build bench/H2Echo/AccessLayer.H2Echo.csproj -c Release -nologo -v q >/dev/null
fi
BOTS="$ROOT/bots/bin/Release/net10.0/AccessLayer.Bots"
GATEWAY_DLL=${GATEWAY_DLL:-"$ROOT/gateway/bin/Release/net10.0/AccessLayer.Gateway.dll"}   # another build's, to compare two (with NO_BUILD=1)
H2ECHO_DLL="$ROOT/bench/H2Echo/bin/Release/net10.0/AccessLayer.H2Echo.dll"

. "$ROOT/bench/traffic/procs.sh"

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)" | tee "$OUT/load.txt" >&2

H2_PORT=$(free_port)
dotnet "$H2ECHO_DLL" --port "$H2_PORT" >"$OUT/h2echo.log" 2>&1 &
H2_PID=$!
PIDS+=("$H2_PID")
wait_listening "$H2_PORT"

A_MLP=$(free_port); A_HTTP=$(free_port); A_MANAGEMENT=$(free_port)
B_MLP=$(free_port); B_HTTP=$(free_port); B_MANAGEMENT=$(free_port)
A_FORWARD=$(free_port); B_FORWARD=$(free_port)
SITE_HTTP2=false; SITE_LINK=false
if [ "$FORWARD" = h2c ] || [ "$FORWARD" = link ]; then
  A_GATEWAY="http://127.0.0.1:$A_FORWARD/"; B_GATEWAY="http://127.0.0.1:$B_FORWARD/"
  if [ "$FORWARD" = h2c ]; then SITE_HTTP2=true; else SITE_LINK=true; fi
else
  A_GATEWAY="http://127.0.0.1:$A_HTTP/"; B_GATEWAY="http://127.0.0.1:$B_HTTP/"
fi
cat >"$OUT/table.yaml" <<YAML
version: 1
sites:
  sh: { city: shanghai, gateways: ["$A_GATEWAY"], http2: $SITE_HTTP2, link: $SITE_LINK, endpoints: ["tcp://127.0.0.1:$A_MLP"] }
  bj: { city: beijing, gateways: ["$B_GATEWAY"], http2: $SITE_HTTP2, link: $SITE_LINK, endpoints: ["tcp://127.0.0.1:$B_MLP"] }
zones:
  sh-a: { site: sh, services: { echo: { blue: ["http://localhost:$H2_PORT/"], http2: true } } }
  sh-b: { site: sh, services: { echo: { blue: ["http://localhost:$H2_PORT/"], http2: true } } }
  bj-a: { site: bj, services: { echo: { blue: ["http://localhost:$H2_PORT/"], http2: true } } }
shards:
  0-39: sh-a
  40-69: sh-b
  70-99: bj-a
YAML
# The same zones with every shard in site sh: what the table costs without the hop to site bj.
sed -e 's/^  0-39: sh-a$/  0-49: sh-a/' -e 's/^  40-69: sh-b$/  50-99: sh-b/' -e '/^  70-99: bj-a$/d' "$OUT/table.yaml" >"$OUT/table-one-site.yaml"

gateway_args() { # MLP_PORT HTTP_PORT MANAGEMENT_PORT
  echo --Mqtt:Port=0 --Mlp:Port="$1" --Mlp:BindAddress=127.0.0.1 --Http:Port="$2" --Http:BindAddress=127.0.0.1 \
    --Management:Port="$3" --Management:BindAddress=127.0.0.1 --Mlp:TokenSecret=$SECRET --Mqtt:SysInterval=0 --Logging:LogLevel:Default=Warning
}
TABLE_ARGS=(--Traffic:TableFile="$OUT/table.yaml" --Traffic:Secret=$TRAFFIC_SECRET --Traffic:Watch=false)

# Gateway B (site bj) runs through both modes: idle in the single-route one, so both see the same processes.
# shellcheck disable=SC2046
dotnet "$GATEWAY_DLL" $(gateway_args "$B_MLP" "$B_HTTP" "$B_MANAGEMENT") "${TABLE_ARGS[@]}" --Traffic:Site=bj --Traffic:ForwardPort="$B_FORWARD" >"$OUT/gateway-b.log" 2>&1 &
B_PID=$!
PIDS+=("$B_PID")
wait_listening "$B_HTTP"

A_PID=""
start_a() { # mode
  if [ "$1" = one-site ]; then
    # shellcheck disable=SC2046
    dotnet "$GATEWAY_DLL" $(gateway_args "$A_MLP" "$A_HTTP" "$A_MANAGEMENT") --Traffic:TableFile="$OUT/table-one-site.yaml" --Traffic:Secret=$TRAFFIC_SECRET --Traffic:Watch=false --Traffic:Site=sh >>"$OUT/gateway-a.log" 2>&1 &
  elif [ "$1" = single ]; then
    # shellcheck disable=SC2046
    dotnet "$GATEWAY_DLL" $(gateway_args "$A_MLP" "$A_HTTP" "$A_MANAGEMENT") --Mlp:Routes:echo:Url="http://localhost:$H2_PORT/" --Mlp:Routes:echo:Http2=true >>"$OUT/gateway-a.log" 2>&1 &
  elif [ "$1" = steered ]; then
    # Gateway A names bj's endpoints in the WELCOME of bj's users (Traffic:Steer=Hint); the bots follow them (--follow-home).
    # shellcheck disable=SC2046
    dotnet "$GATEWAY_DLL" $(gateway_args "$A_MLP" "$A_HTTP" "$A_MANAGEMENT") "${TABLE_ARGS[@]}" --Traffic:Site=sh --Traffic:ForwardPort="$A_FORWARD" --Traffic:Steer=Hint >>"$OUT/gateway-a.log" 2>&1 &
  else
    # shellcheck disable=SC2046
    dotnet "$GATEWAY_DLL" $(gateway_args "$A_MLP" "$A_HTTP" "$A_MANAGEMENT") "${TABLE_ARGS[@]}" --Traffic:Site=sh --Traffic:ForwardPort="$A_FORWARD" >>"$OUT/gateway-a.log" 2>&1 &
  fi
  A_PID=$!
  PIDS+=("$A_PID")
  wait_listening "$A_MLP"
}
# CPU seconds (user+system) a process has used so far, from /proc (clock ticks).
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f\n", ($14 + $15) / hz}' "/proc/$1/stat"; }
cpu_all() { echo "$(cpu_seconds "$A_PID") $(cpu_seconds "$B_PID") $(cpu_seconds "$H2_PID")"; }
metric_sum() { # management port, series prefix: the sum of its samples
  curl -s "http://127.0.0.1:$1/metrics" | awk -v p="$2" 'index($0, p) == 1 { s += $NF } END { print s + 0 }'
}

RPC=(mlp-rpc --port "$A_MLP" --count "$CONNS" --concurrency "$STREAMS" --size "$PAYLOAD" --token-secret "$SECRET" --user-per-device
     --mlp-client "$CLIENT" --json --quiet)
for round in $(seq "$ROUNDS"); do
  for mode in $MODES; do
    echo "round $round: $mode" >&2
    start_a "$mode"
    # An unmeasured pass of WARM s first: connections, JIT and the HTTP pools warm on both gateways.
    FOLLOW=(); [ "$mode" = steered ] && FOLLOW=(--follow-home)
    "$BOTS" "${RPC[@]}" "${FOLLOW[@]}" --duration "$WARM" --warmup 0 >"$OUT/$mode-$round-warm.json" 2>"$OUT/$mode-$round-warm.err" || true
    # Calls routed in site sh by A plus those B served for bj's own users (steered: connected to B) against those A forwarded.
    ROUTED0=$(( $(metric_sum "$A_MANAGEMENT" accesslayer_traffic_routed_total) + $(metric_sum "$B_MANAGEMENT" accesslayer_traffic_routed_total) )); FORWARDED0=$(metric_sum "$A_MANAGEMENT" 'accesslayer_traffic_forwarded_total{result="ok"}')
    CPU0=$(cpu_all)
    COUNTERS=()
    if [ "${ALLOC:-0}" = 1 ]; then
      for side in a b; do
        pid=$A_PID; [ "$side" = b ] && pid=$B_PID
        rm -f "$OUT/$mode-$round-alloc-$side.csv"
        "$DOTNET_COUNTERS" collect -p "$pid" --counters 'System.Runtime[dotnet.gc.heap.total_allocated]' --format csv \
          -o "$OUT/$mode-$round-alloc-$side.csv" --refresh-interval 1 --duration "00:00:00:$DURATION" >/dev/null 2>&1 &
        COUNTERS+=($!)
      done
    fi
    if [ "${PERF:-0}" = 1 ]; then
      for side in a b; do
        pid=$A_PID; [ "$side" = b ] && pid=$B_PID
        perf record -F 499 -g -p "$pid" -o "$OUT/$mode-$round-$side.perf.data" -- sleep "$(( DURATION > 12 ? DURATION - 4 : DURATION ))" >/dev/null 2>&1 &
        COUNTERS+=($!)
      done
    fi
    "$BOTS" "${RPC[@]}" "${FOLLOW[@]}" --duration "$DURATION" --warmup 0 >"$OUT/$mode-$round.json" 2>"$OUT/$mode-$round.err" || true
    echo "$CPU0 $(cpu_all)" >"$OUT/$mode-$round-cpu.txt"
    for pid in "${COUNTERS[@]}"; do wait "$pid" || true; done
    if [ "${PERF:-0}" = 1 ]; then
      for side in a b; do
        perf report -i "$OUT/$mode-$round-$side.perf.data" --no-children --sort symbol -g none --stdio 2>/dev/null | grep -v '^$' | head -400 >"$OUT/$mode-$round-$side.perf.txt" || true
      done
    fi
    ROUTED1=$(( $(metric_sum "$A_MANAGEMENT" accesslayer_traffic_routed_total) + $(metric_sum "$B_MANAGEMENT" accesslayer_traffic_routed_total) )); FORWARDED1=$(metric_sum "$A_MANAGEMENT" 'accesslayer_traffic_forwarded_total{result="ok"}')
    echo "$ROUTED0 $ROUTED1 $FORWARDED0 $FORWARDED1" >"$OUT/$mode-$round-traffic.txt"
    stop_pid "$A_PID"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt" >&2

python3 - "$OUT" "$ROUNDS" "$CONNS" "$STREAMS" "$PAYLOAD" "$CLIENT" "$DURATION" "$FORWARD" <<'PY'
import json, sys
out, rounds, conns, streams, payload, client, duration, forward = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
import os
modes = [m for m in ("single", "one-site", "table", "steered") if os.path.exists(f"{out}/{m}-1-cpu.txt") or os.path.exists(f"{out}/{m}-1.json")]
rows, broken, rps = [], [], {m: [] for m in modes}
names = {"single": "single route (Mlp:Routes)", "one-site": "table: 3 zones, all shards in site sh", "table": "table: 3 zones, 2 sites",
         "steered": "table: 3 zones, 2 sites, bj's users steered to B"}
for r in range(1, rounds + 1):
    for mode in modes:
        try:
            m = json.load(open(f"{out}/{mode}-{r}.json"))
        except (OSError, ValueError) as e:
            broken.append(f"{mode} round {r}: no report ({e})"); continue
        errors = sum(m["errors"].values())
        acked = m["messages"]["acked"]
        if errors or acked == 0 or m["mlp"]["callsPerSecond"] <= 0:
            broken.append(f"{mode} round {r}: {acked} calls answered, errors {m['errors']}"); continue
        routed0, routed1, fwd0, fwd1 = map(float, open(f"{out}/{mode}-{r}-traffic.txt").read().split())
        routed, forwarded = routed1 - routed0, fwd1 - fwd0
        # Forwarded calls are routed again by B (its routed counter): the share is of the calls answered.
        share = f"{100 * forwarded / max(1, m['messages']['received']):.0f}%" if mode in ("table", "steered") else "-"
        c = list(map(float, open(f"{out}/{mode}-{r}-cpu.txt").read().split()))
        # Over the measured pass (its warm-up ran before, as a pass of its own): CPU per call answered.
        calls = max(1, m["messages"]["received"])
        alloc = ""
        if os.path.exists(f"{out}/{mode}-{r}-alloc-a.csv"):
            # dotnet-counters writes the bytes allocated in each 1 s interval: their sum over the measured pass, per call answered.
            sides = []
            for side in ("a", "b"):
                total = 0.0
                for line in open(f"{out}/{mode}-{r}-alloc-{side}.csv"):
                    cells = line.strip().split(",")
                    if len(cells) >= 5 and "total_allocated" in cells[2]:
                        try: total += float(cells[-1])
                        except ValueError: pass
                sides.append(f"{total / calls:,.0f}")
            alloc = " " + " / ".join(sides) + " |"
        rps[mode].append(m["mlp"]["callsPerSecond"])
        rows.append(f"| {r} | {names[mode]} | {acked:,} | {m['mlp']['callsPerSecond']:,.0f} | "
                    f"{m['latency']['p50'] / 1000:.2f} | {m['latency']['p99'] / 1000:.2f} | {share} | "
                    f"{(c[3] - c[0]) * 1e6 / calls:.0f} / {(c[4] - c[1]) * 1e6 / calls:.0f} / {(c[5] - c[2]) * 1e6 / calls:.0f} |" + alloc)
if broken:
    print("refused, a run is broken:\n  " + "\n  ".join(broken), file=sys.stderr)
    sys.exit(1)
print(f"mlp-rpc ({client} client), {conns} connections x {streams} in flight, {payload} B, {duration} s measured per row; backend H2Echo (h2c); forwards {forward}\n")
print("| round | routing | calls answered | calls/s | p50 ms | p99 ms | forwarded to site bj | CPU µs per call: gateway A / gateway B / backend |" + (" bytes allocated per call: A / B |" if os.path.exists(f"{out}/{modes[0]}-1-alloc-a.csv") else ""))
alloc_on = os.path.exists(f"{out}/{modes[0]}-1-alloc-a.csv")
print("|---|---|---|---|---|---|---|---|" + ("---|" if alloc_on else ""))
print("\n".join(rows))
single = sum(rps["single"]) / len(rps["single"])
print()
for mode in modes[1:]:
    mean = sum(rps[mode]) / len(rps[mode])
    print(f"{names[mode]} / single route: {mean:,.0f} / {single:,.0f} calls/s = {100 * mean / single:.1f}%" + (" (target >= 90%)" if mode == "table" else " (not a forward: bj's users call B directly)" if mode == "steered" else ""))
print(open(f"{out}/load.txt").read().strip())
PY
