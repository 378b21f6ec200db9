"""Connect-to-first-response over MLP on TLS 1.3 (bench/tls/first-response.sh): a phone's reconnect, three ways.

  first_response.py HOST PORT TOKEN_SECRET DEVICE_ID MODE COUNT   prints one JSON line: mode, count, milliseconds (each), resumed, early

Each connection: TCP connect, TLS 1.3 handshake, MLP HELLO, and the time until the WELCOME is read (the first
response), then close. Modes:
  full      a new TLS session each time (certificate exchange), HELLO with the device token;
  resumed   the TLS session (ticket) of the connection before and the MLP resume ticket of the WELCOME before;
            HELLO goes out in the flight after the client's Finished (the same write);
  0rtt      as resumed, but HELLO is sent as TLS 1.3 early data in the first flight with the ClientHello
            (the gateway needs Tls:MaxEarlyData > 0; "early" counts the connections whose early data it accepted).
A run where a resumed connection was not resumed (or a 0rtt one's early data not accepted) exits 1 as broken.
A real OpenSSL client through ctypes (libssl.so.3, as Python's ssl module offers no early data). The certificate is
not checked: the figure is the path's round trips and the server's work, not the trust store's."""
import ctypes
import json
import socket
import sys
import time

ssl = ctypes.CDLL("libssl.so.3")
P = ctypes.c_void_p
for name, restype, argtypes in [
    ("TLS_client_method", P, []),
    ("SSL_CTX_new", P, [P]),
    ("SSL_CTX_ctrl", ctypes.c_long, [P, ctypes.c_int, ctypes.c_long, P]),
    ("SSL_CTX_set_verify", None, [P, ctypes.c_int, P]),
    ("SSL_new", P, [P]),
    ("SSL_free", None, [P]),
    ("SSL_set_fd", ctypes.c_int, [P, ctypes.c_int]),
    ("SSL_set_session", ctypes.c_int, [P, P]),
    ("SSL_get1_session", P, [P]),
    ("SSL_SESSION_free", None, [P]),
    ("SSL_connect", ctypes.c_int, [P]),
    ("SSL_write", ctypes.c_int, [P, ctypes.c_char_p, ctypes.c_int]),
    ("SSL_write_early_data", ctypes.c_int, [P, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    ("SSL_read", ctypes.c_int, [P, ctypes.c_char_p, ctypes.c_int]),
    ("SSL_session_reused", ctypes.c_int, [P]),
    ("SSL_get_early_data_status", ctypes.c_int, [P]),
    ("SSL_shutdown", ctypes.c_int, [P]),
]:
    function = getattr(ssl, name)
    function.restype, function.argtypes = restype, argtypes

SET_MIN_PROTO_VERSION, TLS1_3 = 123, 0x0304
EARLY_DATA_ACCEPTED = 2
HELLO, WELCOME = 0x7, 0x8


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def hello(device_id, token, ticket):
    """HELLO: protocol_version 1, device_id, the token or the resume ticket, capabilities {zstd}."""
    body = b"\x08\x01" + field(3, device_id.encode())
    body += field(5, ticket) if ticket else field(4, token.encode())
    body += field(6, b"\x28\x01")
    return bytes([HELLO << 4]) + varint(len(body)) + body


def read_varint(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def resume_ticket(welcome):
    """Field 3 of WELCOME (bytes)."""
    at = 0
    while at < len(welcome):
        key, at = read_varint(welcome, at)
        kind = key & 7
        if kind == 0:
            _, at = read_varint(welcome, at)
        elif kind == 2:
            length, at = read_varint(welcome, at)
            if key >> 3 == 3:
                return welcome[at:at + length]
            at += length
        elif kind == 1:
            at += 8
        elif kind == 5:
            at += 4
        else:
            raise ValueError(f"wire type {kind}")
    return b""


def read_frame(connection):
    data = b""
    buffer = ctypes.create_string_buffer(16384)
    while True:
        if len(data) >= 2:
            length, at = read_varint(data, 1)
            if len(data) >= at + length:
                return data[0] >> 4, data[at:at + length]
        n = ssl.SSL_read(connection, buffer, len(buffer))
        if n <= 0:
            raise SystemExit("the gateway closed before WELCOME")
        data += buffer.raw[:n]


def main(host, port, secret, device_id, mode, count):
    token = make_token(secret, device_id)
    context = ssl.SSL_CTX_new(ssl.TLS_client_method())
    ssl.SSL_CTX_ctrl(context, SET_MIN_PROTO_VERSION, TLS1_3, None)
    ssl.SSL_CTX_set_verify(context, 0, None)
    session, ticket = None, b""
    times, resumed, early = [], 0, 0
    for i in range(count + 1):  # the first connection makes the session and ticket and is not counted
        started = time.perf_counter()
        raw = socket.create_connection((host, port), timeout=10)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.settimeout(None)  # a blocking fd: OpenSSL reads and writes it itself
        connection = ssl.SSL_new(context)
        ssl.SSL_set_fd(connection, raw.fileno())
        if session and mode != "full":
            ssl.SSL_set_session(connection, session)
        first = hello(device_id, token, ticket if mode != "full" else b"")
        if mode == "0rtt" and session:
            written = ctypes.c_size_t()
            if ssl.SSL_write_early_data(connection, first, len(first), ctypes.byref(written)) != 1:
                raise SystemExit("SSL_write_early_data failed")
            if ssl.SSL_connect(connection) != 1:
                raise SystemExit("handshake failed")
            if ssl.SSL_get_early_data_status(connection) != EARLY_DATA_ACCEPTED:
                ssl.SSL_write(connection, first, len(first))  # rejected: send it again after the handshake
        else:
            if ssl.SSL_connect(connection) != 1:
                raise SystemExit("handshake failed")
            ssl.SSL_write(connection, first, len(first))
        kind, payload = read_frame(connection)
        elapsed = time.perf_counter() - started
        if kind != WELCOME:
            raise SystemExit(f"expected WELCOME, got frame type {kind}")
        if i > 0:
            times.append(elapsed * 1000)
            resumed += ssl.SSL_session_reused(connection)
            early += ssl.SSL_get_early_data_status(connection) == EARLY_DATA_ACCEPTED
        ticket = resume_ticket(payload) or ticket
        # Not timed: a PING answered after the server read the client's Finished, so its new TLS ticket (sent then,
        # after any 0.5-RTT WELCOME; with early data allowed tickets are single-use) has arrived before the PONG.
        ping = bytes([0x5 << 4, 8]) + b"bench-rt"
        ssl.SSL_write(connection, ping, len(ping))
        while read_frame(connection)[0] != 0x6:
            pass
        if session:
            ssl.SSL_SESSION_free(session)
        session = ssl.SSL_get1_session(connection)
        ssl.SSL_shutdown(connection)
        ssl.SSL_free(connection)
        raw.close()
    times.sort()
    if (mode != "full" and resumed < count) or (mode == "0rtt" and early < count):
        raise SystemExit(f"broken: {mode}: {resumed} of {count} resumed, {early} with early data accepted")
    print(json.dumps({"mode": mode, "count": count, "median_ms": times[len(times) // 2], "p90_ms": times[int(len(times) * 0.9)],
                      "min_ms": times[0], "resumed": resumed, "early": early}))


def make_token(secret, device_id):
    """A device token as the gateway signs them (MlpDeviceToken): base64url(DeviceTokenPayload).base64url(HMAC-SHA256)."""
    import base64
    import hashlib
    import hmac
    now = int(time.time())
    payload = field(1, device_id.encode()) + field(2, b"bench-user") + b"\x18" + varint(now + 3600) + b"\x20" + varint(now)
    encoded = base64.urlsafe_b64encode(payload).rstrip(b"=")
    mac = base64.urlsafe_b64encode(hmac.new(secret.encode(), encoded, hashlib.sha256).digest()).rstrip(b"=")
    return (encoded + b"." + mac).decode()


if __name__ == "__main__":
    if len(sys.argv) != 7 or sys.argv[5] not in ("full", "resumed", "0rtt"):
        raise SystemExit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
