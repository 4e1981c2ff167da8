import { DEFAULT_CONTEXT, decodeMessage, type FrameMessage, splitFrame } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { FrameCollector, feedbackFor, MISSING } from './collect-frame.js';

function parts(frameId: number, level: number) {
  const levels = new Uint8Array(2400).fill(level);
  const payload = new Uint8Array(2400 * [0, 12, 24, 48, 192][level]!);
  return splitFrame({ frameId, captureTs: 1000 + frameId, budget: 500_000, levels, payload }).map((b) => ({
    bytes: b.length,
    msg: decodeMessage(b) as FrameMessage,
  }));
}

describe('FrameCollector', () => {
  it('completes a frame when all its parts arrived and reports what arrived', () => {
    const c = new FrameCollector(DEFAULT_CONTEXT);
    const ps = parts(1, 4);
    expect(ps.length).toBeGreaterThan(1);
    const out = ps.flatMap((p, i) => c.push(p.msg, p.bytes, 5000 + i));
    expect(out).toHaveLength(1);
    const f = out[0]!;
    expect(f).toMatchObject({ frameId: 1, complete: true, parts: ps.length, partsReceived: ps.length });
    expect(f.levels.every((l) => l === 4)).toBe(true);
    expect(feedbackFor(f)).toEqual({
      type: 'feedback',
      frameId: 1,
      bytesReceived: ps.reduce((s, p) => s + p.bytes, 0),
      partsReceived: ps.length,
      receiveTs: 5000 + ps.length - 1,
    });
  });

  it('attaches a base layer to the frame it precedes and counts its bytes there', () => {
    const c = new FrameCollector(DEFAULT_CONTEXT);
    const base = { type: 'base' as const, frameId: 2, data: Uint8Array.of(1, 2, 3) };
    c.pushBase({ ...base, frameId: 1 }, 40); // for another frame: dropped when frame 2 starts
    c.pushBase(base, 50);
    const ps = parts(2, 1);
    const f = ps.flatMap((p) => c.push(p.msg, p.bytes, 0))[0]!;
    expect(f.base).toEqual(base.data);
    expect(f.bytesReceived).toBe(50 + ps.reduce((s, p) => s + p.bytes, 0));
    const g = parts(3, 1).flatMap((p) => c.push(p.msg, p.bytes, 0))[0]!;
    expect(g.base).toBeNull();
  });

  it('closes an incomplete frame as soon as a newer frame starts, marking lost patches', () => {
    const c = new FrameCollector(DEFAULT_CONTEXT);
    const first = parts(1, 4);
    expect(c.push(first[0]!.msg, first[0]!.bytes, 1)).toEqual([]);
    const next = parts(2, 1);
    const out = c.push(next[0]!.msg, next[0]!.bytes, 2);
    expect(out.map((f) => [f.frameId, f.complete])).toEqual([
      [1, false],
      [2, true],
    ]);
    const lost = out[0]!.levels;
    const got = first[0]!.msg.levels.length;
    expect(lost.subarray(0, got).every((l) => l === 4)).toBe(true);
    expect(lost.subarray(got).every((l) => l === MISSING)).toBe(true);
  });
});
