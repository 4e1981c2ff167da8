import { describe, expect, it } from 'vitest';
import { decodeMessage } from './codec.js';
import { ProtocolError } from './errors.js';
import { frameOverheadBound, PART_HEADER_BOUND, splitFrame } from './split-frame.js';
import { levelMix } from './testing/level-mix.js';
import type { FrameMessage } from './types.js';

const RATES = [0.02, 0.05, 0.1, 0.25, 0.5, 1];
const bytesOf = [0, 12, 24, 48, 192];

function frameOf(levels: Uint8Array, seed = 1) {
  const n = levels.reduce((s, l) => s + (bytesOf[l] ?? 0), 0);
  const payload = Uint8Array.from({ length: n }, (_, i) => (i * 97 + seed) & 0xff);
  return { frameId: 7, captureTs: 1_764_230_400_000.5, budget: n, levels, payload };
}

function wireBytes(parts: Uint8Array[]) {
  return parts.reduce((s, p) => s + p.length, 0);
}

describe('splitFrame', () => {
  it('covers every patch once, in order, and reassembles to the original frame', () => {
    const { levels } = levelMix(0.5, 3);
    const frame = frameOf(levels);
    const parts = splitFrame(frame).map((b) => decodeMessage(b) as FrameMessage);
    expect(parts.length).toBeGreaterThan(1);
    let next = 0;
    for (const [i, p] of parts.entries()) {
      expect(p).toMatchObject({ part: i, parts: parts.length, firstPatch: next, frameId: 7 });
      next += p.levels.length;
    }
    expect(next).toBe(2400);
    expect(Uint8Array.from(parts.flatMap((p) => [...p.levels]))).toEqual(levels);
    expect(Uint8Array.from(parts.flatMap((p) => [...p.payload]))).toEqual(frame.payload);
  });

  it('keeps every message within the limit, including raw frames', () => {
    for (const max of [1024, 4000, 65536]) {
      const levels = new Uint8Array(2400).fill(4);
      const parts = splitFrame(frameOf(levels), { maxMessageBytes: max });
      for (const p of parts) expect(p.length).toBeLessThanOrEqual(max);
      // Greedy packing: every part but the last is full to within one raw patch and its header.
      for (const p of parts.slice(0, -1)) expect(p.length).toBeGreaterThan(max - PART_HEADER_BOUND - 192 - 3);
    }
  });

  it('losing one message loses only its own patches', () => {
    const frame = frameOf(levelMix(0.25, 9).levels);
    const parts = splitFrame(frame);
    const kept = parts.filter((_, i) => i !== 0).map((b) => decodeMessage(b) as FrameMessage);
    for (const p of kept) {
      expect(p.levels).toEqual(frame.levels.subarray(p.firstPatch, p.firstPatch + p.levels.length));
    }
  });

  it('framing overhead at realistic level mixes is at most 3 % (320×480, 64 KiB messages)', () => {
    // Clustered mixes (query-driven allocation): measured ≤ 1.7 % at every paper rate.
    for (const rate of RATES) {
      for (let seed = 0; seed < 10; seed++) {
        const { levels, payloadBytes } = levelMix(rate, seed);
        const parts = splitFrame(frameOf(levels, seed));
        for (const p of parts) expect(p.length).toBeLessThanOrEqual(65536);
        expect(wireBytes(parts)).toBeLessThanOrEqual(1.03 * payloadBytes);
        expect(wireBytes(parts) - payloadBytes).toBeLessThanOrEqual(frameOverheadBound(payloadBytes));
      }
    }
  });

  it('worst case (every patch a different level from its neighbour) stays within the overhead bound', () => {
    const levels = Uint8Array.from({ length: 2400 }, (_, i) => (i % 2 ? 4 : i % 3));
    const frame = frameOf(levels);
    expect(wireBytes(splitFrame(frame)) - frame.payload.length).toBeLessThanOrEqual(frameOverheadBound(frame.payload.length));
  });

  it('rejects frames that do not match the geometry or the level table', () => {
    expect(() => splitFrame(frameOf(new Uint8Array(2399)))).toThrow(ProtocolError);
    const bad = frameOf(new Uint8Array(2400));
    expect(() => splitFrame({ ...bad, payload: new Uint8Array(1) })).toThrow(/payload-length/);
    expect(() => splitFrame({ ...bad, levels: new Uint8Array(2400).fill(6) })).toThrow(/unknown-level/);
    expect(() => splitFrame(frameOf(new Uint8Array(2400).fill(4)), { maxMessageBytes: 200 })).toThrow(/does not fit/);
  });
});
