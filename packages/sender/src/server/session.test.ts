import { defaultLevels, encodeMessage, type HelloMessage } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { loadLexicon } from '../relevance/load-relevance.js';
import { reportGrounding } from '../relevance/relevance-model.js';
import { FakePeer } from '../testing/fake-peer.js';
import { ReceiverSession } from './session.js';

const hello: HelloMessage = {
  type: 'hello',
  sessionId: 's',
  width: 480,
  height: 320,
  patchSize: 8,
  levels: defaultLevels(),
  maxMessageBytes: 65536,
  fps: 10,
  engine: 'patches',
};

function session(id = 'a', onRefusal?: (code: string) => void) {
  const peer = new FakePeer();
  const s = new ReceiverSession(id, peer, { ...hello, sessionId: id }, 'dog', 10, undefined, onRefusal ? { onRefusal } : {});
  s.onQuery = (sess) => ({ type: 'grounding', queryId: sess.query.id, text: sess.query.text, fallback: false, words: [], ungrounded: [] });
  peer.emit('open');
  return { s, peer };
}

describe('receiver session', () => {
  it('greets with hello and the grounding of the initial query', () => {
    const { peer } = session();
    expect(peer.sent.map((m) => m.type)).toEqual(['hello', 'grounding']);
  });

  it('a query takes effect and is answered with its grounding', () => {
    const { s, peer } = session();
    peer.emit('message', encodeMessage({ type: 'query', queryId: 'q7', text: 'car' }));
    expect(s.query).toEqual({ id: 'q7', text: 'car' });
    expect(peer.sent.at(-1)).toMatchObject({ type: 'grounding', queryId: 'q7', text: 'car' });
  });

  it('malformed input gets an error message back, counted sender-wide too, and other sessions are untouched', () => {
    const senderWide: string[] = [];
    const a = session('a', (code) => senderWide.push(code));
    const b = session('b');
    a.peer.emit('message', Uint8Array.from([0x93, 0x09, 0x10, 0xc1]));
    a.peer.emit('message', new Uint8Array(0));
    a.peer.emit('message', encodeMessage(hello)); // a receiver may not send hello
    const errors = a.peer.sent.filter((m) => m.type === 'error');
    expect(errors.map((e) => (e as { code: string }).code)).toEqual(['bad-version', 'truncated', 'unexpected-message']);
    expect(a.s.stats.protocolErrors).toBe(3);
    expect(senderWide).toEqual(['bad-version', 'truncated', 'unexpected-message']);
    expect(b.peer.sent.map((m) => m.type)).toEqual(['hello', 'grounding']);
    expect(b.s.stats.protocolErrors).toBe(0);
    // The session still works after bad input.
    a.peer.emit('message', encodeMessage({ type: 'query', queryId: 'q2', text: 'bike' }));
    expect(a.s.query.text).toBe('bike');
  });

  it('a refresh reaches the h264 engine; a patches session refuses it', () => {
    const { s, peer } = session();
    const asked: string[] = [];
    peer.emit('message', encodeMessage({ type: 'refresh', reason: 'decode-error' }));
    expect(peer.sent.at(-1)).toMatchObject({ type: 'error', code: 'unexpected-message' });
    s.onRefresh = (reason) => asked.push(reason);
    const before = peer.sent.length;
    peer.emit('message', encodeMessage({ type: 'refresh', reason: 'no-reference' }));
    expect(asked).toEqual(['no-reference']);
    expect(peer.sent.length).toBe(before);
  });

  it('a query the lexicon refuses is answered with an error and the previous query stays', async () => {
    const { s, peer } = await lexiconSession();
    peer.emit('message', encodeMessage({ type: 'query', queryId: 'long', text: 'cat '.repeat(100) }));
    expect(peer.sent.at(-1)).toMatchObject({ type: 'error', code: 'bad-query', ref: 'long' });
    expect(s.query.text).toBe('dog');
    peer.emit('message', encodeMessage({ type: 'query', queryId: 'ok', text: 'puppy' }));
    expect(peer.sent.at(-1)).toMatchObject({ type: 'grounding', queryId: 'ok', words: [{ word: 'puppy' }] });
  });

  it('feedback drives the rate controller', () => {
    const { s, peer } = session();
    s.rate.onSent(0, 20_000, performance.now() / 1000);
    expect(s.rate.backlog).toBe(20_000);
    peer.emit('message', encodeMessage({ type: 'feedback', frameId: 0, bytesReceived: 20_000, partsReceived: 1, receiveTs: Date.now() }));
    expect(s.rate.backlog).toBe(0);
  });
});

