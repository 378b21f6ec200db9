#!/usr/bin/python3
"""Holds every packet of one NFQUEUE queue for a fixed delay (+ uniform jitter), then accepts it.

The lab's latency impairment (the kernel here has no netem): iptables sends a direction's packets to
this queue with `-j NFQUEUE --queue-num N --queue-bypass`, this program answers each packet's verdict
late. Speaks nfnetlink_queue over a raw netlink socket (no libnetfilter_queue needed).
Usage: nfq_delay.py QUEUE DELAY_MS [JITTER_MS]. Stops on SIGTERM/SIGINT; with --queue-bypass the path
passes packets undelayed once it is gone.
"""
import heapq, os, random, select, signal, socket, struct, sys, time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN = 1, 2, 3
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NF_ACCEPT = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2


def attr(kind, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def message(msg_type, queue, attrs, flags=NLM_F_REQUEST, seq=0):
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, seq, 0) + body


def main():
    queue, delay = int(sys.argv[1]), float(sys.argv[2]) / 1000.0
    jitter = float(sys.argv[3]) / 1000.0 if len(sys.argv) > 3 else 0.0
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    signal.signal(signal.SIGINT, lambda *_: running.__setitem__(0, False))
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind((0, 0))
    kernel = (0, 0)
    sock.sendto(message(NFQNL_MSG_CONFIG, queue, [attr(NFQA_CFG_CMD, struct.pack("=BBH", NFQNL_CFG_CMD_BIND, 0, socket.htons(socket.AF_INET)))], NLM_F_REQUEST | NLM_F_ACK, 1), kernel)
    sock.sendto(message(NFQNL_MSG_CONFIG, queue, [attr(NFQA_CFG_PARAMS, struct.pack(">IB", 0, NFQNL_COPY_META)),
                                                  attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack(">I", 8192))], NLM_F_REQUEST | NLM_F_ACK, 2), kernel)
    print(f"nfq_delay: queue {queue} delay {delay * 1000:.0f} ms jitter {jitter * 1000:.0f} ms", flush=True)
    held = []  # (due, order, packet id)
    order = 0
    last_due = 0.0
    while running[0]:
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, _, packet_id = heapq.heappop(held)
            sock.sendto(message(NFQNL_MSG_VERDICT, queue, [attr(NFQA_VERDICT_HDR, struct.pack(">II", NF_ACCEPT, packet_id))]), kernel)
        wait = max(0.0, held[0][0] - now) if held else 0.2
        try:
            ready, _, _ = select.select([sock], [], [], wait)
        except InterruptedError:
            continue
        if not ready:
            continue
        try:
            data = sock.recv(1 << 16)
        except BlockingIOError:
            continue
        except OSError as error:  # ENOBUFS: the kernel dropped some; they are lost packets, as on a radio
            print(f"nfq_delay: {error}", file=sys.stderr, flush=True)
            continue
        offset = 0
        while offset + 16 <= len(data):
            length, msg_type, _, _, _ = struct.unpack_from("=IHHII", data, offset)
            if length < 16:
                break
            if msg_type == NLMSG_ERROR:
                code = struct.unpack_from("=i", data, offset + 16)[0]
                if code != 0:
                    print(f"nfq_delay: netlink error {code}", file=sys.stderr, flush=True)
                    sys.exit(1)
            elif msg_type & 0xFF == NFQNL_MSG_PACKET and msg_type >> 8 == NFNL_SUBSYS_QUEUE:
                position = offset + 20
                end = offset + length
                while position + 4 <= end:
                    attr_length, attr_type = struct.unpack_from("=HH", data, position)
                    if attr_length < 4:
                        break
                    if attr_type & 0x7FFF == NFQA_PACKET_HDR:
                        packet_id = struct.unpack_from(">I", data, position + 4)[0]
                        due = time.monotonic() + delay + (random.uniform(-jitter, jitter) if jitter else 0.0)
                        if not jitter:
                            due = max(due, last_due)  # keep FIFO order when there is no jitter
                        last_due = due
                        order += 1
                        heapq.heappush(held, (due, order, packet_id))
                    position += (attr_length + 3) & ~3
            offset += (length + 3) & ~3
    sock.close()


if __name__ == "__main__":
    main()
