import { fileURLToPath } from 'node:url';
import type { GroundingMessage, Message, RelevanceMessage } from '@mmsc/protocol';
import type { FrameSource } from '@mmsc/sender';
import { startTestSender, type TestSender } from '@mmsc/sender/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestReceiver } from './testing/test-receiver.js';

// `serve --relevance onnx:<file>` end to end with the generated fixture (plumbing only: it weights
// R, G and B by the query's first three bytes, models/fixtures/make-text-image.mjs). The sender's
// model worker must get each receiver's query text and score the frames with it.
const FIXTURE = fileURLToPath(new URL('../../../models/fixtures/text-image-fixture.onnx', import.meta.url));
const W = 480;
const H = 320;

/** A still 480×320 source: the left half red, the right half blue. */
const halves: FrameSource = {
  still: true,
  description: 'red | blue',
  next: async () => ({
    width: W,
    height: H,
    data: Uint8Array.from({ length: W * H * 3 }, (_, i) => {
      const left = (i / 3) % W < W / 2;
      return (left && i % 3 === 0) || (!left && i % 3 === 2) ? 255 : 0;
    }),
  }),
  health: () => ({ ok: true }),
  close() {},
};

/** Mean of the map's left and right halves. */
function halvesOf(m: RelevanceMessage): [number, number] {
  let l = 0;
  let r = 0;
  m.values.forEach((v, i) => {
    if (i % m.width < m.width / 2) l += v;
    else r += v;
  });
  return [l, r];
}

/** The first relevance map that came after the grounding of `queryId`. */
function mapAfter(ms: Message[], queryId: string): RelevanceMessage | undefined {
  const g = ms.findIndex((m) => m.type === 'grounding' && m.queryId === queryId);
  return g < 0 ? undefined : (ms.slice(g + 1).find((m) => m.type === 'relevance') as RelevanceMessage | undefined);
}

describe('serve --relevance onnx:<file> (fixture model, model worker)', () => {
  let s: TestSender;
  let r: TestReceiver;
  beforeAll(async () => {
    s = await startTestSender({ source: halves, relevance: { kind: 'onnx', file: FIXTURE }, engine: 'h264' });
    r = await TestReceiver.connect(s.url, s.token);
  }, 60_000);
  afterAll(async () => {
    await r?.close();
    await s?.close();
  });

  it('scores each receiver query with the model: the map follows the query text', async () => {
    await r.waitFor(() => r.hello !== null);
    r.send({ type: 'query', queryId: 'red', text: 'zab' });
    await r.waitFor((ms) => mapAfter(ms, 'red') !== undefined);
    const g = r.messages.find((m) => m.type === 'grounding' && m.queryId === 'red') as GroundingMessage;
    // Nothing is grounded by the lexicon, and it is not the query-agnostic fallback.
    expect(g).toMatchObject({ text: 'zab', fallback: false, words: [], ungrounded: [] });
    const [redL, redR] = halvesOf(mapAfter(r.messages, 'red') as RelevanceMessage);
    expect(redL).toBeGreaterThan(redR * 2);

    r.send({ type: 'query', queryId: 'blue', text: 'baz' });
    await r.waitFor((ms) => mapAfter(ms, 'blue') !== undefined);
    const [blueL, blueR] = halvesOf(mapAfter(r.messages, 'blue') as RelevanceMessage);
    expect(blueR).toBeGreaterThan(blueL * 2);
    // The frames go on under the new query.
    const before = r.completeFrames;
    await r.waitFor(() => r.completeFrames >= before + 2);
  }, 30_000);

  it('an empty query is the query-agnostic map: every patch the same', async () => {
    r.send({ type: 'query', queryId: 'none', text: '' });
    await r.waitFor((ms) => mapAfter(ms, 'none') !== undefined);
    const m = mapAfter(r.messages, 'none') as RelevanceMessage;
    expect(new Set(m.values).size).toBe(1);
  }, 30_000);
});
