import { describe, expect, it } from 'vitest';
import { avcCodecString } from './annexb.js';
import { H264Decoder, H264Encoder, h264Available } from './h264-node.js';
import { allocI420, i420ToRgb, rgbToI420 } from './yuv.js';

const available = await h264Available();
const W = 96;
const H = 64;

/** A smooth grey texture (no chroma detail for 4:2:0 to lose) that moves right by `shift` pixels. */
function picture(shift: number) {
  const rgb = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const v = 128 + 60 * Math.sin((x + shift) / 3) * Math.cos(y / 4) + 30 * Math.sin((x + shift + 2 * y) / 5);
      rgb.fill(Math.round(v), (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
  return rgb;
}

function psnr(a: Uint8Array, b: Uint8Array) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += ((a[i] as number) - (b[i] as number)) ** 2;
  return 10 * Math.log10((255 * 255) / (s / a.length));
}

describe.skipIf(!available)('H264Encoder / H264Decoder (node-av libx264; skipped when its binary does not load)', () => {
  it('codes a keyframe then predicted frames that decode to the picture', async () => {
    const enc = await H264Encoder.create({ width: W, height: H, fps: 10, bitrate: 400_000, bufferBits: 200_000 });
    const dec = await H264Decoder.create();
    try {
      const kinds: boolean[] = [];
      for (let f = 0; f < 5; f++) {
        const rgb = picture(f * 2);
        const out = enc.encode(rgbToI420(rgb, allocI420(W, H)), [], f * 100, false);
        kinds.push(out.key);
        if (f === 0) expect(avcCodecString(out.data)).toMatch(/^avc1\.[0-9a-f]{6}$/);
        const back = i420ToRgb(dec.decode(out.data), new Uint8Array(W * H * 3));
        expect(psnr(back, rgb)).toBeGreaterThan(32);
      }
      expect(kinds).toEqual([true, false, false, false, false]);
      expect(enc.encode(rgbToI420(picture(20), allocI420(W, H)), [], 600, true).key).toBe(true);
    } finally {
      enc.close();
      dec.close();
    }
  });

  it('spends more of a starved budget inside a region with a negative QP offset', async () => {
    const quality = async (regions: { left: number; top: number; right: number; bottom: number; qpDelta: number }[]) => {
      const enc = await H264Encoder.create({ width: W, height: H, fps: 10, bitrate: 40_000, bufferBits: 20_000 });
      const dec = await H264Decoder.create();
      const rgb = picture(0);
      const back = i420ToRgb(dec.decode(enc.encode(rgbToI420(rgb, allocI420(W, H)), regions, 0, false).data), new Uint8Array(W * H * 3));
      enc.close();
      dec.close();
      // PSNR of the left half only.
      const crop = (img: Uint8Array) =>
        Uint8Array.from({ length: (W / 2) * H * 3 }, (_, i) => img[Math.floor(i / ((W / 2) * 3)) * W * 3 + (i % ((W / 2) * 3))] as number);
      return psnr(crop(back), crop(rgb));
    };
    const plain = await quality([]);
    const roi = await quality([{ left: 0, top: 0, right: W / 2, bottom: H, qpDelta: -12 }]);
    expect(roi).toBeGreaterThan(plain + 1);
  });

  it('rejects garbage instead of crashing', async () => {
    const dec = await H264Decoder.create();
    try {
      expect(() => dec.decode(Uint8Array.from([0, 0, 0, 1, 0x65, 1, 2, 3]))).toThrow();
    } finally {
      dec.close();
    }
  });
});
