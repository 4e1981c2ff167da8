import { execFileSync, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestSender, type TestSender } from '@mmsc/sender/testing';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ProbeRefusedError, probe } from './commands/probe.js';
import { TestReceiver } from './testing/test-receiver.js';

// The real sender on 127.0.0.1 with real werift peers: what an attacker's traffic does to an honest receiver.
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});
async function sender(o: Parameters<typeof startTestSender>[0] = {}): Promise<TestSender> {
  const s = await startTestSender(o);
  cleanup.push(() => s.close());
  return s;
}
async function receiver(s: TestSender): Promise<TestReceiver> {
  const r = await TestReceiver.connect(s.url, s.token);
  cleanup.push(() => r.close());
  return r;
}
/** A raw signalling socket that never answers (an idle or hostile client). */
function rawSocket(s: TestSender): Promise<{ ws: WebSocket; got: { type: string; code?: string }[]; closed: Promise<number> }> {
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/signal`, { headers: { authorization: `Bearer ${s.token}` } });
  cleanup.push(async () => ws.terminate());
  const got: { type: string; code?: string }[] = [];
  ws.on('message', (d: Buffer) => got.push(JSON.parse(d.toString())));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, got, closed }));
    ws.once('error', reject);
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('live sender', () => {
  it('refuses /signal without the token before any peer is made', async () => {
    const s = await sender();
    await expect(TestReceiver.connect(s.url, null)).rejects.toThrow(/HTTP 401/);
    await expect(TestReceiver.connect(s.url, 'not-the-token')).rejects.toThrow(/HTTP 401/);
    expect(s.streamer.links.size).toBe(0);
  });

  it('idle sockets cannot hold the slots: pending handshakes are capped and time out, then an honest receiver gets in', async () => {
    const s = await sender({ limits: { maxReceivers: 3, maxPendingHandshakes: 2, handshakeTimeoutMs: 800 } });
    const idle = await Promise.all([rawSocket(s), rawSocket(s)]);
    const third = await rawSocket(s);
    expect(await third.closed).toBe(1013);
    expect(third.got.at(-1)).toMatchObject({ type: 'error', code: 'busy' });
    for (const i of idle) {
      expect(await i.closed).toBe(1000);
      expect(i.got.some((m) => m.type === 'error' && m.code === 'handshake-timeout')).toBe(true);
    }
    expect(s.streamer.links.size).toBe(0);
    const r = await receiver(s);
    await r.waitFor(() => r.frames() >= 2);
    const stats = (await s.app.inject({ url: '/stats', headers: { authorization: `Bearer ${s.token}` } })).json();
    expect(stats.refusals).toMatchObject({ busy: 1, 'handshake-timeout': 2 });
    expect(s.logs.some((l) => /refused: busy/.test(l.msg))).toBe(true);
    expect(s.logs.some((l) => /disconnected: handshake timeout/.test(l.msg))).toBe(true);
  });

  it('a query with a 65-byte word is grounded and the sender goes on for every receiver', async () => {
    const s = await sender();
    const a = await receiver(s);
    const b = await receiver(s);
    await a.waitFor(() => a.hello !== null);
    a.send({ type: 'query', queryId: 'long', text: `${'a'.repeat(65)} 猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫猫` });
    await a.waitFor((ms) => ms.some((m) => m.type === 'grounding' && m.queryId === 'long'));
    const before = b.frames();
    await b.waitFor(() => b.frames() >= before + 3);
    const after = a.frames();
    await a.waitFor(() => a.frames() >= after + 2);
  });

  it('candidates trickled after the answer are capped; the session closes and another receiver keeps its frames', async () => {
    const s = await sender();
    const honest = await receiver(s);
    const attacker = await receiver(s);
    await honest.waitFor(() => honest.frames() >= 1);
    const before = honest.frames();
    for (let i = 0; i < 5000 && attacker.ws.readyState === attacker.ws.OPEN; i++)
      attacker.ws.send(
        JSON.stringify({ type: 'candidate', candidate: { candidate: `candidate:${i} 1 udp 1 127.0.0.1 ${9 + i} typ host`, sdpMid: '0' } }),
      );
    // Before the caps, werift took every candidate and the other receivers stalled for seconds.
    await honest.waitFor(() => honest.frames() >= before + 5, 3000);
    expect(attacker.signals.some((m) => m.type === 'error' && (m.code === 'too-many-candidates' || m.code === 'rate-limited'))).toBe(true);
    await attacker.waitFor(() => attacker.closed !== null, 5000).catch(() => undefined);
    expect(attacker.closed).not.toBeNull();
  });

  it('a receiver over the limit is told busy, and the probe says so', async () => {
    const s = await sender({ limits: { maxReceivers: 1 } });
    const r = await receiver(s);
    await r.waitFor(() => r.frames() >= 1);
    const err = await probe({ url: s.url, token: s.token ?? undefined, query: 'dog', seconds: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProbeRefusedError);
    expect((err as ProbeRefusedError).reason).toBe('busy');
  });

  it('the probe runs longer than its connection deadline once the channel is up', async () => {
    const s = await sender();
    const r = await probe({ url: s.url, token: s.token ?? undefined, query: 'dog', seconds: 3, connectTimeoutMs: 1500 });
    expect(r.errors).toEqual([]);
    expect(r.frames).toBeGreaterThan(5);
    // Set-up times, from the signalling socket: the channel first, then the first decoded picture.
    expect(r.channelMs).toBeGreaterThan(0);
    expect(r.firstPictureMs).toBeGreaterThanOrEqual(r.channelMs as number);
  });

  it('an oversized signalling frame closes that socket, is counted as too-large, and logs no error', async () => {
    const s = await sender();
    const raw = await rawSocket(s);
    raw.ws.send('x'.repeat(70 * 1024));
    await raw.closed;
    await sleep(100);
    const stats = (await s.app.inject({ url: '/stats', headers: { authorization: `Bearer ${s.token}` } })).json();
    expect(stats.refusals['too-large']).toBe(1);
    expect(s.logs.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('the probe reports a sender that goes away mid-run instead of exiting clean', async () => {
    const s = await sender();
    const run = probe({ url: s.url, token: s.token ?? undefined, query: 'dog', seconds: 20 });
    await sleep(4000);
    await s.close();
    const r = await run;
    expect(r.errors.some((e) => /disconnected|closed|shutting-down/.test(e))).toBe(true);
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
describe('TLS', () => {
  it.skipIf(!hasOpenssl)('--tls-cert/--tls-key serve HTTPS with the token check (needs openssl to make a test certificate)', async () => {
    const dir = tmpdir();
    const key = join(dir, `mmsc-test-${process.pid}.key`);
    const cert = join(dir, `mmsc-test-${process.pid}.crt`);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const pem = { key: await readFile(key), cert: await readFile(cert) };
    const s = await sender({ https: pem });
    expect(s.url).toMatch(/^https:/);
    const get = (path: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${s.url}${path}`, { ca: pem.cert, headers, checkServerIdentity: () => undefined }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get('/health')).toBe(200);
    expect(await get('/stats')).toBe(401);
    expect(await get('/stats', { authorization: `Bearer ${s.token}` })).toBe(200);
  });
});
