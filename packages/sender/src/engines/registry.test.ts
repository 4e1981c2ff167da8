import { contextFromHello, ENGINES, type HelloMessage, REFRESH_UNSUPPORTED_FORMAT } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { patchesHello } from '../testing/video-hello.js';
import { DEFAULT_ENGINE, engineFor, engines, FALLBACK_ENGINE, isEngineName, UnknownEngineError } from './registry.js';

const common: HelloMessage = patchesHello();
const options = { allocator: 'rd', curves: [], chroma: '444' } as const;

describe('engine registry', () => {
  it('has an engine for every name the protocol knows, under that name', () => {
    expect(engines().map((e) => e.name)).toEqual([...ENGINES]);
    for (const name of ENGINES) {
      expect(isEngineName(name)).toBe(true);
      expect(engineFor(name).name).toBe(name);
      expect(engineFor(name).hello(common).engine).toBe(name);
    }
    expect(ENGINES).toContain(DEFAULT_ENGINE);
    expect(ENGINES).toContain(FALLBACK_ENGINE);
  });

  it('refuses an unknown engine with a typed error naming the known ones', () => {
    expect(isEngineName('vp9')).toBe(false);
    expect(isEngineName('toString')).toBe(false);
    const err = (() => {
      try {
        engineFor('vp9');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UnknownEngineError);
    expect(err).toMatchObject({ code: 'unknown-engine', engine: 'vp9' });
    expect((err as Error).message).toContain(ENGINES.join(', '));
  });

  it('the fallback engine can always run', async () => {
    expect(await engineFor(FALLBACK_ENGINE).unavailable()).toBeNull();
  });

  it('patches refuses a refresh (it has no keyframes)', () => {
    const hello = engineFor('patches').hello(common);
    const enc = engineFor('patches').createLinkEncoder(hello, contextFromHello(hello), options);
    expect(enc.refresh('decode-error')).toMatchObject({ ok: false });
    enc.close();
  });

  it('h264 takes a refresh, and restarts in 4:2:0 for a decoder without 4:4:4 (once)', () => {
    const hello = engineFor('h264').hello(common);
    const enc = engineFor('h264').createLinkEncoder(hello, contextFromHello(hello), options);
    // The first picture is a keyframe already: a refresh before it is answered by it (counted as ignored).
    expect(enc.refresh('decode-error')).toEqual({ ok: true, ignored: true });
    expect(enc.refresh(REFRESH_UNSUPPORTED_FORMAT)).toEqual({ ok: true, note: 'cannot decode 444: its stream restarts in 420' });
    // Once: the restart's keyframe is on its way, and 4:2:0 is the floor.
    expect(enc.refresh(REFRESH_UNSUPPORTED_FORMAT)).toEqual({ ok: true, ignored: true });
    enc.close();
  });

  it('describes the settings that shape each engine’s streams', () => {
    expect(engineFor('patches').describe(options)).toBe('allocator rd');
    expect(engineFor('h264').describe(options)).toBe('444');
  });
});
