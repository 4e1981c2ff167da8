import { describe, expect, it } from 'vitest';
import { decodeMessage, type VideoMessage } from './index.js';
import { splitVideo, VIDEO_HEADER_BOUND, videoOverheadBound } from './split-video.js';

const picture = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31) & 255);

describe('splitVideo', () => {
  it('splits a picture into ordered parts under the limit that reassemble to it', () => {
    const data = picture(5000);
    const parts = splitVideo({ frameId: 3, captureTs: 12.5, budget: 6000, key: true, data }, 1024);
    expect(parts.length).toBe(Math.ceil(5000 / (1024 - VIDEO_HEADER_BOUND)));
    const msgs = parts.map((p) => decodeMessage(p) as VideoMessage);
    for (const [i, m] of msgs.entries()) {
      expect(parts[i]!.length).toBeLessThanOrEqual(1024);
      expect([m.type, m.frameId, m.part, m.parts, m.key, m.budget]).toEqual(['video', 3, i, parts.length, true, 6000]);
    }
    const back = new Uint8Array(msgs.reduce((s, m) => s + m.data.length, 0));
    let o = 0;
    for (const m of msgs) {
      back.set(m.data, o);
      o += m.data.length;
    }
    expect(back).toEqual(data);
  });

  it('stays within its stated overhead bound', () => {
    for (const n of [1, 500, 984, 985, 20_000]) {
      const parts = splitVideo({ frameId: 0xffffffff, captureTs: 1.5e12 + 0.25, budget: 2 ** 40, key: false, data: picture(n) }, 1024);
      const wire = parts.reduce((s, p) => s + p.length, 0);
      expect(wire - n).toBeLessThanOrEqual(videoOverheadBound(n, 1024));
    }
  });

  it('rejects an empty picture and a limit too small for the header', () => {
    expect(() => splitVideo({ frameId: 0, captureTs: 0, budget: 0, key: false, data: new Uint8Array(0) })).toThrow(/at least one byte/);
    expect(() => splitVideo({ frameId: 0, captureTs: 0, budget: 0, key: false, data: picture(3) }, 40)).toThrow(/cannot carry/);
  });
});
