// Framing overhead of whole 320×480 frames at the paper's channel rates. Prints one JSON object:
// per rate and mix, wire bytes / payload bytes and the number of messages (all ≤ 64 KiB).
// Usage: node packages/protocol/dist/bench-overhead.js [--frames N]
import { parseArgs } from 'node:util';
import { splitFrame } from './split-frame.js';
import { levelMix } from './testing/level-mix.js';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '50' } } });
const frames = Number(values.frames);
const rates = [0.02, 0.05, 0.1, 0.25, 0.5, 1];
const mixes = { clustered: 0, rdLike: 1 } as const;

const result: Record<string, unknown[]> = {};
for (const [name, jitter] of Object.entries(mixes)) {
  result[name] = rates.map((rate) => {
    let payload = 0;
    let wire = 0;
    let messages = 0;
    let largest = 0;
    let worst = 0;
    for (let f = 0; f < frames; f++) {
      const { levels, payloadBytes } = levelMix(rate, 1000 + f, jitter);
      const parts = splitFrame({ frameId: f, captureTs: Date.now(), budget: payloadBytes, levels, payload: new Uint8Array(payloadBytes) });
      const w = parts.reduce((s, p) => s + p.length, 0);
      payload += payloadBytes;
      wire += w;
      messages += parts.length;
      largest = Math.max(largest, ...parts.map((p) => p.length));
      worst = Math.max(worst, w / Math.max(1, payloadBytes));
    }
    return {
      rate,
      meanPayloadBytes: Math.round(payload / frames),
      overhead: +(wire / payload).toFixed(4),
      worstFrame: +worst.toFixed(4),
      messagesPerFrame: +(messages / frames).toFixed(2),
      largestMessage: largest,
    };
  });
}
console.log(JSON.stringify({ frames, maxMessageBytes: 65536, ...result }));
