/**
 * What the operator's page says when the sender turns it away or has nothing to show: a missing
 * token, a full sender, a source that cannot make frames. Real Chromium against real `mmsc serve`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startSender } from './harness.mjs';

let browser: Awaited<ReturnType<typeof launchBrowser>>;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(() => browser?.close());

const stageText = (page: Page, re: RegExp, timeout = 30_000) =>
  page.waitForFunction((src) => new RegExp(src).test(document.getElementById('stage-msg')?.textContent ?? ''), re.source, {
    timeout,
    polling: 100,
  });

describe('browser receiver refusals (Chromium)', () => {
  it('without the token the page says it needs the URL with the token', async () => {
    const sender = await startSender();
    const page = await browser.context.newPage();
    try {
      await page.goto(`${sender.url}/`);
      await stageText(page, /needs a token: open the URL/);
      await page.goto(`${sender.url}/?token=wrong-token-123`);
      await stageText(page, /refused this token/);
    } finally {
      await page.close();
      await sender.stop();
    }
  });

  it('a full sender is reported as busy, and a folder of undecodable files as no picture, with the reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mmsc-e2e-bad-'));
    await writeFile(join(dir, 'broken.jpg'), 'not a picture');
    const sender = await startSender({ source: dir, args: ['--max-receivers', '1'] });
    const first = await browser.context.newPage();
    const second = await browser.context.newPage();
    try {
      const health = await fetch(`${sender.url}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ ok: false, reason: expect.stringMatching(/no decodable image/) });
      await first.goto(sender.page('/'));
      await stageText(first, /no picture to send: .*no decodable image/);
      await second.goto(sender.page('/'));
      await stageText(second, /busy|serves at most 1 receivers/);
    } finally {
      await first.close();
      await second.close();
      await sender.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
