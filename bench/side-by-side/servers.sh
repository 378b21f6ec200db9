# Shared by run.sh, mlp.sh and ../fleet/run.sh (sourced): one server process at a time on a free loopback port.
# SERVER_PID is the running one; stop_server is also the EXIT trap. start_gateway and start_mosquitto
# need $OUT (logs, config), $GATEWAY_DLL and $MOSQUITTO; start_mqttnet needs $MQTTNET_DLL (build_mqttnet); they set PORT and SERVER_PID. With BROKER_CPUS
# set the server starts pinned to those CPUs (taskset), so it sizes itself for them.

# build_binaries: the gateway and the bots in Release below $ROOT (skipped with NO_BUILD=1); sets GATEWAY_DLL and BOTS.
build_binaries() {
  if [ "${NO_BUILD:-0}" != 1 ]; then
    echo "building (Release)..." >&2
    dotnet build "$ROOT/gateway/AccessLayer.Gateway.csproj" -c Release -nologo -v q >/dev/null
    dotnet build "$ROOT/bots/AccessLayer.Bots.csproj" -c Release -nologo -v q >/dev/null
  fi
  BOTS="$ROOT/bots/bin/Release/net10.0/AccessLayer.Bots"
  GATEWAY_DLL="$ROOT/gateway/bin/Release/net10.0/AccessLayer.Gateway.dll"
}

# build_mqttnet: the MQTTnet 5 broker host (bench/MqttNetServer) in Release (skipped with NO_BUILD=1); sets MQTTNET_DLL.
build_mqttnet() {
  if [ "${NO_BUILD:-0}" != 1 ]; then
    dotnet build "$ROOT/bench/MqttNetServer/AccessLayer.MqttNetServer.csproj" -c Release -nologo -v q >/dev/null
  fi
  MQTTNET_DLL="$ROOT/bench/MqttNetServer/bin/Release/net10.0/AccessLayer.MqttNetServer.dll"
}

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

# start_gateway [--Section:Key=value ...]: the settings go to the gateway after the side-by-side ones; $DOTNET, when set,
# is the command it starts with (bench/fleet/fleet.sh's node_dotnet).
start_gateway() {
  PORT=$(free_port); local http management; http=$(free_port); management=$(free_port)
  ${BROKER_CPUS:+taskset -c "$BROKER_CPUS"} "${DOTNET:-dotnet}" "$GATEWAY_DLL" --Mqtt:Port="$PORT" --Mqtt:BindAddress=127.0.0.1 --Http:Port="$http" --Http:BindAddress=127.0.0.1 --Mlp:Port=0 \
    --Management:Port="$management" --Management:BindAddress=127.0.0.1 \
    --Mqtt:MaxInflight=32 --Mqtt:MaxQueuedMessages=1000 --Logging:LogLevel:Default=Warning "$@" >"$OUT/gateway.log" 2>&1 &
  SERVER_PID=$!
  wait_listening "$PORT"
}

start_mosquitto() {
  PORT=$(free_port)
  cat >"$OUT/mosquitto.conf" <<EOF
listener $PORT 127.0.0.1
allow_anonymous true
max_connections -1
max_inflight_messages 32
max_queued_messages 1000
persistence false
set_tcp_nodelay true
log_dest none
EOF
  ${BROKER_CPUS:+taskset -c "$BROKER_CPUS"} "$MOSQUITTO" -c "$OUT/mosquitto.conf" >"$OUT/mosquitto.log" 2>&1 &
  SERVER_PID=$!
  wait_listening "$PORT"
}

# start_mqttnet: MQTTnet.Server 5 with the limits documented in bench/MqttNetServer/Program.cs.
start_mqttnet() {
  PORT=$(free_port)
  ${BROKER_CPUS:+taskset -c "$BROKER_CPUS"} dotnet "$MQTTNET_DLL" --port "$PORT" --bind 127.0.0.1 >"$OUT/mqttnet.log" 2>&1 &
  SERVER_PID=$!
  wait_listening "$PORT"
}
