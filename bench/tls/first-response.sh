#!/usr/bin/env bash
# MLP over TLS 1.3, connect-to-first-response on a path with added delay: a full handshake with a device token, a
# resumed one (TLS ticket + MLP resume ticket, HELLO in the flight after the client's Finished) and 0-RTT (HELLO as
# early data, Tls:MaxEarlyData=16384). The bench makes its own two network namespaces (client, gateway) joined by a
# veth pair; each namespace delays what it receives by $DELAY_MS (nfq_delay.py from the lab: this kernel has no
# netem), so the round trip is 2 × $DELAY_MS. Everything it creates is removed on exit. Needs root, iptables.
#   bench/tls/first-response.sh                  # DELAY_MS=25 (50 ms RTT), COUNT=40 per mode
#   DELAY_MS=0 bench/tls/first-response.sh       # no added delay (the namespaces' veth only)
# Prints one JSON line per mode (bench/tls/first_response.py), raw results in $OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

DELAY_MS=${DELAY_MS:-25}
COUNT=${COUNT:-40}
OUT=${OUT:-$(mktemp -d /tmp/tls-first.XXXXXX)}
mkdir -p "$OUT"
command -v iptables >/dev/null || { echo "iptables not found"; exit 1; }

. "$ROOT/bench/side-by-side/servers.sh"
build_binaries

TAG=alfr$$
CNS=${TAG}c
GNS=${TAG}g
DELAYS=()
GATEWAY=""
cleanup() {
  [ -n "$GATEWAY" ] && kill "$GATEWAY" 2>/dev/null && wait "$GATEWAY" 2>/dev/null || true
  for pid in "${DELAYS[@]}"; do kill "$pid" 2>/dev/null || true; done
  ip netns del "$CNS" 2>/dev/null || true
  ip netns del "$GNS" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$CNS"
ip netns add "$GNS"
ip link add "${TAG}c0" netns "$CNS" type veth peer name "${TAG}g0" netns "$GNS"
ip -n "$CNS" addr add 10.97.0.2/24 dev "${TAG}c0"
ip -n "$GNS" addr add 10.97.0.1/24 dev "${TAG}g0"
for ns in "$CNS" "$GNS"; do ip -n "$ns" link set lo up; done
ip -n "$CNS" link set "${TAG}c0" up
ip -n "$GNS" link set "${TAG}g0" up
if [ "$DELAY_MS" -gt 0 ]; then
  for pair in "$CNS:${TAG}c0" "$GNS:${TAG}g0"; do
    ns=${pair%%:*}; dev=${pair#*:}
    ip netns exec "$ns" iptables -w 5 -A INPUT -i "$dev" -j NFQUEUE --queue-num 1 --queue-bypass
    ip netns exec "$ns" python3 "$ROOT/lab/AccessLayer.Lab/nfq_delay.py" 1 "$DELAY_MS" 0 &
    DELAYS+=($!)
  done
fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$OUT/ec.key" -out "$OUT/ec.crt" -days 2 -subj /CN=localhost 2>/dev/null
SECRET=bench-token-secret
ip netns exec "$GNS" dotnet "$GATEWAY_DLL" --Mqtt:Port=0 --Mqtt:TlsPort=0 --Mlp:Port=0 --Mlp:TlsPort=8443 --Mlp:BindAddress=10.97.0.1 \
  --Http:Port=8080 --Http:BindAddress=127.0.0.1 --Http:TlsPort=0 --Management:Port=8081 --Management:BindAddress=127.0.0.1 \
  --Mlp:TokenSecret="$SECRET" --Mlp:TicketSecret=bench-ticket-secret --Tls:CertificatePath="$OUT/ec.crt" --Tls:KeyPath="$OUT/ec.key" \
  --Tls:MaxEarlyData=16384 --Logging:LogLevel:Default=Warning >"$OUT/gateway.log" 2>&1 &
GATEWAY=$!
for _ in $(seq 100); do ip netns exec "$CNS" bash -c 'echo > /dev/tcp/10.97.0.1/8443' 2>/dev/null && break; sleep 0.2; done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); delay ${DELAY_MS} ms each way" | tee "$OUT/loadavg" >&2
# Warm-up (the gateway's JIT), not reported.
ip netns exec "$CNS" python3 "$ROOT/bench/tls/first_response.py" 10.97.0.1 8443 "$SECRET" warm-device resumed 10 >/dev/null
for mode in full resumed 0rtt; do
  ip netns exec "$CNS" python3 "$ROOT/bench/tls/first_response.py" 10.97.0.1 8443 "$SECRET" "device-$mode" "$mode" "$COUNT" | tee -a "$OUT/results.json"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/loadavg" >&2
