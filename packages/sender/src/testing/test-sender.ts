import type { PatchCodecs } from '@mmsc/codec';
import type { EngineName } from '@mmsc/protocol';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { DEMO_IMAGE } from '../assets.js';
import { FRAME_SIZE } from '../geometry.js';
import { loadCodecs } from '../models.js';
import { loadRelevance } from '../relevance/load-relevance.js';
import type { RelevanceChoice } from '../relevance/relevance-choice.js';
import type { DetectorRelevance } from '../relevance/relevance-model.js';
import type { AppOptions } from '../server/app.js';
import type { Limits } from '../server/limits.js';
import type { Streamer } from '../server/streamer.js';
import { type FrameSource, openSource } from '../sources/sources.js';
import { startSender, type TransportChoice } from '../start-sender.js';

/** What the sender logged, one parsed pino record per line. */
export interface LogRecord {
  level: number;
  msg: string;
  [k: string]: unknown;
}

interface Models {
  encoders: PatchCodecs;
  relevance: DetectorRelevance;
}
let models: Promise<Models> | null = null;

/** The committed models, loaded once per test file. */
export function testModels(): Promise<Models> {
  models ??= (async () => {
    const [encoders, relevance] = await Promise.all([loadCodecs('encoder'), loadRelevance()]);
    return { encoders, relevance };
  })();
  return models;
}

export interface TestSender {
  app: FastifyInstance;
  streamer: Streamer;
  url: string;
  token: string | null;
  logs: LogRecord[];
  /** The logger the sender writes to (into `logs`). */
  logger: pino.Logger;
  close(): Promise<void>;
}

/**
 * The real sender (`startSender`: models, links, streamer, fastify app) in this process, listening
 * on 127.0.0.1, engine `patches` (or `engine`, on `transport`), 10 fps, query 'dog'.
 */
export async function startTestSender(
  o: {
    source?: FrameSource;
    token?: string | null;
    limits?: Partial<Limits>;
    listen?: boolean;
    /** Where the models run: this thread (default, shared by the file's senders) or a worker of its own. */
    pipeline?: 'inline' | 'worker';
    engine?: EngineName;
    /** Where a codec engine's pictures travel (`serve --transport`). */
    transport?: TransportChoice;
    /** Another relevance (`serve --relevance`): the models are then loaded for this sender, in a worker unless `pipeline` is inline. */
    relevance?: RelevanceChoice;
  } & Partial<Pick<AppOptions, 'allowOrigins' | 'https' | 'appDir' | 'iceServers'>> = {},
): Promise<TestSender> {
  const m = await testModels();
  const source = o.source ?? (await openSource(DEMO_IMAGE, FRAME_SIZE, 10));
  const logs: LogRecord[] = [];
  const logger = pino(
    { level: 'debug', base: null },
    {
      write(line: string) {
        logs.push(JSON.parse(line) as LogRecord);
      },
    },
  );
  const token = o.token === undefined ? 'test-token-0123456789' : o.token;
  const sender = await startSender({
    source,
    frameSize: FRAME_SIZE,
    models: o.relevance
      ? (o.pipeline ?? 'worker')
      : o.pipeline === 'worker'
        ? 'worker'
        : { relevance: m.relevance, encoders: m.encoders, lexicon: m.relevance.lexicon },
    ...(o.relevance ? { relevance: o.relevance } : {}),
    query: 'dog',
    fps: 10,
    engine: o.engine ?? 'patches',
    ...(o.transport ? { transport: o.transport } : {}),
    token,
    appDir: o.appDir ?? null,
    allowOrigins: o.allowOrigins ?? [],
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.https ? { https: o.https } : {}),
    ...(o.iceServers ? { iceServers: o.iceServers } : {}),
    listen: o.listen === false ? false : { port: 0, host: '127.0.0.1' },
    logger,
  });
  return { app: sender.app, streamer: sender.streamer, url: sender.url, token, logs, logger, close: () => sender.close() };
}
