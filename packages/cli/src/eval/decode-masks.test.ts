import { describe, expect, it } from 'vitest';
import { decodeRleString, MaskError, polygonsToMask, rleToMask, segmentationToMask } from './decode-masks.js';

const show = (m: Uint8Array, w: number) =>
  Array.from({ length: m.length / w }, (_, y) => Array.from(m.subarray(y * w, y * w + w)).join(''));

describe('COCO mask decoding', () => {
  it('fills a polygon at pixel centres', () => {
    // A 4×3 rectangle from (1,1) to (5,4) in a 6×5 image.
    const m = polygonsToMask([[1, 1, 5, 1, 5, 4, 1, 4]], 5, 6, 5, 6);
    expect(show(m, 6)).toEqual(['000000', '011110', '011110', '011110', '000000']);
  });

  it('scales polygons onto the target grid', () => {
    // The same rectangle in a 12×10 source drawn onto a 6×5 grid.
    const m = polygonsToMask([[2, 2, 10, 2, 10, 8, 2, 8]], 10, 12, 5, 6);
    expect(show(m, 6)).toEqual(['000000', '011110', '011110', '011110', '000000']);
  });

  it('draws the crop of the image the frame shows (polygons and RLE alike)', () => {
    // The 12×10 source's columns 2..9 onto a 4×5 grid: the rectangle (2,2)–(10,8) keeps its shape.
    const crop = { left: 2, top: 0, width: 8, height: 10 };
    const m = polygonsToMask([[2, 2, 10, 2, 10, 8, 2, 8]], 10, 12, 5, 4, crop);
    expect(show(m, 4)).toEqual(['0000', '1111', '1111', '1111', '0000']);
    // 3×4 RLE (h=3, w=4) whose column 3 is set; the crop of columns 2..3 shows it on the right.
    const r = rleToMask([9, 3], 3, 4, 3, 2, { left: 2, top: 0, width: 2, height: 3 });
    expect(show(r, 2)).toEqual(['01', '01', '01']);
  });

  it('fills a triangle and leaves its outside empty', () => {
    const m = polygonsToMask([[0, 0, 4, 0, 0, 4]], 4, 4, 4, 4);
    expect(show(m, 4)).toEqual(['1110', '1100', '1000', '0000']);
  });

  it('decodes uncompressed RLE column by column', () => {
    // 3×2 mask (h=3, w=2), column-major: col0 = 0,1,1 ; col1 = 1,0,0.
    const m = rleToMask([1, 3, 2], 3, 2, 3, 2);
    expect(show(m, 2)).toEqual(['01', '10', '10']);
  });

  it('decodes compressed RLE strings like pycocotools', () => {
    // pycocotools encodes counts [1,3,2] as "132" and [5,100,3,40] as "5T33TN" (delta from the count two back).
    expect(decodeRleString('132')).toEqual([1, 3, 2]);
    expect(decodeRleString('5T33TN')).toEqual([5, 100, 3, 40]);
    expect(show(segmentationToMask({ counts: '132', size: [3, 2] }, 3, 2, 3, 2), 2)).toEqual(['01', '10', '10']);
  });

  it('rejects malformed segmentations', () => {
    expect(() => rleToMask([1, 10], 3, 2, 3, 2)).toThrow(MaskError);
    expect(() => rleToMask([1, 2], 3, 2, 3, 2)).toThrow(/cover 3 of 6/);
    expect(() => polygonsToMask([[0, 0, 1, 1]], 4, 4, 4, 4)).toThrow(MaskError);
    expect(() => decodeRleString('1a')).toThrow(MaskError);
  });
});
