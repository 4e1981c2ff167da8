import { seededRandom } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE, DIRECT_SHARE, OUTAGE_PROBE_BYTES, RateController, TRACK_QUEUE_S } from './rate-controller.js';
import { TrackArrivals } from './track-arrivals.js';

const PACKET = 1200;

/**
 * A bottleneck (FIFO, capacity(t) bits/s, one-way delay `prop`) under an RTP video track that loses
 * each packet with probability `loss` (NACK repairs happen but, being first transmissions only,
 * transport-wide feedback reports the lost packets as lost). Every 50 ms the receiver's feedback
 * covers the packets that arrived (or were due) by then; it reaches the sender `prop` later.
 * Frames use their whole budget at 10 fps and leave the sender as one burst.
 */
function rtpLink(
  capacity: (t: number) => number,
  seconds: number,
  loss: number,
  seed = 1,
  prop = 0.02,
  /** Intervals [from, to) (s) in which the return path holds every report until `to`. */
  backStalls: readonly (readonly [number, number])[] = [],
) {
  const heard = (t: number) => backStalls.reduce((h, [a, b]) => (h >= a && h < b ? b : h), t);
  const rc = new RateController({ ...DEFAULT_RATE, initialBps: 1_000_000 });
  const track = new TrackArrivals();
  const random = seededRandom(seed);
  const frames: { t: number; bytes: number; arrive: number; rate: number }[] = [];
  /** Packets on their way: transport-wide seq, arrival (s) or null when lost, when the sender hears. */
  const reports: { seq: number; at: number | null; heardAt: number }[] = [];
  const dt = 1 / DEFAULT_RATE.fps;
  const FB = 0.05;
  let linkFree = 0;
  let seq = 0;
  for (let k = 0, t = 0; t < seconds; k++, t = Math.round(k * 10) / 100) {
    for (let tick = t - dt + 0.01; tick <= t + 1e-9; tick += 0.01) {
      const due = reports.filter((r) => r.heardAt <= tick);
      if (due.length === 0) continue;
      reports.splice(0, reports.length, ...reports.filter((r) => r.heardAt > tick));
      due.sort((a, b) => a.seq - b.seq);
      const base = (due[0] as { seq: number }).seq;
      const arrivals = new Array<number | null>((due.at(-1) as { seq: number }).seq - base + 1).fill(null);
      for (const r of due) arrivals[r.seq - base] = r.at === null ? null : r.at * 1000;
      for (const a of track.feedback(base & 0xffff, arrivals)) rc.onTrackArrival(a, tick);
    }
    if (!rc.canSend(t)) continue;
    const bytes = rc.budget();
    const n = Math.max(1, Math.ceil(bytes / PACKET));
    const sent: { tseq: number; bytes: number }[] = [];
    let arrive = 0;
    for (let i = 0; i < n; i++) {
      const size = Math.min(PACKET, bytes - i * PACKET);
      linkFree = Math.max(t, linkFree) + (size * 8) / capacity(Math.max(t, linkFree));
      const lost = random() < loss;
      const at = linkFree + prop;
      if (!lost) arrive = Math.max(arrive, at);
      // Feedback goes out on the next 50 ms boundary after the packet was due, and takes `prop` back.
      reports.push({ seq, at: lost ? null : at, heardAt: heard(Math.ceil(at / FB) * FB + prop) });
      sent.push({ tseq: seq & 0xffff, bytes: size });
      seq++;
    }
    rc.onSent(k, bytes, t, bytes);
    track.sent(k, sent, t);
    frames.push({ t, bytes, arrive, rate: rc.state().rateBps });
  }
  return { rc, frames };
}

const goodput = (frames: { t: number; bytes: number }[], from: number, to: number) =>
  (frames.filter((f) => f.t >= from && f.t < to).reduce((s, f) => s + f.bytes, 0) * 8) / (to - from);
const p95Delay = (frames: { t: number; arrive: number }[], from: number) => {
  const d = frames
    .filter((f) => f.t >= from && f.arrive > 0)
    .map((f) => f.arrive - f.t)
    .sort((a, b) => a - b);
  return d[Math.floor(d.length * 0.95)] as number;
};

