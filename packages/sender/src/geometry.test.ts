import { describe, expect, it } from 'vitest';
import { coverCrop, FRAME_GRID, type FrameFit, frameGeometry } from './geometry.js';

/** Sources per aspect: a few sizes each, landscape and upright. */
const ASPECTS: { name: string; sizes: [number, number][] }[] = [
  {
    name: '3:2',
    sizes: [
      [480, 320],
      [1500, 1000],
      [6000, 4000],
    ],
  },
  {
    name: '4:3',
    sizes: [
      [640, 480],
      [320, 240],
      [4032, 3024],
    ],
  },
  {
    name: '16:9',
    sizes: [
      [1920, 1080],
      [1280, 720],
      [854, 480],
    ],
  },
  {
    name: '9:16',
    sizes: [
      [1080, 1920],
      [720, 1280],
      [360, 640],
    ],
  },
];
const SIZES = [480, 640, 256, 1280];

/** Relative difference of two aspect ratios. */
const off = (a: number, b: number) => Math.abs(a / b - 1);

describe('frameGeometry', () => {
  for (const { name, sizes } of ASPECTS) {
    describe(name, () => {
      for (const fit of ['keep', 'crop'] as FrameFit[]) {
        it(`${fit}: long side = size, sides on the grid, the crop has the frame's aspect and lies in the source`, () => {
          for (const [sw, sh] of sizes) {
            for (const size of SIZES) {
              const g = frameGeometry(sw, sh, { size, fit });
              expect(Math.max(g.width, g.height)).toBe(size);
              expect(g.width % FRAME_GRID).toBe(0);
              expect(g.height % FRAME_GRID).toBe(0);
              expect(g.height > g.width).toBe(sh > sw); // orientation follows the source
              const { crop } = g;
              expect(crop.left).toBeGreaterThanOrEqual(0);
              expect(crop.top).toBeGreaterThanOrEqual(0);
              expect(crop.left + crop.width).toBeLessThanOrEqual(sw);
              expect(crop.top + crop.height).toBeLessThanOrEqual(sh);
              // Centred: the margins on either side differ by at most a pixel.
              expect(Math.abs(sw - crop.width - 2 * crop.left)).toBeLessThanOrEqual(1);
              expect(Math.abs(sh - crop.height - 2 * crop.top)).toBeLessThanOrEqual(1);
              // What is shown is not stretched: one source pixel of rounding at most.
              expect(off(crop.width / crop.height, g.width / g.height)).toBeLessThanOrEqual(1 / Math.min(crop.width, crop.height));
            }
          }
        });
      }

      it('keep: the frame has the source aspect within half a grid step on the short side, and shows all of it but the rounding', () => {
        for (const [sw, sh] of sizes) {
          for (const size of SIZES) {
            const g = frameGeometry(sw, sh, { size, fit: 'keep' });
            const short = Math.min(g.width, g.height);
            // The short side is the source's at this scale, to half a grid step.
            expect(Math.abs(short - (size * Math.min(sw, sh)) / Math.max(sw, sh))).toBeLessThanOrEqual(FRAME_GRID / 2);
            expect(off(g.width / g.height, sw / sh)).toBeLessThanOrEqual(FRAME_GRID / 2 / (short - FRAME_GRID / 2));
            // The crop drops at most the rounding's share of one side, nothing of the other.
            const { crop } = g;
            const pixel = 1 / Math.min(crop.width, crop.height);
            expect(1 - (crop.width * crop.height) / (sw * sh)).toBeLessThanOrEqual(FRAME_GRID / 2 / short + pixel);
          }
        }
      });

      it('crop: the frame is the configured 3:2 frame, turned like the source', () => {
        for (const [sw, sh] of sizes) {
          const g = frameGeometry(sw, sh, { size: 480, fit: 'crop' });
          expect([g.width, g.height]).toEqual(sh > sw ? [320, 480] : [480, 320]);
        }
      });
    });
  }

  it('the issue examples: a 640×480 camera and a 16:9 clip keep their aspect at the default size', () => {
    expect(frameGeometry(640, 480)).toMatchObject({ width: 480, height: 360 }); // exact: the short side is on the 8-px patch grid
    expect(frameGeometry(1920, 1080)).toMatchObject({ width: 480, height: 272 });
    expect(frameGeometry(480, 320)).toEqual({ width: 480, height: 320, crop: { left: 0, top: 0, width: 480, height: 320 } });
  });

  it('a square source gives a square frame; an extreme one keeps one grid step', () => {
    expect(frameGeometry(500, 500)).toMatchObject({ width: 480, height: 480 });
    expect(frameGeometry(4000, 10)).toMatchObject({ width: 480, height: FRAME_GRID });
  });

  it('refuses sizes off the grid or out of range, unknown fits and empty sources', () => {
    expect(() => frameGeometry(640, 480, { size: 500, fit: 'keep' })).toThrow(/multiple of 16/);
    expect(() => frameGeometry(640, 480, { size: 32, fit: 'keep' })).toThrow(RangeError);
    expect(() => frameGeometry(640, 480, { size: 4096, fit: 'keep' })).toThrow(RangeError);
    expect(() => frameGeometry(640, 480, { size: 480, fit: 'fill' as FrameFit })).toThrow(/fit must be keep or crop/);
    expect(() => frameGeometry(0, 480)).toThrow(RangeError);
  });
});

describe('coverCrop', () => {
  it('trims the wider side only, centred', () => {
    expect(coverCrop(640, 480, 480, 320)).toEqual({ left: 0, top: 26, width: 640, height: 427 });
    expect(coverCrop(1920, 1080, 480, 320)).toEqual({ left: 150, top: 0, width: 1620, height: 1080 });
    expect(coverCrop(480, 320, 480, 320)).toEqual({ left: 0, top: 0, width: 480, height: 320 });
  });
});
