import { EventEmitter } from 'node:events';
import { DEFAULT_CONTEXT, decodeMessage, defaultLevels, encodeMessage, type HelloMessage, type Message } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { loadLexicon } from '../relevance/load-relevance.js';
import { reportGrounding } from '../relevance/relevance-model.js';
import type { Peer } from './peer.js';
import { ReceiverSession } from './session.js';
import { parseSignal, SignalError } from './signalling.js';

const hello: HelloMessage = {
  type: 'hello',
  sessionId: 's',
  width: 480,
  height: 320,
  patchSize: 8,
  levels: defaultLevels(),
  maxMessageBytes: 65536,
  fps: 10,
};

/** A stand-in for the werift peer: records what the session sends. */
class FakePeer extends EventEmitter {
  sent: Message[] = [];
  open = true;
  send(bytes: Uint8Array) {
    this.sent.push(decodeMessage(bytes, DEFAULT_CONTEXT));
  }
  srtt() {
    return 0.02;
  }
}

function session(id = 'a') {
  const peer = new FakePeer();
  const s = new ReceiverSession(id, peer as unknown as Peer, { ...hello, sessionId: id }, 'dog', 10);
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

  it('malformed input gets an error message back, and other sessions are untouched', () => {
    const a = session('a');
    const b = session('b');
    a.peer.emit('message', Uint8Array.from([0x93, 0x09, 0x10, 0xc1]));
    a.peer.emit('message', new Uint8Array(0));
    a.peer.emit('message', encodeMessage(hello)); // a receiver may not send hello
    const errors = a.peer.sent.filter((m) => m.type === 'error');
    expect(errors.map((e) => (e as { code: string }).code)).toEqual(['bad-version', 'truncated', 'unexpected-message']);
    expect(a.s.stats.protocolErrors).toBe(3);
    expect(b.peer.sent.map((m) => m.type)).toEqual(['hello', 'grounding']);
    expect(b.s.stats.protocolErrors).toBe(0);
    // The session still works after bad input.
    a.peer.emit('message', encodeMessage({ type: 'query', queryId: 'q2', text: 'bike' }));
    expect(a.s.query.text).toBe('bike');
  });

  it('a query the lexicon refuses is answered with an error and the previous query stays', async () => {
    const lexicon = await loadLexicon();
    const { s, peer } = session();
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

describe('signalling messages', () => {
  it('accepts answers and candidates', () => {
    expect(parseSignal(JSON.stringify({ type: 'answer', sdp: 'v=0\r\n' }))).toEqual({ type: 'answer', sdp: 'v=0\r\n' });
    expect(
      parseSignal(
        JSON.stringify({ type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0' } }),
      ),
    ).toMatchObject({
      type: 'candidate',
      candidate: { sdpMid: '0', sdpMLineIndex: null },
    });
    expect(parseSignal(JSON.stringify({ type: 'candidate', candidate: null }))).toEqual({ type: 'candidate', candidate: null });
  });

  it.each([
    ['not JSON', '{', 'bad-json'],
    ['not an object', '42', 'bad-signal'],
    ['an unknown type', '{"type":"hack"}', 'bad-signal'],
    ['an answer without SDP', '{"type":"answer","sdp":3}', 'bad-signal'],
    ['a huge message', JSON.stringify({ type: 'answer', sdp: `v=0${'x'.repeat(70_000)}` }), 'too-large'],
  ])('rejects %s', (_, text, code) => {
    expect(() => parseSignal(text)).toThrow(SignalError);
    try {
      parseSignal(text);
    } catch (e) {
      expect((e as SignalError).code).toBe(code);
    }
  });
});
