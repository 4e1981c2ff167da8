import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noisyPatches } from '@mmsc/sender/testing';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

describe('mmsc codec-bench', () => {
  it('prints PSNR per level and timings as JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mmsc-bench-'));
    try {
      // Two small synthetic photos-to-be: a gradient and a noisy texture, 64×48.
      const grad = Buffer.from(Uint8Array.from({ length: 64 * 48 * 3 }, (_, i) => (i % 192) + ((i / 192) | 0)));
      await sharp(grad, { raw: { width: 64, height: 48, channels: 3 } })
        .png()
        .toFile(join(dir, 'a.png'));
      await sharp(Buffer.from(noisyPatches(48)), { raw: { width: 64, height: 48, channels: 3 } })
        .png()
        .toFile(join(dir, 'b.png'));
      const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
      const out = JSON.parse(
        execFileSync(process.execPath, [cli, 'codec-bench', '--images', dir, '--runs', '2', '--json'], { encoding: 'utf8' }),
      );
      expect(out.images).toBe(2);
      expect(out.patches).toBe(2 * 48);
      expect(out.levels.map((l: { bytes: number }) => l.bytes)).toEqual([12, 24, 48, 192]);
      expect(out.levels[3]).toMatchObject({ exact: true, mse: 0, psnr: null });
      const db = out.levels.slice(0, 3).map((l: { psnr: number }) => l.psnr);
      expect(db[0]).toBeLessThan(db[1]);
      expect(db[1]).toBeLessThan(db[2]);
      expect(out.encodeMs).toBeGreaterThan(0);
      expect(out.decodeMs).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
