"""Pure timing model of one direction of an emulated link (mahimahi style).

No I/O except the optional trace-file loader; time is always passed in (milliseconds,
relative to the link's start = 0). Deterministic for a given config (incl. "seed").

Pipeline for each packet:  loss (on arrival, before the queue) -> drop-tail queue ->
delivery opportunities (rate / trace, minus outages) -> propagation delay + jitter -> ready.

See README.md for the config format and the exact semantics.
"""

from __future__ import annotations

import heapq
import random
from bisect import bisect_left, bisect_right
from collections import deque

MTU_BYTES = 1500  # bytes served by one delivery opportunity


class ConfigError(ValueError):
    """Invalid link configuration or trace file."""


# ---------------------------------------------------------------------------------------------
# Traces


def parse_trace_lines(lines, name="trace"):
    """Parse mahimahi trace lines -> list[int] of opportunity times (ms). Raises ConfigError."""
    out = []
    prev = None
    for lineno, raw in enumerate(lines, 1):
        s = raw.strip()
        if not s:
            continue
        try:
            v = int(s)
        except ValueError:
            raise ConfigError(f"{name}: line {lineno}: not an integer: {s[:40]!r}") from None
        if v < 0:
            raise ConfigError(f"{name}: line {lineno}: negative value {v}")
        if prev is not None and v < prev:
            raise ConfigError(f"{name}: line {lineno}: value {v} decreases (previous {prev})")
        prev = v
        out.append(v)
    if not out:
        raise ConfigError(f"{name}: empty trace")
    if out[-1] <= 0:
        raise ConfigError(f"{name}: last value must be > 0 (it is the period in ms)")
    return out


def load_trace(path):
    """Load and validate a mahimahi trace file -> list[int]. Raises ConfigError."""
    try:
        with open(path, "r", encoding="ascii", errors="replace") as f:
            return parse_trace_lines(f, name=str(path))
    except OSError as e:
        raise ConfigError(f"cannot read trace {path}: {e.strerror or e}") from None


# ---------------------------------------------------------------------------------------------
# Delivery-opportunity schedule


