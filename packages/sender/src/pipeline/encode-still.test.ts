import { allocYuv, type Chroma, rgbToYuv } from '@mmsc/codec';
import { H264Decoder, H264Encoder, h264Available } from '@mmsc/codec/h264-node';
import { decodeMessage, splitVideo, type VideoMessage } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../images.js';
import { videoHello } from '../testing/video-hello.js';
import { encodeStill } from './encode-still.js';

const available = await h264Available();
const W = 160;
const H = 96;
const hello = videoHello(W, H);

/** Noise-like texture with colour: expensive to code, so the budget decides the quality. */
function busy(): RgbImage {
  const data = new Uint8Array(W * H * 3);
  let s = 7;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (s >>> 16) & 255;
  }
  return { width: W, height: H, data };
}

const flat = new Float32Array((W / 8) * (H / 8));

function video(parts: Uint8Array[]): Uint8Array {
  const msgs = parts.map((p) => decodeMessage(p) as VideoMessage);
  for (const m of msgs) expect(m.type).toBe('video');
  expect(msgs.every((m) => m.key)).toBe(true);
  return Uint8Array.from(msgs.flatMap((m) => [...m.data]));
}

describe.skipIf(!available)('encodeStill (node-av libx264; skipped when its binary does not load)', () => {
  it('codes one 4:4:4 keyframe whose wire bytes fit the budget, finer with a larger budget', async () => {
    const image = busy();
    const small = await encodeStill(image, flat, 8000, hello);
    const large = await encodeStill(image, flat, 30000, hello);
    expect(small?.chroma).toBe('444');
    expect(large?.chroma).toBe('444');
    expect(small?.wireBytes).toBeLessThanOrEqual(8000);
    expect(large?.wireBytes).toBeLessThanOrEqual(30000);
    expect(large?.wireBytes).toBeGreaterThan(0.8 * 30000); // the search spends the budget
    expect(large?.crf).toBeLessThan(small?.crf as number);
    const dec = await H264Decoder.create();
    expect(dec.decode(video(large?.parts ?? [])).chroma).toBe('444');
    dec.close();
  });

  it('falls back to 4:2:0 when even crf 51 does not fit in 4:4:4, and gives null when nothing fits', async () => {
    const image = busy();
    // The smallest keyframe of each format (crf 51; flat scores give no quantizer map), in wire bytes.
    const smallest = async (chroma: Chroma) => {
      const enc = await H264Encoder.create({ width: W, height: H, fps: 10, bitrate: 0, bufferBits: 0, crf: 51, chroma });
      const out = enc.encode(rgbToYuv(image.data, allocYuv(W, H, chroma)), [], 0, true);
      enc.close();
      return splitVideo({ frameId: 0, captureTs: 0, budget: 0, key: true, data: out.data }, hello.maxMessageBytes).reduce(
        (n, p) => n + p.length,
        0,
      );
    };
    const [min420, min444] = [await smallest('420'), await smallest('444')];
    expect(min420).toBeLessThan(min444);
    const between = await encodeStill(image, flat, Math.floor((min420 + min444) / 2), hello);
    expect(between?.chroma).toBe('420');
    expect(between?.wireBytes).toBeLessThanOrEqual(Math.floor((min420 + min444) / 2));
    expect(await encodeStill(image, flat, min420 - 1, hello)).toBeNull();
  });
});
