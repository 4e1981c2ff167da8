import { describe, expect, it } from 'vitest';
import {
  depacketizeH264,
  depacketizeVp8,
  h264StartsAccessUnit,
  isH264Keyframe,
  isVp8Keyframe,
  RtpPayloadError,
  vp8StartsFrame,
} from './depacketize.js';
import { packetizeH264, packetizeVp8 } from './packetize.js';

const u8 = (...b: number[]) => Uint8Array.from(b);
const SC = [0, 0, 0, 1];

// Hand-made NAL units (header byte first): SPS (0x67: NRI 3, type 7), PPS (0x68, type 8), an IDR
// slice (0x65, type 5) and a non-IDR slice (0x41: NRI 2, type 1).
const SPS = [0x67, 0xf4, 0x00, 0x1f, 0xaa];
const PPS = [0x68, 0xce, 0x38, 0x80];
const IDR = [0x65, 0x88, 0x84, 0x00, 0x21, 0x7f, 0x10];
const P = [0x41, 0x9a, 0x02, 0x03];

describe('depacketizeH264 (RFC 6184 mode 1)', () => {
  it('puts single NAL unit packets behind 4-byte start codes, in order', () => {
    const out = depacketizeH264([u8(...SPS), u8(...PPS), u8(...IDR)]);
    expect([...out]).toEqual([...SC, ...SPS, ...SC, ...PPS, ...SC, ...IDR]);
    expect(isH264Keyframe(out)).toBe(true);
    expect(isH264Keyframe(depacketizeH264([u8(...P)]))).toBe(false);
  });

  it('rebuilds an FU-A unit: the header from the indicator’s F/NRI and the FU header’s type', () => {
    // IDR split in three: indicator 0x7c = F 0, NRI 3, type 28; FU headers 0x85 (S, type 5), 0x05, 0x45 (E).
    const fus = [u8(0x7c, 0x85, 0x88, 0x84), u8(0x7c, 0x05, 0x00, 0x21), u8(0x7c, 0x45, 0x7f, 0x10)];
    expect([...depacketizeH264([u8(...SPS), ...fus])]).toEqual([...SC, ...SPS, ...SC, ...IDR]);
    // NRI 2 in the indicator (0x5c) gives header 0x41 for a type-1 unit.
    expect([...depacketizeH264([u8(0x5c, 0x81, 0x9a), u8(0x5c, 0x41, 0x02, 0x03)])]).toEqual([...SC, ...P]);
  });

  it('unpacks STAP-A (what browsers send): each unit with its 16-bit size', () => {
    const stap = u8(0x78, 0, SPS.length, ...SPS, 0, PPS.length, ...PPS);
    expect([...depacketizeH264([stap, u8(...IDR)])]).toEqual([...SC, ...SPS, ...SC, ...PPS, ...SC, ...IDR]);
    expect(h264StartsAccessUnit(stap)).toBe(true);
  });

  it('says which payloads certainly begin an access unit', () => {
    expect(h264StartsAccessUnit(u8(...SPS))).toBe(true);
    expect(h264StartsAccessUnit(u8(0x09, 0xf0))).toBe(true); // access unit delimiter
    expect(h264StartsAccessUnit(u8(...PPS))).toBe(false);
    expect(h264StartsAccessUnit(u8(...IDR))).toBe(false);
    expect(h264StartsAccessUnit(u8(0x7c, 0x85, 0x88))).toBe(false);
    expect(h264StartsAccessUnit(u8())).toBe(false);
  });

  it.each([
    ['nothing', []],
    ['an empty payload', [u8()]],
    ['an FU-A without its start', [u8(0x7c, 0x05, 1, 2)]],
    ['an FU-A without its end', [u8(0x7c, 0x85, 1, 2)]],
    ['an FU-A with start and end', [u8(0x7c, 0xc5, 1, 2)]],
    ['an FU-A with no fragment byte', [u8(0x7c, 0x85)]],
    ['a single unit inside an FU-A', [u8(0x7c, 0x85, 1), u8(...P), u8(0x7c, 0x45, 2)]],
    ['a second FU-A start', [u8(0x7c, 0x85, 1), u8(0x7c, 0x85, 2)]],
    ['a STAP-A unit larger than the packet', [u8(0x78, 0, 9, 0x67, 1)]],
    ['a STAP-A with a cut size', [u8(0x78, 0, 2, 0x67, 1, 0)]],
    ['a STAP-A with a zero size', [u8(0x78, 0, 0)]],
    ['an empty STAP-A', [u8(0x78)]],
    ['STAP-B (not mode 1)', [u8(0x19, 0, 0, 0, 2, 0x67, 1)]],
    ['MTAP16', [u8(0x1a, 1, 2, 3)]],
    ['FU-B', [u8(0x1d, 0x85, 0, 1, 2)]],
    ['type 0', [u8(0x00, 1)]],
    ['reserved type 31', [u8(0x1f, 1)]],
  ])('refuses %s', (_what, payloads) => {
    expect(() => depacketizeH264(payloads)).toThrow(RtpPayloadError);
  });
});

