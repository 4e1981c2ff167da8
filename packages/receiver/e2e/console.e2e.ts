/**
 * The operator console's layout and token hygiene in real Chromium against `mmsc serve` (the default
 * h264 engine, dog.jpg, query "dog"), on a phone (390×844) and a laptop (1280×800): no
 * horizontal scroll, the query box and its status line in the first screen, the picture at the
 * source's aspect, a long word wrapped, no level map offered for a codec engine, and the token out
 * of the address bar and the page's text.
 * Screenshots of both go to artifacts/console-*.png. Needs `npm run build` first.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, ROOT, startSender, waitForState } from './harness.mjs';

let browser: Awaited<ReturnType<typeof launchBrowser>>;
let sender: Awaited<ReturnType<typeof startSender>>;
const ARTIFACTS = join(ROOT, 'artifacts');

beforeAll(async () => {
  [browser, sender] = await Promise.all([
    launchBrowser(),
    startSender({ source: join(ROOT, 'assets/images/dog.jpg'), query: 'dog', token: 'console-e2e-token-7f3a9c' }),
  ]);
  await mkdir(ARTIFACTS, { recursive: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await sender?.stop();
});

/** Where the page's parts are, in CSS pixels, and what would scroll. */
function layout(page: Page) {
  return page.evaluate(() => {
    const box = (id: string) => {
      const r = (document.getElementById(id) as HTMLElement).getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width, height: r.height };
    };
    const canvas = document.getElementById('picture') as HTMLCanvasElement;
    return {
      innerWidth: window.innerWidth,
      innerHeight: window.innerHeight,
      scrollWidth: document.documentElement.scrollWidth,
      query: box('query'),
      status: box('query-status'),
      grounding: box('grounding'),
      picture: box('picture'),
      canvas: { width: canvas.width, height: canvas.height },
    };
  });
}

const sizes = [
  { name: 'phone', viewport: { width: 390, height: 844 } },
  { name: 'laptop', viewport: { width: 1280, height: 800 } },
];

describe('operator console layout', () => {
  for (const s of sizes) {
    it(`${s.name} ${s.viewport.width}×${s.viewport.height}: no horizontal scroll, query and status in the first screen, the picture at its aspect`, async () => {
      const page = await browser.context.newPage();
      await page.setViewportSize(s.viewport);
      try {
        await page.goto(sender.page('/'));
        await waitForState(page, 's.connection === "open" && s.framesShown >= 3 && s.grounding !== null', 90_000);
        const l = await layout(page);
        console.log(`${s.name}: ${JSON.stringify(l)}`);
        expect(l.scrollWidth).toBeLessThanOrEqual(l.innerWidth);
        for (const part of [l.query, l.status]) {
          expect(part.top).toBeGreaterThanOrEqual(0);
          expect(part.bottom).toBeLessThanOrEqual(l.innerHeight);
          expect(part.right).toBeLessThanOrEqual(l.innerWidth);
        }
        // The grounding report starts in the first screen.
        expect(l.grounding.top).toBeLessThan(l.innerHeight - 20);
        // The picture keeps the source's aspect (within 1 %) and fits the width.
        expect(Math.abs(l.picture.width / l.picture.height / (l.canvas.width / l.canvas.height) - 1)).toBeLessThan(0.01);
        expect(l.picture.right).toBeLessThanOrEqual(l.innerWidth);
        if (s.name === 'laptop') expect(l.picture.bottom).toBeLessThanOrEqual(l.innerHeight);
        // The h264 engine codes macroblocks, not patches at levels: no level map, no patch counts.
        const offered = await page.evaluate(() => ({
          levels: !(document.getElementById('levels-controls') as HTMLElement).hidden,
          patches: !((document.getElementById('st-patches') as HTMLElement).closest('tr') as HTMLElement).hidden,
        }));
        expect(offered).toEqual({ levels: false, patches: false });
        // One word for the link; its details a click away (folded at first on the phone).
        await page.waitForFunction(() => /^Link (good|limited|poor)$/.test(document.getElementById('quality')?.textContent ?? ''));
        const linkOpen = () => page.evaluate(() => (document.getElementById('link-panel') as HTMLDetailsElement).open);
        // After a few seconds of frames (the rates are measured over 2 s), as an operator sees it.
        await waitForState(page, 's.framesShown >= 25', 30_000);
        await page.screenshot({ path: join(ARTIFACTS, `console-${s.name}.png`) });
        expect(await linkOpen()).toBe(s.name !== 'phone');
        await page.click('#quality');
        expect(await linkOpen()).toBe(true);

        // A very long word wraps: the page still does not scroll sideways.
        await page.fill('#query', `${'x'.repeat(280)} dog`);
        await page.press('#query', 'Enter');
        await waitForState(page, 's.grounding && s.grounding.text.startsWith("xxx")', 30_000);
        const after = await layout(page);
        expect(after.scrollWidth).toBeLessThanOrEqual(after.innerWidth);
      } finally {
        await page.close();
      }
    }, 150_000);
  }
});