describe('rate controller on an RTP track, from transport-wide feedback', () => {
  it('carries ≥ 80 % of a 2 Mbit/s link at 0, 2 and 5 % random loss (3 seeds), never above its share of it, frames delivered within 150 ms (p95)', () => {
    for (const loss of [0, 0.02, 0.05])
      for (const seed of [1, 2, 3]) {
        const { frames, rc } = rtpLink(() => 2e6, 30, loss, seed);
        const g = goodput(frames, 5, 30);
        expect(g, `loss ${loss} seed ${seed}`).toBeGreaterThanOrEqual(0.8 * 2e6);
        expect(g).toBeLessThanOrEqual(DIRECT_SHARE * 2e6 * 1.01);
        expect(p95Delay(frames, 5)).toBeLessThan(0.15);
        if (loss > 0) expect(rc.state().lossFraction).toBeGreaterThan(0);
      }
  });

  it('follows a step down (2 → 1 Mbit/s) within 1 s and a step up (1 → 5 Mbit/s) to ≥ 80 % within 2 s', () => {
    const down = rtpLink((t) => (t < 8 ? 2e6 : 1e6), 16, 0.02).frames;
    for (const f of down.filter((x) => x.t >= 9)) expect(f.rate).toBeLessThan(1e6 * 1.15);
    expect(p95Delay(down, 9.5)).toBeLessThan(0.3);
    const up = rtpLink((t) => (t < 10 ? 1e6 : 5e6), 16, 0.02).frames;
    const at = up.find((f) => f.t >= 10 && f.rate >= 0.8 * 5e6);
    expect(at?.t).toBeLessThanOrEqual(12);
    expect(goodput(up, 12, 16)).toBeGreaterThanOrEqual(0.75 * 5e6);
  });
});

describe('rate controller on an RTP track: the modelled bottleneck queue', () => {
  /** Pictures of `bytes` every 100 ms whose packets came out of a 2 Mbit/s bottleneck, reported 50 ms after. */
  function measured(frames: number, bytes = 20_000) {
    const rc = new RateController({ ...DEFAULT_RATE, initialBps: 1_000_000 });
    let t = 0;
    for (let k = 0; k < frames; k++, t = Math.round(k * 10) / 100) {
      rc.onSent(k, bytes, t, bytes);
      const span = (bytes * 8) / 2e6;
      const a = { frameId: k, sentAt: t, bytes, packets: 17, lost: 0, firstAtMs: (t + 0.02) * 1000 };
      rc.onTrackArrival({ ...a, lastAtMs: a.firstAtMs + span * 1000, trailingBytes: bytes }, t + 0.02 + span + 0.05);
    }
    return { rc, t };
  }

  it('a stall of the return path alone (reports held 1.5 s, then 0.6 s) is not read as a queue: the pictures after it go out at the rate before it', () => {
    const stalls = [
      [10, 11.5],
      [20, 20.6],
    ] as const;
    const { frames } = rtpLink(() => 2e6, 30, 0, 1, 0.02, stalls);
    for (const [from, to] of stalls) {
      const before = (frames.filter((f) => f.t < from).at(-1) as { rate: number }).rate;
      const after = frames.filter((f) => f.t >= to && f.t < to + 1);
      expect(after.length).toBeGreaterThan(0);
      for (const f of after) expect(f.rate, `after the stall at ${from} s`).toBeGreaterThanOrEqual(0.8 * before);
    }
    expect(goodput(frames, 12, 20)).toBeGreaterThanOrEqual(0.8 * 2e6);
  });

  it('after a drop of the bottleneck (4 → 1 Mbit/s) takes the newest dispersion samples at once: pictures sent 1.2 s later arrive within 0.2 s', () => {
    const { frames } = rtpLink((t) => (t < 8 ? 4e6 : 1e6), 12, 0);
    const late = frames.filter((f) => f.t >= 9.2 && f.t < 10);
    expect(late.length).toBeGreaterThan(0);
    for (const f of late) expect(f.arrive - f.t, `sent at ${f.t}`).toBeLessThan(0.2);
  });

  it('makes the next picture smaller by what the last one left queued above TRACK_QUEUE_S', () => {
    const { rc, t } = measured(10);
    // One frame interval after the last picture: the nominal budget, nothing queued.
    const nominal = rc.budget(t);
    expect(nominal).toBeGreaterThan(0);
    // A picture 1.8× what the bottleneck drains in a frame interval goes in: at the next tick
    // 0.8 intervals' worth still waits, and all of it above TRACK_QUEUE_S comes off the budget.
    const big = 1.8 * (2e6 / 8) * 0.1;
    rc.onSent(100, big, t, nominal);
    const left = big - (2e6 / 8) * 0.1 - (2e6 / 8) * TRACK_QUEUE_S;
    expect(rc.budget(t + 0.1)).toBe(Math.floor(nominal - left));
    // Another interval later the queue has drained: the budget for the time passed, whole.
    expect(rc.budget(t + 0.2)).toBeGreaterThanOrEqual(2 * nominal - 1);
  });

  it('stays at or under DIRECT_SHARE of the measured bottleneck rate', () => {
    const { rc } = measured(40, 30_000);
    expect(rc.state().rateBps).toBeLessThanOrEqual(DIRECT_SHARE * 2e6 + 1);
    expect(rc.state().rateBps).toBeGreaterThan(0.8 * DIRECT_SHARE * 2e6);
  });
});

