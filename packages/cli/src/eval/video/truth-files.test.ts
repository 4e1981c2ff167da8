import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTruthDir, TruthError } from './truth-files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmsc-truth-'));
  // Frame 0: the left half white (grey PNG, one channel) at half the frame's size; frame 1: all
  // black (nothing in view); frame 2: one coloured pixel, RGBA. A text file is not a mask.
  const grey = Buffer.alloc(4 * 3);
  for (let y = 0; y < 3; y++) grey.fill(255, y * 4, y * 4 + 2);
  await sharp(grey, { raw: { width: 4, height: 3, channels: 1 } })
    .png()
    .toFile(join(dir, '00000.png'));
  await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .png()
    .toFile(join(dir, '00001.png'));
  const rgba = Buffer.alloc(8 * 6 * 4);
  rgba.set([0, 0, 40, 255], (2 * 8 + 5) * 4);
  await sharp(rgba, { raw: { width: 8, height: 6, channels: 4 } })
    .png()
    .toFile(join(dir, '00002.png'));
  await writeFile(join(dir, 'README.txt'), 'not a mask');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('per-frame truth masks (--truth)', () => {
  it('reads one mask per frame in name order, scaled to the frame; non-black is the object', async () => {
    const r = await readTruthDir(dir, 3, { width: 8, height: 6 });
    expect(r.kind).toBe('truth');
    const [a, b, c] = r.masks;
    expect(a).not.toBeNull();
    for (let y = 0; y < 6; y++) expect([...(a as Uint8Array).subarray(y * 8, y * 8 + 8)]).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect(b).toBeNull();
    expect([...(c as Uint8Array)].reduce((s, v) => s + v, 0)).toBe(1);
    expect((c as Uint8Array)[2 * 8 + 5]).toBe(1);
  });

  it('says what is wrong: too few masks, no folder', async () => {
    await expect(readTruthDir(dir, 4, { width: 8, height: 6 })).rejects.toThrow(/holds 3 mask images; the clip has 4 frames/);
    await expect(readTruthDir(join(dir, 'none'), 1, { width: 8, height: 6 })).rejects.toThrow(TruthError);
  });
});
