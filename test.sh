#!/usr/bin/env bash
# Runs every test. Installs the real peers the tests talk to when they are missing:
# mosquitto (+ clients), python3-paho-mqtt, h2load, redis-server (fleet tests), chromium (the dashboard's browser
# tests, driven by PuppeteerSharp; never a downloaded browser), iptables (the weak-network lab's test, lab/) and the npm mqtt package.
set -uo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
/usr/bin/python3 -c 'import paho.mqtt.client' >/dev/null 2>&1 || need+=(python3-paho-mqtt)
command -v h2load >/dev/null 2>&1 || need+=(nghttp2-client)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || need+=(iptables)
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}"
  as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null || {
    echo "test.sh: apt-get install failed"; exit 1; }
fi
# Not installable from Debian (its kubernetes-client 1.20 is too old for deploy/k8s): without it the
# deploy manifest tests are skipped, with the reason.
command -v kubectl >/dev/null 2>&1 || echo "test.sh: kubectl not found: the deploy manifest tests (tests/AccessLayer.Gateway.Tests/Deploy) will be skipped"
if [ -f tests/js/package.json ] && [ ! -d tests/js/node_modules ]; then
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error) || { echo "test.sh: npm ci failed"; exit 1; }
fi

dotnet build AccessLayer.sln -c Release -nologo -v q || { echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
dotnet test AccessLayer.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# One closing line for the whole run, summed over every test assembly.
awk '
  /Failed:[[:space:]]*[0-9]+, Passed:[[:space:]]*[0-9]+/ {
    line=$0
    match(line, /Failed:[[:space:]]*[0-9]+/); f=substr(line, RSTART, RLENGTH); gsub(/[^0-9]/, "", f)
    match(line, /Passed:[[:space:]]*[0-9]+/); p=substr(line, RSTART, RLENGTH); gsub(/[^0-9]/, "", p)
    match(line, /Skipped:[[:space:]]*[0-9]+/); s=substr(line, RSTART, RLENGTH); gsub(/[^0-9]/, "", s)
    F+=f; P+=p; S+=s
  }
  END { printf "%d passed, %d failed, %d skipped\n", P, F + 0, S + 0 }
' "$log"
rm -f "$log"
exit "$status"
