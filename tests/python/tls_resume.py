"""TLS 1.3 session resumption across gateways (EpollTlsListenersTests), as a phone's OpenSSL-based stack does it.

  tls_resume.py [--no-dhe] [--gate DIR] PORT [PORT...]

A full handshake + MQTT 3.1.1 CONNECT/CONNACK on the first port, then one connection to each further port offering the
ticket the first one received. Prints one JSON line: {"reused": [false, true, ...]} (what OpenSSL reports per connection).
--no-dhe also offers psk_ke (resumption without a new ECDHE exchange, SSL_OP_ALLOW_NO_DHE_KEX).
--gate DIR writes DIR/done-N after connection N and waits (at most 20 s) for DIR/go-N before connection N (N >= 1): the
test changes the server between connections."""
import json
import socket
import ssl
import os
import sys
import time


def connect_packet(client_id):
    cid = client_id.encode()
    body = bytes([0, 4]) + b"MQTT" + bytes([4, 2, 0, 60]) + len(cid).to_bytes(2, "big") + cid
    return bytes([0x10, len(body)]) + body


def main(args):
    no_dhe = "--no-dhe" in args
    gate = None
    if "--gate" in args:
        at = args.index("--gate")
        gate = args[at + 1]
        args = args[:at] + args[at + 2:]
    ports = [int(a) for a in args if a != "--no-dhe"]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    if no_dhe:
        context.options |= 0x400  # SSL_OP_ALLOW_NO_DHE_KEX
    session, reused = None, []
    for i, port in enumerate(ports):
        if gate and i > 0:
            deadline = time.monotonic() + 20
            while not os.path.exists(os.path.join(gate, f"go-{i}")):
                if time.monotonic() > deadline:
                    raise SystemExit(f"no go-{i} in {gate}")
                time.sleep(0.02)
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        with context.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
            tls.sendall(connect_packet(f"resume-{i}"))
            connack = tls.recv(4)  # the ticket arrives after the handshake: read before taking the session
            if connack[:1] != b"\x20":
                raise SystemExit(f"no CONNACK from port {port}: {connack!r}")
            reused.append(tls.session_reused)
            if session is None:
                session = tls.session
        if gate:
            open(os.path.join(gate, f"done-{i}"), "w").close()
    print(json.dumps({"reused": reused}))


if __name__ == "__main__":
    if len([a for a in sys.argv[1:] if a.isdigit()]) < 1:
        raise SystemExit(__doc__)
    main(sys.argv[1:])