describe('depacketizeVp8 (RFC 7741)', () => {
  // A key frame's first bytes: frame tag 0x50 (key: bit 0 = 0), start code 9d 01 2a, then size bytes.
  const KEY = [0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01];
  const DELTA = [0x31, 0x02, 0x00, 0x11, 0x22];

  it('drops the 1-byte descriptors (0x10 first, 0x00 after) and joins the frame', () => {
    const out = depacketizeVp8([u8(0x10, ...KEY.slice(0, 4)), u8(0x00, ...KEY.slice(4, 8)), u8(0x00, ...KEY.slice(8))]);
    expect([...out]).toEqual(KEY);
    expect(isVp8Keyframe(out)).toBe(true);
    expect(isVp8Keyframe(depacketizeVp8([u8(0x10, ...DELTA)]))).toBe(false);
  });

  it('reads extended descriptors: a 15-bit picture id, TL0PICIDX, TID/KEYIDX', () => {
    // X=1, S=1: then I L T K = 1 1 1 0; picture id with M=1 (two bytes), TL0PICIDX, TID byte.
    const first = u8(0x90, 0xe0, 0x81, 0x23, 0x07, 0x40, ...KEY.slice(0, 5));
    // X=1, S=0: I only, a 7-bit picture id.
    const second = u8(0x80, 0x80, 0x05, ...KEY.slice(5));
    expect([...depacketizeVp8([first, second])]).toEqual(KEY);
    expect(vp8StartsFrame(first)).toBe(true);
    expect(vp8StartsFrame(second)).toBe(false);
    expect(vp8StartsFrame(u8(0x11, 1, 2, 3))).toBe(false); // S=1 in partition 1
    expect(vp8StartsFrame(u8(0x80))).toBe(false); // cut descriptor
  });

  it.each([
    ['nothing', []],
    ['a first payload without S', [u8(0x00, ...DELTA)]],
    ['a first payload in partition 1', [u8(0x11, ...DELTA)]],
    ['an empty payload', [u8(0x10, ...DELTA), u8()]],
    ['a cut extended descriptor', [u8(0x90)]],
    ['a cut picture id', [u8(0x90, 0x80)]],
    ['a descriptor longer than the payload', [u8(0x90, 0x80, 0x81)]],
    ['a frame under 3 bytes', [u8(0x10, 0x50, 0x42)]],
  ])('refuses %s', (_what, payloads) => {
    expect(() => depacketizeVp8(payloads)).toThrow(RtpPayloadError);
  });
});

describe('round trips with the packetizers', () => {
  // Bytes 1..255 only: no start code can appear inside a unit (as emulation prevention ensures).
  const body = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ((i * 31 + seed * 17) % 255) + 1);
  const annexB = (units: number[][]) => Uint8Array.from(units.flatMap((u) => [...SC, ...u]));

  it.each([100, 1200])('H.264: an access unit of small and fragmented units comes back byte for byte (payloads ≤ %i)', (max) => {
    const au = annexB([
      [0x67, ...body(12, 1)],
      [0x68, ...body(4, 2)],
      [0x65, ...body(5000, 3)],
      [0x65, ...body(max - 1, 4)], // exactly one payload
      [0x65, ...body(max, 5)], // one byte over: two fragments
    ]);
    const payloads = packetizeH264(au, max);
    expect(payloads.every((p) => p.length <= max)).toBe(true);
    const back = depacketizeH264(payloads);
    expect(back).toEqual(au);
    expect(isH264Keyframe(back)).toBe(true);
    expect(h264StartsAccessUnit(payloads[0] as Uint8Array)).toBe(true);
  });

  it('H.264: 3-byte start codes come back as 4-byte ones', () => {
    const au = Uint8Array.from([0, 0, 1, 0x41, ...body(3000, 6)]);
    expect(depacketizeH264(packetizeH264(au, 1200))).toEqual(Uint8Array.from([0, ...au]));
  });

  it.each([2, 100, 1200])('VP8: a frame comes back byte for byte (payloads ≤ %i)', (max) => {
    const frame = Uint8Array.from([0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, ...body(2500, 7)]);
    const payloads = packetizeVp8(frame, max);
    expect(payloads.every((p) => p.length <= max)).toBe(true);
    expect(vp8StartsFrame(payloads[0] as Uint8Array)).toBe(true);
    expect(payloads.slice(1).some((p) => vp8StartsFrame(p))).toBe(false);
    expect(depacketizeVp8(payloads)).toEqual(frame);
  });
});
