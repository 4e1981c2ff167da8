import { describe, expect, it } from 'vitest';
import { allocI420, i420ToRgb, rgbToI420 } from './yuv.js';

describe('I420 conversion', () => {
  it('round-trips flat colours within rounding', () => {
    const w = 4;
    const h = 2;
    for (const [r, g, b] of [
      [0, 0, 0],
      [255, 255, 255],
      [200, 30, 90],
      [12, 240, 128],
    ] as const) {
      const rgb = new Uint8Array(w * h * 3);
      for (let i = 0; i < w * h; i++) rgb.set([r, g, b], i * 3);
      const back = i420ToRgb(rgbToI420(rgb, allocI420(w, h)), new Uint8Array(w * h * 3));
      for (let i = 0; i < back.length; i += 3) {
        expect(Math.abs((back[i] as number) - r)).toBeLessThanOrEqual(2);
        expect(Math.abs((back[i + 1] as number) - g)).toBeLessThanOrEqual(2);
        expect(Math.abs((back[i + 2] as number) - b)).toBeLessThanOrEqual(2);
      }
    }
  });

  it('keeps luma detail at full resolution and averages chroma over 2×2', () => {
    const rgb = new Uint8Array(2 * 2 * 3);
    rgb.set([255, 255, 255, 0, 0, 0, 0, 0, 0, 255, 255, 255]);
    const f = rgbToI420(rgb, allocI420(2, 2));
    expect([...f.y]).toEqual([255, 0, 0, 255]);
    expect([...f.u, ...f.v]).toEqual([128, 128]);
  });

  it('honours strides wider than the picture', () => {
    const f = {
      ...allocI420(2, 2),
      y: Uint8Array.from([10, 20, 99, 30, 40, 99]),
      u: Uint8Array.from([128, 7]),
      v: Uint8Array.from([128, 7]),
      yStride: 3,
      uvStride: 2,
    };
    const rgb = i420ToRgb(f, new Uint8Array(12));
    expect([rgb[0], rgb[3], rgb[6], rgb[9]]).toEqual([10, 20, 30, 40]);
  });

  it('rejects odd sizes and wrong buffer lengths', () => {
    expect(() => allocI420(3, 2)).toThrow(/even/);
    expect(() => rgbToI420(new Uint8Array(5), allocI420(2, 2))).toThrow(/12 RGB bytes/);
  });
});
