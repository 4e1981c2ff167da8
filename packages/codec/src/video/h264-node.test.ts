import { describe, expect, it } from 'vitest';
import { avcCodecString } from './annexb.js';
import { H264Decoder, H264Encoder, h264Available } from './h264-node.js';
import { allocYuv, rgbToYuv, yuvToRgb } from './yuv.js';

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
        const out = enc.encode(rgbToYuv(rgb, allocYuv(W, H)), [], f * 100, false);
        kinds.push(out.key);
        if (f === 0) expect(avcCodecString(out.data)).toMatch(/^avc1\.[0-9a-f]{6}$/);
        const back = yuvToRgb(dec.decode(out.data), new Uint8Array(W * H * 3));
        expect(psnr(back, rgb)).toBeGreaterThan(32);
      }
      expect(kinds).toEqual([true, false, false, false, false]);
      expect(enc.encode(rgbToYuv(picture(20), allocYuv(W, H)), [], 600, true).key).toBe(true);
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
      const back = yuvToRgb(dec.decode(enc.encode(rgbToYuv(rgb, allocYuv(W, H)), regions, 0, false).data), new Uint8Array(W * H * 3));
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

  it('codes 4:4:4 as High 4:4:4 and keeps chroma detail that 4:2:0 loses', async () => {
    // One-pixel red/blue stripes: averaged away by 2×2 chroma subsampling, kept by 4:4:4.
    const rgb = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) rgb.set(x % 2 ? [200, 40, 60] : [60, 40, 200], (y * W + x) * 3);
    const code = async (chroma: '420' | '444') => {
      const enc = await H264Encoder.create({ width: W, height: H, fps: 10, bitrate: 0, bufferBits: 0, crf: 10, chroma });
      const dec = await H264Decoder.create();
      const out = enc.encode(rgbToYuv(rgb, allocYuv(W, H, chroma)), [], 0, true);
      const pic = dec.decode(out.data);
      enc.close();
      dec.close();
      return { codec: avcCodecString(out.data), chroma: pic.chroma, psnr: psnr(yuvToRgb(pic, new Uint8Array(W * H * 3)), rgb) };
    };
    const [p420, p444] = [await code('420'), await code('444')];
    expect(p444.codec?.slice(0, 7)).toBe('avc1.f4');
    expect(p444.chroma).toBe('444');
    expect(p420.chroma).toBe('420');
    expect(p444.psnr).toBeGreaterThan(p420.psnr + 10);
  });

  it('codes constant quality when given a crf (smaller at a higher crf), without x264’s settings SEI', async () => {
    const size = async (crf: number) => {
      const enc = await H264Encoder.create({ width: W, height: H, fps: 10, bitrate: 0, bufferBits: 0, crf });
      const out = enc.encode(rgbToYuv(picture(0), allocYuv(W, H)), [], 0, true);
      enc.close();
      // No NAL unit of type 6 (SEI) is left in the keyframe.
      for (let i = 0; i + 3 < out.data.length; i++)
        if (out.data[i] === 0 && out.data[i + 1] === 0 && out.data[i + 2] === 1) expect((out.data[i + 3] as number) & 0x1f).not.toBe(6);
      return out.data.length;
    };
    expect(await size(40)).toBeLessThan(await size(15));
  });

  it('refuses a picture of the other chroma format', async () => {
    const enc = await H264Encoder.create({ width: W, height: H, fps: 10, bitrate: 100_000, bufferBits: 50_000, chroma: '444' });
    try {
      expect(() => enc.encode(allocYuv(W, H, '420'), [], 0, true)).toThrow(/444 pictures, not 420/);
    } finally {
      enc.close();
    }
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
