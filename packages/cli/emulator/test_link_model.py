"""Unit tests for link_model (stdlib unittest).

Run from the repo root:
  /usr/bin/python3 -m unittest discover -s packages/cli/emulator -p 'test_*.py'
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from link_model import ConfigError, Link, load_trace, stationary_loss  # noqa: E402


def drive(link, arrivals, until_ms, step_ms=1.0):
    """arrivals: list of (t_ms, size, payload) sorted. Returns list of (release_t, payload)."""
    out = []
    i = 0
    t = 0.0
    while t <= until_ms:
        while i < len(arrivals) and arrivals[i][0] <= t:
            at, sz, p = arrivals[i]
            link.arrive(at, sz, p)
            i += 1
        for p in link.pop_ready(t):
            out.append((t, p))
        t += step_ms
    return out


def flood(rate_pps, size, t0, t1):
    n = int((t1 - t0) * rate_pps / 1000.0)
    return [(t0 + k * 1000.0 / rate_pps, size, k) for k in range(n)]


class TestRate(unittest.TestCase):
    def test_constant_rate_under_overload(self):
        link = Link({"rate": {"kind": "constant", "bps": 2_000_000}, "queue": {"bytes": 60_000}})
        arr = flood(400, 1500, 0.0, 10_000.0)  # 4.8 Mbit/s offered
        out = drive(link, arr, 10_000.0)
        # count bytes delivered in [1 s, 9 s)
        got = sum(1500 for t, _ in out if 1000.0 <= t < 9000.0)
        bps = got * 8 / 8.0
        self.assertAlmostEqual(bps / 2_000_000, 1.0, delta=0.005)
        self.assertGreater(link.dropped_queue, 0)
        self.assertEqual(link.capacity_bytes_between(0, 1000), 2_000_000 // 8 // 1500 * 1500 + 0 * 1)

    def test_small_packets_share_opportunities(self):
        # 300-byte packets: 5 per 1500-byte opportunity; bytes may span opportunities
        link = Link({"rate": {"kind": "constant", "bps": 1_200_000}})  # 10 ms per opportunity
        for k in range(7):
            link.arrive(0.0, 400, k)
        # 2800 bytes queued: opp @10 serves 1500 (3 full + 300 of #3), opp @20 serves rest
        self.assertEqual(link.pop_ready(9.9), [])
        self.assertEqual(link.pop_ready(10.0), [0, 1, 2])
        self.assertEqual(link.pop_ready(20.0), [3, 4, 5, 6])

    def test_trace_replay_exact(self):
        # 3 opportunities at ms 5, 5, 500, period 1000 -> 3 x 1500 B per second
        link = Link({"rate": {"kind": "trace", "opportunities_ms": [5, 5, 500, 1000], "period_ms": 1000}})
        arr = flood(1000, 1500, 0.0, 5000.0)
        out = drive(link, arr, 5000.0, step_ms=0.5)
        per_s = [0] * 5
        for t, _ in out:
            if t < 5000:
                per_s[int(t // 1000)] += 1500
        # each second [s, s+1): opps at s+5, s+5, s+500 and s+1000 (belongs to next second)
        self.assertEqual(per_s[0], 3 * 1500)
        self.assertEqual(per_s[1:], [4 * 1500] * 4)
        self.assertEqual(link.capacity_bytes_between(1000, 2000), 4 * 1500)
        self.assertEqual(link.capacity_bytes_between(0, 1000), 3 * 1500)

    def test_trace_file_and_period_wrap(self):
        with tempfile.NamedTemporaryFile("w", suffix=".trace", delete=False) as f:
            f.write("0\n10\n10\n30\n")
            path = f.name
        try:
            link = Link({"rate": {"kind": "trace", "file": path}})
            s = link.schedule
            self.assertEqual([s.time_of(k) for k in range(8)], [0, 10, 10, 30, 30, 40, 40, 60])
            self.assertEqual(link.capacity_bytes_between(0, 60), 7 * 1500)  # 0,10,10,30,30,40,40
            self.assertEqual(link.capacity_bytes_between(30, 31), 2 * 1500)  # wrap coincides
            self.assertAlmostEqual(link.mean_rate_bps(), 4 * 1500 * 8 * 1000 / 30)
            # packet arriving at 31 is served at the next opportunity (40)
            link.arrive(31.0, 1000, "p")
            self.assertEqual(link.next_event_ms(), 40.0)
            self.assertEqual(link.pop_ready(39.9), [])
            self.assertEqual(link.pop_ready(40.0), ["p"])
        finally:
            os.unlink(path)

    def test_unused_opportunities_are_lost(self):
        link = Link({"rate": {"kind": "constant", "bps": 1_200_000}})  # opps every 10 ms
        link.pop_ready(100.0)  # idle: opportunities up to 100 wasted
        for k in range(3):
            link.arrive(100.5, 1500, k)
        self.assertEqual(link.pop_ready(110.0), [0])
        self.assertEqual(link.pop_ready(130.0), [1, 2])

    def test_trace_validation(self):
        for content, msg in (("", "empty"), ("1\nx\n", "not an integer"), ("5\n3\n", "decreases"),
                             ("0\n0\n", "last value")):
            with tempfile.NamedTemporaryFile("w", delete=False) as f:
                f.write(content)
                path = f.name
            try:
                with self.assertRaises(ConfigError) as cm:
                    load_trace(path)
                self.assertIn(msg, str(cm.exception))
            finally:
                os.unlink(path)
        with self.assertRaises(ConfigError):
            load_trace("/nonexistent/trace")

    def test_real_trace_if_present(self):
        path = "/work/shared/data/traces/TMobile-LTE-short.down"
        if not os.path.exists(path):
            self.skipTest("trace not present")
        v = load_trace(path)
        link = Link({"rate": {"kind": "trace", "file": path}})
        n0 = sum(1 for x in v[:-0 or None] if 0 <= x < 1000)
        self.assertEqual(link.capacity_bytes_between(0, 1000), n0 * 1500)


class TestQueue(unittest.TestCase):
    def test_droptail_bytes(self):
        link = Link({"rate": {"kind": "constant", "bps": 1_200_000}, "queue": {"bytes": 4000}})
        acc = [link.arrive(0.0, 1500, k) for k in range(4)]
        self.assertEqual(acc, [True, True, False, False])
        self.assertTrue(link.arrive(0.0, 1000, "small"))  # 3000 + 1000 fits exactly
        self.assertFalse(link.arrive(0.0, 1, "x"))
        self.assertEqual(link.dropped_queue, 3)
        self.assertEqual(link.queue_bytes, 4000)

    def test_droptail_ms(self):
        # 100 ms at 1.2 Mbit/s = 15000 bytes = 10 full packets
        link = Link({"rate": {"kind": "constant", "bps": 1_200_000}, "queue": {"ms": 100}})
        self.assertEqual(link.queue_limit, 15000)
        acc = [link.arrive(0.0, 1500, k) for k in range(12)]
        self.assertEqual(sum(acc), 10)
        self.assertEqual(link.dropped_queue, 2)


class TestDelay(unittest.TestCase):
    def test_delay_exact(self):
        link = Link({"delay_ms": 40})
        link.arrive(3.25, 100, "a")
        self.assertEqual(link.next_event_ms(), 43.25)
        self.assertEqual(link.pop_ready(43.24), [])
        self.assertEqual(link.pop_ready(43.25), ["a"])

    def test_delay_after_rate(self):
        link = Link({"rate": {"kind": "constant", "bps": 1_200_000}, "delay_ms": 20})
        link.arrive(0.0, 1500, "a")  # served at opp 10 ms, released at 30
        self.assertEqual(link.pop_ready(29.9), [])
        self.assertEqual(link.pop_ready(30.0), ["a"])

    def test_jitter_no_reorder(self):
        link = Link({"delay_ms": 10, "jitter_ms": 30, "seed": 7})
        arr = [(k * 0.5, 100, k) for k in range(2000)]
        out = drive(link, arr, 2000.0, step_ms=0.25)
        payloads = [p for _, p in out]
        self.assertEqual(payloads, list(range(2000)))
        d = [t - k * 0.5 for t, k in out]
        self.assertGreaterEqual(min(d), 10.0 - 1e-9)
        self.assertLessEqual(max(d), 40.0 + 0.25 + 1e-9)

    def test_jitter_with_reorder_reorders(self):
        link = Link({"delay_ms": 10, "jitter_ms": 30, "seed": 7, "reorder": True})
        arr = [(k * 0.5, 100, k) for k in range(500)]
        out = drive(link, arr, 1000.0, step_ms=0.25)
        payloads = [p for _, p in out]
        self.assertEqual(sorted(payloads), list(range(500)))
        self.assertNotEqual(payloads, list(range(500)))

    def test_unlimited_passes_everything(self):
        link = Link({"delay_ms": 5})
        for k in range(10000):
            self.assertTrue(link.arrive(0.0, 1500, k))
        self.assertEqual(link.pop_ready(4.99), [])
        self.assertEqual(link.pop_ready(5.0), list(range(10000)))
        self.assertEqual(link.delivered_bytes, 10000 * 1500)

    def test_deterministic(self):
        cfg = {"loss": {"kind": "iid", "p": 0.3}, "delay_ms": 1, "jitter_ms": 5, "seed": 3}
        a, b = Link(cfg), Link(cfg)
        ra = [a.arrive(k, 100, k) for k in range(1000)]
        rb = [b.arrive(k, 100, k) for k in range(1000)]
        self.assertEqual(ra, rb)


class TestLoss(unittest.TestCase):
    def test_iid_rate(self):
        link = Link({"loss": {"kind": "iid", "p": 0.02}, "seed": 1})
        n = 100_000
        lost = sum(not link.arrive(k * 0.01, 100, None) for k in range(n))
        self.assertEqual(lost, link.dropped_loss)
        # SE = sqrt(.02*.98/1e5) = 0.00044 -> 4 SE tolerance
        self.assertAlmostEqual(lost / n, 0.02, delta=0.0018)

    def test_loss_before_queue_uses_no_capacity(self):
        link = Link({"rate": {"kind": "constant", "bps": 1_200_000}, "loss": {"kind": "iid", "p": 1.0}})
        for k in range(5):
            link.arrive(0.0, 1500, k)
        self.assertEqual(link.queue_bytes, 0)
        self.assertIsNone(link.next_event_ms())

    def test_gilbert_elliott(self):
        cfg = {"kind": "ge", "p_gb": 0.01, "p_bg": 0.25, "loss_good": 0.0, "loss_bad": 1.0}
        link = Link({"loss": cfg, "seed": 5})
        n = 200_000
        seq = [not link.arrive(k * 0.01, 100, None) for k in range(n)]
        rate = sum(seq) / n
        expect = 0.01 / (0.01 + 0.25)
        self.assertAlmostEqual(stationary_loss(cfg), expect)
        self.assertAlmostEqual(rate, expect, delta=0.004)
        bursts, run = [], 0
        for x in seq:
            if x:
                run += 1
            elif run:
                bursts.append(run)
                run = 0
        mean_burst = sum(bursts) / len(bursts)
        self.assertAlmostEqual(mean_burst, 1 / 0.25, delta=0.3)

    def test_ge_partial_loss_stationary(self):
        cfg = {"kind": "ge", "p_gb": 0.05, "p_bg": 0.2, "loss_good": 0.01, "loss_bad": 0.5}
        link = Link({"loss": cfg, "seed": 9})
        n = 200_000
        lost = sum(not link.arrive(k * 0.01, 100, None) for k in range(n))
        pb = 0.05 / 0.25
        self.assertAlmostEqual(lost / n, (1 - pb) * 0.01 + pb * 0.5, delta=0.006)


class TestOutage(unittest.TestCase):
    def test_outage_zero_delivery(self):
        link = Link({"rate": {"kind": "constant", "bps": 1_200_000},
                     "outages": [{"at_s": 1, "for_s": 0.5}], "queue": {"bytes": 30_000}})
        arr = flood(200, 1500, 0.0, 3000.0)
        out = drive(link, arr, 3000.0, step_ms=0.5)
        during = [t for t, _ in out if 1000.0 <= t < 1500.0]
        self.assertEqual(during, [])
        after = [t for t, _ in out if 1500.0 <= t < 2500.0]
        self.assertEqual(len(after), 100)  # full rate resumes right after the outage
        self.assertEqual(link.capacity_bytes_between(1000, 1500), 0)
        self.assertEqual(link.capacity_bytes_between(0, 2000), 149 * 1500)  # opps at 10..1990 minus 50

    def test_outage_next_event_skips(self):
        link = Link({"rate": {"kind": "constant", "bps": 1_200_000}, "outages": [{"at_s": 0, "for_s": 1}]})
        link.arrive(0.0, 100, "x")
        self.assertEqual(link.next_event_ms(), 1000.0)
        self.assertEqual(link.pop_ready(999.0), [])
        self.assertEqual(link.pop_ready(1000.0), ["x"])

    def test_bad_config(self):
        for cfg in ({"rate": {"kind": "nope"}}, {"queue": {"x": 1}}, {"loss": {"kind": "iid", "p": 2}},
                    {"rate": {"kind": "constant", "bps": 0}}, {"delay_ms": -1}):
            with self.assertRaises(ConfigError):
                Link(cfg)


if __name__ == "__main__":
    unittest.main()
