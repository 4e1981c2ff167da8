#!/usr/bin/python3
"""Measure what the emulated link actually does, between namespaces A and B.

  selfcheck.py serve --port P                      (in B) UDP sink/echo + TCP control on port P
  selfcheck.py run --to 198.18.2.2 --port P --config CONFIG.json --stats-file STATS.jsonl
               [--checks delay,loss,rate] [--seconds S]      (in A; against a running linkem)
  selfcheck.py full --prefix PREFIX --config CONFIG.json [--port P] [--keep-tmp]
               (root namespace: runs linkem in PREFIX-r with derived configs, serve in PREFIX-b,
                run in PREFIX-a; prints one JSON object with "ok"; exit 0 even if a check fails,
                non-zero only if it could not measure)

Packets: UDP payload = magic "MMSC" | kind (P probe, E echo, F flood) | seq u32 | send_ns u64
(CLOCK_REALTIME; namespaces share the clock so one-way delay = kernel receive timestamp - send_ns).
"""

import argparse
import json
import math
import os
import select
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from link_model import Link, stationary_loss  # noqa: E402

PY = "/usr/bin/python3"
HDR = struct.Struct("!4scIQ")
MAGIC = b"MMSC"
SO_TIMESTAMPNS = 35
UDP_IP_OVERHEAD = 28
PROBE_PAYLOAD = 32
FLOOD_PAYLOAD = 1472  # 1500-byte IP packets = one delivery opportunity each

DELAY_TOL_MS = 2.0
LOSS_TOL_PTS = 1.0
RATE_TOL = 0.03
TARGET_LOSS_SE_PTS = 0.3


def now_ns():
    return time.time_ns()


def udp_socket(bind=("0.0.0.0", 0)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    # large buffers so that a receiver descheduled for a while loses nothing (FORCE: root may
    # exceed net.core.rmem_max / wmem_max; fall back to the capped variants otherwise)
    for force, plain, size in ((33, socket.SO_RCVBUF, 16 << 20), (32, socket.SO_SNDBUF, 4 << 20)):
        try:
            s.setsockopt(socket.SOL_SOCKET, force, size)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, plain, size)
    s.bind(bind)
    return s


def recv_ts(s):
    """-> (data, addr, recv_ns) using the kernel receive timestamp when present."""
    data, anc, _flags, addr = s.recvmsg(65536, 64)
    ts = None
    for lvl, typ, d in anc:
        if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(d) >= 16:
            sec, nsec = struct.unpack("qq", d[:16])
            ts = sec * 1_000_000_000 + nsec
    return data, addr, ts if ts is not None else now_ns()


def make_pkt(kind, seq, size):
    h = HDR.pack(MAGIC, kind, seq, now_ns())
    return h + b"\0" * (size - len(h)) if size > len(h) else h


def paced_send(sock, dst, kind, count, pps, size, stop_at=None, prefill=0):
    """Send `count` packets (or until stop_at epoch s) at `pps`, in small bursts; `prefill`
    packets are sent at once first (to build a backlog in the link's queue)."""
    t0 = time.monotonic() - prefill / pps
    k = 0
    pad = b"\0" * max(0, size - HDR.size)
    while count is None or k < count:
        now = time.monotonic()
        if stop_at is not None and time.time() >= stop_at:
            break
        due = int((now - t0) * pps) + 1
        if count is not None:
            due = min(due, count)
        while k < due:
            try:
                sock.sendto(HDR.pack(MAGIC, kind, k, now_ns()) + pad, dst)
            except (BlockingIOError, OSError):
                pass
            k += 1
        nxt = t0 + k / pps
        dt = nxt - time.monotonic()
        if dt > 0:
            time.sleep(min(dt, 0.002) if dt > 0.0005 else dt)
    return k


def per_second_bytes(recs, start_epoch_ms, offset_ms=0.0):
    """recs: iterable of (recv_ns, ip_len) -> {second: bytes} on the link's time axis."""
    out = {}
    for rns, ln in recs:
        t = rns / 1e6 - start_epoch_ms - offset_ms
        s = int(math.floor(t / 1000.0))
        out[s] = out.get(s, 0) + ln
    return out


# ---------------------------------------------------------------------------------------------
# serve (in B)