class Schedule:
    """Periodic opportunity schedule: times p*period + v[i] for cycles p >= 0, minus outages.

    Opportunity index k (global, >= 0) -> time (k // n) * period + v[k % n].
    """

    def __init__(self, opps, period, outages=()):
        if not opps:
            raise ConfigError("schedule has no delivery opportunities")
        if period <= 0:
            raise ConfigError("schedule period must be > 0")
        self.v = [float(x) for x in opps]
        self.n = len(self.v)
        self.period = float(period)
        # merged outage intervals [start, end) in ms
        iv = []
        for o in outages or ():
            try:
                a = float(o["at_s"]) * 1000.0
                b = a + float(o["for_s"]) * 1000.0
            except (KeyError, TypeError, ValueError):
                raise ConfigError(f"bad outage {o!r}: need at_s and for_s numbers") from None
            if b > a:
                iv.append((a, b))
        iv.sort()
        merged = []
        for a, b in iv:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        self.outages = merged
        self._out_starts = [a for a, _ in merged]

    def time_of(self, k):
        c, i = divmod(k, self.n)
        return c * self.period + self.v[i]

    def count_before(self, t, inclusive=False):
        """Number of opportunities (ignoring outages) with time < t (<= t if inclusive)."""
        if t < 0:
            return 0
        bis = bisect_right if inclusive else bisect_left
        P = self.period
        q = int(t // P)
        total = 0
        # cycles p <= q-2: all n opportunities are < t (since v <= P)
        if q >= 2:
            total += (q - 1) * self.n
        for p in (q - 1, q):
            if p < 0:
                continue
            total += bis(self.v, t - p * P)
        return total

    def outage_end_at(self, t):
        """If t lies in an outage, return its end, else None."""
        j = bisect_right(self._out_starts, t) - 1
        if j >= 0 and t < self.outages[j][1]:
            return self.outages[j][1]
        return None

    def capacity_opps_between(self, t0, t1):
        """Opportunities with t0 <= time < t1, outages removed."""
        if t1 <= t0:
            return 0
        n = self.count_before(t1) - self.count_before(t0)
        for a, b in self.outages:
            lo, hi = max(a, t0), min(b, t1)
            if hi > lo:
                n -= self.count_before(hi) - self.count_before(lo)
        return n

    def mean_rate_bps(self):
        """Long-run mean rate of the periodic schedule (outages NOT included)."""
        return self.n * MTU_BYTES * 8 * 1000.0 / self.period


def make_schedule(rate, outages=(), base_dir=None):
    """Build a Schedule from a "rate" config dict, or None for unlimited."""
    if rate is None:
        return None
    if not isinstance(rate, dict):
        raise ConfigError("rate must be an object or null")
    kind = rate.get("kind")
    if kind == "constant":
        try:
            bps = float(rate["bps"])
        except (KeyError, TypeError, ValueError):
            raise ConfigError("rate.constant needs numeric bps") from None
        if bps <= 0:
            raise ConfigError("rate.bps must be > 0")
        interval = MTU_BYTES * 8 * 1000.0 / bps  # ms between 1500-byte opportunities
        return Schedule([interval], interval, outages)
    if kind == "trace":
        if "file" in rate:
            path = rate["file"]
            if base_dir and not str(path).startswith("/"):
                import os

                path = os.path.join(base_dir, path)
            opps = load_trace(path)
            return Schedule(opps, opps[-1], outages)
        if "opportunities_ms" in rate:
            opps = parse_trace_lines([str(x) for x in rate["opportunities_ms"]], "opportunities_ms")
            period = rate.get("period_ms", opps[-1])
            if period is None or float(period) <= 0 or float(period) < opps[-1]:
                raise ConfigError("period_ms must be > 0 and >= the last opportunity")
            return Schedule(opps, float(period), outages)
        raise ConfigError("rate.trace needs 'file' or 'opportunities_ms'")
    raise ConfigError(f"unknown rate kind {kind!r}")


# ---------------------------------------------------------------------------------------------
# Loss


class _NoLoss:
    def lose(self):
        return False


class _IidLoss:
    def __init__(self, p, rng):
        if not 0.0 <= p <= 1.0:
            raise ConfigError("loss.p must be in [0, 1]")
        self.p, self.rng = p, rng

    def lose(self):
        return self.rng.random() < self.p


class _GELoss:
    """Gilbert-Elliott, per packet: lose with the current state's probability, then transition."""

    def __init__(self, p_gb, p_bg, loss_good, loss_bad, rng):
        for nm, x in (("p_gb", p_gb), ("p_bg", p_bg), ("loss_good", loss_good), ("loss_bad", loss_bad)):
            if not 0.0 <= x <= 1.0:
                raise ConfigError(f"loss.{nm} must be in [0, 1]")
        self.p_gb, self.p_bg, self.lg, self.lb, self.rng = p_gb, p_bg, loss_good, loss_bad, rng
        self.bad = False

    def lose(self):
        r = self.rng
        lost = r.random() < (self.lb if self.bad else self.lg)
        if self.bad:
            if r.random() < self.p_bg:
                self.bad = False
        elif r.random() < self.p_gb:
            self.bad = True
        return lost


def make_loss(loss, rng):
    if loss is None:
        return _NoLoss()
    kind = loss.get("kind") if isinstance(loss, dict) else None
    try:
        if kind == "iid":
            return _IidLoss(float(loss["p"]), rng)
        if kind == "ge":
            return _GELoss(float(loss["p_gb"]), float(loss["p_bg"]),
                           float(loss.get("loss_good", 0.0)), float(loss.get("loss_bad", 1.0)), rng)
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"bad loss config {loss!r}: {e}") from None
    raise ConfigError(f"unknown loss kind {kind!r}")


def stationary_loss(loss):
    """Expected long-run loss probability of a loss config (0 for None)."""
    if loss is None:
        return 0.0
    if loss["kind"] == "iid":
        return float(loss["p"])
    pgb, pbg = float(loss["p_gb"]), float(loss["p_bg"])
    lg, lb = float(loss.get("loss_good", 0.0)), float(loss.get("loss_bad", 1.0))
    if pgb + pbg == 0:
        return lg
    pb = pgb / (pgb + pbg)
    return (1 - pb) * lg + pb * lb


# ---------------------------------------------------------------------------------------------
# The link


