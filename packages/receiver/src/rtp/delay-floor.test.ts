import { describe, expect, it } from 'vitest';
import { DelayFloor } from './delay-floor.js';

describe('DelayFloor', () => {
  it('measures each picture against the lowest one-way delay so far, whatever the clocks’ offset', () => {
    const f = new DelayFloor();
    const offset = -7_000_000; // the sender's clock runs far ahead of ours
    expect(f.floor).toBeNull();
    expect(f.excess(1000, 950 - offset)).toBe(0); // the first picture is the floor
    expect(f.excess(1033, 980 - offset)).toBe(3);
    expect(f.excess(1066, 1026 - offset)).toBe(0); // a new floor: 40 ms
    expect(f.excess(1400, 1060 - offset)).toBe(300);
    expect(f.floor).toBe(40 + offset);
  });

  it('forgets a floor older than the window (a clock stepped), counting arrival time', () => {
    const f = new DelayFloor({ windowMs: 1000, maxGapMs: 500 });
    f.excess(0, -10); // delay 10
    for (let t = 100; t <= 1000; t += 100) expect(f.excess(t, t - 60)).toBe(50);
    expect(f.excess(1100, 1100 - 60)).toBe(0); // 10 ms is 1.1 s old: the floor is 60 now
    expect(f.floor).toBe(60);
  });

  it('an outage does not age the floor: a gap between arrivals counts at most maxGapMs', () => {
    const f = new DelayFloor({ windowMs: 10_000, maxGapMs: 500 });
    for (let t = 0; t < 2000; t += 100) f.excess(t, t - 50);
    // 30 s without a picture, then the ones a queue held, 4 s old and falling as it drains.
    expect(f.excess(32_000, 32_000 - 4050)).toBe(4000);
    expect(f.excess(32_010, 32_010 - 3050)).toBe(3000);
    expect(f.excess(32_400, 32_400 - 80)).toBe(30);
    // Out-of-order arrival times move the window's clock only forward.
    expect(f.excess(32_300, 32_300 - 50)).toBe(0);
  });

  it('keeps at most maxSamples delays (the oldest go first)', () => {
    const f = new DelayFloor({ maxSamples: 4 });
    // Delays rising at one instant: each stays a candidate, so only the cap removes them.
    for (let d = 1; d <= 6; d++) f.excess(0, -d);
    expect(f.floor).toBe(3);
  });
});
