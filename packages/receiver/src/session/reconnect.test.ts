import { describe, expect, it } from 'vitest';
import { refusalReason, SessionMachine } from './reconnect.js';

function machine() {
  const link = { open: false };
  const sent: string[] = [];
  const statuses: string[] = [];
  const m = new SessionMachine({
    now: () => 5000,
    send: (queryId) => {
      if (link.open) sent.push(queryId);
      return link.open;
    },
    status: (state) => statuses.push(state),
  });
  /** The transport opened and the sender said hello. */
  const connect = (sessionId: string) => {
    m.linkChanged('open', 'data channel "mmsc" open');
    link.open = true;
    return m.began(sessionId);
  };
  const lose = (reason: string) => {
    link.open = false;
    m.linkChanged('waiting', reason);
  };
  return { m, sent, statuses, connect, lose, link };
}

describe('SessionMachine', () => {
  it('walks the stage through connecting, session start, decoder load and the first frame', () => {
    const { m, connect } = machine();
    m.linkChanged('connecting', 'signalling ws://x/signal');
    expect(m.stage()).toEqual({ text: 'Connecting… signalling ws://x/signal', error: false, stale: false });
    m.linkChanged('open', 'data channel open');
    expect(m.stage().text).toMatch(/waiting for the session to start/);
    const epoch = connect('s1');
    expect(m.stage().text).toMatch(/Loading the patch decoders/);
    expect(m.decoderLoaded(epoch)).toBe(true);
    expect(m.stage().text).toBe('Waiting for the first frame…');
    m.shown(1, 4000);
    expect(m.stage()).toEqual({ text: null, error: false, stale: false });
  });

  it('a session begun on a signalled hello shows its pictures while the channel opens, and sends the query once it is open', () => {
    const { m, sent, link } = machine();
    m.query.submit('dog');
    m.linkChanged('negotiating', 'answer sent, ICE checking');
    const epoch = m.began('s1', true);
    expect(sent).toEqual([]);
    m.decoderLoaded(epoch);
    m.shown(0, 4000);
    m.linkChanged('negotiating', 'ICE: checking');
    expect(m.stage()).toEqual({ text: null, error: false, stale: false });
    link.open = true;
    m.linkChanged('open', 'data channel "mmsc" open');
    expect(sent).toEqual([m.query.wanted?.queryId]);
    m.linkChanged('open', 'again');
    expect(sent).toHaveLength(1);
  });

  it('a session begun on a signalled hello whose channel never opens: the stage says the link went', () => {
    const { m, sent, link } = machine();
    m.query.submit('dog');
    m.decoderLoaded(m.began('s1', true));
    m.shown(0, 4000);
    m.linkChanged('waiting', 'no data channel within 15 s');
    expect(m.stage()).toMatchObject({ stale: true, text: expect.stringMatching(/^Connection lost: no data channel/) });
    // The next attempt's channel opens before its hello: the query waits for that hello.
    link.open = true;
    m.linkChanged('open', 'data channel "mmsc" open');
    expect(sent).toEqual([]);
  });

  it('keeps the last picture, marked stale, while the link is lost, and starts a new epoch on reconnect', () => {
    const { m, connect, lose } = machine();
    const first = connect('s1');
    m.decoderLoaded(first);
    m.shown(42, 4000);
    lose('the data channel closed');
    expect(m.stage()).toEqual({
      text: 'Connection lost: the data channel closed. Reconnecting… (showing frame #42)',
      error: false,
      stale: true,
    });
    const second = connect('s2');
    expect(second).toBe(first + 1);
    expect(m.sessionId).toBe('s2');
    expect(m.stage().stale).toBe(false);
    // The new session's decoders load afresh; word from the old session's worker changes nothing.
    expect(m.decoderReady).toBe(false);
    expect(m.decoderLoaded(first)).toBe(false);
    expect(m.decoderReady).toBe(false);
  });

  it('re-sends the operator’s query in every new session, and holds it while disconnected', () => {
    const { m, sent, statuses, connect, lose } = machine();
    connect('s1');
    expect(sent).toEqual([]); // no query of the operator's yet: the sender's default stands
    m.query.submit('bicycle');
    const id = m.query.wanted!.queryId;
    m.query.grounded(id, false);
    lose('the sender ended the session');
    m.query.submit('car');
    const car = m.query.wanted!.queryId;
    expect(sent).toEqual([id]);
    expect(statuses.at(-1)).toBe('pending');
    connect('s2');
    expect(sent).toEqual([id, car]);
    expect(m.query.wanted).toMatchObject({ queryId: car, sentAt: 5000, groundedAt: null, firstFrameId: null });
    connect('s3');
    expect(sent).toEqual([id, car, car]);
  });

  it('shows the sender’s no-frames reason until a frame comes, as an error only with no picture', () => {
    const { m, connect } = machine();
    m.decoderLoaded(connect('s1'));
    expect(m.senderError('no-frames', 'no decodable image in /x', null)).toBe(true);
    expect(m.stage()).toEqual({ text: 'The sender has no picture to send: no decodable image in /x', error: true, stale: false });
    expect(m.frameArrived()).toBe(true);
    expect(m.frameArrived()).toBe(false);
    expect(m.stage().error).toBe(false);
    m.senderError('no-frames', 'camera gone', null);
    m.shown(3, 4000);
    expect(m.stage().text).toBeNull();
    expect(m.senderError('rate', 'slow down', null)).toBe(false);
  });

  it('lets a decoder failure override every other message', () => {
    const { m, lose } = machine();
    lose('cannot reach the sender');
    m.decoderFailed('the decode worker failed: out of memory');
    expect(m.stage()).toEqual({ text: 'Cannot decode: the decode worker failed: out of memory', error: true, stale: false });
  });

  it('counts down to the next retry in whole seconds, never below zero', () => {
    const { m, lose } = machine();
    lose('cannot reach the sender');
    expect(m.connectionText(1000, 3500)).toBe('Disconnected — cannot reach the sender; retrying in 3 s');
    expect(m.connectionText(4000, 3500)).toBe('Disconnected — cannot reach the sender; retrying in 0 s');
    m.linkChanged('negotiating', 'ICE: checking');
    expect(m.connectionText(1000, 3500)).toBe('Negotiating… (ICE: checking)');
    m.linkChanged('open', 'x');
    expect(m.connectionText(1000, 3500)).toBe('Connected');
  });
});

describe('refusalReason', () => {
  it('explains a 401 by whether the page had a token, and nothing else', () => {
    expect(refusalReason(401, false)).toMatch(/needs a token: open the URL/);
    expect(refusalReason(401, true)).toMatch(/refused this token/);
    expect(refusalReason(200, true)).toBeNull();
    expect(refusalReason(403, false)).toBeNull();
  });
});