describe('operator token', () => {
  it('leaves the address bar after load and is not in the page text or the connection tooltip; a reload still connects (and keeps the query history)', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(sender.page('/'));
      await waitForState(page, 's.connection === "open" && s.framesShown >= 1', 90_000);
      const seen = () =>
        page.evaluate(() => ({
          href: location.href,
          text: document.body.textContent ?? '',
          titles: Array.from(document.querySelectorAll('[title]'), (e) => e.getAttribute('title')).join(' '),
        }));
      const first = await seen();
      expect(first.href).not.toContain(sender.token);
      expect(first.text).not.toContain(sender.token);
      expect(first.titles).not.toContain(sender.token);
      // The queries sent become the box's suggestions, newest first, and outlive a reload.
      for (const q of ['car', 'dog and bicycle']) {
        await page.fill('#query', q);
        await page.press('#query', 'Enter');
      }
      const suggestions = () =>
        page.evaluate(() => Array.from(document.querySelectorAll('#query-history option'), (o) => (o as HTMLOptionElement).value));
      expect((await suggestions()).slice(0, 2)).toEqual(['dog and bicycle', 'car']);
      // Kept for this tab: a reload (no token in the URL now) connects again.
      await page.reload();
      await waitForState(page, 's.connection === "open" && s.framesShown >= 1', 90_000);
      expect((await seen()).href).not.toContain(sender.token);
      expect((await suggestions()).slice(0, 2)).toEqual(['dog and bicycle', 'car']);
    } finally {
      await page.close();
    }
  }, 200_000);
});

describe('picture controls', () => {
  it('pause holds the picture while frames keep coming, resume shows the newest; snapshot saves a PNG of the frame; record saves a WebM clip; f goes fullscreen', async () => {
    const pan = await startSender({ source: `pan:${join(ROOT, 'assets/images/dog.jpg')}`, query: 'dog' });
    const page = await browser.context.newPage();
    const snap = () => page.evaluate(() => (window as unknown as { mmsc: { snapshot(): { rgba: string } } }).mmsc.snapshot().rgba);
    const state = () =>
      page.evaluate(() =>
        (window as unknown as { mmsc: { state(): { framesReceived: number; paused: boolean; fullscreen: string | null } } }).mmsc.state(),
      );
    try {
      await page.goto(pan.page('/'));
      await waitForState(page, 's.connection === "open" && s.framesShown >= 3', 90_000);
      await page.click('#pause');
      expect((await state()).paused).toBe(true);
      const held = await snap();
      const received = (await state()).framesReceived;
      await waitForState(page, `s.framesReceived >= ${received + 5}`, 30_000);
      // The pan moved on; the screen did not.
      expect(await snap()).toBe(held);
      await page.keyboard.press('p');
      expect((await state()).paused).toBe(false);
      expect(await snap()).not.toBe(held);

      const download = page.waitForEvent('download');
      await page.click('#snapshot');
      const file = await download;
      expect(file.suggestedFilename()).toMatch(/^mmsc-frame\d+-\d{4}-\d\d-\d\dT[\d-]+Z\.png$/);
      const png = await readFile(await file.path());
      // A PNG one caption strip taller than the 480×360 picture.
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([480, 378]);

      // A recording of what is shown: a WebM clip of the picture canvas.
      await page.click('#record');
      await page.waitForTimeout(2500);
      const clip = page.waitForEvent('download');
      await page.click('#record');
      const webm = await clip;
      expect(webm.suggestedFilename()).toMatch(/^mmsc-clip-[\d-]+T[\d-]+Z\.webm$/);
      const bytes = await readFile(await webm.path());
      expect(bytes.readUInt32BE(0)).toBe(0x1a45dfa3); // EBML (Matroska / WebM)
      expect(bytes.length).toBeGreaterThan(5000);

      await page.keyboard.press('f');
      await waitForState(page, 's.fullscreen === "stage"', 10_000);
      await page.keyboard.press('f');
      await waitForState(page, 's.fullscreen === null', 10_000);
    } finally {
      await page.close();
      await pan.stop();
    }
  }, 200_000);
});

