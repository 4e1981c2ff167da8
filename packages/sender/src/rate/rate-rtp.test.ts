import { seededRandom } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE, RateController } from './rate-controller.js';

const PACKET = 1200;

/**
 * A bottleneck (FIFO, capacity(t) bits/s, one-way delay `prop`) under an RTP video track that loses
 * each packet with probability `loss`: the receiver NACKs a gap when the next packet arrives and the
 * sender answers at once, so a lost packet arrives again an RTT (plus its serialisation) later, and
 * may be lost again. A frame is whole when all its packets are in; the receiver reports the arrival
 * of its last packet, frames in order (a later frame is held until the one before it is whole).
 * Frames use their whole budget at 10 fps; feedback returns `prop` after the report.
 */
export function rtpLink(capacity: (t: number) => number, seconds: number, loss: number, seed = 1, prop = 0.02) {
  const rc = new RateController({ ...DEFAULT_RATE, initialBps: 1_000_000 });
  const random = seededRandom(seed);
  const frames: { t: number; bytes: number; arrive: number; rate: number }[] = [];
  const pending: { at: number; id: number; bytes: number; arrive: number }[] = [];
  const dt = 1 / DEFAULT_RATE.fps;
  let linkFree = 0;
  let lastShown = 0;
  const serialise = (from: number, bytes: number) => Math.max(from, linkFree) + (bytes * 8) / capacity(Math.max(from, linkFree));
  for (let k = 0, t = 0; t < seconds; k++, t = k * dt) {
    pending.sort((a, b) => a.at - b.at);
    while (pending.length && (pending[0] as { at: number }).at <= t) {
      const p = pending.shift() as { at: number; id: number; bytes: number; arrive: number };
      rc.onSrtt(2 * prop + Math.max(0, linkFree - p.at));
      rc.onFeedback(p.id, p.bytes, p.arrive * 1000, p.at);
    }
    if (!rc.canSend(t)) continue;
    const bytes = rc.budget();
    const n = Math.ceil(bytes / PACKET);
    let arrive = 0;
    const lost: number[] = [];
    for (let i = 0; i < n; i++) {
      linkFree = serialise(t, Math.min(PACKET, bytes - i * PACKET));
      if (random() < loss) lost.push(linkFree + prop);
      else arrive = Math.max(arrive, linkFree + prop);
    }
    for (const seenAt of lost) {
      // The gap is seen when the next packet arrives (for the last ones: the next frame's first), NACKed back.
      let at = seenAt + 2 * prop + 0.005;
      for (;;) {
        linkFree = serialise(at - prop, PACKET);
        if (random() >= loss) break;
        at = linkFree + prop + 2 * prop + 0.005;
      }
      arrive = Math.max(arrive, linkFree + prop);
    }
    const shown = Math.max(arrive, lastShown);
    lastShown = shown;
    rc.onSent(k, bytes, t, bytes);
    pending.push({ at: shown + prop, id: k, bytes, arrive });
    frames.push({ t, bytes, arrive, rate: rc.state().rateBps });
  }
  return { rc, frames };
}

const goodput = (frames: { t: number; bytes: number }[], from: number, to: number) =>
  (frames.filter((f) => f.t >= from && f.t < to).reduce((s, f) => s + f.bytes, 0) * 8) / (to - from);

describe('rate controller on an RTP track with NACK repair', () => {
  it('reports', () => {
    for (const loss of [0, 0.02, 0.05]) {
      for (const seed of [1, 2, 3]) {
        const { frames } = rtpLink(() => 2e6, 30, loss, seed);
        console.log(loss, seed, (goodput(frames, 5, 30) / 2e6).toFixed(2));
      }
    }
    expect(true).toBe(true);
  });
});
