import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boxInFrame, demoBoxes, loadClipFrames, makeClip, readClip } from './clip.js';
import { readStamp } from './stamp.js';

describe('emulation clip', () => {
  it('moves a box with the crop: cover scale and offset, then the crop, then the resize', () => {
    const cover = { scale: 2, dx: 10, dy: 0 };
    const crop = { left: 100, top: 50, width: 240, height: 160 };
    // (100, 50)–(200, 100) in the image → (190, 100)–(390, 200) in the covered picture → (90, 50)–(290, 150) in the crop → ×2.
    expect(boxInFrame({ x0: 100, y0: 50, x1: 200, y1: 100 }, cover, crop, { width: 480, height: 320 })).toEqual({
      x0: 180,
      y0: 100,
      x1: 480,
      y1: 300,
    });
    expect(boxInFrame({ x0: 0, y0: 0, x1: 10, y1: 10 }, cover, crop, { width: 480, height: 320 })).toBeNull();
  });

  it('names the demo ground truth for the query words it knows', () => {
    expect(demoBoxes('dog')).toHaveLength(1);
    expect(demoBoxes('a dog and a bicycle')).toHaveLength(2);
    expect(demoBoxes('cat')).toHaveLength(0);
  });

  it('writes stamped frames and per-frame boxes that follow the pan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsc-clip-'));
    try {
      const m = await makeClip({ out: dir, frames: 30, fps: 10 });
      expect(await readClip(dir)).toEqual(m);
      const frames = await loadClipFrames(dir, m);
      expect(frames.map((f) => readStamp(f, m.width, m.height, 3))).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(m.boxes.every((b) => b.length === 1)).toBe(true);
      // The camera pans: the dog's box moves between the first and the last frame.
      expect(m.boxes[0]).not.toEqual(m.boxes[29]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
