#!/usr/bin/env bash
# TLS side by side: our gateway's MQTT TLS listener (epoll engine + OpenSSL) and mosquitto's, each pinned to one core
# ($BROKER_CPUS), the clients on the other ($BOT_CPUS). Per server key (ECDSA P-256, RSA 2048): $HANDSHAKES TLS 1.3
# handshakes + MQTT CONNECT by $PARALLEL clients at once, full, resumed (session tickets, psk_dhe_ke) and resumed with
# the client also offering psk_ke (the gateway runs with Tls:ResumeWithoutKeyExchange=true and takes it; mosquitto
# does not, so it answers psk_dhe_ke) (bench/tls/handshakes.py): handshakes/s and
# the broker's CPU per handshake from /proc; the same for plain TCP connect + CONNECT (no TLS: the fixed cost TLS comes
# on top of); then $IDLE idle TLS connections (the bots' conn scenario) and the broker's RSS per connection.
#   bench/tls/run.sh              # about 3 minutes
#   QUICK=1 bench/tls/run.sh      # smoke run
#   GATEWAY_ENV="DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0" bench/tls/run.sh   # the gateway under extra environment
# Prints a markdown table; raw results go to $OUT. A run whose client failed, or whose resumed handshakes were not
# resumed, is printed as "broken: <reason>" and the script exits 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}
[ -x "$MOSQUITTO" ] || { echo "mosquitto not found (apt-get install mosquitto)"; exit 1; }
command -v openssl >/dev/null || { echo "openssl not found"; exit 1; }
command -v taskset >/dev/null || { echo "taskset not found (util-linux)"; exit 1; }

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then HANDSHAKES=160; IDLE=300; else HANDSHAKES=${HANDSHAKES:-4000}; IDLE=${IDLE:-5000}; fi
# Clients at once: enough to keep the broker's core busy, so its CPU per handshake is work, not a thread pool spinning
# between one client's round trips (a single sequential client measured the gateway's idle spinning as handshake cost).
PARALLEL=${PARALLEL:-8}
SETTLE=${SETTLE:-10}
BROKER_CPUS=${BROKER_CPUS:-0}
BOT_CPUS=${BOT_CPUS:-1}
OUT=${OUT:-$(mktemp -d /tmp/tls-bench.XXXXXX)}
mkdir -p "$OUT"
CLK_TCK=$(getconf CLK_TCK)

. "$ROOT/bench/side-by-side/servers.sh"
build_binaries

# Keys and certificates the brokers read (mosquitto drops to its own user: the files are world-readable test keys).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$OUT/ec.key" -out "$OUT/ec.crt" -days 2 -subj /CN=localhost 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$OUT/rsa.key" -out "$OUT/rsa.crt" -days 2 -subj /CN=localhost 2>/dev/null
chmod 644 "$OUT"/*.key; chmod 755 "$OUT"   # mktemp -d makes it 0700

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_tls() {   # start_tls BROKER KEY: sets SERVER_PID, TLS_PORT and PLAIN_PORT
  TLS_PORT=$(free_port)
  PLAIN_PORT=$(free_port)
  case $1 in
    gateway)
      local http management; http=$(free_port); management=$(free_port)
      env ${GATEWAY_ENV:-} taskset -c "$BROKER_CPUS" dotnet "$GATEWAY_DLL" --Mqtt:Port="$PLAIN_PORT" --Mqtt:BindAddress=127.0.0.1 --Mqtt:TlsPort="$TLS_PORT" \
        --Http:Port="$http" --Http:BindAddress=127.0.0.1 --Http:TlsPort=0 --Mlp:Port=0 --Management:Port="$management" \
        --Management:BindAddress=127.0.0.1 --Tls:CertificatePath="$OUT/$2.crt" --Tls:KeyPath="$OUT/$2.key" \
        --Tls:ResumeWithoutKeyExchange=true \
        --Logging:LogLevel:Default=Warning >"$OUT/gateway-$2.log" 2>&1 &
      ;;
    mosquitto)
      # The plain listener first: certfile/keyfile belong to the listener before them.
      printf 'listener %s 127.0.0.1\nlistener %s 127.0.0.1\nallow_anonymous true\nmax_connections -1\nset_tcp_nodelay true\npersistence false\nlog_dest none\ncertfile %s\nkeyfile %s\n' \
        "$PLAIN_PORT" "$TLS_PORT" "$OUT/$2.crt" "$OUT/$2.key" >"$OUT/mosquitto-$2.conf"
      taskset -c "$BROKER_CPUS" "$MOSQUITTO" -c "$OUT/mosquitto-$2.conf" >"$OUT/mosquitto-$2.log" 2>&1 &
      ;;
  esac
  SERVER_PID=$!
  wait_listening "$TLS_PORT"
}

# handshakes BROKER KEY MODE: HANDSHAKES sequential handshakes; JSON + the broker's CPU ticks to $OUT/BROKER-KEY-MODE.json
handshakes() {
  local before status=0 port=$TLS_PORT
  [ "$3" = plain ] && port=$PLAIN_PORT
  echo "  $1 $2 $3 handshakes" >&2
  : >"$OUT/$1-$2-$3.json"
  before=$(ticks "$SERVER_PID")
  local pids=() i
  for i in $(seq "$PARALLEL"); do
    timeout 300 taskset -c "$BOT_CPUS" python3 "$ROOT/bench/tls/handshakes.py" 127.0.0.1 "$port" "$3" $((HANDSHAKES / PARALLEL)) \
      >>"$OUT/$1-$2-$3.json" 2>>"$OUT/errors.log" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || status=$?; done
  echo "{\"cpuTicks\": $(( $(ticks "$SERVER_PID") - before )), \"clkTck\": $CLK_TCK, \"status\": $status}" >>"$OUT/$1-$2-$3.json"
}

started=$(date +%s)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); gateway environment: ${GATEWAY_ENV:-none}" | tee "$OUT/loadavg" >&2
for broker in gateway mosquitto; do
  for key in ec rsa; do
    start_tls "$broker" "$key"
    # Warm-up (the gateway's JIT, both sides' caches), not measured.
    taskset -c "$BOT_CPUS" python3 "$ROOT/bench/tls/handshakes.py" 127.0.0.1 "$TLS_PORT" resumed 100 >/dev/null 2>>"$OUT/errors.log" || true
    modes="full resumed resumed-psk"
    [ "$key" = ec ] && modes="plain $modes"
    for mode in $modes; do handshakes "$broker" "$key" "$mode"; done
    if [ "$key" = ec ]; then
      echo "  $broker $IDLE idle TLS connections" >&2
      timeout 300 taskset -c "$BOT_CPUS" "$BOTS" conn --tls --insecure --port "$TLS_PORT" --count "$IDLE" --connect-rate 0 \
        --connect-concurrency 16 --source-addresses 4 --hold $((SETTLE + 2)) --settle "$SETTLE" --duration 240 \
        --broker-pid "$SERVER_PID" --json --quiet >"$OUT/$broker-idle.json" 2>>"$OUT/errors.log" || echo "exit $?" >"$OUT/$broker-idle.failed"
    fi
    stop_server
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/loadavg" >&2
echo "finished in $(( $(date +%s) - started )) s; raw results in $OUT" >&2

python3 "$ROOT/bench/tls/table.py" "$OUT" "$HANDSHAKES" "$IDLE"
