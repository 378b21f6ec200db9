"""Sequential TLS 1.3 handshakes + MQTT 3.1.1 CONNECT/CONNACK against one broker, full or resumed (bench/tls/run.sh).

  handshakes.py HOST PORT full|resumed|resumed-psk|plain COUNT   prints one JSON line: count, seconds, resumed (handshakes the server resumed)

Resumed: every connection offers the session ticket of the one before (Python's ssl, OpenSSL underneath, as a phone's
TLS stack does); `resumed` counts the handshakes OpenSSL reports as reused, so a server that ignores tickets shows 0.
resumed-psk also offers psk_ke (SSL_OP_ALLOW_NO_DHE_KEX): a server that allows it resumes without a new ECDHE exchange
(no forward secrecy for that session); one that does not answers with psk_dhe_ke as in "resumed".
plain: the same TCP connect + CONNECT/CONNACK + close without TLS (to a plain port), the fixed cost TLS comes on top of.
The server's certificate is not checked: the figure is the handshake's cost, not the trust store's."""
import json
import os
import socket
import ssl
import sys
import time



def connect_packet(client_id):
    """MQTT 3.1.1 CONNECT, clean session, keep alive 60 s: a client id of its own (a shared one is a takeover)."""
    cid = client_id.encode()
    body = bytes([0, 4]) + b"MQTT" + bytes([4, 2, 0, 60]) + len(cid).to_bytes(2, "big") + cid
    return bytes([0x10, len(body)]) + body


def main(host, port, mode, count):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    if mode == "resumed-psk":
        context.options |= 0x400  # SSL_OP_ALLOW_NO_DHE_KEX: offer psk_ke too
    session, resumed = None, 0
    started = time.perf_counter()
    for i in range(count):
        raw = socket.create_connection((host, port), timeout=10)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if mode == "plain":
            with raw:
                raw.sendall(connect_packet(f"tcp-{os.getpid()}-{i}"))
                if raw.recv(4)[:1] != b"\x20":
                    raise SystemExit("no CONNACK")
            continue
        with context.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
            tls.sendall(connect_packet(f"tls-{os.getpid()}-{i}"))
            connack = tls.recv(4)  # TLS 1.3 tickets arrive after the handshake: read before taking the session
            if connack[:1] != b"\x20":
                raise SystemExit(f"no CONNACK: {connack!r}")
            resumed += tls.session_reused
            if mode != "full":
                session = tls.session
    print(json.dumps({"mode": mode, "count": count, "seconds": time.perf_counter() - started, "resumed": resumed}))


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[3] not in ("full", "resumed", "resumed-psk", "plain"):
        raise SystemExit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
