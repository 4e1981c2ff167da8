import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_MESSAGE_BYTES, defaultLevels, type HelloMessage, PROTOCOL_VERSION } from '@mmsc/protocol';
import { type CodecEntry, codecEntries } from '@mmsc/receiver';
import { Command } from 'commander';
import type { DistortionCurve } from '../allocate/distortion.js';
import { CliError } from '../errors.js';
import { DEFAULT_MODELS_DIR, loadCodecs, readManifest } from '../models.js';
import type { AllocatorName } from '../pipeline/encode-frame.js';
import { loadRelevance } from '../relevance/load-relevance.js';
import { reportGrounding } from '../relevance/relevance-model.js';
import { buildApp } from '../server/app.js';
import { Streamer } from '../server/streamer.js';
import { openSource } from '../sources/sources.js';

export const DEMO_IMAGE = fileURLToPath(new URL('../../../../assets/images/dog.jpg', import.meta.url));
const APP_DIR = fileURLToPath(new URL('../../../receiver/dist-app/', import.meta.url));
const ORT_DIR = fileURLToPath(new URL('../../../../node_modules/onnxruntime-web/dist/', import.meta.url));

/** The level table announced in hello: the paper's five levels, decoders named and hashed from the manifest. */
export function helloFor(codecs: CodecEntry[], fps: number, maxMessageBytes: number): HelloMessage {
  const by = (bytes: number) => {
    const c = codecs.find((e) => e.bytes === bytes);
    if (!c) throw new CliError(`models/manifest.json has no ${bytes}-byte codec`, 1);
    return { id: c.id, sha256: c.decoder.sha256 };
  };
  return {
    type: 'hello',
    sessionId: 'pending',
    width: 480,
    height: 320,
    patchSize: 8,
    levels: defaultLevels({ 12: by(12), 24: by(24), 48: by(48) }),
    maxMessageBytes,
    fps,
  };
}

/** Distortion curves recorded with the codecs (manifest field `distortion`, as codec-bench prints them), for the rd allocator. */
export function curvesOf(codecs: CodecEntry[]): DistortionCurve[] {
  return codecs.flatMap((c) => {
    const points = (c as CodecEntry & { distortion?: { points?: [number, number][] } }).distortion?.points;
    return Array.isArray(points) && points.length > 0 ? [{ bytes: c.bytes, points }] : [];
  });
}

export function serveCommand(): Command {
  return new Command('serve')
    .description("stream a source to browser receivers over WebRTC, spending each link's bytes where its query points")
    .option('--source <spec>', 'image file, folder of images, video file, camera:/dev/videoN, or pan:<image>', `pan:${DEMO_IMAGE}`)
    .option('--query <text>', 'initial query for new receivers', 'dog and bicycle')
    .option('--port <n>', 'HTTP port', '8080')
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--fps <n>', 'frame rate', '10')
    .option('--allocator <name>', 'rd (rate–distortion, ours) or paper (relevance top-down)', 'rd')
    .option('--max-receivers <n>', 'most receivers served at once', '8')
    .option('--max-rate <mbit>', 'most bandwidth one receiver may use, Mbit/s', '20')
    .option('--models <dir>', 'models folder holding manifest.json', DEFAULT_MODELS_DIR)
    .action(
      async (opts: {
        source: string;
        query: string;
        port: string;
        host: string;
        fps: string;
        allocator: string;
        maxReceivers: string;
        maxRate: string;
        models: string;
      }) => {
        const fps = Number(opts.fps);
        const port = Number(opts.port);
        const maxReceivers = Number(opts.maxReceivers);
        if (!(fps > 0 && fps <= 60)) throw new CliError('--fps must be in (0, 60]', 2);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('--port must be 0..65535', 2);
        if (!Number.isInteger(maxReceivers) || maxReceivers < 1) throw new CliError('--max-receivers must be ≥ 1', 2);
        const maxBps = Number(opts.maxRate) * 1e6;
        if (!(maxBps >= 0.2e6)) throw new CliError('--max-rate must be at least 0.2 (Mbit/s)', 2);
        if (opts.allocator !== 'rd' && opts.allocator !== 'paper') throw new CliError('--allocator must be rd or paper', 2);
        const manifest = await readManifest(opts.models);
        const codecs = codecEntries(manifest);
        const [encoders, relevance, source] = await Promise.all([
          loadCodecs('encoder', opts.models),
          loadRelevance(opts.models),
          openSource(opts.source, { width: 480, height: 320 }, fps),
        ]);
        try {
          reportGrounding(opts.query, relevance.lexicon);
        } catch (e) {
          throw new CliError(`--query: ${(e as Error).message}`, 2);
        }
        const hello = helloFor(codecs, fps, DEFAULT_MAX_MESSAGE_BYTES);
        const streamer = new Streamer(source, relevance, encoders, curvesOf(codecs), hello, {
          fps,
          allocator: opts.allocator as AllocatorName,
          relevanceEvery: fps,
          maxBps,
        });
        const app = await buildApp({
          streamer,
          initialQuery: opts.query,
          appDir: APP_DIR,
          ortDir: ORT_DIR,
          modelsDir: opts.models,
          maxReceivers,
        });
        const address = await app.listen({ port, host: opts.host });
        streamer.start();
        const shown = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
        console.log(`mmsc serve: ${source.description}, ${fps} fps, allocator ${opts.allocator}, protocol v${PROTOCOL_VERSION}`);
        console.log(`open ${shown}/ in a browser (stats: ${shown}/stats)`);
        const stop = async () => {
          streamer.stop();
          await app.close();
          process.exit(0);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      },
    );
}
