import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, runAnchor } from './anchor.js';
import { makeClip } from './clip.js';

const haveChromium = existsSync(CHROMIUM);

describe('runAnchor', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mmsc-anchor-test-'));
    // 8 s of clip: a 4 s run after a sub-second connect never loops it, so frame numbers only rise.
    if (haveChromium) await makeClip({ out: dir, frames: 80, fps: 10 });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!haveChromium)(
    `calls Chromium → Chromium on loopback and scores each shown picture${haveChromium ? '' : ` (skipped: ${CHROMIUM} missing; apt-get install -y chromium)`}`,
    async () => {
      const r = await runAnchor({ clipDir: dir, seconds: 4, senderNs: null, receiverNs: null });
      expect(r.errors.filter((e) => !e.startsWith('unreadable stamps'))).toEqual([]);
      expect(r.connected).toBe(true);
      expect(r.codec).toBe('VP8');
      expect(r.maxBitrateBps).toBe(20_000_000);
      expect(r.connectMs).not.toBeNull();
      expect(r.connectMs!).toBeGreaterThan(0);
      expect(r.connectMs!).toBeLessThan(15_000);
      expect(r.firstPictureAt).toBe(r.startedAt + r.connectMs!);
      expect(r.shown.length).toBeGreaterThanOrEqual(20);
      for (let i = 1; i < r.shown.length; i++) expect(r.shown[i]!.n).toBeGreaterThan(r.shown[i - 1]!.n);
      for (const s of r.shown) {
        expect(s.n).toBeGreaterThanOrEqual(0);
        expect(s.n).toBeLessThan(80);
        expect(s.psnr).toBeGreaterThan(25);
        expect(s.psnr).toBeLessThan(100);
        expect(s.queryPsnr).not.toBeNull();
        expect(s.queryPsnr!).toBeGreaterThan(20);
        expect(s.capturedAt).not.toBeNull();
        expect(s.capturedAt!).toBeLessThanOrEqual(s.shownAt);
      }
      expect(r.seconds.length).toBeGreaterThanOrEqual(3);
      const last = r.seconds.at(-1)!;
      expect(last.bytesSent).toBeGreaterThan(0);
      expect(last.bytesReceived).toBeGreaterThan(0);
      expect(last.framesDecoded).toBeGreaterThan(0);
      expect(r.seconds.filter((s) => s.bytesSent > 0).length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < r.seconds.length; i++) expect(r.seconds[i]!.t).toBeGreaterThan(r.seconds[i - 1]!.t);
    },
    90_000,
  );

  it.skipIf(!haveChromium)(
    `reports no connection, without throwing, when ICE cannot succeed${haveChromium ? '' : ` (skipped: ${CHROMIUM} missing; apt-get install -y chromium)`}`,
    async () => {
      // Relay-only with no TURN server: no candidates at all.
      const r = await runAnchor({
        clipDir: dir,
        seconds: 1,
        senderNs: null,
        receiverNs: null,
        iceTransportPolicy: 'relay',
        connectTimeoutMs: 2000,
      });
      expect(r.connected).toBe(false);
      expect(r.connectMs).toBeNull();
      expect(r.shown).toEqual([]);
      expect(r.errors.join('\n')).toMatch(/no picture within 2000 ms/);
    },
    60_000,
  );

  it('throws a setup error for a folder that is not a clip', async () => {
    await expect(runAnchor({ clipDir: join(tmpdir(), 'mmsc-no-such-clip'), seconds: 1, senderNs: null, receiverNs: null })).rejects.toThrow(
      /not an emulation clip|not found/,
    );
  });
});
