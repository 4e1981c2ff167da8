import { describe, expect, it } from 'vitest';
import { EventLoopMonitor } from './event-loop.js';

const block = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // a synchronous stretch, like an onnxruntime run on this thread
  }
};
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('EventLoopMonitor', () => {
  it('sees a synchronous stretch as delay, and reports the last complete window', async () => {
    const m = new EventLoopMonitor(0.5);
    try {
      await tick(50);
      block(120);
      await tick(50);
      expect(m.snapshot().maxMs).toBeGreaterThanOrEqual(80); // the current window, before the first ends
      await tick(400); // t ≈ 0.6 s: the window with the stretch (0–0.5 s) has ended
      const s = m.snapshot();
      expect(s.maxMs).toBeGreaterThanOrEqual(80);
      expect(s.windowS).toBeGreaterThan(0.4);
      await tick(500); // t ≈ 1.1 s: the quiet window 0.5–1 s is the last complete one
      expect(m.snapshot().maxMs).toBeLessThan(80); // a quiet window replaced it
    } finally {
      m.close();
    }
  });
});