/** A session whose grounding comes from the real lexicon, as `mmsc serve` makes it. */
async function lexiconSession(id = 'l') {
  const lexicon = await loadLexicon();
  const { s, peer } = session(id);
  s.onQuery = (sess) => {
    const g = reportGrounding(sess.query.text, lexicon);
    return {
      type: 'grounding',
      queryId: sess.query.id,
      text: sess.query.text,
      fallback: g.fallback,
      words: g.grounding,
      ungrounded: g.ungrounded,
    };
  };
  return { s, peer };
}

describe('receiver session under hostile input', () => {
  it.each([
    ['a 65-byte word', 'a'.repeat(65)],
    ['a 23-character Chinese phrase', '猫'.repeat(23)],
    ['a 64-byte word of emoji and a normal word', `${'🐶'.repeat(17)} dog`],
  ])('%s is grounded with the echoed word cut to 64 UTF-8 bytes', async (_, text) => {
    const { s, peer } = await lexiconSession();
    expect(() => peer.emit('message', encodeMessage({ type: 'query', queryId: 'q', text }))).not.toThrow();
    const g = peer.sent.at(-1);
    expect(g).toMatchObject({ type: 'grounding', queryId: 'q', text });
    for (const w of [...(g as { ungrounded: string[] }).ungrounded, ...(g as { words: { word: string }[] }).words.map((x) => x.word)])
      expect(Buffer.byteLength(w)).toBeLessThanOrEqual(64);
    expect(s.query.text).toBe(text);
    expect(peer.closedWith).toBeNull();
  });

  it('an unexpected failure closes that session with an internal error, and no other', async () => {
    const a = session('a');
    const b = session('b');
    a.peer.onSend = () => {
      throw new Error('channel broke');
    };
    expect(() => a.peer.emit('message', encodeMessage({ type: 'query', queryId: 'q', text: 'cat' }))).not.toThrow();
    expect(a.peer.closedWith).toMatch(/internal error/);
    expect(a.s.snapshot().refusals).toMatchObject({ internal: 1 });
    expect(b.peer.closedWith).toBeNull();
    b.peer.emit('message', encodeMessage({ type: 'query', queryId: 'q', text: 'cat' }));
    expect(b.peer.sent.at(-1)).toMatchObject({ type: 'grounding', text: 'cat' });
  });

  it('queries beyond the per-second budget are refused as rate-limited and the previous query stays', () => {
    const { s, peer } = session();
    for (let i = 0; i < 30; i++) peer.emit('message', encodeMessage({ type: 'query', queryId: `q${i}`, text: i < 10 ? 'cat' : 'car' }));
    expect(s.query.text).toBe('cat');
    expect(s.snapshot().refusals['rate-limited']).toBe(20);
    // Told once (not 20 times): a flood is not answered by a flood.
    expect(peer.sent.filter((m) => m.type === 'error' && m.code === 'rate-limited')).toHaveLength(1);
  });

  it('impossible feedback is refused, counted and does not move the estimate', () => {
    const { s, peer } = session();
    const now = performance.now() / 1000;
    s.rate.onSent(0, 20_000, now);
    s.rate.onSent(1, 20_000, now);
    peer.emit('message', encodeMessage({ type: 'feedback', frameId: 0, bytesReceived: 20_000, partsReceived: 1, receiveTs: Date.now() }));
    const before = s.rate.state().rateBps;
    peer.emit(
      'message',
      encodeMessage({ type: 'feedback', frameId: 1, bytesReceived: 9_000_000, partsReceived: 1, receiveTs: Date.now() }),
    );
    peer.emit(
      'message',
      encodeMessage({ type: 'feedback', frameId: 1, bytesReceived: 20_000, partsReceived: 1, receiveTs: Number.MAX_SAFE_INTEGER }),
    );
    expect(s.snapshot().refusals['feedback-rejected']).toBe(2);
    expect(s.rate.state().rateBps).toBe(before);
    expect(peer.sent.some((m) => m.type === 'error' && m.code === 'feedback-rejected')).toBe(true);
  });
});
