/**
 * The receiver's engines by the name the hello carries. Adding an engine: its PictureSource in a
 * file of its own (a video engine is `videoSource(name, codec, coding)`) and one line here.
 */
import { h264Source } from './h264.js';
import { patchesSource } from './patches.js';
import type { PictureSource } from './picture-source.js';
import { vp8Source } from './vp8.js';

const SOURCES: readonly PictureSource[] = [patchesSource, h264Source, vp8Source];

const BY_ENGINE = new Map<string, PictureSource>(SOURCES.map((s) => [s.engine, s]));

/** The picture source of an engine; throws for an engine this receiver does not know (the protocol refuses those first). */
export function pictureSource(engine: string): PictureSource {
  const s = BY_ENGINE.get(engine);
  if (!s) throw new Error(`this receiver has no picture source for engine ${engine}`);
  return s;
}

/** The engines this receiver can show. */
export function receiverEngines(): string[] {
  return [...BY_ENGINE.keys()];
}
