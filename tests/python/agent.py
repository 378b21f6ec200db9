#!/usr/bin/python3
"""A paho-mqtt 1.6.1 client driven by JSON lines, for AccessLayer.Gateway.Tests.

Usage: /usr/bin/python3 agent.py HOST PORT

Commands arrive on stdin, one JSON object a line, each with an integer "id" and an "op";
every command is answered by {"ev":"result","id":..,"ok":true|false,...}. Unsolicited events:
{"ev":"message",...}, {"ev":"serverDisconnect","reasonCode":N}, {"ev":"closed"}.
The protocol is the same as tests/js/agent.mjs (see ScriptedClient.cs for the C# side).
End of stdin ends the process at once, without DISCONNECT (an abrupt client death).
"""

import json
import os
import socket
import sys
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCodes
from paho.mqtt.subscribeoptions import SubscribeOptions

HOST = sys.argv[1]
PORT = int(sys.argv[2])

_out_lock = threading.Lock()


def emit(obj):
    line = json.dumps(obj, separators=(",", ":"))
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def result(cid, ok=True, **fields):
    emit(dict(ev="result", id=cid, ok=ok, **fields))


def to_props(packet_type, spec):
    """Builds paho Properties from the harness' property names."""
    if not spec:
        return None
    p = Properties(packet_type)
    if "messageExpiry" in spec:
        p.MessageExpiryInterval = spec["messageExpiry"]
    if "topicAlias" in spec:
        p.TopicAlias = spec["topicAlias"]
    if "responseTopic" in spec:
        p.ResponseTopic = spec["responseTopic"]
    if "correlationData" in spec:
        p.CorrelationData = spec["correlationData"].encode("utf-8")
    if "contentType" in spec:
        p.ContentType = spec["contentType"]
    if "payloadFormat" in spec:
        p.PayloadFormatIndicator = spec["payloadFormat"]
    if "willDelay" in spec:
        p.WillDelayInterval = spec["willDelay"]
    for k, v in spec.get("userProps", []):
        p.UserProperty = (k, v)
    return p


def from_props(props):
    """Normalises paho Properties (received) into the harness' property names."""
    out = {}
    if props is None:
        return out
    names = {
        "MessageExpiryInterval": "messageExpiry",
        "TopicAlias": "topicAlias",
        "ResponseTopic": "responseTopic",
        "ContentType": "contentType",
        "PayloadFormatIndicator": "payloadFormat",
        "SessionExpiryInterval": "sessionExpiry",
        "ReceiveMaximum": "receiveMaximum",
        "MaximumPacketSize": "maximumPacketSize",
        "TopicAliasMaximum": "topicAliasMaximum",
        "AssignedClientIdentifier": "assignedClientIdentifier",
        "MaximumQoS": "maximumQos",
        "RetainAvailable": "retainAvailable",
        "SharedSubscriptionAvailable": "sharedSubscriptionAvailable",
        "WildcardSubscriptionAvailable": "wildcardSubscriptionAvailable",
        "SubscriptionIdentifierAvailable": "subscriptionIdentifierAvailable",
        "ServerKeepAlive": "serverKeepAlive",
        "ReasonString": "reasonString",
    }
    for paho_name, name in names.items():
        if hasattr(props, paho_name):
            out[name] = getattr(props, paho_name)
    if hasattr(props, "CorrelationData"):
        out["correlationData"] = props.CorrelationData.decode("utf-8", "replace")
    if hasattr(props, "UserProperty"):
        out["userProps"] = [[k, v] for k, v in props.UserProperty]
    if hasattr(props, "SubscriptionIdentifier"):
        ids = props.SubscriptionIdentifier
        out["subscriptionIds"] = list(ids) if isinstance(ids, list) else [ids]
    return out


