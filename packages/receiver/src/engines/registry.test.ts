import { allocYuv } from '@mmsc/codec';
import { contextFromHello, ENGINES, type HelloMessage } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import type { CollectedFrame } from '../collect-frame.js';
import { DecoderMismatchError } from '../receive/verify-decoders.js';
import { ffmpegVideoDecoders, type VideoCodec } from './picture-source.js';
import { pictureSource, receiverEngines } from './registry.js';

const hello = (engine: HelloMessage['engine']): HelloMessage => ({
  type: 'hello',
  sessionId: 's',
  width: 16,
  height: 16,
  patchSize: 8,
  levels: [
    { id: 0, bytes: 0, kind: 'skip', model: null },
    { id: 4, bytes: 192, kind: 'raw', model: null },
  ],
  maxMessageBytes: 1024,
  fps: 10,
  engine,
});

const keyframe = (data: Uint8Array): CollectedFrame => ({
  frameId: 0,
  captureTs: 0,
  budget: 100,
  parts: 1,
  partsReceived: 1,
  bytesReceived: data.length,
  lastReceiveTs: 0,
  complete: true,
  levels: new Uint8Array(4),
  received: [],
  video: { key: true, chunks: [data] },
  base: null,
});

describe('picture source registry', () => {
  it('has a picture source for every engine the protocol knows, under its name', () => {
    expect(receiverEngines().sort()).toEqual([...ENGINES].sort());
    for (const e of ENGINES) expect(pictureSource(e).engine).toBe(e);
    expect(() => pictureSource('vp9')).toThrow(/no picture source for engine vp9/);
  });

  it('patches: only collected without patch decoders, and asks for them', () => {
    const h = hello('patches');
    const s = pictureSource('patches');
    expect(s.needsPatchDecoders).toBe(true);
    expect(s.create(h, contextFromHello(h), { video: async () => Promise.reject(new Error('unused')) })).toBeNull();
    expect(s.describe(h, null)).toBe('engine patches · 2 levels');
  });

  it('h264: decodes with the platform decoder its codec names, and refuses a platform without one', async () => {
    const h = hello('h264');
    const s = pictureSource('h264');
    expect(s.needsPatchDecoders).toBe(false);
    expect(() => s.create(h, contextFromHello(h), { decoderSource: 'here' })).toThrow(DecoderMismatchError);
    const asked: string[] = [];
    const video = ffmpegVideoDecoders(async (name) => {
      asked.push(name);
      return {
        decode: () => Object.assign(allocYuv(16, 16), { chroma: '444' as const }),
        close: () => undefined,
      };
    });
    const codecs: VideoCodec[] = [];
    const picture = s.create(h, contextFromHello(h), {
      video: (c) => {
        codecs.push(c);
        return video(c);
      },
    });
    const stats = await picture?.apply(keyframe(Uint8Array.of(0, 0, 1, 0x65)));
    expect(asked).toEqual(['h264']);
    expect(codecs[0]?.label).toBe('H.264');
    expect(stats).toMatchObject({ decoded: 4, format: 'H.264 4:4:4' });
    expect(s.describe(h, 'H.264 4:2:0')).toBe('engine h264 (x264, quantizer by relevance, H.264 4:2:0)');
    expect(s.decoderNames({ videoName: 'WebCodecs' })).toEqual(['WebCodecs H.264']);
  });
});
