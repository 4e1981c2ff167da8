import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Log, silentLog } from '../log.js';
import { openSource, SourceError } from './sources.js';

/** A log whose warnings land in `lines`. */
const linesInto = (lines: string[]): Log => ({ ...silentLog, warn: (_o, msg) => lines.push(msg ?? '') });

const ASSETS = fileURLToPath(new URL('../../../../assets/images/', import.meta.url));
const G = { width: 480, height: 320 };
const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmsc-src-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('frame sources', () => {
  it('a still image gives the same 480×320 frame every time', async () => {
    const s = await openSource(join(ASSETS, 'dog.jpg'), G, 10);
    const a = await s.next();
    expect(a.data.length).toBe(480 * 320 * 3);
    expect(await s.next()).toBe(a);
    expect(s.still).toBe(true);
  });

  it('a folder plays its images in name order and loops', async () => {
    const s = await openSource(ASSETS, G, 10);
    const frames = [];
    for (let i = 0; i < 9; i++) frames.push(await s.next());
    expect(s.description).toMatch(/8 images/);
    expect(frames[8]?.data).toEqual(frames[0]?.data);
    expect(frames[1]?.data).not.toEqual(frames[0]?.data);
  });

  it('pan/zoom moves over the image', async () => {
    const s = await openSource(`pan:${join(ASSETS, 'dog.jpg')}`, G, 10);
    const a = await s.next();
    for (let i = 0; i < 5; i++) await s.next();
    const b = await s.next();
    expect(b.data.length).toBe(a.data.length);
    expect(b.data).not.toEqual(a.data);
  });

  it('reports missing sources clearly', async () => {
    await expect(openSource('/nonexistent.png', G, 10)).rejects.toThrow(SourceError);
    await expect(openSource('/nonexistent.mp4', G, 10)).rejects.toThrow(/video file \/nonexistent.mp4 does not exist/);
    await expect(openSource('camera:/dev/video99', G, 10)).rejects.toThrow(/camera device/);
  });

  it('without ffmpeg a video source fails with the install hint instead of hanging', async () => {
    const video = join(dir, 'missing-ffmpeg.mp4');
    await writeFile(video, 'not a video');
    process.env.MMSC_FFMPEG = '/nonexistent/ffmpeg';
    try {
      const s = await openSource(video, G, 10);
      await expect(s.next()).rejects.toThrow(/apt-get install -y ffmpeg/);
      await expect(s.next()).rejects.toThrow(SourceError);
      expect(s.health()).toMatchObject({ ok: false, reason: expect.stringMatching(/apt-get install -y ffmpeg/) });
      s.close();
    } finally {
      delete process.env.MMSC_FFMPEG;
    }
  });

  it.skipIf(!hasFfmpeg)('a video file is decoded by ffmpeg (needs Debian ffmpeg)', async () => {
    const video = join(dir, 'clip.mp4');
    const made = spawnSync('ffmpeg', [
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=10',
      '-t',
      '2',
      '-pix_fmt',
      'yuv420p',
      video,
    ]);
    expect(made.status).toBe(0);
    const s = await openSource(video, G, 10);
    const f = await s.next();
    expect(f.data.length).toBe(480 * 320 * 3);
    expect(s.health()).toEqual({ ok: true });
    s.close();
  });

  it.skipIf(!hasFfmpeg)('a corrupt video rejects next() with the reason instead of hanging (needs Debian ffmpeg)', async () => {
    const video = join(dir, 'x.mp4');
    await writeFile(video, randomBytes(20_000));
    const s = await openSource(video, G, 10);
    try {
      const started = Date.now();
      const e1 = await s.next().catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(e1).toBeInstanceOf(SourceError);
      expect((e1 as Error).message).toMatch(/^video .*x\.mp4 cannot be decoded: .+/);
      // The same text every time, so a caller can log it once.
      const e2 = await s.next().catch((e: unknown) => e);
      expect((e2 as Error).message).toBe((e1 as Error).message);
      const h = s.health();
      expect(h.ok).toBe(false);
      expect(h.reason).toBe((e1 as Error).message);
    } finally {
      s.close();
    }
  });
});

