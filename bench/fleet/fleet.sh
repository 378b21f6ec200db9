# Shared by run.sh and latency-runs.sh (sourced, after ../side-by-side/servers.sh): which gateway build the nodes run,
# and a 3-node fleet (deploy/local-fleet.sh) with a private redis-server, both pinned to $BROKER_CPUS.
# Needs ROOT and OUT. Sets GATEWAY_DLL, DOTNET (the command the nodes start with), REDIS_PID, FLEET_PID, ENDPOINTS and
# NODE_PIDS (FLEET_NODE_PIDS keeps them for stop_fleet).
#
# GATEWAY_BUILD=r2r (the default): the gateway published ReadyToRun (dotnet publish -r <rid> -p:PublishReadyToRun=true:
#   every dependency precompiled, Orleans included), what the image (deploy/Dockerfile) and deploy/local-fleet.sh run, into
#   the folder local-fleet.sh publishes to; GATEWAY_BUILD=jit: the plain `dotnet build -c Release` output, whose methods
#   the JIT compiles on their first call (the framework's own are precompiled), as `dotnet run` runs it. The 2026-12-05
#   A/B in docs/benchmarks.md (Fleet): the same latency tail on both, a higher unpaced cross-node rate on ReadyToRun.
# NODE_ENV="NAME=value ...": environment for the gateway processes only (not the bots), e.g. DOTNET_TieredPGO=0.

REDIS_PID=""; FLEET_PID=""; FLEET_NODE_PIDS=""

# gateway_rid: the runtime identifier of this host (linux-x64, linux-arm64).
gateway_rid() {
  case "$(uname -m)" in
    x86_64) echo linux-x64 ;;
    aarch64|arm64) echo linux-arm64 ;;
    *) echo "linux-$(uname -m)" ;;
  esac
}

# is_ready_to_run DLL: true when the assembly carries precompiled code (its CLI header names a ReadyToRun header). The
# Dockerfile's test reads the same two fields in C# (tests/AccessLayer.Gateway.Tests/Deploy/ReadyToRunImage.cs).
is_ready_to_run() {
  python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
pe = struct.unpack_from("<I", data, 0x3C)[0]
sections, optional_size = struct.unpack_from("<H", data, pe + 6)[0], struct.unpack_from("<H", data, pe + 20)[0]
optional = pe + 24
directories = optional + (96 if struct.unpack_from("<H", data, optional)[0] == 0x10B else 112)
cli_rva = struct.unpack_from("<I", data, directories + 14 * 8)[0]
def offset(rva):
    for s in range(sections):
        h = optional + optional_size + 40 * s
        size, va, raw_size, raw = struct.unpack_from("<IIII", data, h + 8)
        if va <= rva < va + max(size, raw_size):
            return rva - va + raw
    sys.exit(1)
cli = offset(cli_rva)
flags = struct.unpack_from("<I", data, cli + 16)[0]
managed_native_header = struct.unpack_from("<I", data, cli + 64)[0]
sys.exit(0 if managed_native_header and flags & 0x4 else 1)   # COMIMAGE_FLAGS_IL_LIBRARY: a ReadyToRun image
PY
}

# fleet_gateway: builds the gateway as GATEWAY_BUILD says (skipped with NO_BUILD=1) and sets GATEWAY_DLL; refuses a
# build that is missing or, for r2r, not precompiled.
fleet_gateway() {
  GATEWAY_BUILD=${GATEWAY_BUILD:-r2r}
  local rid; rid=$(gateway_rid)
  case "$GATEWAY_BUILD" in
    r2r)
      GATEWAY_DLL="$ROOT/gateway/bin/Release/net10.0/$rid/publish/AccessLayer.Gateway.dll"
      if [ "${NO_BUILD:-0}" != 1 ]; then
        echo "publishing the gateway (Release, ReadyToRun, $rid)..." >&2
        dotnet publish "$ROOT/gateway/AccessLayer.Gateway.csproj" -c Release -r "$rid" --self-contained false \
          -p:PublishReadyToRun=true -nologo -v q >/dev/null
      fi
      [ -f "$GATEWAY_DLL" ] || { echo "no published gateway at $GATEWAY_DLL: publish first (dotnet publish gateway -c Release -r $rid --self-contained false -p:PublishReadyToRun=true) or run without NO_BUILD=1" >&2; exit 1; }
      is_ready_to_run "$GATEWAY_DLL" && is_ready_to_run "$(dirname "$GATEWAY_DLL")/Orleans.Runtime.dll" \
        || { echo "$GATEWAY_DLL is not ReadyToRun (published without -p:PublishReadyToRun=true?)" >&2; exit 1; }
      ;;
    jit)
      GATEWAY_DLL="$ROOT/gateway/bin/Release/net10.0/AccessLayer.Gateway.dll"   # build_binaries builds it
      [ -f "$GATEWAY_DLL" ] || { echo "no gateway at $GATEWAY_DLL: build first (dotnet build gateway -c Release)" >&2; exit 1; }
      ;;
    *) echo "GATEWAY_BUILD must be r2r or jit, not '$GATEWAY_BUILD'" >&2; exit 1 ;;
  esac
  echo "gateway: $GATEWAY_BUILD build, $GATEWAY_DLL${NODE_ENV:+, node environment: $NODE_ENV}" >&2
}

