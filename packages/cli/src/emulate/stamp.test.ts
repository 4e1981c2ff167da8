import { describe, expect, it } from 'vitest';
import { psnrOf, readStamp, STAMP_MODULO, STAMP_ROWS, scorePicture, unwrapStamp, writeStamp } from './stamp.js';

const W = 480;
const H = 320;

function picture(channels: number, fill = 128): Uint8Array {
  return new Uint8Array(W * H * channels).fill(fill);
}

describe('frame stamp', () => {
  it('reads back every number it writes, in RGB and RGBA', () => {
    for (const channels of [3, 4]) {
      for (const n of [0, 1, 2, 1234, 4095]) {
        const p = picture(channels);
        writeStamp(p, W, H, channels, n);
        expect(readStamp(p, W, H, channels)).toBe(n);
      }
    }
  });

  it('survives coarse quantization and noise (only block means are read)', () => {
    const p = picture(3);
    writeStamp(p, W, H, 3, 2730);
    // Pull black and white towards grey and add ±40 of deterministic noise.
    for (let i = 0; i < p.length; i++) {
      const v = p[i] as number;
      p[i] = Math.max(0, Math.min(255, Math.round(64 + v * 0.5 + (((i * 7919) % 81) - 40))));
    }
    expect(readStamp(p, W, H, 3)).toBe(2730);
  });

  it('refuses a picture without a stamp, and a stamp whose parity is wrong', () => {
    expect(readStamp(picture(3), W, H, 3)).toBeNull();
    const p = picture(3);
    writeStamp(p, W, H, 3, 5);
    // Turn bit 1's block (block 12, black for 5 = 0b101) white: the parity no longer matches.
    for (let y = H - 16; y < H; y++) for (let x = 12 * 16; x < 13 * 16; x++) p.fill(255, (y * W + x) * 3, (y * W + x) * 3 + 3);
    expect(readStamp(p, W, H, 3)).toBeNull();
  });

  it('unwraps numbers past the modulo, nearest to the previous one', () => {
    expect(unwrapStamp(5, null)).toBe(5);
    expect(unwrapStamp(3, STAMP_MODULO - 2)).toBe(STAMP_MODULO + 3);
    expect(unwrapStamp(STAMP_MODULO - 1, STAMP_MODULO + 2)).toBe(STAMP_MODULO - 1);
    expect(unwrapStamp(10, 3 * STAMP_MODULO + 8)).toBe(3 * STAMP_MODULO + 10);
  });
});

describe('scorePicture', () => {
  it('excludes the stamp rows and scores the union of boxes once', () => {
    const src = picture(3, 100);
    const shown = picture(4, 100);
    writeStamp(shown, W, H, 4, 77); // differs from the source only in the stamp rows
    expect(scorePicture(shown, 4, src, 3, W, H, []).psnr).toBe(100);
    // An error of 10 inside a 10×10 square at (0,0): MSE over it 100 → 28.13 dB; two overlapping boxes count it once.
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) for (let c = 0; c < 3; c++) shown[(y * W + x) * 4 + c] = 110;
    const s = scorePicture(shown, 4, src, 3, W, H, [
      { x0: 0, y0: 0, x1: 10, y1: 10 },
      { x0: 5, y0: 5, x1: 10, y1: 10 },
    ]);
    expect(s.queryPsnr).toBeCloseTo(psnrOf(100), 6);
    expect(s.psnr).toBeCloseTo(psnrOf((100 * 100) / (W * (H - STAMP_ROWS))), 6);
  });

  it('has no query score without a box inside the scored area', () => {
    expect(scorePicture(picture(3), 3, picture(3), 3, W, H, [{ x0: 0, y0: H - 10, x1: 50, y1: H }]).queryPsnr).toBeNull();
  });
});
