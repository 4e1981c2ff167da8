/**
 * The source's own geometry end to end: a 640×480 (4:3) image and a 16:9 video (a 16:9 folder
 * without ffmpeg) served by `mmsc serve`, probed by `mmsc probe` and shown in real Chromium, each at
 * its own aspect: the page's picture canvas (backing store and on-screen box) and the probe's hello
 * within 2 % of the source's width/height. Needs `npm run build` first.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, ROOT, startSender, waitForState } from './harness.mjs';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmsc-e2e-geometry-'));
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A w×h picture: a white disc on a gradient, so every codec has something to code. */
async function picture(path: string, w: number, h: number) {
  const r = Math.round(0.3 * Math.min(w, h));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><defs><linearGradient id="g"><stop offset="0" stop-color="#235"/><stop offset="1" stop-color="#a63"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/><circle cx="${w / 2}" cy="${h / 2}" r="${r}" fill="white"/></svg>`;
  await sharp(Buffer.from(svg)).png().toFile(path);
  return path;
}

/** A 16:9 source: a 2-second video when ffmpeg is here, else a folder of 16:9 stills. */
async function wideSource(): Promise<string> {
  const png = await picture(join(dir, 'wide.png'), 1280, 720);
  if (hasFfmpeg) {
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
      '2',
      '-r',
      '10',
      '-pix_fmt',
      'yuv420p',
      video,
    ]);
    if (made.status === 0) return video;
  }
  const folder = join(dir, 'wide');
  await mkdir(folder, { recursive: true });
  await picture(join(folder, 'a.png'), 1280, 720);
  return folder;
}

/** `mmsc probe` for a few seconds; the frame size its hello announced (it prints it as W×H). */
function probeSize(url: string, token: string): Promise<[number, number] | null> {
  return new Promise((resolve) => {
    const cli = join(ROOT, 'packages/cli/bin/mmsc.js');
    const proc = spawn(process.execPath, [cli, 'probe', '--url', `${url}/?token=${token}`, '--seconds', '3', '--query', 'dog'], {
      cwd: ROOT,
    });
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
    });
    proc.stderr.on('data', (d) => {
      out += d;
    });
    proc.on('close', () => {
      const m = out.match(/(\d+)×(\d+)/);
      resolve(m ? [Number(m[1]), Number(m[2])] : null);
    });
  });
}

const within2 = (got: number, want: number) => Math.abs(got / want - 1) <= 0.02;

describe('the source’s own geometry in the browser (Chromium)', () => {
  // The short side is on the 8-px patch grid: at the default --size 480 a 4:3 source is exactly
  // 480×360 (a partial last row of h264 macroblocks); a 16:9 source is 480×272 (0.7 % off).
  const cases = [
    { name: 'a 640×480 image', aspect: 4 / 3, size: 480, source: () => picture(join(dir, 'cam.png'), 640, 480) },
    { name: `a 16:9 ${hasFfmpeg ? 'video' : 'folder'}`, aspect: 16 / 9, size: 480, source: wideSource },
  ];
  for (const c of cases) {
    it(`${c.name} is served, probed and shown at its own aspect (within 2 %)`, async () => {
      const sender = await startSender({ source: await c.source(), query: 'dog', args: ['--size', String(c.size)] });
      const page = await browser.context.newPage();
      try {
        await page.goto(sender.page('/'));
        await waitForState(page, 's.connection === "open" && s.framesShown >= 3', 90_000);
        const canvas = await page.evaluate(() => {
          const el = document.getElementById('picture') as HTMLCanvasElement;
          const box = el.getBoundingClientRect();
          return { width: el.width, height: el.height, boxW: box.width, boxH: box.height };
        });
        console.log(`${c.name}: canvas ${canvas.width}×${canvas.height}, on screen ${canvas.boxW}×${canvas.boxH}`);
        expect(within2(canvas.width / canvas.height, c.aspect)).toBe(true);
        expect(within2(canvas.boxW / canvas.boxH, c.aspect)).toBe(true);
        expect(Math.max(canvas.width, canvas.height)).toBe(c.size);
        const probed = await probeSize(sender.url, sender.token);
        expect(probed).toEqual([canvas.width, canvas.height]);
      } finally {
        await page.close();
        await sender.stop();
      }
    });
  }
});
