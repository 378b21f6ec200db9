#!/usr/bin/env bash
# A gateway fleet on this host, for trying things out and for benchmarks: a private redis-server
# (or an existing one, --redis) and N gateway nodes on loopback, each on ports of its own, joined
# into one fleet (Fleet:Redis, Fleet:ClusterId). Prints every node's endpoints and the management
# token, then waits; Ctrl+C (SIGINT) or SIGTERM stops every node (gracefully, SIGKILL after 30 s)
# and the private Redis, and removes the temporary directory.
#
#   deploy/local-fleet.sh [N] [--redis host:port] [--cluster-id ID] [--logs DIR] [--dll PATH] [--no-build] [-- --Section:Key=value ...]
#
# N defaults to 3. The nodes run what the image runs: the gateway published ReadyToRun for this host
# (gateway/bin/Release/net10.0/<rid>/publish), republished when a source changed; --dll runs another
# build (e.g. gateway/bin/Release/net10.0/AccessLayer.Gateway.dll, the plain one), --no-build what is
# there. Settings after -- go to every node. The token is Management__Token when that is set, else
# a random one. Logs go to DIR when given (kept), else to the temporary directory.
set -uo pipefail

usage() {
  sed -n '2,14s/^# \{0,1\}//p' "$0"
  exit "${1:-2}"
}

root=$(cd "$(dirname "$0")/.." && pwd)
case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64|arm64) rid=linux-arm64 ;;
  *) rid="linux-$(uname -m)" ;;
esac
nodes=3
redis=""
cluster_id="local-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
logs=""
dll="$root/gateway/bin/Release/net10.0/$rid/publish/AccessLayer.Gateway.dll"
build=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage 0 ;;
    --redis) redis=${2:?--redis needs host:port}; shift 2 ;;
    --cluster-id) cluster_id=${2:?--cluster-id needs a value}; shift 2 ;;
    --logs) logs=${2:?--logs needs a directory}; shift 2 ;;
    --dll) dll=${2:?--dll needs the path of AccessLayer.Gateway.dll}; build=0; shift 2 ;;
    --no-build) build=0; shift ;;
    --) shift; extra=("$@"); break ;;
    [0-9]*) nodes=$1; shift ;;
    *) echo "local-fleet: unknown argument $1" >&2; usage ;;
  esac
done
if ! [[ $nodes =~ ^[0-9]+$ ]] || [ "$nodes" -lt 1 ] || [ "$nodes" -gt 32 ]; then
  echo "local-fleet: N must be 1..32" >&2
  exit 2
fi

dotnet=${DOTNET:-dotnet}
if [ "$build" = 1 ]; then
  # Republish when the gateway is missing or any source it is built from is newer. The same publish as
  # deploy/Dockerfile's, for this host's runtime: every assembly precompiled (ReadyToRun), on the shared
  # framework; into the SDK's default publish folder, below gateway/bin.
  if [ ! -f "$dll" ] || [ -n "$(find "$root/gateway" "$root/protocol" "$root/sessions" "$root/session-grains" \
      \( -name '*.cs' -o -name '*.csproj' -o -name '*.json' \) -not -path '*/bin/*' -not -path '*/obj/*' -newer "$dll" -print -quit 2>/dev/null)" ]; then
    echo "local-fleet: publishing the gateway (Release, ReadyToRun, $rid; a few minutes the first time)"
    "$dotnet" publish "$root/gateway/AccessLayer.Gateway.csproj" -c Release -r "$rid" --self-contained false \
      -p:PublishReadyToRun=true -nologo -v q || { echo "local-fleet: publish failed" >&2; exit 1; }
  fi
fi
[ -f "$dll" ] || { echo "local-fleet: no gateway at $dll" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/local-fleet.XXXXXX")
[ -n "$logs" ] || logs="$tmp/logs"
mkdir -p "$logs"
token=${Management__Token:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
node_pids=()
redis_pid=""

# Stops the nodes (SIGTERM: they drain and leave the fleet; SIGKILL past 30 s), then the private Redis.
stopping=0
cleanup() {
  [ "$stopping" = 1 ] && return
  stopping=1
  local pid deadline
  for pid in "${node_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  deadline=$((SECONDS + 30))
  for pid in "${node_pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
  done
  if [ -n "$redis_pid" ]; then
    kill -TERM "$redis_pid" 2>/dev/null
    deadline=$((SECONDS + 10))
    while kill -0 "$redis_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -KILL "$redis_pid" 2>/dev/null
  fi
  wait 2>/dev/null
  rm -rf "$tmp"
  echo "local-fleet: stopped"
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

# A loopback port nobody listens on, below the kernel's ephemeral range, not handed out before (REPLY).
used=" "
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 12000))
    case "$used" in *" $port "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      used="$used$port "
      REPLY=$port
      return
    fi
  done
}

