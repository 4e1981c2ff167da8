import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../errors.js';
import { openSource } from './sources.js';

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
    await expect(openSource('/nonexistent.png', G, 10)).rejects.toThrow(CliError);
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
    } finally {
      delete process.env.MMSC_FFMPEG;
    }
  });

  // Needs Debian ffmpeg (.ci/run installs it); without it the test says so in its name and checks nothing else.
  it(`a video file is decoded by ffmpeg${hasFfmpeg ? '' : ' — NOT RUN: ffmpeg is not installed'}`, async () => {
    if (!hasFfmpeg) return;
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
    s.close();
  });
});
