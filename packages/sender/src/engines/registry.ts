import { ENGINES, type EngineName } from '@mmsc/protocol';
import { h264Engine } from './h264.js';
import type { Engine } from './link-encoder.js';
import { patchesEngine } from './patches.js';
import { vp8Engine } from './vp8.js';

/** The engines by the name the hello carries: adding one is its module plus its line here. */
const REGISTRY: Readonly<Record<EngineName, Engine>> = {
  patches: patchesEngine,
  h264: h264Engine,
  vp8: vp8Engine,
};

/** What `mmsc serve` runs without `--engine`, and what it falls back to when that cannot run here. */
export const DEFAULT_ENGINE: EngineName = 'h264';
export const FALLBACK_ENGINE: EngineName = 'patches';

/** A name no engine is registered under (a typo in `--engine`, a hello from a newer sender). */
export class UnknownEngineError extends Error {
  override readonly name = 'UnknownEngineError';
  readonly code = 'unknown-engine';

  constructor(readonly engine: string) {
    super(`no engine ${JSON.stringify(engine)}: the engines are ${ENGINES.join(', ')}`);
  }
}

export function isEngineName(name: string): name is EngineName {
  return Object.hasOwn(REGISTRY, name);
}

/** The engine registered under `name`; an unknown name throws `UnknownEngineError`. */
export function engineFor(name: string): Engine {
  if (!isEngineName(name)) throw new UnknownEngineError(name);
  return REGISTRY[name];
}

/** Every registered engine, in the protocol's order. */
export function engines(): Engine[] {
  return ENGINES.map((n) => REGISTRY[n]);
}
