import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import type { IceServer, SessionErrorCode } from '@mmsc/protocol';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { isProtected, originAllowed, redactToken, tokenMatches, tokenOf, unauthorized } from './auth.js';
import { EventLoopMonitor } from './event-loop.js';
import { defaultLimits, type Limits, RefusalCounter, TokenBucket } from './limits.js';
import { Peer } from './peer.js';
import type { Streamer } from './streamer.js';

export interface AppOptions {
  /** The frame clock and, through it, the receivers' links (`streamer.links`). */
  streamer: Streamer;
  /** Built browser app (packages/receiver), served at /. */
  appDir: string | null;
  /** onnxruntime-web wasm files, served at /ort/. */
  ortDir: string | null;
  /** Models folder, served at /models/ (decoders for the browser). */
  modelsDir: string;
  /** The files of the models folder the browser may fetch (the manifest and the decoders); nothing else is served. */
  modelFiles: readonly string[];
  /** The operator token; null switches authentication off (`--no-auth`). */
  token: string | null;
  /** Origins besides the page's own that may open /signal (`*` for any). */
  allowOrigins?: readonly string[];
  limits?: Partial<Limits>;
  /** STUN/TURN servers for each receiver's peer, handed to the receiver in the offer (default: none). */
  iceServers?: readonly IceServer[];
  /** pino logger (the CLI's); none: silent. */
  logger?: Logger;
  /** Serve HTTPS/WSS with this key and certificate (PEM). */
  https?: { key: Buffer | string; cert: Buffer | string };
}

