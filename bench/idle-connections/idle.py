#!/usr/bin/env python3
"""Opens N idle MQTT 3.1.1 connections to a broker and reports the broker's RSS growth per connection.

usage: idle.py PORT N BROKER_PID [SETTLE_SECONDS=5]
Client sockets are spread over 127.0.0.2-9 with IP_BIND_ADDRESS_NO_PORT so the kernel's port
search stays cheap. Bounded: N connections, one CONNECT each, a fixed settle time, then close.
"""
import socket, sys, time

IP_BIND_ADDRESS_NO_PORT = 24

def rss_kb(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS'):
                return int(line.split()[1])

def connect_packet(client_id):
    cid = client_id.encode()
    variable_header = b'\x00\x04MQTT\x04\x02\x00\x3c'  # 3.1.1, clean session, keep alive 60 s
    payload = len(cid).to_bytes(2, 'big') + cid
    return bytes([0x10, len(variable_header) + len(payload)]) + variable_header + payload

def main():
    port, n, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    time.sleep(1)
    before = rss_kb(pid)
    sockets = []
    started = time.time()
    for i in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind((f'127.0.0.{2 + i % 8}', 0))
        s.connect(('127.0.0.1', port))
        s.sendall(connect_packet(f'idle-{i}'))
        sockets.append(s)
    for s in sockets:
        if len(s.recv(4)) != 4:
            raise SystemExit('CONNACK missing')
    elapsed = time.time() - started
    time.sleep(int(sys.argv[4]) if len(sys.argv) > 4 else 5)
    after = rss_kb(pid)
    print(f'{n} connections in {elapsed:.1f} s ({n / elapsed:.0f}/s); RSS {before} KB -> {after} KB; '
          f'{(after - before) / n:.2f} KB per idle connection')
    for s in sockets:
        s.close()

if __name__ == '__main__':
    main()