def cmd_serve(args):
    u = udp_socket(("0.0.0.0", args.port))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("0.0.0.0", args.port))
    t.listen(8)
    probes = {}   # seq -> (send_ns, recv_ns)
    flood = []    # (recv_ns, ip_len)
    peer = [None]
    deadline = time.time() + args.seconds if args.seconds else None
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("ready\n")

    def do_flood(to, port, pps, seconds, prefill):
        s = udp_socket()
        paced_send(s, (to, port), b"F", None, pps, FLOOD_PAYLOAD, stop_at=time.time() + seconds,
                   prefill=prefill)
        s.close()

    def handle(conn):
        conn.settimeout(10)
        buf = b""
        while not buf.endswith(b"\n"):
            d = conn.recv(65536)
            if not d:
                return
            buf += d
        req = json.loads(buf)
        c = req.get("cmd")
        if c == "reset":
            probes.clear()
            flood.clear()
            resp = {"ok": True}
        elif c == "report":
            delays = sorted((r - s) / 1e6 for s, r in probes.values())
            resp = {"probes_received": len(probes),
                    "delay_median_ms": statistics.median(delays) if delays else None,
                    "delay_p5_ms": delays[len(delays) // 20] if delays else None,
                    "delay_p95_ms": delays[len(delays) * 19 // 20] if delays else None,
                    "flood_packets": len(flood)}
            if "start_epoch_ms" in req:
                resp["flood_per_second"] = per_second_bytes(flood, req["start_epoch_ms"],
                                                            req.get("offset_ms", 0.0))
        elif c == "flood":
            th = threading.Thread(target=do_flood, args=(req["to"], req["port"], req["pps"], req["seconds"],
                                                                req.get("prefill", 0)),
                                  daemon=True)
            th.start()
            resp = {"ok": True}
        elif c == "quit":
            conn.sendall(b'{"ok": true}\n')
            return "quit"
        else:
            resp = {"error": f"unknown cmd {c!r}"}
        conn.sendall((json.dumps(resp) + "\n").encode())
        return None

    u.setblocking(False)
    while True:
        if deadline and time.time() > deadline:
            break
        r, _, _ = select.select([u, t], [], [], 0.2)
        if t in r:
            conn, _ = t.accept()
            try:
                if handle(conn) == "quit":
                    conn.close()
                    break
            except (OSError, ValueError) as e:
                print(f"selfcheck serve: control error: {e}", file=sys.stderr)
            finally:
                conn.close()
        if u in r:
            for _ in range(2048):
                try:
                    data, addr, rns = recv_ts(u)
                except BlockingIOError:
                    break
                if len(data) < HDR.size or data[:4] != MAGIC:
                    continue
                _, kind, seq, sns = HDR.unpack_from(data)
                if kind == b"P":
                    probes[seq] = (sns, rns)
                    try:
                        u.sendto(make_pkt(b"E", seq, PROBE_PAYLOAD), addr)
                    except OSError:
                        pass
                elif kind == b"F":
                    flood.append((rns, len(data) + UDP_IP_OVERHEAD))
    return 0


# ---------------------------------------------------------------------------------------------
# run (in A)


def control(host, port, req, timeout=20.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=max(1.0, deadline - time.time())) as c:
                c.sendall((json.dumps(req) + "\n").encode())
                buf = b""
                while not buf.endswith(b"\n"):
                    d = c.recv(65536)
                    if not d:
                        break
                    buf += d
                return json.loads(buf)
        except (OSError, ValueError) as e:
            last = e
            time.sleep(0.2)
    raise RuntimeError(f"control request {req.get('cmd')} to {host}:{port} failed: {last}")


class Receiver(threading.Thread):
    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock = sock
        self.echo = {}    # seq -> (send_ns, recv_ns)
        self.flood = []   # (recv_ns, ip_len)
        self.stop = False

    def run(self):
        s = self.sock
        s.settimeout(0.2)
        while not self.stop:
            try:
                data, _, rns = recv_ts(s)
            except socket.timeout:
                continue
            except OSError:
                break
            if len(data) < HDR.size or data[:4] != MAGIC:
                continue
            _, kind, seq, sns = HDR.unpack_from(data)
            if kind == b"E":
                self.echo[seq] = (sns, rns)
            elif kind == b"F":
                self.flood.append((rns, len(data) + UDP_IP_OVERHEAD))


def read_start_epoch(path, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                line = f.readline()
            if line.endswith("\n"):
                return float(json.loads(line)["start_epoch_ms"])
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"no start_epoch_ms in stats file {path}")


def loss_plan(loss):
    """-> (probe count, variance inflation factor) so that the loss SE is ~TARGET_LOSS_SE_PTS."""
    p = stationary_loss(loss)
    f = 1.0
    if loss and loss.get("kind") == "ge":
        lam = 1.0 - float(loss["p_gb"]) - float(loss["p_bg"])
        lam = min(max(lam, 0.0), 0.99)
        f = (1 + lam) / (1 - lam)
    var = max(p * (1 - p), 0.01 * 0.99) * f
    n = int(var / (TARGET_LOSS_SE_PTS / 100) ** 2) + 1
    return max(5000, min(n, 40000)), f


def loss_stats(sent, received, f):
    lost = max(0, sent - received)
    p = lost / sent if sent else 0.0
    se = math.sqrt(max(p * (1 - p), 1e-12) * f / sent) if sent else None
    return 100 * p, (100 * se if se is not None else None)


def rate_check(per_sec, link, seconds):
    rows = []
    ok = True
    for s in seconds:
        cap = link.capacity_bytes_between(s * 1000.0, (s + 1) * 1000.0)
        got = per_sec.get(s, 0) if per_sec else 0
        tol = max(RATE_TOL * cap, 1500)
        good = abs(got - cap) <= tol
        ok &= good
        rows.append({"s": s, "measuredBps": got * 8, "capacityBps": cap * 8,
                     "err": (got - cap) / cap if cap else None, "ok": good})
    return rows, ok and bool(rows)


def flood_pps(link, t0_s, seconds):
    """-> (pps, prefill): 1.2 x the largest per-second capacity in the window, and ~0.3 s of
    that capacity sent at once so that the queue stays backlogged through scheduling hiccups."""
    mx = 0
    for s in range(int(t0_s), int(t0_s + seconds) + 2):
        mx = max(mx, link.capacity_bytes_between(s * 1000.0, (s + 1) * 1000.0) / 1500)
    return int(mx * 1.2) + 30, min(600, int(mx * 0.3) + 10)


def cmd_run(args):
    with open(args.config) as f:
        cfg = json.load(f)
    base = os.path.dirname(os.path.abspath(args.config))
    checks = set(args.checks.split(","))
    fcfg, rcfg = cfg.get("forward") or {}, cfg.get("reverse") or {}
    fl, rl = Link(fcfg, base), Link(rcfg, base)
    start_ms = read_start_epoch(args.stats_file)
    host, port = args.to, args.port
    sock = udp_socket()
    rx = Receiver(sock)
    rx.start()
    res = {"forward": {}, "reverse": {}}
    control(host, port, {"cmd": "reset"})

    if "delay" in checks or "loss" in checks:
        nf, ff = loss_plan(fcfg.get("loss"))
        nr, fr = loss_plan(rcfg.get("loss"))
        n = max(nf, nr)
        if args.seconds:
            pps = max(200, int(n / args.seconds))
        else:
            pps = min(5000, max(2000, int(n / 5)))
        sent = paced_send(sock, (host, port), b"P", n, pps, PROBE_PAYLOAD)
        time.sleep(0.3 + (float(fcfg.get("delay_ms", 0)) + float(rcfg.get("delay_ms", 0))
                          + float(fcfg.get("jitter_ms", 0)) + float(rcfg.get("jitter_ms", 0))) / 1000.0)
        rep = control(host, port, {"cmd": "report"})
        recv_b = rep["probes_received"]
        rdel = sorted((r - s) / 1e6 for s, r in list(rx.echo.values()))
        for name, dcfg, lcfg, snt, rcv, med, f in (
                ("forward", fcfg, fcfg.get("loss"), sent, recv_b, rep["delay_median_ms"], ff),
                ("reverse", rcfg, rcfg.get("loss"), recv_b, len(rx.echo),
                 statistics.median(rdel) if rdel else None, fr)):
            d = res[name]
            if "delay" in checks:
                set_d = float(dcfg.get("delay_ms", 0) or 0)
                d["delayMs"] = {"measured": None if med is None else round(med, 3), "set": set_d,
                                "ok": med is not None and abs(med - set_d) <= DELAY_TOL_MS}
            if "loss" in checks:
                pct, se = loss_stats(snt, rcv, f)
                set_p = 100 * stationary_loss(lcfg)
                d["lossPct"] = {"measured": round(pct, 3), "set": round(set_p, 3),
                                "stderr": round(se, 3) if se is not None else None,
                                "probes": snt, "ok": abs(pct - set_p) <= LOSS_TOL_PTS}
        control(host, port, {"cmd": "reset"})

    if "rate" in checks:
        fsec = args.flood_seconds
        for name, dcfg, link in (("forward", fcfg, fl), ("reverse", rcfg, rl)):
            if link.schedule is None:
                res[name]["rateBps"] = {"measured": None, "set": None, "ok": True, "note": "unlimited"}
                continue
            t_link = (time.time() * 1000 - start_ms) / 1000.0
            pps, prefill = flood_pps(link, t_link, fsec)
            off = float(dcfg.get("delay_ms", 0) or 0) + args.offset_ms
            fl_start = time.time()
            if name == "forward":
                paced_send(sock, (host, port), b"F", None, pps, FLOOD_PAYLOAD, stop_at=fl_start + fsec,
                           prefill=prefill)
                time.sleep(0.2 + off / 1000.0)
                rep = control(host, port, {"cmd": "report", "start_epoch_ms": start_ms, "offset_ms": off})
                per = {int(k): v for k, v in rep.get("flood_per_second", {}).items()}
            else:
                rx.flood.clear()
                myaddr = sock.getsockname()
                local_ip = args.local_ip
                control(host, port, {"cmd": "flood", "to": local_ip, "port": myaddr[1], "pps": pps,
                                     "seconds": fsec, "prefill": prefill})
                time.sleep(fsec + 0.3 + off / 1000.0)
                per = per_second_bytes(list(rx.flood), start_ms, off)
            # seconds fully inside [flood start + 0.4 s (backlog builds), flood end - 0.05 s]
            a = (fl_start * 1000 - start_ms) / 1000.0 + 0.4
            b = (fl_start * 1000 - start_ms) / 1000.0 + fsec - 0.05
            secs = list(range(int(math.ceil(a)), int(math.floor(b))))
            rows, ok = rate_check(per, link, secs)
            res[name]["rateBps"] = {"perSecond": rows, "floodPps": pps, "ok": ok,
                                    "mean": link.mean_rate_bps()}
            control(host, port, {"cmd": "reset"})
    rx.stop = True
    for d in res.values():
        d["ok"] = all(v.get("ok", True) for v in d.values() if isinstance(v, dict))
    res["ok"] = res["forward"]["ok"] and res["reverse"]["ok"]
    print(json.dumps(res))
    return 0


# ---------------------------------------------------------------------------------------------
# full (root namespace)


def derive(cfg, phase):
    out = dict(cfg)
    for side in ("forward", "reverse"):
        d = dict(cfg.get(side) or {})
        d["jitter_ms"] = 0
        d["reorder"] = False
        if phase == "delayloss":
            d["rate"] = None
            d["queue"] = None
            d["outages"] = []
        else:  # rate
            d["loss"] = None
            d["delay_ms"] = 0
            d["queue"] = {"bytes": 400_000}
        out[side] = d
    return out


def resolve_files(cfg, base):
    for side in ("forward", "reverse"):
        r = (cfg.get(side) or {}).get("rate")
        if isinstance(r, dict) and "file" in r and not os.path.isabs(r["file"]):
            r["file"] = os.path.join(base, r["file"])
    return cfg


def cmd_full(args):
    pre = args.prefix
    A, B, R = f"{pre}-a", f"{pre}-b", f"{pre}-r"
    with open(args.config) as f:
        cfg = json.load(f)
    cfg = resolve_files(cfg, os.path.dirname(os.path.abspath(args.config)))
    try:
        Link(cfg.get("forward"))
        Link(cfg.get("reverse"))
    except Exception as e:  # noqa: BLE001
        print(f"selfcheck: bad config: {e}", file=sys.stderr)
        return 2
    a_ip = cfg.get("a_ip", "198.18.1.2")
    b_ip = cfg.get("b_ip", "198.18.2.2")
    tmp = tempfile.mkdtemp(prefix="mmsc-selfcheck-")
    result = {"forward": {}, "reverse": {}, "phases": {}}
    phases = ["delayloss"]
    if (cfg.get("forward") or {}).get("rate") or (cfg.get("reverse") or {}).get("rate"):
        phases.append("rate")
    t_begin = time.time()
    procs = []

    def stop(p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    try:
        for ph in phases:
            dcfg = derive(cfg, ph)
            dcfg["bypass_tcp_port"] = args.port
            cpath = os.path.join(tmp, f"{ph}.json")
            spath = os.path.join(tmp, f"{ph}.stats.jsonl")
            ready = os.path.join(tmp, f"{ph}.ready")
            with open(cpath, "w") as f:
                json.dump(dcfg, f)
            rt = ["chrt", "-f", "10"] if args.realtime and _have("chrt") else []
            lk = subprocess.Popen(["ip", "netns", "exec", R] + rt + [PY, os.path.join(HERE, "linkem.py"),
                                   "--tun", args.tun, "--config", cpath, "--stats", spath],
                                  stderr=subprocess.PIPE)
            procs.append(lk)
            sv = subprocess.Popen(["ip", "netns", "exec", B, PY, os.path.abspath(__file__), "serve",
                                   "--port", str(args.port), "--seconds", "120", "--ready-file", ready],
                                  stderr=subprocess.PIPE)
            procs.append(sv)
            t_wait = time.time() + 5
            while time.time() < t_wait and not (os.path.exists(ready) and os.path.exists(spath)):
                if lk.poll() is not None or sv.poll() is not None:
                    break
                time.sleep(0.05)
            if lk.poll() is not None:
                raise RuntimeError(f"linkem exited: {lk.stderr.read().decode().strip()}")
            if sv.poll() is not None:
                raise RuntimeError(f"serve exited: {sv.stderr.read().decode().strip()}")
            checks = "delay,loss" if ph == "delayloss" else "rate"
            rn = subprocess.run(["ip", "netns", "exec", A, PY, os.path.abspath(__file__), "run",
                                 "--to", b_ip, "--local-ip", a_ip, "--port", str(args.port),
                                 "--config", cpath, "--stats-file", spath, "--checks", checks],
                                capture_output=True, timeout=120)
            stop(sv)
            stop(lk)
            if rn.returncode != 0:
                raise RuntimeError(f"run ({ph}) failed: {rn.stderr.decode().strip()[-500:]}")
            r = json.loads(rn.stdout)
            for side in ("forward", "reverse"):
                for k, v in r[side].items():
                    if k != "ok":
                        result[side][k] = v
            result["phases"][ph] = {"config": dcfg, "linkStats": _last_line(spath)}
    except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as e:
        for p in procs:
            stop(p)
        print(f"selfcheck: could not measure: {e}", file=sys.stderr)
        return 3
    finally:
        for p in procs:
            stop(p)
        if not args.keep_tmp:
            for fn in os.listdir(tmp):
                os.unlink(os.path.join(tmp, fn))
            os.rmdir(tmp)
    for side in ("forward", "reverse"):
        d = result[side]
        if "rateBps" not in d:
            d["rateBps"] = {"measured": None, "set": None, "ok": True, "note": "unlimited"}
        d["ok"] = all(v.get("ok", True) for v in d.values() if isinstance(v, dict))
    result["ok"] = result["forward"]["ok"] and result["reverse"]["ok"]
    result["seconds"] = round(time.time() - t_begin, 2)
    if not args.verbose:
        result.pop("phases")
    print(json.dumps(result))
    return 0


def _have(prog):
    from shutil import which

    return which(prog) is not None


def _last_line(path):
    try:
        with open(path) as f:
            lines = f.read().splitlines()
        return json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description="emulated-link self-check")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--seconds", type=float, default=0, help="exit after this long (0 = never)")
    s.add_argument("--ready-file", default=None)
    r = sub.add_parser("run")
    r.add_argument("--to", default="198.18.2.2")
    r.add_argument("--local-ip", default="198.18.1.2")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--config", required=True)
    r.add_argument("--stats-file", required=True)
    r.add_argument("--checks", default="delay,loss,rate")
    r.add_argument("--seconds", type=float, default=None, help="duration of the probe phase")
    r.add_argument("--flood-seconds", type=float, default=3.6)
    r.add_argument("--offset-ms", type=float, default=0.3,
                   help="forwarding latency subtracted when aligning arrivals with link seconds")
    f = sub.add_parser("full")
    f.add_argument("--prefix", required=True)
    f.add_argument("--config", required=True)
    f.add_argument("--port", type=int, default=9500)
    f.add_argument("--tun", default="mmlink")
    f.add_argument("--keep-tmp", action="store_true")
    f.add_argument("--no-realtime", dest="realtime", action="store_false",
                   help="do not run linkem with SCHED_FIFO priority (chrt -f 10)")
    f.add_argument("--verbose", action="store_true", help="include derived configs and link stats")
    a = ap.parse_args(argv)
    if a.cmd == "serve":
        return cmd_serve(a)
    if a.cmd == "run":
        try:
            return cmd_run(a)
        except (RuntimeError, OSError, ValueError) as e:
            print(f"selfcheck run: could not measure: {e}", file=sys.stderr)
            return 3
    return cmd_full(a)


if __name__ == "__main__":
    sys.exit(main())