class Link:
    """One direction of the emulated link. All times are ms since link start."""

    def __init__(self, cfg=None, base_dir=None):
        cfg = dict(cfg or {})
        self.cfg = cfg
        seed = cfg.get("seed", 1)
        self.schedule = make_schedule(cfg.get("rate"), cfg.get("outages") or (), base_dir)
        self.delay_ms = float(cfg.get("delay_ms", 0) or 0)
        self.jitter_ms = float(cfg.get("jitter_ms", 0) or 0)
        if self.delay_ms < 0 or self.jitter_ms < 0:
            raise ConfigError("delay_ms and jitter_ms must be >= 0")
        self.reorder = bool(cfg.get("reorder", False))
        self.loss = make_loss(cfg.get("loss"), random.Random(f"loss-{seed}"))
        self._jrng = random.Random(f"jitter-{seed}")
        q = cfg.get("queue")
        if q is None:
            self.queue_limit = None
        elif isinstance(q, dict) and "bytes" in q:
            self.queue_limit = int(q["bytes"])
        elif isinstance(q, dict) and "ms" in q:
            # ms -> bytes at the schedule's mean rate; unlimited rate => unbounded queue
            self.queue_limit = (None if self.schedule is None
                                else int(float(q["ms"]) * self.schedule.mean_rate_bps() / 8000.0))
        else:
            raise ConfigError("queue must be {\"bytes\": N}, {\"ms\": N} or null")
        if self.queue_limit is not None and self.queue_limit < 0:
            raise ConfigError("queue limit must be >= 0")
        # state
        self._q = deque()            # [remaining_bytes, size, payload]
        self.queue_bytes = 0         # sum of remaining (unserved) bytes of queued packets
        self._k = 0                  # next opportunity index
        self._ready = deque()        # (release_ms, payload) in order (no reorder)
        self._heap = []              # (release_ms, seq, payload) (reorder)
        self._seq = 0
        self._last_release = float("-inf")
        # counters
        self.arrived = 0
        self.arrived_bytes = 0
        self.dropped_loss = 0
        self.dropped_queue = 0
        self.delivered = 0
        self.delivered_bytes = 0

    # -- helpers ---------------------------------------------------------------------------------
    def mean_rate_bps(self):
        return None if self.schedule is None else self.schedule.mean_rate_bps()

    def capacity_bytes_between(self, t0_ms, t1_ms):
        """Bytes the schedule can serve in [t0, t1) (outages removed); None if unlimited."""
        if self.schedule is None:
            return None
        return self.schedule.capacity_opps_between(t0_ms, t1_ms) * MTU_BYTES

    def _depart(self, t, size, payload):
        d = self.delay_ms
        if self.jitter_ms:
            d += self._jrng.uniform(0.0, self.jitter_ms)
        rel = t + d
        if self.reorder:
            self._seq += 1
            heapq.heappush(self._heap, (rel, self._seq, size, payload))
        else:
            if rel < self._last_release:
                rel = self._last_release
            self._last_release = rel
            self._ready.append((rel, size, payload))

    def _advance(self, now):
        """Serve all opportunities with time <= now."""
        s = self.schedule
        if s is None:
            return
        q = self._q
        while q:
            t = s.time_of(self._k)
            if t > now:
                return
            if s.outages:
                end = s.outage_end_at(t)
                if end is not None:
                    self._k = max(self._k + 1, s.count_before(end))
                    continue
            self._k += 1
            budget = MTU_BYTES
            while q and budget > 0:
                head = q[0]
                if head[0] <= budget:
                    budget -= head[0]
                    self.queue_bytes -= head[0]
                    q.popleft()
                    self._depart(t, head[1], head[2])
                else:
                    head[0] -= budget
                    self.queue_bytes -= budget
                    budget = 0
        # queue empty: opportunities up to now are wasted
        kk = s.count_before(now, inclusive=True)
        if kk > self._k:
            self._k = kk

    # -- API -------------------------------------------------------------------------------------
    def arrive(self, now_ms, size, payload=None):
        """Offer a packet of `size` bytes at now_ms. Returns True if queued (not dropped)."""
        self._advance(now_ms)
        self.arrived += 1
        self.arrived_bytes += size
        if self.loss.lose():
            self.dropped_loss += 1
            return False
        if self.schedule is None:
            self._depart(now_ms, size, payload)
            return True
        if self.queue_limit is not None and self.queue_bytes + size > self.queue_limit:
            self.dropped_queue += 1
            return False
        self._q.append([size, size, payload])
        self.queue_bytes += size
        return True

    def next_event_ms(self):
        """Earliest time at which something may change (an opportunity serving the queue or a
        packet becoming ready), or None if idle."""
        cands = []
        if self._ready:
            cands.append(self._ready[0][0])
        if self._heap:
            cands.append(self._heap[0][0])
        if self._q and self.schedule is not None:
            s = self.schedule
            k = self._k
            t = s.time_of(k)
            if s.outages:
                for _ in range(len(s.outages) + 1):
                    end = s.outage_end_at(t)
                    if end is None:
                        break
                    k = max(k + 1, s.count_before(end))
                    t = s.time_of(k)
            cands.append(t)
        return min(cands) if cands else None

    def pop_ready(self, now_ms):
        """Advance to now_ms and return payloads whose release time <= now_ms, in release order."""
        self._advance(now_ms)
        out = []
        nb = 0
        r = self._ready
        while r and r[0][0] <= now_ms:
            _, sz, p = r.popleft()
            nb += sz
            out.append(p)
        h = self._heap
        while h and h[0][0] <= now_ms:
            _, _, sz, p = heapq.heappop(h)
            nb += sz
            out.append(p)
        self.delivered += len(out)
        self.delivered_bytes += nb
        return out

    def counters(self):
        return {
            "arrived": self.arrived,
            "arrived_bytes": self.arrived_bytes,
            "dropped_loss": self.dropped_loss,
            "dropped_queue": self.dropped_queue,
            "delivered": self.delivered,
            "delivered_bytes": self.delivered_bytes,
            "queue_bytes": self.queue_bytes,
        }
