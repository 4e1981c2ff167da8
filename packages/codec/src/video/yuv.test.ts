import { describe, expect, it } from 'vitest';
import { allocYuv, rgbToYuv, yuvToRgb } from './yuv.js';

describe('YuvPicture conversion', () => {
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
      const back = yuvToRgb(rgbToYuv(rgb, allocYuv(w, h)), new Uint8Array(w * h * 3));
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
    const f = rgbToYuv(rgb, allocYuv(2, 2));
    expect([...f.y]).toEqual([255, 0, 0, 255]);
    expect([...f.u, ...f.v]).toEqual([128, 128]);
  });

  it('honours strides wider than the picture', () => {
    const f = {
      ...allocYuv(2, 2),
      y: Uint8Array.from([10, 20, 99, 30, 40, 99]),
      u: Uint8Array.from([128, 7]),
      v: Uint8Array.from([128, 7]),
      yStride: 3,
      uvStride: 2,
    };
    const rgb = yuvToRgb(f, new Uint8Array(12));
    expect([rgb[0], rgb[3], rgb[6], rgb[9]]).toEqual([10, 20, 30, 40]);
  });

  it('rejects odd sizes and wrong buffer lengths', () => {
    expect(() => allocYuv(3, 2)).toThrow(/even/);
    expect(() => rgbToYuv(new Uint8Array(5), allocYuv(2, 2))).toThrow(/12 RGB bytes/);
  });
});

describe('4:4:4 conversion', () => {
  it('keeps chroma per pixel and round-trips within rounding', () => {
    const rgb = Uint8Array.from([255, 0, 0, 0, 0, 255, 0, 255, 0, 250, 250, 250]);
    const f = rgbToYuv(rgb, allocYuv(2, 2, '444'));
    expect(f.u.length).toBe(4);
    expect(new Set(f.u).size).toBeGreaterThan(2);
    const back = yuvToRgb(f, new Uint8Array(12));
    for (let i = 0; i < 12; i++) expect(Math.abs((back[i] as number) - (rgb[i] as number))).toBeLessThanOrEqual(2);
  });

  it('agrees with 4:2:0 on luma and on flat chroma', () => {
    const rgb = new Uint8Array(4 * 2 * 3).fill(77);
    for (let i = 0; i < rgb.length; i += 3) rgb.set([200, 30, 90], i);
    const a = rgbToYuv(rgb, allocYuv(4, 2, '420'));
    const b = rgbToYuv(rgb, allocYuv(4, 2, '444'));
    expect([...b.y]).toEqual([...a.y]);
    expect(new Set([...b.u, ...a.u]).size).toBe(1);
    expect(allocYuv(3, 3, '444').u.length).toBe(9);
  });
});
