import { describe, expect, it } from 'vitest';
import { avcCodecString, withoutSei } from './annexb.js';

// Hand-made Annex B: SPS (type 7, profile 0xf4 = High 4:4:4, constraints 0, level 0x1e), an SEI
// (type 6), a PPS (type 8) and an IDR slice (type 5); 4- and 3-byte start codes mixed.
const sps = [0, 0, 0, 1, 0x67, 0xf4, 0x00, 0x1e, 0xaa];
const sei = [0, 0, 0, 1, 0x06, 0x05, 0x02, 0x11, 0x22, 0x80];
const pps = [0, 0, 1, 0x68, 0xce, 0x38, 0x80];
const idr = [0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x21];

describe('Annex B helpers', () => {
  it('reads the codec string from the first SPS', () => {
    expect(avcCodecString(Uint8Array.from([...sei, ...sps, ...pps, ...idr]))).toBe('avc1.f4001e');
    expect(avcCodecString(Uint8Array.from(idr))).toBeNull();
  });

  it('drops SEI units and keeps every other unit byte for byte', () => {
    const out = withoutSei(Uint8Array.from([...sps, ...sei, ...pps, ...idr]));
    expect([...out]).toEqual([...sps, ...pps, ...idr]);
  });

  it('returns the same bytes when there is no SEI, and an SEI-only stream as empty', () => {
    const plain = Uint8Array.from([...sps, ...pps, ...idr]);
    expect(withoutSei(plain)).toBe(plain);
    expect(withoutSei(Uint8Array.from(sei)).length).toBe(0);
  });
});