describe('ffmpeg failing while it runs (a stand-in script for ffmpeg)', () => {
  async function fakeFfmpeg(name: string, body: string) {
    const script = join(dir, name);
    await writeFile(script, `#!/bin/sh\n${body}\n`);
    await chmod(script, 0o755);
    const video = join(dir, `${name}.mp4`);
    await writeFile(video, '');
    return { script, video };
  }

  it('exiting after frames keeps the last frame, logs once and reports unhealthy', async () => {
    const { script, video } = await fakeFfmpeg(
      'dies',
      `head -c ${480 * 320 * 3} /dev/zero\necho 'Error while decoding stream #0:0' >&2\nexit 1`,
    );
    process.env.MMSC_FFMPEG = script;
    const log: string[] = [];
    try {
      const s = await openSource(video, G, 10, { log: linesInto(log) });
      const f = await s.next();
      await expect.poll(() => s.health().ok).toBe(false);
      expect(s.health().reason).toBe(
        `video ${video}: ffmpeg exited with 1 after 1 frames: Error while decoding stream #0:0; serving the last frame`,
      );
      expect(await s.next()).toBe(f);
      expect(log).toEqual([`source: ${s.health().reason}`]);
      s.close();
    } finally {
      delete process.env.MMSC_FFMPEG;
    }
  });

  it('no first frame in time rejects next() instead of waiting forever', async () => {
    const { script, video } = await fakeFfmpeg('stalls', 'exec sleep 30');
    process.env.MMSC_FFMPEG = script;
    try {
      const s = await openSource(video, G, 10, { firstFrameTimeoutMs: 200 });
      await expect(s.next()).rejects.toThrow(new SourceError(`video ${video}: no frame from ffmpeg within 0.2 s`));
      expect(s.health()).toEqual({ ok: false, reason: `video ${video}: no frame from ffmpeg within 0.2 s` });
      s.close();
      await expect(s.next()).rejects.toThrow(SourceError);
    } finally {
      delete process.env.MMSC_FFMPEG;
    }
  });
});

describe('undecodable files in a folder', () => {
  it('are skipped with one log line each while the other images keep coming', async () => {
    const d = join(dir, 'mixed');
    await mkdir(d);
    await copyFile(join(ASSETS, 'dog.jpg'), join(d, 'a.jpg'));
    await writeFile(join(d, 'bad.jpg'), 'this is not an image');
    const log: string[] = [];
    const s = await openSource(d, G, 10, { log: linesInto(log) });
    for (let i = 0; i < 20; i++) expect((await s.next()).data.length).toBe(480 * 320 * 3);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/^source: skipping .*bad\.jpg: cannot decode image/);
    expect(s.health().ok).toBe(true);
    expect(s.health().reason).toMatch(/1 of 2 files/);
  });

  it('a folder whose first image is bad still opens and plays the rest', async () => {
    const d = join(dir, 'bad-first');
    await mkdir(d);
    await writeFile(join(d, 'a.png'), 'not a png');
    await copyFile(join(ASSETS, 'dog.jpg'), join(d, 'b.jpg'));
    const log: string[] = [];
    const s = await openSource(d, G, 10, { log: linesInto(log) });
    const f = await s.next();
    expect(f.data.length).toBe(480 * 320 * 3);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/a\.png/);
  });

  it('a folder with no decodable image rejects next() with a SourceError and reports unhealthy', async () => {
    const d = join(dir, 'all-bad');
    await mkdir(d);
    await writeFile(join(d, 'bad.jpg'), 'this is not an image');
    const log: string[] = [];
    const s = await openSource(d, G, 10, { log: linesInto(log) });
    const e1 = await s.next().catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(SourceError);
    expect((e1 as Error).message).toBe(`no decodable image in ${d} (1 files skipped)`);
    const e2 = await s.next().catch((e: unknown) => e);
    expect((e2 as Error).message).toBe((e1 as Error).message);
    expect(s.health()).toEqual({ ok: false, reason: (e1 as Error).message });
    expect(log).toHaveLength(1);
  });
});

describe('healthy sources report ok', () => {
  it('still, folder and pan', async () => {
    for (const spec of [join(ASSETS, 'dog.jpg'), ASSETS, `pan:${join(ASSETS, 'dog.jpg')}`]) {
      const s = await openSource(spec, G, 10);
      await s.next();
      expect(s.health(), spec).toEqual({ ok: true });
      s.close();
    }
  });
});
