import { DEFAULT_GEOMETRY, defaultLevels, type HelloMessage, KEEP_LEVEL, type LevelSpec } from './types.js';

/**
 * What a frame message can only be checked against: the session's level table and geometry.
 * Receivers build it from the hello they got; without one, the default 320×480 / paper table applies.
 */
export interface ProtocolContext {
  /** Payload bytes per level symbol (index 0..7); `undefined` marks a symbol not in the table. */
  readonly levelBytes: readonly (number | undefined)[];
  readonly width: number;
  readonly height: number;
  readonly patchSize: number;
  readonly patchCount: number;
}

export function makeContext(levels: readonly LevelSpec[], geometry: { width: number; height: number; patchSize: number }): ProtocolContext {
  const levelBytes: (number | undefined)[] = new Array(KEEP_LEVEL + 1).fill(undefined);
  for (const l of levels) levelBytes[l.id] = l.bytes;
  levelBytes[KEEP_LEVEL] = 0;
  const { width, height, patchSize } = geometry;
  return { levelBytes, width, height, patchSize, patchCount: (width / patchSize) * (height / patchSize) };
}

export function contextFromHello(hello: HelloMessage): ProtocolContext {
  return makeContext(hello.levels, hello);
}

export const DEFAULT_CONTEXT: ProtocolContext = makeContext(defaultLevels(), DEFAULT_GEOMETRY);
