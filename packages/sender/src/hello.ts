import { type CodecEntry, ModelError } from '@mmsc/codec';
import { defaultLevels, type EngineName, type HelloMessage, IMPLICIT_ENGINE } from '@mmsc/protocol';
import type { DistortionCurve } from './allocate/distortion.js';
import { engineFor } from './engines/registry.js';
import { GEOMETRY } from './geometry.js';

/**
/**
 * The sender's hello: the frame geometry (the source's frame, `frameGeometry`; default the protocol's
 * 480×320), the level table (the paper's five levels, decoders named and hashed from the manifest),
 * and the engine's own fields (the registry's engine sets them).
 */
export function helloFor(
  codecs: CodecEntry[],
  fps: number,
  maxMessageBytes: number,
  engine: EngineName = IMPLICIT_ENGINE,
  frame: { width: number; height: number } = GEOMETRY,
): HelloMessage {
  const by = (bytes: number) => {
    const c = codecs.find((e) => e.bytes === bytes);
    if (!c) throw new ModelError('manifest-invalid', `models/manifest.json has no ${bytes}-byte codec`, 'manifest.json');
    return { id: c.id, sha256: c.decoder.sha256 };
  };
  return engineFor(engine).hello({
    type: 'hello',
    sessionId: 'pending',
    width: frame.width,
    height: frame.height,
    patchSize: GEOMETRY.patchSize,
    levels: defaultLevels({ 12: by(12), 24: by(24), 48: by(48) }),
    maxMessageBytes,
    fps,
    engine,
  });
}

/** Distortion curves recorded with the codecs (manifest field `distortion`, as codec-bench prints them), for the rd allocator. */
export function curvesOf(codecs: CodecEntry[]): DistortionCurve[] {
  return codecs.flatMap((c) => {
    const points = (c as CodecEntry & { distortion?: { points?: [number, number][] } }).distortion?.points;
    return Array.isArray(points) && points.length > 0 ? [{ bytes: c.bytes, points }] : [];
  });
}
