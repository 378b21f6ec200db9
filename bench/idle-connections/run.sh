#!/usr/bin/env bash
# Memory per idle MQTT connection: our gateway and mosquitto, measured the same way, same machine.
# usage: bench/idle-connections/run.sh [N=15000] [extra gateway args, e.g. --Transport:Engine=Kestrel]
# SKIP_MOSQUITTO=1 measures the gateway only. SETTLE=seconds to wait after the last CONNACK before
# reading RSS (default 10: Memory:TrimAfterConnectStorm trims ~5 s after the count settles).
# PORT_BASE=p moves the four loopback ports (p..p+4, default 23880) off ports another process holds.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-15000}
p=${PORT_BASE:-23880}
shift || true
dotnet build gateway -c Release -nologo -v q >/dev/null
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

dotnet gateway/bin/Release/net10.0/AccessLayer.Gateway.dll --Mqtt:Port=$((p + 3)) --Mqtt:BindAddress=127.0.0.1 \
  --Http:Port=$p --Http:BindAddress=127.0.0.1 --Management:Port=$((p + 1)) --Mlp:Port=0 --Logging:LogLevel:Default=Warning "$@" >"$tmp/gateway.log" 2>&1 &
gateway=$!
sleep 3
echo -n "gateway:   "; python3 bench/idle-connections/idle.py $((p + 3)) "$n" "$gateway" "${SETTLE:-10}"
kill "$gateway"
[ -n "${SKIP_MOSQUITTO:-}" ] && exit 0

printf 'listener %d 127.0.0.1\nallow_anonymous true\nmax_connections -1\npersistence false\n' $((p + 4)) >"$tmp/mosquitto.conf"
/usr/sbin/mosquitto -c "$tmp/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 &
mosquitto=$!
sleep 1
echo -n "mosquitto: "; python3 bench/idle-connections/idle.py $((p + 4)) "$n" "$mosquitto" "${SETTLE:-10}"
