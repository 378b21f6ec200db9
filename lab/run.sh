#!/usr/bin/env bash
# The weak-network lab (docs/benchmarks-weak-network.md): builds the lab and the gateway, then runs every
# scenario (or those given) in network namespaces it creates and removes itself, and prints the table.
#   lab/run.sh                 # full run, about 14 minutes
#   lab/run.sh --quick         # shortened scenarios, about 6 minutes
#   lab/run.sh --scenario subway,nat15 [--quick] [--json results.json]
# Needs root, iproute2, iptables (installed when missing) and python3; no netem.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v iptables >/dev/null 2>&1; then
  as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq iptables >/dev/null
fi
dotnet build lab/AccessLayer.Lab -c Release -nologo -v q 2>&1 | grep -E ' error |rror\(s\)' | grep -v ' 0 Error' || true
exec $( [ "$(id -u)" = 0 ] || echo sudo ) dotnet lab/AccessLayer.Lab/bin/Release/net10.0/AccessLayer.Lab.dll "$@"