class Agent:
    def __init__(self):
        self.client = None
        self.version = 4
        self.lock = threading.Lock()
        self.pending = {}  # paho mid -> [command id, outstanding count]
        self.early = {}  # mid -> fields, for mids completed before their command registered them
        self.connect_id = None
        self.disconnect_id = None
        self.thread = None
        self.stop = False
        self.holding = False
        self.held = []

    # --- paho callbacks (network thread) ---------------------------------------------

    def on_connect(self, client, userdata, flags, rc, properties=None):
        cid, self.connect_id = self.connect_id, None
        code = rc.value if isinstance(rc, ReasonCodes) else rc
        if cid is not None:
            result(cid, ok=(code == 0), reasonCode=code,
                   sessionPresent=bool(flags.get("session present", 0)),
                   props=from_props(properties))

    def on_disconnect(self, client, userdata, rc, properties=None):
        self.stop = True

    def on_message(self, client, userdata, msg):
        emit(dict(ev="message", topic=msg.topic, payload=msg.payload.decode("utf-8", "replace"),
                  qos=msg.qos, retain=bool(msg.retain), dup=bool(msg.dup),
                  props=from_props(getattr(msg, "properties", None))))

    def on_subscribe(self, client, userdata, mid, granted, properties=None):
        codes = [g.value if isinstance(g, ReasonCodes) else g for g in granted]
        self._complete(mid, reasonCodes=codes)

    def on_unsubscribe(self, client, userdata, mid, properties=None, reasons=None):
        self._complete(mid)

    def on_publish(self, client, userdata, mid):
        self._complete(mid)

    def _complete(self, mid, **fields):
        with self.lock:
            entry = self.pending.pop(mid, None)
            if entry is None:
                self.early[mid] = fields
                return
            entry[1] -= 1
            done = entry[1] == 0
        if done:
            result(entry[0], **fields)

    def _track(self, cid, mids):
        """Registers mids for command cid; answers at once when all completed already."""
        entry = [cid, len(mids)]
        fields = {}
        with self.lock:
            for mid in mids:
                if mid in self.early:
                    fields = self.early.pop(mid)
                    entry[1] -= 1
                else:
                    self.pending[mid] = entry
            finished = entry[1] == 0
        if finished:
            result(cid, **fields)

    # paho 1.6.1 reads a DISCONNECT reason code only when properties follow it
    # (remaining length > 2), so the raw byte is read here before paho handles the packet.
    def _wrap_disconnect(self, client):
        original = client._handle_disconnect

        def handle():
            raw = client._in_packet["packet"]
            code = raw[0] if len(raw) >= 1 else 0
            emit(dict(ev="serverDisconnect", reasonCode=code))
            rc = original()
            # Paho ignores a DISCONNECT without properties: close like the spec requires.
            self.stop = True
            return rc
        client._handle_disconnect = handle

    def _wrap_acks(self, client):
        for name in ("_send_puback", "_send_pubrec"):
            original = getattr(client, name)

            def send(mid, _original=original):
                if self.holding:
                    self.held.append((_original, mid))
                    return mqtt.MQTT_ERR_SUCCESS
                return _original(mid)
            setattr(client, name, send)

    def _network(self):
        # Own loop instead of loop_start(): paho's loop_forever reconnects, which would fight
        # a session takeover; a harness client must stay down once the broker drops it.
        client = self.client
        while not self.stop:
            if client.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
                break
        self.stop = True
        cid, self.disconnect_id = self.disconnect_id, None
        if cid is not None:
            result(cid)
        emit(dict(ev="closed"))

    # --- commands (main thread) ---------------------------------------------------------

    def connect(self, cid, cmd):
        self.version = cmd.get("version", 4)
        v5 = self.version == 5
        protocol = mqtt.MQTTv5 if v5 else mqtt.MQTTv311
        clean = cmd.get("clean", True)
        if v5:
            client = mqtt.Client(cmd["clientId"], protocol=protocol)
        else:
            client = mqtt.Client(cmd["clientId"], clean_session=clean, protocol=protocol)
        client.on_connect = self.on_connect
        client.on_disconnect = self.on_disconnect
        client.on_message = self.on_message
        client.on_subscribe = self.on_subscribe
        client.on_unsubscribe = self.on_unsubscribe
        client.on_publish = self.on_publish
        client.max_inflight_messages_set(10)
        client.max_queued_messages_set(0)
        self._wrap_disconnect(client)
        self._wrap_acks(client)
        will = cmd.get("will")
        if will:
            wprops = to_props(PacketTypes.WILLMESSAGE, {
                k: will[k] for k in ("willDelay", "messageExpiry", "userProps", "contentType")
                if k in will}) if v5 else None
            client.will_set(will["topic"], will.get("payload", ""), will.get("qos", 0),
                            will.get("retain", False), properties=wprops)
        cprops = None
        if v5:
            cprops = Properties(PacketTypes.CONNECT)
            if "sessionExpiry" in cmd:
                cprops.SessionExpiryInterval = cmd["sessionExpiry"]
            if "receiveMaximum" in cmd:
                cprops.ReceiveMaximum = cmd["receiveMaximum"]
            if "maximumPacketSize" in cmd:
                cprops.MaximumPacketSize = cmd["maximumPacketSize"]
            if "topicAliasMaximum" in cmd:
                cprops.TopicAliasMaximum = cmd["topicAliasMaximum"]
        self.client = client
        self.connect_id = cid
        keepalive = cmd.get("keepalive", 30)
        try:
            if v5:
                client.connect(HOST, PORT, keepalive, clean_start=clean, properties=cprops)
            else:
                client.connect(HOST, PORT, keepalive)
        except (OSError, socket.error) as e:
            self.connect_id = None
            result(cid, ok=False, error=str(e))
            return
        self.thread = threading.Thread(target=self._network, daemon=True)
        self.thread.start()

    def subscribe(self, cid, cmd):
        qos = cmd.get("qos", 0)
        if self.version == 5:
            opts = SubscribeOptions(qos=qos, noLocal=cmd.get("noLocal", False),
                                    retainAsPublished=cmd.get("retainAsPublished", False),
                                    retainHandling=cmd.get("retainHandling", 0))
            props = None
            if "subscriptionId" in cmd:
                props = Properties(PacketTypes.SUBSCRIBE)
                props.SubscriptionIdentifier = cmd["subscriptionId"]
            rc, mid = self.client.subscribe(cmd["filter"], options=opts, properties=props)
        else:
            rc, mid = self.client.subscribe(cmd["filter"], qos)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            result(cid, ok=False, error="subscribe rc %d" % rc)
            return
        self._track(cid, [mid])

    def unsubscribe(self, cid, cmd):
        rc, mid = self.client.unsubscribe(cmd["filter"])
        if rc != mqtt.MQTT_ERR_SUCCESS:
            result(cid, ok=False, error="unsubscribe rc %d" % rc)
            return
        self._track(cid, [mid])

    def publish(self, cid, cmd):
        count = cmd.get("count")
        props = to_props(PacketTypes.PUBLISH, cmd.get("props")) if self.version == 5 else None
        payloads = [cmd.get("payload", "")] if count is None else \
            ["%s%d" % (cmd.get("payload", ""), i) for i in range(count)]
        mids = []
        for payload in payloads:
            info = self.client.publish(cmd["topic"], payload, cmd.get("qos", 0),
                                       cmd.get("retain", False), properties=props)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                result(cid, ok=False, error="publish rc %d" % info.rc)
                return
            mids.append(info.mid)
        self._track(cid, mids)

    def hold_acks(self, cid, cmd):
        self.holding = True
        result(cid)

    def release_acks(self, cid, cmd):
        self.holding = False
        held, self.held = self.held, []
        for send, mid in held:
            send(mid)
        result(cid, released=len(held))

    def disconnect(self, cid, cmd):
        if self.client is None or self.stop:
            result(cid)
            return
        self.disconnect_id = cid
        if self.version == 5:
            props = None
            if "sessionExpiry" in cmd:
                props = Properties(PacketTypes.DISCONNECT)
                props.SessionExpiryInterval = cmd["sessionExpiry"]
            self.client.disconnect(ReasonCodes(PacketTypes.DISCONNECT, identifier=cmd.get("reasonCode", 0)),
                                   props)
        else:
            self.client.disconnect()


def main():
    agent = Agent()
    ops = {
        "connect": agent.connect,
        "subscribe": agent.subscribe,
        "unsubscribe": agent.unsubscribe,
        "publish": agent.publish,
        "holdAcks": agent.hold_acks,
        "releaseAcks": agent.release_acks,
        "disconnect": agent.disconnect,
    }
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        cid = cmd.get("id")
        handler = ops.get(cmd.get("op"))
        if handler is None:
            result(cid, ok=False, error="unknown op %r" % cmd.get("op"))
            continue
        try:
            handler(cid, cmd)
        except Exception as e:  # report, keep serving: the test decides what failure means
            result(cid, ok=False, error="%s: %s" % (type(e).__name__, e))
    # stdin closed: the harness is done with us (or died); vanish without DISCONNECT.
    os._exit(0)


if __name__ == "__main__":
    main()
