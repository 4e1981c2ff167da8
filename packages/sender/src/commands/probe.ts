import {
  contextFromHello,
  decodeMessage,
  encodeMessage,
  type FrameMessage,
  type GroundingMessage,
  type HelloMessage,
  type Message,
} from '@mmsc/protocol';
import { type CollectedFrame, FrameCollector, feedbackFor, Reassembler } from '@mmsc/receiver';
import { Command } from 'commander';
import { type RTCDataChannel, RTCPeerConnection } from 'werift';
import WebSocket from 'ws';
import { CliError } from '../errors.js';
import { median } from '../metrics.js';
import { DEFAULT_MODELS_DIR, loadCodecs } from '../models.js';

interface ProbeResult {
  frames: number;
  /** Complete frames per second between the first and the last one (steady state). */
  fps: number;
  meanFrameBytes: number;
  budgetViolations: number;
  latencyMsP50: number;
  latencyMsP95: number;
  estimatedRateBps: number | null;
  goodputBps: number;
  incompleteFrames: number;
  decodeMsP50: number;
  grounding: Omit<GroundingMessage, 'type'> | null;
  errors: string[];
}

/**
 * A headless receiver in Node: connects like the browser (WebSocket signalling, werift data
 * channel), sends the query, decodes and reassembles every frame with the receiver's code, sends
 * feedback, and reports what it saw.
 */
export async function probe(
  url: string,
  query: string,
  seconds: number,
  modelsDir: string,
  log: (s: string) => void = () => {},
): Promise<ProbeResult> {
  const decoders = await loadCodecs('decoder', modelsDir);
  const wsUrl = `${url.replace(/^http/, 'ws').replace(/\/$/, '')}/signal`;
  const ws = new WebSocket(wsUrl);
  const errors: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', (e) => reject(new CliError(`cannot reach ${wsUrl}: ${e.message}`, 1)));
  });
  const pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], maxMessageSize: 262144 } as never);
  const pending: unknown[] = [];
  let remoteSet = false;
  pc.onIceCandidate.subscribe((c) => {
    if (c)
      ws.send(
        JSON.stringify({
          type: 'candidate',
          candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null },
        }),
      );
  });
  ws.on('message', async (data: Buffer) => {
    const m = JSON.parse(data.toString('utf8')) as { type: string; sdp?: string; candidate?: unknown; message?: string };
    if (m.type === 'offer' && m.sdp) {
      await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      remoteSet = true;
      for (const c of pending.splice(0)) await pc.addIceCandidate(c as never);
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      ws.send(JSON.stringify({ type: 'answer', sdp: pc.localDescription?.sdp ?? answer.sdp }));
    } else if (m.type === 'candidate' && m.candidate) {
      if (remoteSet) await pc.addIceCandidate(m.candidate as never);
      else pending.push(m.candidate);
    } else if (m.type === 'error') errors.push(`signalling: ${m.message}`);
  });
  const dc = await new Promise<RTCDataChannel>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CliError('no data channel within 15 s (ICE failed?)', 1)), 15_000);
    pc.onDataChannel.subscribe((ch) => {
      clearTimeout(timer);
      resolve(ch);
    });
  });

  let hello: HelloMessage | null = null;
  let collector: FrameCollector | null = null;
  let picture: Reassembler | null = null;
  let grounding: ProbeResult['grounding'] = null;
  const frames: CollectedFrame[] = [];
  const latencies: number[] = [];
  const decodeMs: number[] = [];
  let violations = 0;
  let work = Promise.resolve();
  const handle = async (f: CollectedFrame) => {
    frames.push(f);
    latencies.push(f.lastReceiveTs - f.captureTs);
    if (f.bytesReceived > f.budget) violations++;
    const stats = await (picture as Reassembler).apply(f);
    decodeMs.push(stats.decodeMs);
  };
  let t0 = 0;
  // Goodput: every byte the data channel delivered (frames, relevance maps, reports) from the first
  // frame's arrival to the last message's, so connection setup does not count as link time.
  let firstFrameAt = 0;
  let lastAt = 0;
  let bytesSinceFirst = 0;
  dc.onMessage.subscribe((data) => {
    if (typeof data === 'string') return;
    const now = Date.now();
    if (firstFrameAt) {
      bytesSinceFirst += data.byteLength;
      lastAt = now;
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let msg: Message;
    try {
      msg = decodeMessage(bytes, hello ? contextFromHello(hello) : undefined);
    } catch (e) {
      errors.push(`protocol: ${(e as Error).message}`);
      return;
    }
    if (msg.type === 'hello') {
      hello = msg;
      const ctx = contextFromHello(msg);
      collector = new FrameCollector(ctx);
      picture = new Reassembler(ctx, decoders);
      dc.send(Buffer.from(encodeMessage({ type: 'query', queryId: 'probe-1', text: query })));
      t0 = now;
      log(`connected: session ${msg.sessionId}, ${msg.width}×${msg.height}, ${msg.levels.length} levels`);
    } else if (msg.type === 'grounding') {
      const { type: _t, ...g } = msg;
      if (msg.queryId === 'probe-1') grounding = g;
    } else if (msg.type === 'frame' && collector && msg.frameId !== undefined) {
      if (!firstFrameAt) {
        firstFrameAt = now;
        lastAt = now;
      }
      // Frames made before our query took effect still count: they are what the link carried.
      for (const f of collector.push(msg as FrameMessage, bytes.length, now)) {
        // Feedback goes out at once (rate control measures the link, not our decoder).
        dc.send(Buffer.from(encodeMessage(feedbackFor(f))));
        work = work.then(() => handle(f));
      }
    } else if (msg.type === 'error') errors.push(`sender: ${msg.code}: ${msg.message}`);
  });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await work;
  const elapsed = (Date.now() - t0) / 1000;
  let estimatedRateBps: number | null = null;
  try {
    const stats = (await (await fetch(`${url.replace(/\/$/, '')}/stats`)).json()) as {
      receivers: { id: string; rate: { rateBps: number } }[];
    };
    const sid = (hello as HelloMessage | null)?.sessionId;
    estimatedRateBps = stats.receivers.find((r) => r.id === sid)?.rate.rateBps ?? null;
  } catch (e) {
    errors.push(`stats: ${(e as Error).message}`);
  }
  ws.close();
  await pc.close();
  await decoders.release();
  const sorted = [...latencies].sort((a, b) => a - b);
  const bytes = frames.reduce((s, f) => s + f.bytesReceived, 0);
  // Frame rate in steady state: arrivals per second between the first and the last frame, so the
  // connection set-up and the first frame's start-up do not count as stream time.
  const span =
    frames.length > 1 ? ((frames.at(-1) as CollectedFrame).lastReceiveTs - (frames[0] as CollectedFrame).lastReceiveTs) / 1000 : 0;
  return {
    frames: frames.length,
    fps: span > 0 ? Number(((frames.length - 1) / span).toFixed(2)) : Number((frames.length / Math.max(1e-3, elapsed)).toFixed(2)),
    meanFrameBytes: Math.round(bytes / Math.max(1, frames.length)),
    budgetViolations: violations,
    latencyMsP50: Math.round(median(latencies)),
    latencyMsP95: Math.round(sorted[Math.floor(sorted.length * 0.95)] ?? Number.NaN),
    estimatedRateBps: estimatedRateBps === null ? null : Math.round(estimatedRateBps),
    goodputBps: Math.round((bytesSinceFirst * 8) / Math.max(1e-3, (lastAt - firstFrameAt) / 1000)),
    incompleteFrames: frames.filter((f) => !f.complete).length,
    decodeMsP50: Number(median(decodeMs).toFixed(1)),
    grounding,
    errors,
  };
}