describe('rate controller on an RTP track: feedback lost on the way back', () => {
  function fed(frames: number) {
    const rc = new RateController({ ...DEFAULT_RATE, initialBps: 1_000_000 });
    let t = 0;
    for (let k = 0; k < frames; k++, t = Math.round(k * 10) / 100) {
      rc.onSent(k, 15_000, t, 15_000);
      const a = { frameId: k, sentAt: t, bytes: 15_000, packets: 13, lost: 0, firstAtMs: (t + 0.02) * 1000 };
      rc.onTrackArrival({ ...a, lastAtMs: a.firstAtMs + 60, trailingBytes: 15_000 }, t + 0.13);
    }
    return { rc, t };
  }

  it('while pictures’ feedback is overdue sends only a probe-sized picture; the probe’s feedback settles the backlog', () => {
    const { rc, t } = fed(30);
    const rate = rc.state().rateBps;
    // Three pictures go out; none of their feedback comes back (lost on the way, or the link slowed).
    let k = 100;
    let at = t;
    for (; at < t + 0.3; at = Math.round((at + 0.1) * 100) / 100) if (rc.canSend(at)) rc.onSent(k++, 30_000, at, 30_000);
    let probe: { at: number; budget: number } | null = null;
    for (; at < t + 1.1 && !probe; at = Math.round((at + 0.1) * 100) / 100) if (rc.canSend(at)) probe = { at, budget: rc.budget(at) };
    expect(probe).not.toBeNull();
    const p = probe as { at: number; budget: number };
    expect(p.at - t).toBeLessThanOrEqual(0.7);
    expect(p.budget).toBe(OUTAGE_PROBE_BYTES);
    // The probe arrives and is reported: the three before it leave the backlog as lost, budgets are whole again.
    rc.onSent(k, p.budget, p.at, p.budget);
    const firstAtMs = (p.at + 0.02) * 1000;
    rc.onTrackArrival(
      { frameId: k, sentAt: p.at, bytes: p.budget, packets: 1, lost: 0, firstAtMs, lastAtMs: firstAtMs, trailingBytes: 0 },
      p.at + 0.1,
    );
    expect(rc.backlog).toBe(0);
    const next = Math.round((p.at + 0.2) * 100) / 100;
    expect(rc.canSend(next)).toBe(true);
    expect(rc.budget(next)).toBeGreaterThan(10 * OUTAGE_PROBE_BYTES);
    expect(rc.state().mode).not.toBe('outage');
    expect(rc.state().rateBps).toBeGreaterThanOrEqual(0.5 * rate);
  });

  it('a batch of reports that all show the same queue cuts the rate once, not once per picture', () => {
    const { rc, t } = fed(30);
    const before = rc.state().rateBps;
    for (let k = 0; k < 6; k++) rc.onSent(300 + k, 15_000, t + k * 0.1, 15_000);
    // All six waited ~0.2 s more than pictures do, and their reports come back together.
    for (let k = 0; k < 6; k++) {
      const sentAt = t + k * 0.1;
      const firstAtMs = (sentAt + 0.22) * 1000;
      rc.onTrackArrival(
        { frameId: 300 + k, sentAt, bytes: 15_000, packets: 13, lost: 0, firstAtMs, lastAtMs: firstAtMs + 60, trailingBytes: 15_000 },
        t + 0.85,
      );
    }
    expect(rc.state().mode).toBe('backoff');
    expect(rc.state().rateBps).toBeGreaterThanOrEqual(0.8 * before);
  });

  it('after an outage resumes near the old rate when the link is back or only its reports were held, low when the silence was a queue', () => {
    // [send → feedback (s), send → arrival of the picture (s)]: back promptly; the return path held
    // the report 1.5 s while the picture arrived in 20 ms; the picture itself waited 1.4 s in a queue.
    for (const [waited, arrived] of [
      [0.13, 0.02],
      [1.5, 0.02],
      [1.5, 1.42],
    ] as const) {
      const { rc, t } = fed(30);
      const before = rc.state().rateBps;
      let k = 200;
      const sent: number[] = [];
      for (let at = t; at < t + 2; at = Math.round((at + 0.1) * 100) / 100)
        if (rc.canSend(at)) {
          rc.onSent(k, rc.budget(at), at);
          sent.push(at);
          k++;
        }
      expect(rc.state().mode).toBe('outage');
      // The last probe's report: it took `waited` from send to feedback (0.13 s is what pictures take here).
      const at = sent.at(-1) as number;
      const firstAtMs = (at + arrived) * 1000;
      rc.onTrackArrival(
        { frameId: k - 1, sentAt: at, bytes: 800, packets: 1, lost: 0, firstAtMs, lastAtMs: firstAtMs, trailingBytes: 0 },
        at + waited,
      );
      expect(rc.state().mode).not.toBe('outage');
      if (arrived < 1) expect(rc.state().rateBps, `waited ${waited}`).toBeGreaterThanOrEqual(0.8 * before);
      else expect(rc.state().rateBps).toBeLessThanOrEqual(0.3 * before);
    }
  });

  it('still declares an outage when nothing comes back for OUTAGE_S', () => {
    const { rc, t } = fed(30);
    for (let at = t; at < t + 1.5; at = Math.round((at + 0.1) * 100) / 100) if (rc.canSend(at)) rc.onSent(Math.round(at * 10), 15_000, at);
    expect(rc.state().mode).toBe('outage');
  });
});

