// Shared by the browser tests and the receiver benchmark: starts `mmsc serve` on a free port and
// a headless Debian Chromium through playwright-core (never a downloaded browser).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort } from '../../../scripts/lib/free-port.mjs';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CHROMIUM = process.env.MMSC_CHROMIUM ?? '/usr/bin/chromium';

/** Headless flags from the platform notes, plus what loopback WebRTC needs (fake media permission). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

export { freePort };

/**
 * Starts `mmsc serve` (the built sender) and waits until /health answers.
 * @param {{ source?: string, query?: string, port?: number, token?: string, args?: string[], timeoutMs?: number }} [o]
 */
export async function startSender(o = {}) {
  if (!existsSync(join(ROOT, 'packages/receiver/dist-app/index.html'))) {
    throw new Error('packages/receiver/dist-app is missing: run `npm run build` first');
  }
  const port = o.port ?? (await freePort());
  // Authentication stays on, as users run it: the page gets the token in its URL.
  const token = o.token ?? `e2e-${randomBytes(12).toString('hex')}`;
  const args = [
    join(ROOT, 'packages/cli/bin/mmsc.js'),
    'serve',
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--source',
    o.source ?? join(ROOT, 'assets/images/dog.jpg'),
    '--query',
    o.query ?? 'dog',
    '--token',
    token,
    ...(o.args ?? []),
  ];
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d) => {
    output += d;
  });
  proc.stderr.on('data', (d) => {
    output += d;
  });
  /** @type {number | null} */
  let exitCode = null;
  proc.on('exit', (code) => {
    exitCode = code ?? -1;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (o.timeoutMs ?? 90_000);
  for (;;) {
    if (exitCode !== null) throw new Error(`mmsc serve exited with ${exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`mmsc serve did not answer /health within ${(o.timeoutMs ?? 90_000) / 1000} s:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/health`);
      // 503 is a sender that is up but has no frames to make (a test may want exactly that).
      if (res.ok || res.status === 503) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    token,
    /** `path` of the sender's page with the token added, e.g. `page('/?debug')`. */
    page(path = '/') {
      const u = new URL(path, url);
      u.searchParams.set('token', token);
      return u.href;
    },
    output: () => output,
    async stop() {
      if (exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Launches headless Chromium with a fresh profile; `close()` also removes the profile. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium); browsers are never downloaded`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'mmsc-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1500, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until `predicate(state)` holds for the page's `window.mmsc.state()`.
 * @param {import('playwright-core').Page} page
 * @param {string} predicate body of a function of `s`, evaluated in the page
 * @param {number} timeoutMs
 */
export async function waitForState(page, predicate, timeoutMs = 60_000) {
  await page.waitForFunction(`(() => { const s = window.mmsc && window.mmsc.state(); return !!s && (${predicate}); })()`, undefined, {
    timeout: timeoutMs,
    polling: 100,
  });
}
