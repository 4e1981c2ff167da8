import { DEFAULT_GEOMETRY, DEFAULT_MAX_MESSAGE_BYTES, defaultLevels, KEEP_LEVEL, type Message } from './types.js';

/**
 * One valid message of every type, valid under the default context. Used by PROTOCOL.md, the tests
 * and the fuzzers (as seeds for mutation). Deterministic.
 */
export function exampleMessages(): Message[] {
  // Patches 100..115: a run of skips, then one patch at each level and a "keep".
  const levels = Uint8Array.from([0, 0, 0, 0, 1, 2, 3, 4, KEEP_LEVEL, 1, 1, 1, 0, 0, 2, 2]);
  const bytesPer = [0, 12, 24, 48, 192, 0, 0, 0];
  const payloadLength = levels.reduce((sum, l) => sum + (bytesPer[l] as number), 0);
  const payload = Uint8Array.from({ length: payloadLength }, (_, i) => (i * 37 + 11) & 0xff);
  return [
    {
      type: 'hello',
      sessionId: 'demo-session-1',
      ...DEFAULT_GEOMETRY,
      levels: defaultLevels({
        12: { id: 'codec-L12', sha256: 'a'.repeat(64) },
        24: { id: 'codec-L24', sha256: 'b'.repeat(64) },
        48: { id: 'codec-L48', sha256: 'c'.repeat(64) },
      }),
      maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
      fps: 10,
      engine: 'patches',
    },
    {
      type: 'frame',
      frameId: 42,
      captureTs: 1_764_230_400_123.5,
      budget: 46_080,
      part: 1,
      parts: 3,
      firstPatch: 100,
      levels,
      payload,
    },
    {
      type: 'video',
      frameId: 43,
      captureTs: 1_764_230_400_223.5,
      budget: 12_500,
      part: 0,
      parts: 1,
      key: false,
      data: Uint8Array.from([0, 0, 0, 1, 0x41, 0x9a, 0x20, 0x11]),
    },
    { type: 'picture', frameId: 44, captureTs: 1_764_230_400_323.5, budget: 12_500, key: false, rtpTs: 4_294_000_000, bytes: 11_873 },
    { type: 'base', frameId: 42, data: Uint8Array.from([2, 1, 1, 0x5a, 0x3c, 0x99]) },
    {
      type: 'relevance',
      frameId: 42,
      width: 4,
      height: 2,
      values: Uint8Array.from([0, 16, 128, 255, 0, 0, 64, 200]),
    },
    {
      type: 'grounding',
      queryId: 'q1',
      text: 'puppy and sky',
      fallback: false,
      words: [{ word: 'puppy', classes: [{ name: 'dog', weight: 0.92 }] }],
      ungrounded: ['sky'],
    },
    { type: 'query', queryId: 'q1', text: 'puppy and sky' },
    { type: 'feedback', frameId: 42, bytesReceived: 45_871, partsReceived: 3, receiveTs: 1_764_230_400_180.25 },
    { type: 'refresh', reason: 'decode-error' },
    { type: 'view', maps: true, maxBps: 1_000_000 },
    { type: 'error', code: 'unknown-words', message: 'no query word matched a known class', ref: 'q1' },
  ];
}
