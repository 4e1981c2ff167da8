import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import { PICTURE_TRAILER_BOUND, splitPictureTrailer, withPictureTrailer } from './picture-trailer.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const announce = { frameId: 9, captureTs: 1000.5, budget: 300, key: true, rtpTs: 90_000, bytes: 2 };

describe('the picture trailer', () => {
  it('is the picture message, its length and "mp" after the data (worked out by hand)', () => {
    const t = withPictureTrailer(Uint8Array.of(0xaa, 0xbb), announce);
    // [1, 7, 9, 1000.5, 300, true, 90000, 2]: fixarray(8) 01 07 09, float64 1000.5, cd 012c, c3,
    // ce 00015f90, 02 — 23 bytes (0x0017), then "mp".
    expect(hex(t)).toBe(`aabb 98010709 cb408f440000000000 cd012c c3 ce00015f90 02 0017 6d70`.replaceAll(' ', ''));
    expect(t.length - 2).toBeLessThanOrEqual(PICTURE_TRAILER_BOUND);
  });

  it('comes off again: the data and the announcement', () => {
    const data = Uint8Array.from({ length: 70_000 }, (_, i) => i & 0xff);
    const { data: back, picture } = splitPictureTrailer(withPictureTrailer(data, { ...announce, rtpTs: 2 ** 32 - 1, bytes: 72_211 }));
    expect(back).toEqual(data);
    expect(picture).toEqual({ type: 'picture', ...announce, rtpTs: 2 ** 32 - 1, bytes: 72_211 });
  });

  it('a bound holds for the largest fields', () => {
    const t = withPictureTrailer(new Uint8Array(1), {
      frameId: 2 ** 32 - 1,
      captureTs: 1_796_613_647_400.25,
      budget: 2 ** 40,
      key: false,
      rtpTs: 2 ** 32 - 1,
      bytes: 2 ** 40,
    });
    expect(t.length - 1).toBeLessThanOrEqual(PICTURE_TRAILER_BOUND);
  });

  it('refuses data that does not end in a trailer, or whose length does not match', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as ProtocolError).code;
      }
      return null;
    };
    const good = withPictureTrailer(Uint8Array.of(1, 2, 3), announce);
    expect(code(() => splitPictureTrailer(Uint8Array.of(0x6d)))).toBe('truncated');
    expect(code(() => splitPictureTrailer(Uint8Array.of(1, 2, 3, 4, 5)))).toBe('bad-field');
    expect(code(() => splitPictureTrailer(Uint8Array.of(0xff, 0xff, 0x6d, 0x70)))).toBe('truncated');
    expect(code(() => splitPictureTrailer(good.subarray(3)))).toBe('truncated'); // nothing before the trailer
    const notPicture = Uint8Array.of(0x93, 0x01, 0x12, 0xa1, 0x78, 0x00, 0x05, 0x6d, 0x70); // a refresh message
    expect(code(() => splitPictureTrailer(notPicture))).toBe('bad-field');
    const garbled = good.slice();
    garbled[3] = 0xc1; // never used in msgpack
    expect(code(() => splitPictureTrailer(garbled))).not.toBeNull();
    expect(() => splitPictureTrailer(garbled)).toThrow(ProtocolError);
  });
});
