import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { Peer } from './peer.js';
import { ReceiverSession } from './session.js';
import type { Streamer } from './streamer.js';

export interface AppOptions {
  streamer: Streamer;
  initialQuery: string;
  /** Built browser app (packages/receiver), served at /. */
  appDir: string | null;
  /** onnxruntime-web wasm files, served at /ort/. */
  ortDir: string | null;
  /** Models folder, served at /models/ (decoders for the browser). */
  modelsDir: string;
  maxReceivers: number;
}

/**
 * HTTP side of the sender: the receiver app, WebSocket signalling (one werift peer per receiver),
 * /health and /stats. State lives in the streamer; each connection only adds or removes a session.
 */
export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  const started = Date.now();
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  app.addHook('onSend', async (_req, reply) => {
    // Lets the browser app use threaded wasm if it wants; harmless otherwise.
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Embedder-Policy', 'require-corp');
  });

  app.get('/health', async () => ({
    ok: true,
    receivers: o.streamer.sessions.size,
    uptimeS: Math.round((Date.now() - started) / 1000),
    source: o.streamer.source.description,
  }));
  app.get('/stats', async () => ({
    fps: o.streamer.opts.fps,
    allocator: o.streamer.opts.allocator,
    ticks: o.streamer.ticks,
    overruns: o.streamer.overruns,
    receivers: [...o.streamer.sessions.values()].map((s) => s.snapshot()),
  }));

  app.get('/signal', { websocket: true }, (socket) => {
    if (o.streamer.sessions.size >= o.maxReceivers) {
      socket.send(JSON.stringify({ type: 'error', code: 'busy', message: `this sender serves at most ${o.maxReceivers} receivers` }));
      socket.close(1013, 'busy');
      return;
    }
    const id = randomUUID().slice(0, 8);
    const peer = new Peer((m) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m));
    });
    const session = new ReceiverSession(
      id,
      peer,
      { ...o.streamer.hello, sessionId: id },
      o.initialQuery,
      o.streamer.opts.fps,
      o.streamer.opts.maxBps,
    );
    o.streamer.add(session);
    socket.on('message', (data: Buffer) => {
      void peer.onSignal(data.toString('utf8'));
    });
    socket.on('close', () => {
      // Receivers keep the signalling socket open for the whole session: its closing ends the
      // session at once (werift alone notices a vanished peer only after tens of seconds).
      peer.close('signalling closed');
    });
    peer.on('closed', () => {
      if (socket.readyState === socket.OPEN) socket.close(1000, 'peer closed');
    });
    void peer.start().catch((e: unknown) => {
      socket.send(JSON.stringify({ type: 'error', code: 'offer-failed', message: (e as Error).message }));
      peer.close('offer failed');
    });
  });

  await app.register(fastifyStatic, {
    root: o.modelsDir,
    prefix: '/models/',
    decorateReply: false,
    allowedPath: (p) => /^\/?[\w.-]+\.(onnx|json)$/.test(p),
  });
  if (o.ortDir && existsSync(o.ortDir)) await app.register(fastifyStatic, { root: o.ortDir, prefix: '/ort/', decorateReply: false });
  if (o.appDir && existsSync(o.appDir)) {
    await app.register(fastifyStatic, { root: o.appDir, prefix: '/', decorateReply: false });
  } else {
    app.get('/', async (_req, reply) =>
      reply
        .type('text/html')
        .send(
          '<!doctype html><title>mmsc</title><p>The browser receiver is not built (run <code>npm run build</code>). The sender is running: see <a href="/stats">/stats</a>.</p>',
        ),
    );
  }
  return app;
}