describe('accessibility', () => {
  it('axe-core (npm, MPL-2.0) finds no serious or critical WCAG 2 A/AA violation on the running page', async () => {
    const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    const page = await browser.context.newPage();
    try {
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(sender.page('/'));
      await waitForState(page, 's.connection === "open" && s.framesShown >= 3 && s.grounding !== null', 90_000);
      await page.addScriptTag({ content: axeSource });
      const violations = await page.evaluate(async () => {
        const axe = (
          window as unknown as {
            axe: { run(o: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> };
          }
        ).axe;
        const r = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
      });
      console.log(`axe: ${JSON.stringify(violations)}`);
      expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    } finally {
      await page.close();
    }
  }, 150_000);
});

describe('the operator’s view (`view` message)', () => {
  it('with the relevance overlay on, the map shown is the one that coded the picture on screen; a rate cap holds the received rate under it', async () => {
    const pan = await startSender({ source: `pan:${join(ROOT, 'assets/images/dog.jpg')}`, query: 'dog' });
    const page = await browser.context.newPage();
    type S = { shownFrameId: number | null; overlayFrameId: number | null; framesShown: number };
    const state = () => page.evaluate(() => (window as unknown as { mmsc: { state(): S } }).mmsc.state());
    try {
      await page.goto(pan.page('/'));
      await waitForState(page, 's.connection === "open" && s.framesShown >= 3', 90_000);
      if (!(await page.isChecked('#ov-relevance'))) await page.click('#ov-relevance');
      const from = (await state()).framesShown;
      await waitForState(page, `s.framesShown >= ${from + 5}`, 30_000);
      for (let k = 0; k < 10; k++) {
        const s = await state();
        expect(s.overlayFrameId).toBe(s.shownFrameId);
        await page.waitForTimeout(150);
      }
      await expect(page.textContent('#relevance-frame')).resolves.toMatch(/^\(frame #\d+\)$/);

      // A cap of 0.5 Mbit/s: once it holds, the frames received carry at most that (their bytes over
      // their capture times; a frame's own budget may span two frame intervals).
      await page.selectOption('#rate-cap', '500000');
      await page.waitForTimeout(1500);
      const after = (await state()).framesShown;
      await waitForState(page, `s.framesShown >= ${after + 20}`, 30_000);
      const recent = await page.evaluate(() =>
        (window as unknown as { mmsc: { frames(): { bytes: number; captureTs: number }[] } }).mmsc.frames().slice(-21),
      );
      const seconds = ((recent.at(-1)?.captureTs ?? 0) - (recent[0]?.captureTs ?? 0)) / 1000;
      const bps = (recent.slice(1).reduce((n, f) => n + f.bytes, 0) * 8) / seconds;
      console.log(`received under a 0.5 Mbit/s cap: ${Math.round(bps / 1000)} kbit/s over ${seconds.toFixed(2)} s`);
      expect(bps).toBeLessThanOrEqual(500_000 * 1.1);
      expect(bps).toBeGreaterThan(100_000);
    } finally {
      await page.close();
      await pan.stop();
    }
  }, 200_000);
});