# node_dotnet [LINE...]: DOTNET becomes a wrapper in $OUT that exports NODE_ENV (and any LINE given, shell code run
# before exec) for the gateway processes alone; plain `dotnet` when there is nothing to add.
node_dotnet() {
  DOTNET=dotnet
  [ -z "${NODE_ENV:-}" ] && [ $# = 0 ] && return
  local assignment
  for assignment in ${NODE_ENV:-}; do
    [[ $assignment =~ ^[A-Za-z_][A-Za-z0-9_]*=[^[:space:]]*$ ]] || { echo "NODE_ENV: '$assignment' is not NAME=value" >&2; exit 1; }
  done
  { echo '#!/bin/sh'; [ -n "${NODE_ENV:-}" ] && echo "export ${NODE_ENV}"; [ $# = 0 ] || printf '%s\n' "$@"; echo 'exec dotnet "$@"'; } >"$OUT/node-dotnet"
  chmod +x "$OUT/node-dotnet"
  DOTNET="$OUT/node-dotnet"
}

# start_fleet [--Section:Key=value ...]: redis-server and deploy/local-fleet.sh 3 on $BROKER_CPUS, the settings after the
# side-by-side limits; returns when every node is ready.
start_fleet() {
  local redis_port; redis_port=$(free_port)
  taskset -c "$BROKER_CPUS" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --protected-mode no \
    --dir "$OUT" >"$OUT/redis.log" 2>&1 &
  REDIS_PID=$!
  wait_listening "$redis_port"
  DOTNET=$DOTNET taskset -c "$BROKER_CPUS" "$ROOT/deploy/local-fleet.sh" 3 --no-build --dll "$GATEWAY_DLL" \
    --redis "127.0.0.1:$redis_port" --logs "$OUT/fleet-logs" \
    -- --Mqtt:MaxInflight=32 --Mqtt:MaxQueuedMessages=1000 --Logging:LogLevel:Default=Warning "$@" >"$OUT/local-fleet.out" 2>&1 &
  FLEET_PID=$!
  for _ in $(seq 1200); do
    grep -q '^fleet ready' "$OUT/local-fleet.out" && break
    kill -0 "$FLEET_PID" 2>/dev/null || { cat "$OUT/local-fleet.out" >&2; return 1; }
    sleep 0.1
  done
  grep -q '^fleet ready' "$OUT/local-fleet.out" || { echo "fleet did not start in 120 s" >&2; return 1; }
  ENDPOINTS=$(sed -n 's/^bots: --endpoints //p' "$OUT/local-fleet.out")
  NODE_PIDS=$(sed -n 's/^node pids: //p' "$OUT/local-fleet.out")
  FLEET_NODE_PIDS=$NODE_PIDS
}

# stop_fleet: local-fleet.sh stops its nodes (SIGTERM, SIGKILL past 30 s); any node left over and Redis are killed.
stop_fleet() {
  if [ -n "${FLEET_PID:-}" ] && kill -0 "$FLEET_PID" 2>/dev/null; then
    kill -TERM "$FLEET_PID" 2>/dev/null || true
    for _ in $(seq 350); do kill -0 "$FLEET_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  FLEET_PID=""
  local pid; for pid in ${FLEET_NODE_PIDS:-}; do kill -9 "$pid" 2>/dev/null || true; done
  if [ -n "${REDIS_PID:-}" ]; then { kill -9 "$REDIS_PID"; wait "$REDIS_PID"; } 2>/dev/null || true; fi
  REDIS_PID=""; FLEET_NODE_PIDS=""
}