export function probeCommand(): Command {
  return new Command('probe')
    .description('connect to a sender like the browser does, decode every frame headlessly, and report fps, bytes, latency and rate')
    .option('--url <url>', 'sender URL', 'http://127.0.0.1:8080')
    .option('--query <text>', 'query to send', 'dog and bicycle')
    .option('--seconds <n>', 'how long to receive', '10')
    .option('--models <dir>', 'models folder holding manifest.json', DEFAULT_MODELS_DIR)
    .option('--json', 'print one JSON object')
    .action(async (opts: { url: string; query: string; seconds: string; models: string; json?: boolean }) => {
      const seconds = Number(opts.seconds);
      if (!(seconds > 0)) throw new CliError('--seconds must be positive', 2);
      const r = await probe(opts.url, opts.query, seconds, opts.models, opts.json ? () => {} : (s) => console.error(s));
      if (opts.json) console.log(JSON.stringify(r));
      else {
        console.log(
          `${r.frames} frames in ${opts.seconds} s (${r.fps} fps), ${r.meanFrameBytes} B/frame, goodput ${(r.goodputBps / 1e6).toFixed(2)} Mbit/s`,
        );
        console.log(
          `latency p50 ${r.latencyMsP50} ms, p95 ${r.latencyMsP95} ms; budget violations ${r.budgetViolations}; sender estimate ${r.estimatedRateBps ?? '?'} bit/s`,
        );
        if (r.grounding)
          console.log(
            `grounding: ${r.grounding.words.map((w) => `${w.word} → ${w.classes.map((c) => c.name).join('/')}`).join('; ')}${r.grounding.ungrounded.length ? `; not grounded: ${r.grounding.ungrounded.join(', ')}` : ''}`,
          );
        for (const e of r.errors) console.log(`error: ${e}`);
      }
      process.exit(0);
    });
}
