import { describe, expect, it } from 'vitest';
import { type ChannelLike, type PeerLike, ReceiverConnection } from '../receive/receiver-connection.js';
import { adoptEarlySignal, type EarlyEvent, type EarlySignal, type ReplaySocket } from './replay-socket.js';

const URL_A = 'ws://cam:8080/signal?token=abc';
const OFFER = [
  'v=0',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:secret',
  'a=fingerprint:sha-256 AA',
].join('\r\n');

/** A WebSocket as the page's HTML left it: what it said is recorded until a session takes it. */
function early(url = URL_A) {
  const sent: string[] = [];
  const closes: (number | undefined)[] = [];
  const socket = {
    readyState: 0,
    send: (text: string) => sent.push(text),
    close: (code?: number) => {
      closes.push(code);
      socket.readyState = 3;
    },
  };
  const e: EarlySignal = { url, socket, events: [], deliver: null };
  /** The socket says something (recorded, or delivered once taken). */
  const say = (ev: EarlyEvent) => {
    if (ev.type === 'open') socket.readyState = 1;
    if (ev.type === 'close') socket.readyState = 3;
    if (e.deliver) e.deliver(ev);
    else e.events.push(ev);
  };
  return { e, socket, sent, closes, say };
}

function listen(s: ReplaySocket): string[] {
  const heard: string[] = [];
  s.onopen = () => heard.push('open');
  s.onmessage = (m) => heard.push(`message ${String(m.data)}`);
  s.onclose = (c) => heard.push(`close ${c.code}`);
  s.onerror = () => heard.push('error');
  return heard;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('ReplaySocket', () => {
  it('hands what the socket said before it was taken to the handlers set after, in order', async () => {
    const t = early();
    t.say({ type: 'open' });
    t.say({ type: 'message', data: 'offer' });
    t.say({ type: 'message', data: 'candidate' });
    const s = adoptEarlySignal(t.e, URL_A) as ReplaySocket;
    const heard = listen(s);
    expect(heard).toEqual([]); // not before the taker has set its handlers
    await tick();
    expect(heard).toEqual(['open', 'message offer', 'message candidate']);
    expect(s.readyState).toBe(1);
  });

  it('passes later events straight on, after the recorded ones', async () => {
    const t = early();
    t.say({ type: 'open' });
    const s = adoptEarlySignal(t.e, URL_A) as ReplaySocket;
    const heard = listen(s);
    // Arrives between the taking and the replay: queued behind what came before.
    t.say({ type: 'message', data: 'offer' });
    await tick();
    t.say({ type: 'message', data: 'candidate' });
    expect(heard).toEqual(['open', 'message offer', 'message candidate']);
    t.say({ type: 'close', code: 1001, reason: '' });
    expect(heard.at(-1)).toBe('close 1001');
  });

  it('replays a refusal: error and close before any open', async () => {
    const t = early();
    t.say({ type: 'error' });
    t.say({ type: 'close', code: 1006, reason: '' });
    const heard = listen(adoptEarlySignal(t.e, URL_A) as ReplaySocket);
    await tick();
    expect(heard).toEqual(['error', 'close 1006']);
  });

  it('sends and closes on the early socket', () => {
    const t = early();
    const s = adoptEarlySignal(t.e, URL_A) as ReplaySocket;
    s.send('{"type":"answer"}');
    s.close(1000);
    expect(t.sent).toEqual(['{"type":"answer"}']);
    expect(t.closes).toEqual([1000]);
    expect(s.readyState).toBe(3);
  });

  it('is taken once; a socket opened on another URL is closed, not adopted', () => {
    const t = early();
    expect(adoptEarlySignal(t.e, URL_A)).not.toBeNull();
    expect(adoptEarlySignal(t.e, URL_A)).toBeNull();
    const other = early('ws://cam:8080/signal?token=old');
    expect(adoptEarlySignal(other.e, URL_A)).toBeNull();
    expect(other.closes).toHaveLength(1);
    expect(adoptEarlySignal(other.e, 'ws://cam:8080/signal?token=old')).toBeNull(); // spent
    expect(adoptEarlySignal(undefined, URL_A)).toBeNull();
  });

  it('lets a ReceiverConnection answer an offer that came before the app loaded', async () => {
    const t = early();
    t.say({ type: 'open' });
    t.say({ type: 'message', data: JSON.stringify({ type: 'offer', sdp: OFFER }) });
    const steps: string[] = [];
    const peer: PeerLike<ChannelLike> = {
      connectionState: 'new',
      localDescription: null,
      onicecandidate: null,
      onconnectionstatechange: null,
      ondatachannel: null,
      setRemoteDescription: async () => {
        steps.push('remote');
      },
      addIceCandidate: async () => {},
      createAnswer: async () => ({ sdp: 'v=0\r\na=answer' }),
      setLocalDescription: async () => {
        steps.push('local');
      },
      close: () => {},
    };
    const log: string[] = [];
    new ReceiverConnection<ChannelLike>(
      { socket: adoptEarlySignal(t.e, URL_A) as ReplaySocket, createPeer: () => peer },
      { accepted: () => log.push('accepted'), answered: () => log.push('answered'), open: () => {}, message: () => {}, ended: () => {} },
    );
    await tick();
    await tick();
    expect(log).toEqual(['accepted', 'answered']);
    expect(steps).toEqual(['remote', 'local']);
    expect(t.sent.map((s) => JSON.parse(s).type)).toEqual(['answer']);
  });
});
