"""A paho-mqtt 5.0 client that sends more QoS 2 PUBLISHes than the server's Receive Maximum without
waiting for PUBRECs, then reads until the server disconnects it. Prints one JSON line: the reason
code on_disconnect reported (0x93 when the DISCONNECT was read; a paho error code such as 7,
connection lost, when a reset reached the client first) and whether every publish was written.

usage: qos2_burst.py PORT COUNT [CAFILE]   (with CAFILE: over TLS, the server checked against it)"""
import json
import sys
import time

import paho.mqtt.client as mqtt

port, count = int(sys.argv[1]), int(sys.argv[2])
cafile = sys.argv[3] if len(sys.argv) > 3 else None
state = {"connected": False, "rc": None}


def on_connect(client, userdata, flags, rc, properties=None):
    state["connected"] = True


def on_disconnect(client, userdata, rc, properties=None):
    state["rc"] = rc.value if hasattr(rc, "value") else rc


client = mqtt.Client("qos2-burst", protocol=mqtt.MQTTv5)
client.on_connect = on_connect
client.on_disconnect = on_disconnect
client.max_inflight_messages_set(65535)  # ignore the server's Receive Maximum: that is the point
client.max_queued_messages_set(0)
if cafile:
    client.tls_set(ca_certs=cafile)
    client.tls_insecure_set(True)  # the test certificate names localhost; we dial 127.0.0.1
client.connect("127.0.0.1", port, 30)
deadline = time.monotonic() + 5
while not state["connected"] and state["rc"] is None and time.monotonic() < deadline:
    client.loop(0.05)

written = 0
for i in range(count):
    # No network thread: paho writes each PUBLISH inline, so this loop is still sending when the
    # server gives up on the connection.
    try:
        info = client.publish("burst/qos2", b"x" * 100, qos=2)
    except OSError as error:
        # Over TLS paho raises instead of returning an error code: a reset (or broken pipe) before the DISCONNECT was read.
        state["rc"] = f"{type(error).__name__}: {error}"
        break
    if info.rc != mqtt.MQTT_ERR_SUCCESS or state["rc"] is not None:
        break
    written += 1

deadline = time.monotonic() + 5
while state["rc"] is None and time.monotonic() < deadline:
    client.loop(0.05)
print(json.dumps({"rc": state["rc"], "written": written}), flush=True)
