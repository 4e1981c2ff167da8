import { describe, expect, it } from 'vitest';
import { packetizeH264, packetizeVp8 } from './packetize.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replaceAll(' ', ''), 'hex'));

describe('packetizeH264 (RFC 6184, mode 1)', () => {
  it('sends each NAL unit that fits as one packet, start codes removed (3- and 4-byte)', () => {
    // SPS (67 …), PPS (68 …) after 4-byte start codes, an IDR slice (65 …) after a 3-byte one.
    const au = bytes('00000001 6742c01e  00000001 68ce3c80  000001 65888400');
    expect(packetizeH264(au, 100).map(hex)).toEqual(['6742c01e', '68ce3c80', '65888400']);
  });

  it('cuts a NAL unit over the payload size into FU-A fragments', () => {
    // An IDR slice header 0x65 (F 0, NRI 3, type 5) and 7 body bytes, 5-byte payloads: 3 body bytes each.
    const au = bytes('00000001 65 01020304050607');
    // indicator (0x65 & 0xe0) | 28 = 0x7c; headers: start 0x85, middle 0x05, end 0x45.
    expect(packetizeH264(au, 5).map(hex)).toEqual(['7c85010203', '7c05040506', '7c4507']);
  });

  it('keeps a non-reference slice NRI 0 in the FU indicator', () => {
    const au = bytes('00000001 01 aabbccdd');
    expect(packetizeH264(au, 4).map(hex)).toEqual(['1c81aabb', '1c41ccdd']);
  });

  it('loses no byte: fragments put back together give the NAL unit', () => {
    const nal = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7 + 1) & 0xff);
    nal[0] = 0x41;
    const au = new Uint8Array([0, 0, 0, 1, ...nal]);
    const packets = packetizeH264(au, 1200);
    expect(packets.every((p) => p.length <= 1200)).toBe(true);
    const back = [0x41, ...packets.flatMap((p) => [...p.subarray(2)])];
    expect(Uint8Array.from(back)).toEqual(nal);
    expect(packets.filter((p) => (p[1] as number) & 0x80)).toHaveLength(1);
    expect(packets.filter((p) => (p[1] as number) & 0x40)).toHaveLength(1);
  });

  it('refuses a payload size that cannot carry a fragment', () => {
    expect(() => packetizeH264(bytes('0000000165aa'), 2)).toThrow(RangeError);
  });
});

describe('packetizeVp8 (RFC 7741)', () => {
  it('puts S=1 on the first packet only, one descriptor byte each', () => {
    expect(packetizeVp8(bytes('9d012a 0102'), 3).map(hex)).toEqual(['109d01', '002a01', '0002']);
  });

  it('a frame that fits is one packet', () => {
    expect(packetizeVp8(bytes('aabb')).map(hex)).toEqual(['10aabb']);
  });
});
