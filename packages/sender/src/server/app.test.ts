import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { contextFromHello } from '@mmsc/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLog } from '../log.js';
import type { FrameSource, SourceHealth } from '../sources/sources.js';
import { FakePeer } from '../testing/fake-peer.js';
import { startTestSender, type TestSender } from '../testing/test-sender.js';
import { tokenMatches } from './auth.js';

// The HTTP surface, in process with fastify.inject (no sockets): who may see what.
const TOKEN = 'test-token-0123456789';
let s: TestSender;
let appDir: string;
beforeAll(async () => {
  // A stand-in for the built page: what matters here is what is served, not what the page does.
  appDir = await mkdtemp(join(tmpdir(), 'mmsc-app-'));
  for (const f of ['index.html', 'main.js', 'main.js.map', 'worker.js', 'worker.js.map']) await writeFile(join(appDir, f), `/* ${f} */`);
  await writeFile(join(appDir, 'main.js.gz'), gzipSync('/* main.js */'));
  s = await startTestSender({ listen: false, appDir });
});
afterAll(async () => {
  await s.close();
  await rm(appDir, { recursive: true, force: true });
});

describe('operator token', () => {
  it.each(['/stats', '/signal', '/models/manifest.json'])('%s needs it', async (url) => {
    const res = await s.app.inject({ url });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'unauthorized' });
    expect((await s.app.inject({ url, headers: { authorization: 'Bearer wrong-token-000' } })).statusCode).toBe(401);
    expect((await s.app.inject({ url: `${url}?token=${TOKEN}x` })).statusCode).toBe(401);
  });

  it('is accepted as a Bearer header or as ?token=', async () => {
    expect((await s.app.inject({ url: '/stats', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
    expect((await s.app.inject({ url: `/stats?token=${TOKEN}` })).statusCode).toBe(200);
    expect((await s.app.inject({ url: `/models/manifest.json?token=${TOKEN}` })).statusCode).toBe(200);
  });

  it('compares without a length or prefix shortcut', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(`${TOKEN}0`, TOKEN)).toBe(false);
    expect(tokenMatches(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(tokenMatches('', TOKEN)).toBe(false);
    expect(tokenMatches(null, TOKEN)).toBe(false);
  });

  it('refusals are logged without the token and counted', async () => {
    await s.app.inject({ url: '/stats?token=guess-guess-guess' });
    const line = s.logs.filter((l) => l.msg.includes('no valid token')).at(-1);
    expect(line?.msg).toContain('/stats?token=***');
    expect(JSON.stringify(s.logs)).not.toContain(TOKEN);
    const stats = (await s.app.inject({ url: '/stats', headers: { authorization: `Bearer ${TOKEN}` } })).json();
    expect(stats.refusals.unauthorized).toBeGreaterThan(0);
  });

  it('the page itself and /health stay open', async () => {
    expect((await s.app.inject({ url: '/' })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/health' })).statusCode).toBe(200);
  });

  it('--no-auth serves everything without a token', async () => {
    const open = await startTestSender({ listen: false, token: null });
    try {
      expect((await open.app.inject({ url: '/stats' })).statusCode).toBe(200);
      expect((await open.app.inject({ url: '/models/manifest.json' })).statusCode).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe('/health', () => {
  it('says ok and nothing else: no source path, no queries', async () => {
    const res = await s.app.inject({ url: '/health' });
    expect(res.json()).toEqual({ ok: true });
  });

  it('is not ok, with the reason but without paths, when the source cannot make frames', async () => {
    const broken: FrameSource = {
      description: 'image sequence /secret/dir (1 images)',
      still: false,
      next: () => Promise.reject(new Error('no decodable image in /secret/dir (1 files skipped)')),
      health: (): SourceHealth => ({ ok: false, reason: 'no decodable image in /secret/dir (1 files skipped)' }),
      close() {},
    };
    const b = await startTestSender({ listen: false, source: broken });
    try {
      const res = await b.app.inject({ url: '/health' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ ok: false, reason: 'no decodable image in dir (1 files skipped)' });
    } finally {
      await b.close();
    }
  });

  it('is not ok after the source failed at run time, and logs that once, not per tick', async () => {
    let calls = 0;
    const failing: FrameSource = {
      description: 'flaky',
      still: false,
      next: () => {
        calls++;
        return Promise.reject(new Error('video x.mp4 cannot be decoded: Invalid data found'));
      },
      health: () => ({ ok: true }),
      close() {},
    };
    const b = await startTestSender({ listen: false, source: failing });
    try {
      // The frame clock only runs for open receivers: one fake receiver, the clock driven by hand.
      const peer = new FakePeer(contextFromHello(b.streamer.links.hello));
      b.streamer.links.create('x', peer);
      peer.emit('open');
      for (let i = 0; i < 20; i++) await b.streamer.step();
      // The receiver was told once, with the reason.
      expect(peer.sent.filter((m) => m.type === 'error').map((m) => (m as { code: string }).code)).toEqual(['no-frames']);
      expect(calls).toBe(20);
      expect((await b.app.inject({ url: '/health' })).json()).toEqual({
        ok: false,
        reason: 'video x.mp4 cannot be decoded: Invalid data found',
      });
      // Logged once as the sender's error, and once as the receiver's refusal.
      const lines = b.logs.filter((l) => l.msg.includes('cannot be decoded')).map((l) => l.msg.split(':')[0]);
      expect(lines.sort()).toEqual(['no frame', 'session x']);
    } finally {
      await b.close();
    }
  });
});

describe('/models and the app', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  it('serves the manifest and the decoders only', async () => {
    expect((await s.app.inject({ url: '/models/manifest.json', headers: auth })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/models/codec-L12-dec.onnx', headers: auth })).statusCode).toBe(200);
    for (const f of ['codec-L12-enc.onnx', 'package.json', 'package-lock.json', 'lexicon.json', '../package.json', '%2e%2e/package.json']) {
      expect((await s.app.inject({ url: `/models/${f}`, headers: auth })).statusCode, f).toBe(404);
    }
  });

  it('serves the gzip the build wrote beside a file to a browser that accepts it, the file to one that does not', async () => {
    const gz = await s.app.inject({ url: '/main.js', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(gz.statusCode).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe('/* main.js */');
    const plain = await s.app.inject({ url: '/main.js', headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.payload).toBe('/* main.js */');
    // A file without a gzip beside it goes as it is.
    const worker = await s.app.inject({ url: '/worker.js', headers: { 'accept-encoding': 'gzip' } });
    expect(worker.headers['content-encoding']).toBeUndefined();
    expect(worker.payload).toBe('/* worker.js */');
  });

  it('does not serve source maps', async () => {
    expect((await s.app.inject({ url: '/main.js' })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/main.js.map' })).statusCode).toBe(404);
    expect((await s.app.inject({ url: '/worker.js.map' })).statusCode).toBe(404);
  });
});

describe('/signal origin', () => {
  const ws = {
    connection: 'upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  };
  it('a page from another origin is refused before the upgrade', async () => {
    const res = await s.app.inject({
      url: `/signal?token=${TOKEN}`,
      headers: { ...ws, host: 'cam.local:8080', origin: 'http://evil.example' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: 'origin' });
  });

  it('--allow-origin admits a listed origin', async () => {
    const t = await startTestSender({ listen: false, allowOrigins: ['https://ops.example.org'] });
    try {
      const refused = await t.app.inject({
        url: `/signal?token=${TOKEN}`,
        headers: { ...ws, host: 'cam.local', origin: 'https://other.example' },
      });
      expect(refused.statusCode).toBe(403);
      const allowed = await t.app.inject({
        url: `/signal?token=${TOKEN}`,
        headers: { ...ws, host: 'cam.local', origin: 'https://ops.example.org' },
      });
      expect(allowed.statusCode).not.toBe(403);
      expect(allowed.statusCode).not.toBe(401);
    } finally {
      await t.close();
    }
  });
});

describe('a folder source with a file that is not an image', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mmsc-app-'));
    await writeFile(join(dir, 'bad.jpg'), 'this is not a picture');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('makes /health not ok with the reason', async () => {
    const { openSource } = await import('../sources/sources.js');
    const source = await openSource(dir, { width: 480, height: 320 }, 10, { log: silentLog });
    const b = await startTestSender({ listen: false, source });
    try {
      const res = await b.app.inject({ url: '/health' });
      expect(res.statusCode).toBe(503);
      expect(res.json().reason).toMatch(/no decodable image/);
      expect(res.json().reason).not.toContain(dir);
    } finally {
      await b.close();
    }
  });
});