describe('rate controller on an RTP track: small pictures, a fade', () => {
  /** Pictures of `bytes` in `packets` packets every 100 ms out of a 2 Mbit/s bottleneck, `lost` of them lost. */
  function feed(
    rc: RateController,
    from: number,
    frames: number,
    p: { bytes: number | ((budget: number) => number); packets: number | ((k: number) => number); lost?: (k: number) => number },
  ) {
    let t = from;
    for (let k = 0; k < frames; k++, t = Math.round((from + k * 0.1) * 100) / 100) {
      if (!rc.canSend(t)) continue;
      const budget = rc.budget(t);
      const bytes = typeof p.bytes === 'number' ? p.bytes : p.bytes(budget);
      rc.onSent(k, bytes, t, budget);
      const lost = p.lost?.(k) ?? 0;
      const packets = typeof p.packets === 'number' ? p.packets : p.packets(k);
      const trailingBytes = (bytes * (packets - lost - 1)) / packets;
      const span = (trailingBytes * 8) / 2e6;
      const firstAtMs = (t + 0.02) * 1000;
      rc.onTrackArrival(
        { frameId: k, sentAt: t, bytes, packets, lost, firstAtMs, lastAtMs: firstAtMs + span * 1000, trailingBytes },
        t + 0.02 + span + 0.05,
      );
    }
    return t;
  }

  it('a large picture that lost most of its packets (a fade) cuts the loss-based bound once, not every 0.3 s for 2 s', () => {
    const rc = new RateController({ ...DEFAULT_RATE, initialBps: 300_000 });
    const t = feed(rc, 0, 30, { bytes: 3000, packets: 4 });
    const before = rc.state().rateBps;
    // 34 of its 40 packets lost, then small pictures without loss: 29 % of the packets in 2 s.
    feed(rc, t, 20, { bytes: 3000, packets: (k) => (k === 0 ? 40 : 4), lost: (k) => (k === 0 ? 34 : 0) });
    expect(rc.state().rateBps).toBeGreaterThanOrEqual(0.5 * before);
  });

  it('climbs towards the measured bottleneck while the pictures stay under their budgets', () => {
    const rc = new RateController({ ...DEFAULT_RATE, initialBps: 200_000 });
    feed(rc, 0, 15, { bytes: (b) => Math.max(600, Math.round(0.4 * b)), packets: 3 });
    expect(rc.state().rateBps).toBeGreaterThan(0.8 * DIRECT_SHARE * 2e6);
  });
});
