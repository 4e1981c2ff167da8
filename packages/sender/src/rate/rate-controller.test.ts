import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE, RateController } from './rate-controller.js';

/**
 * A bottleneck link: capacity(t) bits/s, FIFO queue, one-way delay `prop`. Frames of exactly their
 * budget are offered at `fps`; feedback returns to the sender `prop` after the last byte arrives.
 */
function simulate(capacity: (t: number) => number, seconds: number, prop = 0.02, options: Partial<typeof DEFAULT_RATE> = {}) {
  const rc = new RateController({ ...DEFAULT_RATE, initialBps: 1_000_000, ...options });
  const frames: { t: number; bytes: number; budget: number; arrive: number; rate: number }[] = [];
  const pending: { at: number; id: number; bytes: number; arrive: number }[] = [];
  let linkFree = 0;
  const dt = 1 / DEFAULT_RATE.fps;
  for (let k = 0, t = 0; t < seconds; k++, t = k * dt) {
    // Deliver feedback that is due.
    pending.sort((a, b) => a.at - b.at);
    while (pending.length && (pending[0] as { at: number }).at <= t) {
      const p = pending.shift() as { at: number; id: number; bytes: number; arrive: number };
      rc.onSrtt(2 * prop + Math.max(0, linkFree - p.at));
      rc.onFeedback(p.id, p.bytes, p.arrive * 1000, p.at);
    }
    if (!rc.canSend(t)) continue;
    const budget = rc.budget();
    const bytes = budget;
    let start = Math.max(t, linkFree);
    // Serialise through a capacity that may change mid-frame (1 ms steps).
    let left = bytes * 8;
    while (left > 0) {
      const step = Math.min(0.001, left / capacity(start));
      left -= step * capacity(start);
      start += step;
    }
    linkFree = start;
    const arrive = linkFree + prop;
    rc.onSent(k, bytes, t);
    pending.push({ at: arrive + prop, id: k, bytes, arrive });
    frames.push({ t, bytes, budget, arrive, rate: rc.state().rateBps });
  }
  return { rc, frames };
}

const goodput = (frames: { t: number; bytes: number }[], from: number, to: number) =>
  (frames.filter((f) => f.t >= from && f.t < to).reduce((s, f) => s + f.bytes, 0) * 8) / (to - from);

describe('rate controller on a simulated bottleneck', () => {
  it('finds a 10 Mbit/s link and keeps frame latency low', () => {
    const { frames } = simulate(() => 10e6, 12);
    expect(goodput(frames, 6, 12)).toBeGreaterThan(0.75 * 10e6);
    const late = frames.filter((f) => f.t > 6 && f.arrive - f.t > 0.4);
    expect(late.length).toBeLessThanOrEqual(1);
  });

  it('slow start: from 1 Mbit/s it uses most of a 10 Mbit/s link within 2 s, without late frames', () => {
    const { frames } = simulate(() => 10e6, 4);
    expect(goodput(frames, 2, 4)).toBeGreaterThan(0.75 * 10e6);
    expect(frames.filter((f) => f.arrive - f.t > 0.4)).toHaveLength(0);
    // Probing at the steady-state gain (per frame at 10 fps) from the start gets there later.
    const slow = simulate(() => 10e6, 4, 0.02, { startGain: Math.sqrt(DEFAULT_RATE.probeGain) }).frames;
    expect(goodput(frames, 0, 2)).toBeGreaterThan(2 * goodput(slow, 0, 2));
    expect(goodput(slow, 2, 4)).toBeLessThan(goodput(frames, 2, 4));
  });

  it('tracks a 10 → 2 Mbit/s step within 1 s and recovers latency', () => {
    const { frames } = simulate((t) => (t < 6 ? 10e6 : 2e6), 14);
    const after = frames.filter((f) => f.t >= 7);
    // Within 1 s of the step the estimate is at most 25 % above the new capacity, and stays so.
    for (const f of after) expect(f.rate).toBeLessThan(2e6 * 1.25 * (1 + 0.15));
    expect(goodput(frames, 9, 14)).toBeGreaterThan(0.7 * 2e6);
    const p95 = after.map((f) => f.arrive - f.t).sort((a, b) => a - b)[Math.floor(after.length * 0.95)] as number;
    expect(p95).toBeLessThan(0.4);
  });

  it('never hands out a budget above what the estimate allows', () => {
    const { frames } = simulate((t) => (t < 3 ? 2e6 : 8e6), 8);
    for (const f of frames) expect(f.bytes).toBeLessThanOrEqual(f.budget);
    // It probes up after capacity rises.
    expect(goodput(frames, 6, 8)).toBeGreaterThan(0.6 * 8e6);
  });
});

describe('rate controller without link pressure', () => {
  it('holds its rate when frames use little of their budget (a still scene sent as "keep")', () => {
    const rc = new RateController({ ...DEFAULT_RATE, initialBps: 4e6 });
    for (let k = 0; k < 50; k++) {
      const t = k / 10;
      expect(rc.canSend(t)).toBe(true);
      rc.onSent(k, 300, t, rc.budget());
      rc.onFeedback(k, 300, (t + 0.01) * 1000, t + 0.02);
    }
    expect(rc.state().rateBps).toBeGreaterThanOrEqual(4e6);
    expect(rc.state().mode).toBe('hold');
  });

  it('writes off frames whose feedback never comes, so a silent receiver cannot stall the sender', () => {
    const rc = new RateController({ ...DEFAULT_RATE, initialBps: 2e6 });
    rc.onSent(0, 80_000, 0);
    expect(rc.canSend(0.1)).toBe(false); // 80 kB queued > 250 ms at 2 Mbit/s
    expect(rc.canSend(2.5)).toBe(true);
    expect(rc.state()).toMatchObject({ mode: 'timeout', backlogBytes: 0, rateBps: 1e6 });
  });
});
