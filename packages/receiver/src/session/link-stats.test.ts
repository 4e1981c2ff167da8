import { describe, expect, it } from 'vitest';
import type { ApplyStats } from '../reassemble.js';
import { type FrameRecord, LinkStats, senderRateOf } from './link-stats.js';

const frame = (frameId: number, receiveTs: number, o: Partial<FrameRecord> = {}): FrameRecord => ({
  frameId,
  receiveTs,
  captureTs: receiveTs - 40,
  bytes: 1000,
  budget: 2000,
  complete: true,
  ...o,
});
const apply = (decodeMs: number): ApplyStats => ({ decoded: 10, reused: 20, interpolated: 0, decodeMs });

describe('LinkStats', () => {
  it('counts shown frames and received bytes over the last 2 s only', () => {
    const s = new LinkStats();
    for (const t of [0, 500, 1000, 1500, 2000, 2500]) {
      s.onShown(t, apply(1));
      s.onBytes(100, t);
    }
    // At 3000 the window is [1000, 3000]: four samples.
    expect(s.fps(3000)).toBe(4 / 2);
    expect(s.bitrate(3000)).toBe((4 * 100 * 8) / 2);
    expect(s.fps(10_000)).toBe(0);
    expect(s.bitrate(10_000)).toBe(0);
    expect(s.framesShown).toBe(6);
  });

  it('takes the latency from the newest frame: its last part received − capture', () => {
    const s = new LinkStats();
    expect(s.latency()).toBeNull();
    s.onFrame(frame(1, 1000, { captureTs: 900 }));
    s.onFrame(frame(2, 1100, { captureTs: 1070 }));
    expect(s.latency()).toBe(30);
    expect(s.last?.frameId).toBe(2);
  });

  it('derives the link rate from the budgets, at the hello fps or else the received fps', () => {
    const s = new LinkStats();
    expect(s.rateFromBudgets(0, 10)).toBeNull();
    s.onFrame(frame(1, 1000, { budget: 1000 }));
    s.onFrame(frame(2, 1500, { budget: 3000 }));
    const mean = 2000;
    expect(s.rateFromBudgets(2000, 10)).toBeCloseTo((mean * 8 * 10) / 0.9);
    expect(s.rateFromBudgets(2000, null)).toBeCloseTo((mean * 8 * s.receivedFps(2000)) / 0.9);
    // Frame 1 left the window; the mean is frame 2's budget alone.
    expect(s.rateFromBudgets(3200, 10)).toBeCloseTo((3000 * 8 * 10) / 0.9);
  });

  it('counts incomplete, lost, stale and over-budget frames across sessions; a reset only restarts the windows', () => {
    const s = new LinkStats();
    s.onFrame(frame(1, 0, { complete: false }));
    s.onFrame(frame(2, 10, { bytes: 2001, budget: 2000 }));
    s.onFrame(frame(3, 20, { bytes: 2000, budget: 2000 }));
    s.onProtocolError();
    s.picturesLost += 2;
    s.picturesStale += 1;
    s.reset();
    expect(s.last).toBeNull();
    expect(s.rateFromBudgets(30, 10)).toBeNull();
    expect(s.summary(30, 10, null).frames).toEqual({
      received: 3,
      shown: 0,
      incomplete: 1,
      lost: 2,
      stale: 1,
      overBudget: 1,
      protocolErrors: 1,
    });
  });

  it('reports the slowest decode of the frames received in the last 10 s, and the worker queue', () => {
    const s = new LinkStats();
    expect(s.summary(0, null, null).decode).toBeNull();
    s.onDecoded(30, 1000, 0);
    s.onDecoded(12, 6000, 3);
    s.onDecoded(99, null, 2); // a frame no longer in the history
    s.onShown(6100, apply(12));
    expect(s.summary(7000, null, null).decode).toEqual({ last: apply(12), peakMs: 30, queued: 2 });
    expect(s.decodePeak(11_000)).toBe(12);
    expect(s.decodePeak(16_000)).toBe(0);
    s.onDecoded(5, 20_000, 0);
    expect(s.decodePeak(20_000)).toBe(5);
  });

  it('prefers the sender’s own rate estimate to the one from budgets', () => {
    const s = new LinkStats();
    expect(s.summary(0, 10, null).link).toBeNull();
    s.onFrame(frame(1, 0, { budget: 900 }));
    expect(s.summary(0, 10, null).link).toEqual({ bps: s.rateFromBudgets(0, 10), from: 'budgets' });
    expect(s.summary(0, 10, { bps: 123_000, mode: 'gcc' }).link).toEqual({ bps: 123_000, from: 'sender', mode: 'gcc' });
  });
});

describe('senderRateOf', () => {
  it('finds this session in /stats and ignores entries without a rate', () => {
    const stats = {
      receivers: [
        { id: 'a', rate: { rateBps: 5e5, mode: 'probe' } },
        { id: 'b', rate: { rateBps: 0 } },
        { id: 'c', rate: { rateBps: 7e5 } },
      ],
    };
    expect(senderRateOf(stats, 'a')).toEqual({ bps: 5e5, mode: 'probe' });
    expect(senderRateOf(stats, 'b')).toBeNull();
    expect(senderRateOf(stats, 'c')).toEqual({ bps: 7e5, mode: '?' });
    expect(senderRateOf(stats, 'zz')).toBeNull();
    expect(senderRateOf(null, 'a')).toBeNull();
    expect(senderRateOf({ receivers: 'x' }, 'a')).toBeNull();
  });
});
