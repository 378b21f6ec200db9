#!/usr/bin/python3
"""paho-mqtt 1.6.1 clients driven by JSON lines, for AccessLayer.Gateway.Tests.

Usage: /usr/bin/python3 agent.py

One process hosts many named clients (starting a python per client would cost more than the
tests themselves). Commands arrive on stdin, one JSON object a line, each with an integer
"id", a "client" name and an "op"; every command is answered with
{"ev":"result","id":..,"ok":true|false,...}. Unsolicited events name their client:
{"ev":"message",...}, {"ev":"arrived","mid":N} (a QoS 1/2 PUBLISH is about to be acknowledged),
{"ev":"serverDisconnect","reasonCode":N}, {"ev":"closed"}.
The protocol is the same as tests/js/agent.mjs; ScriptedClient.cs is the C# side.
"kill" closes a client's socket without DISCONNECT (an abrupt client death).
End of stdin ends the process at once.
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
    if spec.get("messageExpiry") is not None:
        p.MessageExpiryInterval = spec["messageExpiry"]
    if spec.get("topicAlias") is not None:
        p.TopicAlias = spec["topicAlias"]
    if spec.get("responseTopic") is not None:
        p.ResponseTopic = spec["responseTopic"]
    if spec.get("correlationData") is not None:
        p.CorrelationData = spec["correlationData"].encode("utf-8")
    if spec.get("contentType") is not None:
        p.ContentType = spec["contentType"]
    if spec.get("payloadFormat") is not None:
        p.PayloadFormatIndicator = spec["payloadFormat"]
    if spec.get("willDelay") is not None:
        p.WillDelayInterval = spec["willDelay"]
    for k, v in spec.get("userProps") or []:
        p.UserProperty = (k, v)
    return p


_PROP_NAMES = {
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


def from_props(props):
    """Normalises received paho Properties into the harness' property names."""
    out = {}
    if props is None:
        return out
    for paho_name, name in _PROP_NAMES.items():
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


