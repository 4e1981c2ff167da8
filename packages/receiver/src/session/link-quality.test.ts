import { describe, expect, it } from 'vitest';
import { linkQuality } from './link-quality.js';
import type { StatsSummary } from './link-stats.js';

const frames = { received: 30, shown: 0, incomplete: 0, lost: 0, stale: 0, overBudget: 0, protocolErrors: 0 };
const stats = (o: Partial<StatsSummary>): StatsSummary => ({
  fps: 10,
  latency: 80,
  bitrate: 2e6,
  link: { bps: 2e6, from: 'budgets' },
  last: null,
  decode: null,
  frames,
  ...o,
});

describe('linkQuality', () => {
  it('is good at the session frame rate with young frames on a fast link', () => {
    expect(linkQuality(stats({}), 10, true)).toEqual({ level: 'good', reasons: [] });
  });

  it('is limited below 85 % of the frame rate, past 400 ms of frame age, or under 500 kbit/s, and says which', () => {
    expect(linkQuality(stats({ fps: 8 }), 10, true)).toEqual({ level: 'limited', reasons: ['8.0 of 10 fps'] });
    expect(linkQuality(stats({ latency: 450 }), 10, true)).toEqual({ level: 'limited', reasons: ['frames 450 ms old'] });
    expect(linkQuality(stats({ link: { bps: 300_000, from: 'budgets' } }), 10, true)).toEqual({
      level: 'limited',
      reasons: ['link 300 kbit/s'],
    });
  });

  it('is poor below half the frame rate or past a second of frame age, listing the lesser reasons after', () => {
    expect(linkQuality(stats({ fps: 4, latency: 500 }), 10, true)).toEqual({
      level: 'poor',
      reasons: ['4.0 of 10 fps', 'frames 500 ms old'],
    });
    expect(linkQuality(stats({ latency: 1500 }), 10, true).level).toBe('poor');
  });

  it('is down when not connected, starting before the first frame; an unknown session rate and no frame age are not judged', () => {
    expect(linkQuality(stats({}), 10, false)).toEqual({ level: 'down', reasons: ['not connected'] });
    expect(linkQuality(stats({ fps: 1, latency: null }), null, true)).toEqual({ level: 'good', reasons: [] });
    // Connected, nothing received yet: not judged.
    expect(linkQuality(stats({ fps: 0, frames: { ...frames, received: 0 } }), 10, true)).toEqual({
      level: 'starting',
      reasons: ['no frame yet'],
    });
  });
});
