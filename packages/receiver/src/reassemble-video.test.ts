import { allocYuv, type YuvPicture } from '@mmsc/codec';
import { makeContext, REFRESH_UNSUPPORTED_FORMAT, type VideoMessage } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { type CollectedFrame, FrameCollector } from './collect-frame.js';
import { UnsupportedVideoFormatError, type VideoDecoderPort, VideoPicture } from './reassemble-video.js';

const ctx = makeContext([{ id: 0, bytes: 0, kind: 'skip', model: null }], { width: 16, height: 8, patchSize: 8 });

/** A fake decoder: the picture's luma is the access unit's first byte; bytes 0xff make it throw. */
function fakeDecoder(log: string[], chroma: '420' | '444' = '420'): VideoDecoderPort {
  return {
    decode: async (data, key) => {
      log.push(`${key ? 'K' : 'P'}${data.length}`);
      if (data[0] === 0xff) throw new Error('corrupt');
      const f: YuvPicture = allocYuv(16, 8, chroma);
      f.y.fill(data[0] as number);
      f.u.fill(128);
      f.v.fill(128);
      return f;
    },
    close: () => log.push('closed'),
  };
}

function frames(parts: Partial<VideoMessage>[]): CollectedFrame[] {
  const c = new FrameCollector(ctx);
  return parts.flatMap((p) =>
    c.pushVideo(
      { type: 'video', frameId: 0, captureTs: 0, budget: 100, part: 0, parts: 1, key: false, data: Uint8Array.of(50), ...p },
      10,
      1,
    ),
  );
}

describe('VideoPicture', () => {
  it('decodes whole pictures in order and shows the decoder’s pixels', async () => {
    const log: string[] = [];
    const pic = new VideoPicture(ctx, async () => fakeDecoder(log));
    const [a, b] = frames([
      { frameId: 1, key: true, parts: 2, part: 0, data: Uint8Array.of(90, 1) },
      { frameId: 1, key: true, parts: 2, part: 1, data: Uint8Array.of(2) },
      { frameId: 2, data: Uint8Array.of(40) },
    ]);
    expect((await pic.apply(a as CollectedFrame)).decoded).toBe(ctx.patchCount);
    expect(pic.image[0]).toBe(90);
    expect((await pic.apply(b as CollectedFrame)).refresh).toBeUndefined();
    expect(pic.image[0]).toBe(40);
    expect(log).toEqual(['K3', 'P1']);
  });

  it('says what each decoded picture was coded as (the page shows it), and nothing for a picture it could not decode', async () => {
    for (const [chroma, format] of [
      ['444', 'H.264 4:4:4'],
      ['420', 'H.264 4:2:0'],
    ] as const) {
      const pic = new VideoPicture(ctx, async () => fakeDecoder([], chroma));
      const [p0, k1] = frames([{ frameId: 1 }, { frameId: 2, key: true, data: Uint8Array.of(60) }]);
      expect((await pic.apply(p0 as CollectedFrame)).format).toBeUndefined();
      expect((await pic.apply(k1 as CollectedFrame)).format).toBe(format);
    }
  });

  it('holds the last picture and asks for a keyframe until one decodes', async () => {
    const log: string[] = [];
    const pic = new VideoPicture(ctx, async () => fakeDecoder(log));
    const [p0, k1, bad, p3, k4] = frames([
      { frameId: 1, data: Uint8Array.of(10) },
      { frameId: 2, key: true, data: Uint8Array.of(70) },
      { frameId: 3, data: Uint8Array.of(0xff) },
      { frameId: 4, data: Uint8Array.of(20) },
      { frameId: 5, key: true, data: Uint8Array.of(30) },
    ]);
    expect((await pic.apply(p0 as CollectedFrame)).refresh).toBe('no-reference');
    expect(pic.image[0]).toBe(128); // grey until a keyframe
    await pic.apply(k1 as CollectedFrame);
    expect((await pic.apply(bad as CollectedFrame)).refresh).toBe('decode-error');
    expect((await pic.apply(p3 as CollectedFrame)).refresh).toBe('no-reference');
    expect(pic.image[0]).toBe(70); // the whole last good picture, not a mix
    expect((await pic.apply(k4 as CollectedFrame)).refresh).toBeUndefined();
    expect(pic.image[0]).toBe(30);
    expect(log).toEqual(['K1', 'P1', 'K1']);
  });

  it('does not decode a picture whose parts did not all arrive', async () => {
    const log: string[] = [];
    const pic = new VideoPicture(ctx, async () => fakeDecoder(log));
    const [cut] = frames([
      { frameId: 1, key: true, parts: 2, part: 0 },
      { frameId: 2, key: true },
    ]);
    expect(cut?.complete).toBe(false);
    expect((await pic.apply(cut as CollectedFrame)).refresh).toBe('incomplete-picture');
    expect(log).toEqual([]);
  });

  it('tells a decoder that refuses the stream’s format (unsupported-format) apart from a broken picture (decode-error)', async () => {
    let accept = false;
    const port: VideoDecoderPort = {
      decode: async (data, key) => {
        if (!accept) throw new UnsupportedVideoFormatError('avc1.f4001e');
        if (data[0] === 0xff) throw new Error('corrupt');
        const f = allocYuv(16, 8);
        f.y.fill(key ? 60 : 61);
        f.u.fill(128);
        f.v.fill(128);
        return f;
      },
      close: () => undefined,
    };
    const pic = new VideoPicture(ctx, async () => port);
    const [k444, k420, bad] = frames([
      { frameId: 1, key: true, data: Uint8Array.of(1) },
      { frameId: 2, key: true, data: Uint8Array.of(2) },
      { frameId: 3, data: Uint8Array.of(0xff) },
    ]);
    expect((await pic.apply(k444 as CollectedFrame)).refresh).toBe(REFRESH_UNSUPPORTED_FORMAT);
    accept = true; // the sender restarted the stream in a format this decoder has
    expect((await pic.apply(k420 as CollectedFrame)).refresh).toBeUndefined();
    expect(pic.image[0]).toBe(60);
    expect((await pic.apply(bad as CollectedFrame)).refresh).toBe('decode-error');
  });
});
