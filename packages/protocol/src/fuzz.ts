// Stand-alone protocol fuzzer. Prints one JSON report; exits 1 on the first input that decodes to
// anything but a valid message or a ProtocolError.
// Usage: node packages/protocol/dist/fuzz.js [--n 1000000] [--seed 1]
import { parseArgs } from 'node:util';
import { runFuzz } from './testing/fuzz.js';

const { values } = parseArgs({
  options: { n: { type: 'string', default: '100000' }, seed: { type: 'string', default: String(Date.now() % 1e9) } },
});
const n = Number(values.n);
const seed = Number(values.seed);
if (!Number.isInteger(n) || n < 100 || !Number.isInteger(seed)) {
  console.error('usage: fuzz [--n <inputs, >= 100>] [--seed <integer>]');
  process.exit(2);
}
const t0 = performance.now();
try {
  const report = runFuzz(
    {
      roundTrips: Math.round(n * 0.05),
      mutations: Math.round(n * 0.6),
      randomBytes: Math.round(n * 0.15),
      structured: Math.round(n * 0.2),
    },
    seed,
  );
  console.log(JSON.stringify({ seed, seconds: +((performance.now() - t0) / 1000).toFixed(1), ...report }));
} catch (e) {
  console.error(`fuzz failure (seed ${seed}): ${(e as Error).message}`);
  process.exit(1);
}
