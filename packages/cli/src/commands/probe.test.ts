import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { CliError } from '../errors.js';
import { EXIT_BUSY, ProbeRefusedError, probe, senderEndpoints } from './probe.js';

/** A fake sender: /signal over `ws`, with an optional token check and a script run on each connection. */
interface Fake {
  base: string;
  /** Every upgrade request that reached the server (accepted or not). */
  requests: IncomingMessage[];
  close(): Promise<void>;
}

let fakes: Fake[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

async function fakeSender(opts: { token?: string; refuse?: number; onConnection?: (socket: WebSocket) => void }): Promise<Fake> {
  const requests: IncomingMessage[] = [];
  const http: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({
    server: http,
    path: '/signal',
    verifyClient: (info, cb) => {
      requests.push(info.req);
      if (opts.refuse) return cb(false, opts.refuse);
      if (opts.token !== undefined && info.req.headers.authorization !== `Bearer ${opts.token}`) return cb(false, 401);
      cb(true);
    },
  });
  wss.on('connection', (socket) => opts.onConnection?.(socket));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const fake: Fake = {
    base: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
      await new Promise((r) => http.close(r));
    },
  };
  fakes.push(fake);
  return fake;
}

const busy = (socket: WebSocket) => {
  socket.send(JSON.stringify({ type: 'error', code: 'busy', message: 'this sender serves at most 1 receivers' }));
  socket.close(1013, 'busy');
};

const base = { query: 'dog', seconds: 5 };

describe('probe against a fake sender', () => {
  it('reports a busy sender as busy (exit code 3), not as an ICE failure', async () => {
    const fake = await fakeSender({ onConnection: busy });
    const t = Date.now();
    const e = await probe({ ...base, url: fake.base }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProbeRefusedError);
    expect(e).toMatchObject({ reason: 'busy', exitCode: EXIT_BUSY, message: 'sender busy: this sender serves at most 1 receivers' });
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it('reports a refused upgrade (401) as a token problem', async () => {
    const fake = await fakeSender({ token: 'secret' });
    for (const token of [undefined, 'wrong-token']) {
      const e = await probe({ ...base, url: fake.base, token }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ProbeRefusedError);
      expect(e).toMatchObject({
        reason: 'unauthorized',
        exitCode: 1,
        message: 'the sender refused the token (HTTP 401): pass --token or MMSC_TOKEN',
      });
      expect((e as Error).message).not.toContain('wrong-token');
    }
  });

  it('reports a refused Origin (403)', async () => {
    const fake = await fakeSender({ refuse: 403 });
    await expect(probe({ ...base, url: fake.base })).rejects.toMatchObject({ reason: 'forbidden', message: /HTTP 403/ });
  });

  it('sends the token as an Authorization header, from the option or from the URL', async () => {
    const fake = await fakeSender({ token: 'secret', onConnection: busy });
    // Accepted (the sender then says busy): the header was right.
    await expect(probe({ ...base, url: fake.base, token: 'secret' })).rejects.toMatchObject({ reason: 'busy' });
    await expect(probe({ ...base, url: `${fake.base}/some/page?token=secret#x` })).rejects.toMatchObject({ reason: 'busy' });
    // --token beats the URL's token.
    await expect(probe({ ...base, url: `${fake.base}/?token=stale`, token: 'secret' })).rejects.toMatchObject({ reason: 'busy' });
    expect(fake.requests.map((r) => [r.url, r.headers.authorization])).toEqual([
      ['/signal', 'Bearer secret'],
      ['/signal', 'Bearer secret'],
      ['/signal', 'Bearer secret'],
    ]);
  });

  it('ends early with the reasons in errors when signalling goes wrong and the socket closes', async () => {
    const fake = await fakeSender({
      onConnection: (socket) => {
        socket.send('not json');
        socket.send(JSON.stringify({ type: 'error', code: 'bad-signal', message: 'nope' }));
        setTimeout(() => socket.close(1011, 'restarting'), 100);
      },
    });
    const t = Date.now();
    const r = await probe({ ...base, url: fake.base, seconds: 30 });
    expect(Date.now() - t).toBeLessThan(5000);
    expect(r.frames).toBe(0);
    expect(r.errors).toEqual([
      'signalling: not JSON (8 characters)',
      'signalling: bad-signal: nope',
      expect.stringMatching(/^disconnected after \d+\.\d s: signalling closed \(1011 restarting\)$/),
    ]);
  });

  it('reports malformed signalling from the sender instead of handing it to werift', async () => {
    const fake = await fakeSender({
      onConnection: (socket) => {
        socket.send('null');
        socket.send(JSON.stringify({ type: 'candidate', candidate: 'candidate:1' }));
        socket.send(JSON.stringify({ type: 'offer', sdp: 3 }));
        setTimeout(() => socket.close(1011, 'restarting'), 100);
      },
    });
    const r = await probe({ ...base, url: fake.base, seconds: 30 });
    expect(r.errors.slice(0, 3)).toEqual([
      'signalling: malformed message from the sender (bad-signal): signalling message must be a JSON object',
      'signalling: malformed message from the sender (bad-signal): candidate needs {candidate: string}',
      'signalling: malformed message from the sender (bad-signal): offer needs an SDP string',
    ]);
  });

  it('ends at once on an offer that describes no data channel', async () => {
    const fake = await fakeSender({ onConnection: (socket) => socket.send(JSON.stringify({ type: 'offer', sdp: 'v=0\r\n' })) });
    const t = Date.now();
    const e = await probe({ ...base, url: fake.base, seconds: 30 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CliError);
    expect((e as Error).message).toBe("the sender's offer is unusable: offer SDP has no data-channel media line (m=application … SCTP)");
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it('stops when aborted and returns the partial result', async () => {
    const fake = await fakeSender({});
    const r = await probe({ ...base, url: fake.base, seconds: 30, signal: AbortSignal.timeout(300) });
    expect(r).toMatchObject({ frames: 0, fps: 0, errors: [] });
  });

  it('refuses a URL that is not http(s) and reports an unreachable sender', async () => {
    for (const url of ['not-a-url', 'ftp://127.0.0.1:8080', '127.0.0.1:8080'])
      await expect(probe({ ...base, url })).rejects.toMatchObject({ exitCode: 2, message: /^--url must be an http\(s\) URL/ });
    const fake = await fakeSender({});
    const dead = fake.base;
    await fake.close();
    fakes = [];
    const e = await probe({ ...base, url: dead }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CliError);
    expect((e as Error).message).toMatch(/^cannot reach ws:\/\/127\.0\.0\.1:\d+\/signal: /);
  });

  it('derives /signal and /stats from the URL, dropping path, query and hash', () => {
    expect(senderEndpoints('https://cam.example:8443/app/?token=abc#frag')).toEqual({
      signalUrl: 'wss://cam.example:8443/signal',
      statsUrl: 'https://cam.example:8443/stats',
      token: 'abc',
    });
    expect(senderEndpoints('http://127.0.0.1:8080').token).toBeNull();
  });
});