class Conn:
    """One named client: a paho Client and its own network thread."""

    def __init__(self, name):
        self.name = name
        self.client = None
        self.version = 4
        self.lock = threading.Lock()
        self.pending = {}  # paho mid -> [command id, outstanding count]
        self.early = {}  # mid -> fields, for mids completed before their command registered them
        self.connect_id = None
        self.close_waiters = []
        self.stop = False
        self.running = False
        self.holding = set()  # acknowledgement kinds withheld: puback, pubrec, pubcomp
        self.ack_lock = threading.Lock()
        self.held = []

    def event(self, **fields):
        emit(dict(client=self.name, **fields))

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
        self.event(ev="message", topic=msg.topic, payload=msg.payload.decode("utf-8", "replace"),
                   qos=msg.qos, retain=bool(msg.retain), dup=bool(msg.dup),
                   props=from_props(getattr(msg, "properties", None)))

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

    def _wrap(self, client):
        # paho 1.6.1 reads a DISCONNECT reason code only when properties follow it (remaining
        # length > 2) and otherwise ignores the packet: read the raw byte, then close as the
        # spec requires.
        original_disconnect = client._handle_disconnect

        def handle_disconnect():
            raw = client._in_packet["packet"]
            self.event(ev="serverDisconnect", reasonCode=raw[0] if len(raw) >= 1 else 0)
            rc = original_disconnect()
            self.stop = True
            return rc
        client._handle_disconnect = handle_disconnect

        # Withholding acknowledgements: PUBACK/PUBREC/PUBCOMP are kept back at the send step.
        for kind in ("puback", "pubrec", "pubcomp"):
            original = getattr(client, "_send_" + kind)

            def send(mid, _original=original, _kind=kind):
                if _kind != "pubcomp":
                    # The PUBLISH arrived (QoS 2 reaches on_message only at PUBREL).
                    self.event(ev="arrived", mid=mid)
                # Under ack_lock so a release on the command thread cannot interleave with an
                # acknowledgement sent by the network thread (paho writes to the socket inline).
                with self.ack_lock:
                    if _kind in self.holding:
                        self.held.append((_original, mid))
                        return mqtt.MQTT_ERR_SUCCESS
                    return _original(mid)
            setattr(client, "_send_" + kind, send)

    def _network(self):
        # Own loop instead of loop_start(): paho's loop_forever reconnects, which would fight
        # a session takeover; a harness client stays down once its connection is gone.
        client = self.client
        while not self.stop:
            if client.loop(timeout=0.01) != mqtt.MQTT_ERR_SUCCESS:
                break
        self.stop = True
        self.running = False
        try:
            client.socket() and client.socket().close()
        except OSError:
            pass
        cid, self.connect_id = self.connect_id, None
        if cid is not None:
            result(cid, ok=False, error="connection closed before CONNACK")
        with self.lock:
            waiters, self.close_waiters = self.close_waiters, []
            stranded = {entry[0] for entry in self.pending.values()}
            self.pending.clear()
            self.early.clear()
        for w in waiters:
            result(w)
        for cid in stranded:
            result(cid, ok=False, error="connection closed")
        self.event(ev="closed")

    # --- commands (main thread) ---------------------------------------------------------

    def connect(self, cid, cmd):
        if self.running:
            result(cid, ok=False, error="already connected")
            return
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
        self._wrap(client)
        will = cmd.get("will")
        if will:
            wprops = to_props(PacketTypes.WILLMESSAGE, {"willDelay": will.get("willDelay")}) \
                if v5 and will.get("willDelay") is not None else None
            client.will_set(will["topic"], will.get("payload", ""), will.get("qos", 0),
                            will.get("retain", False), properties=wprops)
        cprops = None
        if v5:
            cprops = Properties(PacketTypes.CONNECT)
            if cmd.get("sessionExpiry") is not None:
                cprops.SessionExpiryInterval = cmd["sessionExpiry"]
            if cmd.get("receiveMaximum") is not None:
                cprops.ReceiveMaximum = cmd["receiveMaximum"]
            if cmd.get("maximumPacketSize") is not None:
                cprops.MaximumPacketSize = cmd["maximumPacketSize"]
            if cmd.get("topicAliasMaximum") is not None:
                cprops.TopicAliasMaximum = cmd["topicAliasMaximum"]
        self.client = client
        self.stop = False
        self.holding = set()
        self.held = []
        self.connect_id = cid
        keepalive = cmd.get("keepalive", 30)
        try:
            if v5:
                client.connect(cmd["host"], cmd["port"], keepalive, clean_start=clean, properties=cprops)
            else:
                client.connect(cmd["host"], cmd["port"], keepalive)
        except (OSError, socket.error) as e:
            self.connect_id = None
            result(cid, ok=False, error=str(e))
            return
        self.running = True
        network = threading.Thread(target=self._network, daemon=True)
        # Every write after CONNECT goes through the network thread: without a thread of its own paho
        # writes inline from the calling thread, and it pops a packet under its lock but sends it
        # outside, so a publish here and a write from the loop could swap packets on the wire.
        client._thread = network
        network.start()

    def subscribe(self, cid, cmd):
        qos = cmd.get("qos", 0)
        if self.version == 5:
            opts = SubscribeOptions(qos=qos, noLocal=cmd.get("noLocal", False),
                                    retainAsPublished=cmd.get("retainAsPublished", False),
                                    retainHandling=cmd.get("retainHandling", 0))
            props = None
            if cmd.get("subscriptionId") is not None:
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
        base = cmd.get("payload", "")
        payloads = [base] if count is None else ["%s%d" % (base, i) for i in range(count)]
        mids = []
        for payload in payloads:
            info = self.client.publish(cmd["topic"], payload, cmd.get("qos", 0),
                                       cmd.get("retain", False), properties=props)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                result(cid, ok=False, error="publish rc %d" % info.rc)
                return
            mids.append(info.mid)
        self._track(cid, mids)

    def holdAcks(self, cid, cmd):
        self.holding = set(cmd.get("kinds") or ["puback", "pubrec"])
        result(cid)

    def releaseAcks(self, cid, cmd):
        # Held acknowledgements go out in order before any the network thread sends next.
        with self.ack_lock:
            self.holding = set()
            held, self.held = self.held, []
            for send, mid in held:
                send(mid)
        result(cid, released=len(held))

    def _when_closed(self, cid):
        with self.lock:
            if self.running:
                self.close_waiters.append(cid)
                return
        result(cid)

    def disconnect(self, cid, cmd):
        if not self.running:
            result(cid)
            return
        self._when_closed(cid)
        if self.version == 5:
            props = None
            if cmd.get("sessionExpiry") is not None:
                props = Properties(PacketTypes.DISCONNECT)
                props.SessionExpiryInterval = cmd["sessionExpiry"]
            self.client.disconnect(ReasonCodes(PacketTypes.DISCONNECT, identifier=cmd.get("reasonCode", 0)), props)
        else:
            self.client.disconnect()

    def kill(self, cid, cmd):
        sock = self.client.socket() if self.client is not None and self.running else None
        if sock is None:
            result(cid)
            return
        self._when_closed(cid)
        try:
            sock.shutdown(socket.SHUT_RDWR)  # FIN without DISCONNECT; the network loop sees EOF
        except OSError:
            pass


def main():
    conns = {}
    ops = ("connect", "subscribe", "unsubscribe", "publish", "holdAcks", "releaseAcks", "disconnect", "kill")
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        cid = cmd.get("id")
        op = cmd.get("op")
        if op not in ops:
            result(cid, ok=False, error="unknown op %r" % op)
            continue
        name = cmd.get("client", "")
        conn = conns.get(name)
        if conn is None:
            conn = conns[name] = Conn(name)
        if op != "connect" and op != "kill" and conn.client is None:
            result(cid, ok=False, error="not connected")
            continue
        try:
            getattr(conn, op)(cid, cmd)
        except Exception as e:  # report, keep serving: the test decides what failure means
            result(cid, ok=False, error="%s: %s" % (type(e).__name__, e))
    os._exit(0)


if __name__ == "__main__":
    main()
