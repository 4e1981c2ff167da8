#!/usr/bin/python3
"""User-space link emulator loop (runs in the router namespace PREFIX-r).

usage: linkem.py --tun mmlink --config CONFIG.json [--stats STATS.jsonl]

CONFIG: {"forward": <direction>, "reverse": <direction>, "a_net": "198.18.1.0/24", "b_net": "198.18.2.0/24"}
  forward = packets whose IPv4 destination is in b_net (towards the receiver), reverse = source in
  b_net (B->A); packets to or from a_net that touch neither (the sender and a TURN relay, in the NAT
  topology) pass unimpaired: the emulated link is the receiver's access link.
  <direction> is a link_model.Link config (see README.md).
Reads packets from the TUN device, runs each through its direction's Link model and writes it
back into the same TUN when the model releases it. Stats: one JSON line per second (cumulative
counters); the first line carries start_epoch_ms (wall clock of model time 0).
SIGTERM/SIGINT -> final stats line, exit 0. Errors -> one line on stderr, exit 2.
"""

import argparse
import fcntl
import ipaddress
import json
import os
import select
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from link_model import ConfigError, Link  # noqa: E402

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def fail(msg):
    print(f"linkem: {msg}", file=sys.stderr)
    sys.exit(2)


def open_tun(name):
    # attach only to an existing (persistent) device: TUNSETIFF would otherwise create a new one
    import socket

    try:
        socket.if_nametoindex(name)
    except OSError:
        fail(f"no TUN device {name!r} in this network namespace (create it: netns.sh up PREFIX)")
    try:
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    except OSError as e:
        fail(f"cannot open /dev/net/tun: {e.strerror}")
    ifr = struct.pack("16sH22x", name.encode(), IFF_TUN | IFF_NO_PI)
    try:
        fcntl.ioctl(fd, TUNSETIFF, ifr)
    except OSError as e:
        os.close(fd)
        fail(f"cannot attach TUN {name!r} (TUNSETIFF): {e.strerror}")
    return fd


def load_config(path):
    try:
        with open(path) as f:
            cfg = json.load(f)
    except OSError as e:
        fail(f"cannot read config {path}: {e.strerror}")
    except ValueError as e:
        fail(f"bad config {path}: invalid JSON: {e}")
    if not isinstance(cfg, dict):
        fail(f"bad config {path}: top level must be an object")
    base = os.path.dirname(os.path.abspath(path))
    try:
        fwd = Link(cfg.get("forward"), base_dir=base)
        rev = Link(cfg.get("reverse"), base_dir=base)
        a_net = ipaddress.ip_network(cfg.get("a_net", "198.18.1.0/24"))
        b_net = ipaddress.ip_network(cfg.get("b_net", "198.18.2.0/24"))
        bypass = cfg.get("bypass_tcp_port")
        if bypass is not None and not (isinstance(bypass, int) and 0 < bypass < 65536):
            raise ConfigError("bypass_tcp_port must be a port number")
    except ConfigError as e:
        fail(f"bad config {path}: {e}")
    except (ValueError, TypeError) as e:
        fail(f"bad config {path}: {e}")
    return fwd, rev, a_net, b_net, bypass


def main(argv=None):
    ap = argparse.ArgumentParser(description="user-space TUN link emulator")
    ap.add_argument("--tun", default="mmlink")
    ap.add_argument("--config", required=True)
    ap.add_argument("--stats", default=None)
    args = ap.parse_args(argv)

    fwd, rev, a_net, b_net, bypass = load_config(args.config)
    fd = open_tun(args.tun)
    stats_f = None
    if args.stats:
        try:
            stats_f = open(args.stats, "w", buffering=1)
        except OSError as e:
            fail(f"cannot open stats file {args.stats}: {e.strerror}")

    a_int, a_mask = int(a_net.network_address), int(a_net.netmask)
    b_int, b_mask = int(b_net.network_address), int(b_net.netmask)
    stop = [False]

    def on_sig(signum, frame):
        stop[0] = True

    signal.signal(signal.SIGTERM, on_sig)
    signal.signal(signal.SIGINT, on_sig)

    mono = time.monotonic
    t0 = mono()
    start_epoch_ms = time.time() * 1000.0
    other = [0]
    passed = [0]

    def write_stats(t_s, first=False):
        if not stats_f:
            return
        rec = {"t_s": round(t_s, 3)}
        if first:
            rec["start_epoch_ms"] = round(start_epoch_ms, 3)
        rec["forward"] = fwd.counters()
        rec["reverse"] = rev.counters()
        rec["other_dropped"] = other[0]
        rec["passed"] = passed[0]
        stats_f.write(json.dumps(rec) + "\n")

    write_stats(0.0, first=True)
    next_stats = 1.0
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    read = os.read
    write = os.write
    from_bytes = int.from_bytes
    links = (fwd, rev)

    while not stop[0]:
        now = (mono() - t0) * 1000.0
        nxt = next_stats * 1000.0
        for ln in links:
            e = ln.next_event_ms()
            if e is not None and e < nxt:
                nxt = e
        timeout = nxt - now
        if timeout < 0:
            timeout = 0
        if timeout > 100:
            timeout = 100
        try:
            ev = poller.poll(timeout)
        except InterruptedError:
            ev = None
        now = (mono() - t0) * 1000.0
        if ev:
            for _ in range(1024):
                try:
                    pkt = read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError as e:
                    fail(f"read from TUN failed: {e.strerror}")
                if len(pkt) < 20 or (pkt[0] >> 4) != 4:
                    other[0] += 1
                    continue
                # The self-check's control connection (TCP, one port; never in a scenario's config)
                # passes unimpaired, so its commands do not queue behind its own flood.
                if bypass is not None and pkt[9] == 6:
                    ihl = (pkt[0] & 15) * 4
                    if from_bytes(pkt[ihl:ihl + 2], "big") == bypass or from_bytes(pkt[ihl + 2:ihl + 4], "big") == bypass:
                        passed[0] += 1
                        try:
                            write(fd, pkt)
                        except OSError:
                            other[0] += 1
                        continue
                # The emulated link is the receiver's access link: towards b_net is forward, from it
                # reverse. Anything else (the sender to a relay, behind NAT) passes unimpaired.
                src = from_bytes(pkt[12:16], "big")
                dst = from_bytes(pkt[16:20], "big")
                if (dst & b_mask) == b_int:
                    fwd.arrive(now, len(pkt), pkt)
                elif (src & b_mask) == b_int:
                    rev.arrive(now, len(pkt), pkt)
                elif (src & a_mask) == a_int or (dst & a_mask) == a_int:
                    passed[0] += 1
                    try:
                        write(fd, pkt)
                    except OSError:
                        other[0] += 1
                else:
                    other[0] += 1
            now = (mono() - t0) * 1000.0
        for ln in links:
            for p in ln.pop_ready(now):
                try:
                    write(fd, p)
                except OSError:
                    other[0] += 1
        if now >= next_stats * 1000.0:
            write_stats(now / 1000.0)
            next_stats = int(now / 1000.0) + 1.0
    write_stats((mono() - t0))
    if stats_f:
        stats_f.close()
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
