import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { h264Available } from '@mmsc/codec/h264-node';
import { defaultLevels, type HelloMessage } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { parseBitrate } from '../../commands/eval-video.js';
import { clipGeometry, makeClip } from './clips.js';
import { engineMethods, psnr, queryBoxes, runEngine, runMmsc, runPeer, VIDEO_METHODS } from './run-video.js';

describe('eval-video metrics', () => {
  it('psnr over the frame and inside boxes only', () => {
    const w = 4;
    const a = new Uint8Array(w * 2 * 3).fill(100);
    const b = Uint8Array.from(a);
    b.fill(110, 0, 3); // pixel (0,0) off by 10 in every channel
    expect(psnr(a, b, w)).toBeCloseTo(10 * Math.log10((255 * 255 * 24) / (3 * 100)), 6);
    expect(psnr(a, b, w, [{ x0: 0, y0: 0, x1: 1, y1: 1 }])).toBeCloseTo(10 * Math.log10((255 * 255) / 100), 6);
    expect(psnr(a, b, w, [{ x0: 2, y0: 0, x1: 4, y1: 2 }])).toBe(99);
    expect(psnr(a, b, w, [{ x0: 9, y0: 9, x1: 12, y1: 12 }])).toBeNull();
  });

  it('query boxes are the detections within half the best score, none below 0.1', () => {
    const d = (score: number) => ({ score, x0: 0, y0: 0, x1: 1, y1: 1 });
    expect(queryBoxes([d(0.8), d(0.5), d(0.3)])).toHaveLength(2);
    expect(queryBoxes([d(0.09)])).toEqual([]);
    expect(queryBoxes([])).toEqual([]);
  });

  it('bitrates read as 500k, 1M, 2.5M or plain bits', () => {
    expect([parseBitrate('500k'), parseBitrate('1M'), parseBitrate('2.5m'), parseBitrate('800000')]).toEqual([5e5, 1e6, 2.5e6, 8e5]);
    expect(() => parseBitrate('fast')).toThrow(/expected/);
    expect(() => parseBitrate('10k')).toThrow(/50k/);
  });
});