/** Paths in a reason for the open /health endpoint become their last component. */
function withoutPaths(reason: string): string {
  return reason.replace(/(?:\/[^\s/:'"()]+)+\/?/g, (p) => basename(p));
}

/**
 * HTTP side of the sender: the receiver app, WebSocket signalling (one werift peer per receiver),
 * /health and /stats. State lives in the links service; each connection only makes one link over its peer.
 * Every peer-controlled resource is bounded by `limits`; every refusal is told to the peer, logged
 * and counted in /stats.
 */
export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  const limits: Limits = { ...defaultLimits(), ...o.limits };
  const fastifyOpts: FastifyServerOptions & { https?: unknown } = {
    bodyLimit: 64 * 1024,
    // Requests are not logged one by one (their URLs may carry the token); receivers' events are.
    logController: new LogController({ disableRequestLogging: true }),
    ...(o.logger ? { loggerInstance: o.logger } : { logger: false }),
    ...(o.https ? { https: o.https } : {}),
  };
  const app = Fastify(fastifyOpts as FastifyServerOptions) as unknown as FastifyInstance;
  const started = Date.now();
  const refusals = new RefusalCounter();
  const allowOrigins = o.allowOrigins ?? [];
  const links = o.streamer.links;
  links.on('refused', (code) => refusals.count(code));
  await app.register(fastifyWebsocket, {
    options: { maxPayload: limits.maxSignalBytes + 1024 },
    // A peer's broken or oversized frame is the peer's problem, not ours: one info line, no stack
    // (the plugin's default logs every one as an error).
    errorHandler: (error, socket, req) => {
      const tooLarge = (error as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
      refusals.count(tooLarge ? 'too-large' : 'bad-signal');
      app.log.info({ ip: req.ip }, `signalling socket from ${req.ip} closed: ${error.message}`);
      socket.terminate();
    },
  });
  app.addHook('onSend', async (_req, reply) => {
    // Lets the browser app use threaded wasm if it wants; harmless otherwise.
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Embedder-Policy', 'require-corp');
  });
  app.addHook('onRequest', async (req, reply) => {
    if (o.token === null || !isProtected(req.url)) return;
    if (tokenMatches(tokenOf(req), o.token)) return;
    refusals.count('unauthorized');
    app.log.warn(
      { ip: req.ip, path: redactToken(req.url) },
      `refused ${req.method} ${redactToken(req.url)} from ${req.ip}: no valid token`,
    );
    return unauthorized(reply);
  });

  app.get('/health', async (_req, reply) => {
    const h = o.streamer.health();
    if (!h.ok) return reply.code(503).send({ ok: false, reason: withoutPaths(h.reason ?? 'not ok') });
    return { ok: true };
  });
  const loop = new EventLoopMonitor();
  app.addHook('onClose', async () => loop.close());
  app.get('/stats', async () => {
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      fps: o.streamer.opts.fps,
      engine: links.hello.engine,
      allocator: links.engineOptions.allocator,
      uptimeS: Math.round((Date.now() - started) / 1000),
      source: o.streamer.pipeline.description,
      health: o.streamer.health(),
      auth: o.token !== null,
      ticks: o.streamer.ticks,
      framesMade: o.streamer.framesMade,
      overruns: o.streamer.overruns,
      eventLoop: loop.snapshot(),
      refusals: refusals.snapshot(),
      // CPU of the whole process (the model worker included), for CPU per frame across runs.
      process: {
        cpuUserMs: Math.round(cpu.user / 1000),
        cpuSystemMs: Math.round(cpu.system / 1000),
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        externalBytes: mem.external,
        arrayBuffersBytes: mem.arrayBuffers,
      },
      limits,
      receivers: links.snapshots(),
    };
  });

  app.get('/signal', { websocket: true }, (socket: WebSocket, req) => {
    const ip = req.ip;
    const tell = (code: SessionErrorCode, message: string) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'error', code, message }));
    };
    /** A connection refused before it became a session. */
    const turnAway = (code: SessionErrorCode, message: string) => {
      refusals.count(code);
      app.log.info({ ip, code }, `receiver from ${ip} refused: ${code}: ${message}`);
      tell(code, message);
      socket.close(1013, code);
    };
    const count = links.size;
    if (count >= limits.maxReceivers) return turnAway('busy', `this sender serves at most ${limits.maxReceivers} receivers`);
    const pending = links.pending;
    if (pending >= limits.maxPendingHandshakes)
      return turnAway(
        'busy',
        `${pending} receivers are still connecting (at most ${limits.maxPendingHandshakes}); try again in a few seconds`,
      );

    const id = randomUUID().slice(0, 8);
    const connectedAt = Date.now();
    const peer = new Peer(
      (m) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m));
      },
      limits,
      o.iceServers ?? [],
      links.videoFormat,
      links.onTrackDeclined,
    );
    const link = links.create(id, peer);
    app.log.info({ session: id, ip }, `receiver ${id} connected from ${ip} (${count + 1}/${limits.maxReceivers})`);

    // The handshake deadline counts from the offer (making it is bounded by the same span).
    const expire = (what: string) => () => {
      if (peer.open || peer.isClosed) return;
      refusals.count('handshake-timeout');
      tell('handshake-timeout', `the data channel did not open within ${limits.handshakeTimeoutMs / 1000} s ${what}`);
      peer.close('handshake timeout');
    };
    let handshake = setTimeout(expire('(no offer made)'), limits.handshakeTimeoutMs);
    peer.on('offered', () => {
      app.log.debug({ session: id }, `receiver ${id}: offer sent (${Date.now() - connectedAt} ms)`);
      clearTimeout(handshake);
      handshake = setTimeout(expire('of the offer'), limits.handshakeTimeoutMs);
    });
    peer.on('phase', (what) => app.log.debug({ session: id }, `receiver ${id}: ${what} (${Date.now() - connectedAt} ms)`));
    peer.on('open', () => {
      clearTimeout(handshake);
      app.log.info({ session: id }, `receiver ${id} data channel open (${Date.now() - connectedAt} ms)`);
    });
    peer.on('refused', (code, message) => {
      refusals.count(code);
      app.log.info({ session: id, code }, `receiver ${id} refused: ${code}: ${message}`);
    });
    const signals = new TokenBucket(limits.signalPerSecond, limits.signalBurst);
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (peer.isClosed) return; // already refused: what is still in flight is not counted again
      if (!signals.take(performance.now() / 1000)) {
        refusals.count('rate-limited');
        tell('rate-limited', `more than ${limits.signalPerSecond} signalling messages per second`);
        peer.close('signalling rate limit');
        return;
      }
      if (isBinary) {
        refusals.count('bad-signal');
        tell('bad-signal', 'signalling messages are JSON text');
        return;
      }
      peer.onSignal(data.toString('utf8')).catch((e: unknown) => link.fail('signalling', e));
    });
    socket.on('close', () => {
      // Receivers keep the signalling socket open for the whole session: its closing ends the
      // session at once (werift alone notices a vanished peer only after tens of seconds).
      peer.close('signalling closed');
    });
    // (Socket errors, e.g. an oversized frame, go through the plugin's errorHandler above.)
    socket.on('error', (e: Error) => peer.close(`signalling error: ${e.message}`));
    peer.on('closed', (reason) => {
      clearTimeout(handshake);
      const s = link.snapshot();
      app.log.info(
        { session: id, reason, frames: s.framesSent, bytes: s.bytesSent },
        `receiver ${id} disconnected: ${reason} (after ${((Date.now() - connectedAt) / 1000).toFixed(1)} s, ${s.framesSent} frames)`,
      );
      if (socket.readyState === socket.OPEN) socket.close(1000, reason.slice(0, 100));
    });
    peer.start().catch((e: unknown) => {
      if (peer.isClosed) return; // closed while the offer was being made: nothing failed
      refusals.count('offer-failed');
      tell('offer-failed', (e as Error).message);
      peer.close('offer failed');
    });
  });
  // Before the upgrade: a page from another origin gets 403 (a WebSocket is not bound by CORS); the
  // /signal handler above never sees it.
  app.addHook('preValidation', async (req, reply) => {
    if (req.url.split('?', 1)[0] !== '/signal' || originAllowed(req, allowOrigins)) return;
    refusals.count('origin');
    app.log.warn({ ip: req.ip, origin: req.headers.origin }, `refused /signal from origin ${req.headers.origin}`);
    return reply.code(403).send({ error: 'origin', message: `origin ${req.headers.origin} may not open /signal (see --allow-origin)` });
  });

  const modelFiles = new Set(o.modelFiles.map((f) => `/${f.replace(/^\/+/, '')}`));
  await app.register(fastifyStatic, {
    root: o.modelsDir,
    prefix: '/models/',
    decorateReply: false,
    allowedPath: (p) => modelFiles.has(p.startsWith('/') ? p : `/${p}`),
  });
  if (o.ortDir && existsSync(o.ortDir))
    await app.register(fastifyStatic, {
      root: o.ortDir,
      prefix: '/ort/',
      decorateReply: false,
      allowedPath: (p) => /\.(wasm|mjs)$/.test(p),
    });
  if (o.appDir && existsSync(o.appDir)) {
    // Source maps stay on the build machine. The build writes a gzip beside each file the page
    // loads; a browser that accepts gzip gets it.
    await app.register(fastifyStatic, {
      root: o.appDir,
      prefix: '/',
      decorateReply: false,
      preCompressed: true,
      allowedPath: (p) => !p.endsWith('.map'),
    });
  } else {
    app.get('/', async (_req, reply) =>
      reply
        .type('text/html')
        .send(
          '<!doctype html><title>mmsc</title><p>The browser receiver is not built (run <code>npm run build</code>). The sender is running: see <code>/stats</code> (with the token).</p>',
        ),
    );
  }
  return app;
}