redis_ping() { # host port
  local reply
  exec 3<>"/dev/tcp/$1/$2" || return 1
  printf 'PING\r\n' >&3
  IFS= read -r -t 2 reply <&3
  exec 3<&-
  [[ $reply == +PONG* ]]
}

if [ -z "$redis" ]; then
  command -v redis-server >/dev/null || { echo "local-fleet: redis-server is not installed (apt-get install redis-server), or give --redis host:port" >&2; exit 1; }
  free_port
  redis="127.0.0.1:$REPLY"
  mkdir -p "$tmp/redis"
  redis-server --port "$REPLY" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp/redis" --protected-mode no >"$logs/redis.log" 2>&1 &
  redis_pid=$!
fi
redis_host=${redis%:*}
redis_port=${redis##*:}
for _ in $(seq 50); do
  redis_ping "$redis_host" "$redis_port" 2>/dev/null && break
  sleep 0.2
done
redis_ping "$redis_host" "$redis_port" 2>/dev/null || { echo "local-fleet: Redis at $redis does not answer PING" >&2; exit 1; }

declare -a mqtt mlp http mgmt silo
for ((i = 0; i < nodes; i++)); do
  free_port; mqtt[i]=$REPLY
  free_port; mlp[i]=$REPLY
  free_port; http[i]=$REPLY
  free_port; mgmt[i]=$REPLY
  free_port; silo[i]=$REPLY
  Management__Token=$token ASPNETCORE_URLS="http://127.0.0.1:${http[i]}" DOTNET_NOLOGO=1 \
    "$dotnet" "$dll" \
    "--Mqtt:Port=${mqtt[i]}" --Mqtt:BindAddress=127.0.0.1 --Mqtt:TlsPort=0 \
    "--Mlp:Port=${mlp[i]}" --Mlp:BindAddress=127.0.0.1 \
    "--Http:Port=${http[i]}" --Http:BindAddress=127.0.0.1 --Http:TlsPort=0 \
    "--Management:Port=${mgmt[i]}" --Management:BindAddress=127.0.0.1 \
    "--Fleet:Redis=$redis" "--Fleet:ClusterId=$cluster_id" "--Fleet:SiloPort=${silo[i]}" --Fleet:AdvertisedAddress=127.0.0.1 \
    "${extra[@]}" >"$logs/node$i.log" 2>&1 &
  node_pids[i]=$!
done

# Ready: /readyz answers 200 and the MQTT listener accepts (it starts apart from the HTTP surfaces).
ready() {
  if command -v curl >/dev/null; then
    curl -fsS -m 2 -o /dev/null "http://127.0.0.1:${mgmt[$1]}/readyz" 2>/dev/null || return 1
  fi
  (exec 3<>"/dev/tcp/127.0.0.1/${mqtt[$1]}") 2>/dev/null
}
deadline=$((SECONDS + 90))
for ((i = 0; i < nodes; i++)); do
  until ready "$i"; do
    if ! kill -0 "${node_pids[i]}" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "local-fleet: node $i did not start; the end of $logs/node$i.log:" >&2
      tail -n 40 "$logs/node$i.log" >&2
      exit 1
    fi
    sleep 0.2
  done
done

printf '%-5s %-21s %-21s %-21s %-21s %-21s\n' node mqtt mlp http management silo
for ((i = 0; i < nodes; i++)); do
  printf '%-5s %-21s %-21s %-21s %-21s %-21s\n' "$i" "127.0.0.1:${mqtt[i]}" "127.0.0.1:${mlp[i]}" \
    "127.0.0.1:${http[i]}" "127.0.0.1:${mgmt[i]}" "127.0.0.1:${silo[i]}"
done
echo "node pids: ${node_pids[*]}"
echo "redis: $redis  cluster id: $cluster_id"
echo "management token: $token"
echo "logs: $logs"
endpoints=""
for ((i = 0; i < nodes; i++)); do endpoints="$endpoints${endpoints:+,}127.0.0.1:${mqtt[i]}"; done
echo "bots: --endpoints $endpoints"
echo "fleet ready: $nodes nodes (Ctrl+C stops everything)"

# Wait for a signal; say so when a node exits on its own (or is killed to try a failure).
alive=" ${!node_pids[*]} "
while :; do
  for i in "${!node_pids[@]}"; do
    case "$alive" in *" $i "*) ;; *) continue ;; esac
    if ! kill -0 "${node_pids[i]}" 2>/dev/null; then
      echo "local-fleet: node $i (pid ${node_pids[i]}) exited; see $logs/node$i.log"
      alive=${alive/ $i / }
    fi
  done
  sleep 1 &
  wait $!
done
