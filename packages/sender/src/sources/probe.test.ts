import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../images.js';
import { parseFfmpegSize, probeSource, sourceGeometry } from './probe.js';
import { openSource } from './sources.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmsc-probe-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A w×h PNG: a white disc (diameter 60 % of the short side) centred on black. */
async function disc(path: string, w: number, h: number) {
  const r = Math.round(0.3 * Math.min(w, h));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="black"/><circle cx="${w / 2}" cy="${h / 2}" r="${r}" fill="white"/></svg>`;
  await sharp(Buffer.from(svg)).png().toFile(path);
  return path;
}

/** The disc's width / height in a frame: bright pixels along the middle row and the middle column. */
function discAspect(f: RgbImage): number {
  const bright = (x: number, y: number) => (f.data[(y * f.width + x) * 3] as number) > 128;
  let across = 0;
  let down = 0;
  for (let x = 0; x < f.width; x++) if (bright(x, f.height >> 1)) across++;
  for (let y = 0; y < f.height; y++) if (bright(f.width >> 1, y)) down++;
  return across / down;
}

describe('a source at its own geometry', () => {
  it('a 640×480 still comes out 4:3 (480×360 at the default size), its disc round', async () => {
    const still = await disc(join(dir, 'cam.png'), 640, 480);
    const g = await sourceGeometry(still);
    expect(g).toMatchObject({ width: 480, height: 360, source: { width: 640, height: 480 } });
    const s = await openSource(still, g, 10);
    const f = await s.next();
    expect([f.width, f.height, f.data.length]).toEqual([480, 360, 480 * 360 * 3]);
    expect(Math.abs(discAspect(f) - 1)).toBeLessThan(0.03);
  });

  it('--fit crop gives the configured frame and crops instead of stretching', async () => {
    const still = await disc(join(dir, 'cam2.png'), 640, 480);
    const g = await sourceGeometry(still, { size: 480, fit: 'crop' });
    expect([g.width, g.height]).toEqual([480, 320]);
    const f = await (await openSource(still, g, 10)).next();
    expect(Math.abs(discAspect(f) - 1)).toBeLessThan(0.03);
  });

  it('a folder of 9:16 images comes out upright; pan over a 16:9 still keeps 16:9', async () => {
    const d = join(dir, 'upright');
    await mkdir(d);
    await disc(join(d, 'a.png'), 360, 640);
    await disc(join(d, 'b.png'), 360, 640);
    const g = await sourceGeometry(d, { size: 640, fit: 'keep' });
    expect([g.width, g.height]).toEqual([360, 640]);
    const f = await (await openSource(d, g, 10)).next();
    expect([f.width, f.height]).toEqual([360, 640]);
    expect(Math.abs(discAspect(f) - 1)).toBeLessThan(0.03);

    const wide = await disc(join(dir, 'wide.png'), 1280, 720);
    const p = await sourceGeometry(`pan:${wide}`);
    expect([p.width, p.height]).toEqual([480, 272]);
    const pf = await (await openSource(`pan:${wide}`, p, 10)).next();
    expect(pf.data.length).toBe(480 * 272 * 3);
  });

  it.skipIf(!hasFfmpeg)('a 16:9 video comes out 16:9, its disc round (needs Debian ffmpeg)', async () => {
    const png = await disc(join(dir, 'frame.png'), 640, 360);
    const video = join(dir, 'wide.mp4');
    const made = spawnSync('ffmpeg', [
      '-loglevel',
      'error',
      '-y',
      '-loop',
      '1',
      '-i',
      png,
      '-t',
      '1',
      '-r',
      '10',
      '-pix_fmt',
      'yuv420p',
      video,
    ]);
    expect(made.status).toBe(0);
    const g = await sourceGeometry(video);
    expect(g).toMatchObject({ width: 480, height: 272, source: { width: 640, height: 360 } });
    const s = await openSource(video, g, 10);
    try {
      const f = await s.next();
      expect([f.width, f.height, f.data.length]).toEqual([480, 272, 480 * 272 * 3]);
      expect(Math.abs(discAspect(f) - 1)).toBeLessThan(0.03);
    } finally {
      s.close();
    }
  });

  it('an unreadable source has no size: the default frame, and opening it says why', async () => {
    expect(await probeSource(join(dir, 'missing.png'))).toBeNull();
    expect(await sourceGeometry(join(dir, 'missing.mp4'))).toMatchObject({ width: 480, height: 320, source: null });
  });
});

describe('parseFfmpegSize', () => {
  it('reads the first video stream, sides swapped for a quarter-turned stream', () => {
    const head =
      '  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 1920x1080 [SAR 1:1 DAR 16:9], 30 fps\n';
    expect(parseFfmpegSize(`Input #0, mov\n${head}`)).toEqual({ width: 1920, height: 1080 });
    expect(parseFfmpegSize(`${head}    Side data:\n      displaymatrix: rotation of -90.00 degrees\n`)).toEqual({
      width: 1080,
      height: 1920,
    });
    expect(parseFfmpegSize('  Stream #0:0: Video: rawvideo (YUY2 / 0x32595559), yuyv422, 640x480, 147456 kb/s, 30 fps\n')).toEqual({
      width: 640,
      height: 480,
    });
    expect(parseFfmpegSize('  Stream #0:0: Audio: aac, 48000 Hz, stereo\n')).toBeNull();
    expect(parseFfmpegSize('/x.mp4: No such file or directory\n')).toBeNull();
  });
});