describe('eval-video clips', () => {
  it('a clip is made at its own aspect: pan and tour the demo still’s (4:3), a video file its own (16:9)', async () => {
    const g = await clipGeometry('pan');
    expect([g.width, g.height]).toEqual([480, 360]);
    expect(await clipGeometry('tour')).toEqual(g);
    expect(await clipGeometry('pan', { size: 480, fit: 'crop' })).toMatchObject({ width: 480, height: 320 });
    const clip = await makeClip('pan', 2, 10, g);
    expect(clip.frames.map((f) => [f.width, f.height, f.data.length])).toEqual([
      [480, 360, 480 * 360 * 3],
      [480, 360, 480 * 360 * 3],
    ]);
    if (spawnSync('ffmpeg', ['-version']).status !== 0) return; // the video half needs Debian ffmpeg
    const dir = await mkdtemp(join(tmpdir(), 'mmsc-clip-'));
    try {
      const video = join(dir, 'wide.mp4');
      const args = ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=10', '-t', '1', '-pix_fmt', 'yuv420p', video];
      expect(spawnSync('ffmpeg', args).status).toBe(0);
      const v = await clipGeometry(video);
      expect([v.width, v.height]).toEqual([480, 272]);
      const frames = (await makeClip(video, 3, 10, v)).frames;
      expect(frames.map((f) => f.data.length)).toEqual([1, 2, 3].map(() => 480 * 272 * 3));
      // A 25 fps second is resampled to the live rate: 10 frames at 10 fps, not its 25.
      const fast = join(dir, 'fast.mp4');
      const fastArgs = ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-t', '1', '-pix_fmt', 'yuv420p', fast];
      expect(spawnSync('ffmpeg', fastArgs).status).toBe(0);
      expect((await makeClip(fast, 40, 10, v)).frames).toHaveLength(10);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the tour is reproducible and cuts every 2 s', async () => {
    const size = { width: 96, height: 64 };
    const [a, b] = await Promise.all([makeClip('tour', 22, 10, size), makeClip('tour', 22, 10, size)]);
    expect(a.frames.map((f) => f.data)).toEqual(b.frames.map((f) => f.data));
    const diff = (k: number) => psnr(a.frames[k]!.data, a.frames[k + 1]!.data, 96) as number;
    // Across the cut (frame 19 → 20) neighbours differ more than anywhere within the segment.
    const within = Math.min(...Array.from({ length: 19 }, (_, k) => diff(k)));
    expect(diff(19)).toBeLessThan(within);
  });

  it('refuses a clip that is neither a known name nor a file', async () => {
    await expect(makeClip('/nonexistent.mp4', 5, 10, { width: 96, height: 64 })).rejects.toThrow(/neither pan nor tour/);
  });
});

const available = await h264Available();
describe.skipIf(!available)('eval-video runs (node-av; skipped when its binary does not load)', () => {
  it('mmsc and the peers code a short pan near their bitrate and decode it', async () => {
    const clip = await makeClip('pan', 12, 10, { width: 160, height: 96 });
    const rel = clip.frames.map(() => ({ scores: new Float32Array(20 * 12).fill(0.5), boxes: [{ x0: 0, y0: 0, x1: 80, y1: 48 }] }));
    const hello: HelloMessage = {
      type: 'hello',
      sessionId: 'e',
      width: 160,
      height: 96,
      patchSize: 8,
      levels: defaultLevels(),
      maxMessageBytes: 65536,
      fps: 10,
      engine: 'h264',
    };
    for (const run of [
      await runMmsc(clip, rel, 400_000, hello),
      await runPeer('vp8', clip, rel, 400_000),
      await runPeer('x264', clip, rel, 400_000),
    ]) {
      expect(run.psnr).toHaveLength(12);
      expect(Math.min(...run.psnr)).toBeGreaterThan(25);
      expect(run.detectorBoxPsnr.every((q) => q !== null)).toBe(true);
      const kbps = (run.bytes.reduce((s, b) => s + b, 0) * 8 * 10) / 12 / 1000;
      expect(kbps).toBeGreaterThan(150);
      expect(kbps).toBeLessThan(900);
    }
  });

  it('each registered engine is a method (mmsc = the default); mmsc-vp8 codes a short pan within its budget', async () => {
    expect(engineMethods().get('mmsc')).toBe('h264');
    expect(engineMethods().get('mmsc-vp8')).toBe('vp8');
    expect(VIDEO_METHODS).toEqual(expect.arrayContaining(['mmsc', 'mmsc-vp8', 'mmsc-patches', 'vp8', 'x264']));
    const clip = await makeClip('pan', 12, 10, { width: 160, height: 96 });
    const rel = clip.frames.map(() => ({ scores: new Float32Array(20 * 12).fill(0.5), boxes: [{ x0: 0, y0: 0, x1: 80, y1: 48 }] }));
    const hello: HelloMessage = {
      type: 'hello',
      sessionId: 'e',
      width: 160,
      height: 96,
      patchSize: 8,
      levels: defaultLevels(),
      maxMessageBytes: 65536,
      fps: 10,
      engine: 'h264',
    };
    const budget = Math.floor(400_000 / 8 / 10);
    const run = await runEngine('vp8', clip, rel, 400_000, hello);
    expect(run.psnr).toHaveLength(12);
    expect(Math.min(...run.psnr)).toBeGreaterThan(25);
    // No frame takes more than the bucket holds, and the run no more than its budgets plus the bucket it starts with.
    for (const b of run.bytes) expect(b).toBeLessThanOrEqual(3 * budget);
    const total = run.bytes.reduce((s, b) => s + b, 0);
    expect(total).toBeLessThanOrEqual(12 * budget + 3 * budget);
    expect(total).toBeGreaterThan(0.4 * 12 * budget);
  });
});
