import { seededRandom } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE, RateController } from './rate-controller.js';
import { TrackArrivals } from './track-arrivals.js';

const PACKET = 1200;

/**
 * A bottleneck (FIFO, capacity(t) bits/s, one-way delay `prop`) under an RTP video track that loses
 * each packet with probability `loss` (NACK repairs happen but, being first transmissions only,
 * transport-wide feedback reports the lost packets as lost). Every 50 ms the receiver's feedback
 * covers the packets that arrived (or were due) by then; it reaches the sender `prop` later.
 * Frames use their whole budget at 10 fps and leave the sender as one burst.
 */
function rtpLink(capacity: (t: number) => number, seconds: number, loss: number, seed = 1, prop = 0.02) {
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
      reports.push({ seq, at: lost ? null : at, heardAt: Math.ceil(at / FB) * FB + prop });
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
  it('carries ≥ 85 % of a 2 Mbit/s link at 0, 2 and 5 % random loss (3 seeds), frames delivered within 250 ms (p95)', () => {
    for (const loss of [0, 0.02, 0.05])
      for (const seed of [1, 2, 3]) {
        const { frames, rc } = rtpLink(() => 2e6, 30, loss, seed);
        expect(goodput(frames, 5, 30), `loss ${loss} seed ${seed}`).toBeGreaterThanOrEqual(0.85 * 2e6);
        expect(p95Delay(frames, 5)).toBeLessThan(0.25);
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
