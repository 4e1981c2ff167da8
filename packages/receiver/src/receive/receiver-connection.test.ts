import type { IceCandidate, IceServer, SignalMessage } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import {
  type ChannelLike,
  type ConnectionEnd,
  type ConnectionEvents,
  type PeerLike,
  ReceiverConnection,
  type SignalSocket,
} from './receiver-connection.js';

const OFFER = [
  'v=0',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:secret',
  'a=fingerprint:sha-256 AA',
].join('\r\n');
const ANSWER = 'v=0\r\na=answer-from-the-peer';
const cand = (n: number): IceCandidate => ({
  candidate: `candidate:${n} 1 udp 1 127.0.0.1 ${5000 + n} typ host`,
  sdpMid: '0',
  sdpMLineIndex: 0,
});

/** Lets queued promise callbacks (the signalling chain, the fake peer's steps) run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

class FakeSocket implements SignalSocket {
  readyState = 0;
  sent: SignalMessage[] = [];
  closed = false;
  onopen: SignalSocket['onopen'] = null;
  onmessage: SignalSocket['onmessage'] = null;
  onclose: SignalSocket['onclose'] = null;
  onerror: SignalSocket['onerror'] = null;
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.closed = true;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  deliver(m: unknown) {
    this.onmessage?.({ data: typeof m === 'string' ? m : JSON.stringify(m) });
  }
  drop(code: number, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

class FakeChannel implements ChannelLike {
  binaryType = 'blob';
  closed = false;
  onopen: ChannelLike['onopen'] = null;
  onmessage: ChannelLike['onmessage'] = null;
  onclosing: ChannelLike['onclosing'] = null;
  onclose: ChannelLike['onclose'] = null;
  constructor(
    readonly label = 'mmsc',
    public readyState = 'connecting',
  ) {}
  close() {
    this.closed = true;
  }
  open() {
    this.readyState = 'open';
    this.onopen?.({});
  }
  deliver(data: unknown) {
    this.onmessage?.({ data });
  }
  remoteClose() {
    this.readyState = 'closed';
    this.onclose?.({});
  }
}

/** Records what the connection asks of it, in order; fails a step on request. */
class FakePeer implements PeerLike<FakeChannel> {
  steps: string[] = [];
  connectionState = 'new';
  localDescription: { sdp: string } | null = null;
  closed = false;
  /** setRemoteDescription rejects with this. */
  failRemote: Error | null = null;
  /** Gathered as the local description is set, before the connection can send the answer. */
  gatherEarly: IceCandidate[] = [];
  onicecandidate: PeerLike<FakeChannel>['onicecandidate'] = null;
  onconnectionstatechange: PeerLike<FakeChannel>['onconnectionstatechange'] = null;
  ondatachannel: PeerLike<FakeChannel>['ondatachannel'] = null;
  async setRemoteDescription(offer: { type: 'offer'; sdp: string }) {
    if (this.failRemote) throw this.failRemote;
    this.steps.push(`remote ${offer.type}`);
  }
  async addIceCandidate(c: IceCandidate) {
    this.steps.push(`add ${c.candidate.split(' ')[0]}`);
  }
  async createAnswer() {
    this.steps.push('create answer');
    return { sdp: ANSWER };
  }
  async setLocalDescription(answer: { type: 'answer'; sdp: string }) {
    this.steps.push('local answer');
    this.localDescription = { sdp: answer.sdp };
    for (const c of this.gatherEarly) this.gather(c);
  }
  close() {
    this.closed = true;
  }
  gather(c: IceCandidate | null) {
    this.onicecandidate?.({ candidate: c });
  }
  state(s: string) {
    this.connectionState = s;
    this.onconnectionstatechange?.({});
  }
  channel(ch: FakeChannel) {
    this.ondatachannel?.({ channel: ch });
  }
}

function setup(opts: { beforeAnswer?: () => Promise<boolean>; peer?: (p: FakePeer) => void } = {}) {
  const socket = new FakeSocket();
  const peers: FakePeer[] = [];
  const iceServers: (readonly IceServer[])[] = [];
  const log: string[] = [];
  const ends: ConnectionEnd[] = [];
  const received: { bytes: number[]; ts: number }[] = [];
  const events: ConnectionEvents<FakeChannel> = {
    accepted: () => log.push('accepted'),
    signal: (m) => log.push(`signal ${m.type}`),
    answered: () => log.push('answered'),
    peerState: (s) => log.push(`peer ${s}`),
    open: (ch) => log.push(`open ${ch.label}`),
    message: (bytes, ts) => received.push({ bytes: [...bytes], ts }),
    extraChannel: (ch) => log.push(`extra ${ch.label}`),
    malformed: (e) => log.push(`malformed ${e.code}`),
    senderError: (code, message) => log.push(`error ${code}: ${message}`),
    negotiationFailed: (step, e) => log.push(`failed ${step}: ${e.message}`),
    ended: (e) => ends.push(e),
  };
  const conn = new ReceiverConnection<FakeChannel>(
    {
      socket,
      createPeer: (servers) => {
        iceServers.push(servers);
        const p = new FakePeer();
        opts.peer?.(p);
        peers.push(p);
        return p;
      },
      beforeAnswer: opts.beforeAnswer,
      now: () => 42,
    },
    events,
  );
  return { socket, peers, iceServers, log, ends, received, conn, peer: () => peers[0] as FakePeer };
}

describe('ReceiverConnection', () => {
  it('answers the offer: remote description, answer, local description, then the answer goes out', async () => {
    const t = setup();
    t.socket.open();
    expect(t.peers).toHaveLength(0); // no peer before the sender offers
    t.socket.deliver({ type: 'offer', sdp: OFFER });
    await settle();
    expect(t.peers).toHaveLength(1);
    expect(t.peer().steps).toEqual(['remote offer', 'create answer', 'local answer']);
    expect(t.socket.sent).toEqual([{ type: 'answer', sdp: ANSWER }]);
    expect(t.log).toEqual(['accepted', 'signal offer', 'answered']);
  });

  it('makes its peer with the ICE servers the offer names, and with none when it names none', async () => {
    const servers = [{ urls: 'stun:10.0.0.1:3478' }, { urls: 'turn:10.0.0.1:3478', username: 'u', credential: 'c' }];
    const t = setup();
    t.socket.open();
    t.socket.deliver({ type: 'offer', sdp: OFFER, iceServers: servers });
    await settle();
    expect(t.iceServers).toEqual([servers]);
    const bare = setup();
    bare.socket.open();
    bare.socket.deliver({ type: 'offer', sdp: OFFER });
    await settle();
    expect(bare.iceServers).toEqual([[]]);
  });

  it('drops an offer whose ICE servers are malformed, before any peer is made', async () => {
    const t = setup();
    t.socket.open();
    t.socket.deliver({ type: 'offer', sdp: OFFER, iceServers: [{ urls: 'turn:10.0.0.1' }] });
    await settle();
    expect(t.peers).toHaveLength(0);
    expect(t.log).toEqual(['accepted', 'malformed bad-signal']);
  });

  it('holds the sender’s candidates until the offer is set, and adds later ones at once', async () => {
    const t = setup();
    t.socket.open();
    t.socket.deliver({ type: 'candidate', candidate: cand(1) });
    t.socket.deliver({ type: 'candidate', candidate: cand(2) });
    t.socket.deliver({ type: 'offer', sdp: OFFER });
    t.socket.deliver({ type: 'candidate', candidate: cand(3) });
    t.socket.deliver({ type: 'candidate', candidate: null }); // end of candidates: nothing to add
    await settle();
    expect(t.peer().steps).toEqual([
      'remote offer',
      'add candidate:1',
      'add candidate:2',
      'create answer',
      'local answer',
      'add candidate:3',
    ]);
  });

  it('sends its own candidates after the answer, never before it', async () => {
    const t = setup({ peer: (p) => (p.gatherEarly = [cand(7)]) });
    t.socket.open();
    t.socket.deliver({ type: 'offer', sdp: OFFER });
    await settle();
    t.peer().gather(cand(8));
    t.peer().gather(null); // end of gathering: nothing to send
    const short = (m: SignalMessage) => (m.type === 'candidate' ? m.candidate?.candidate.split(' ')[0] : m.type);
    expect(t.socket.sent.map(short)).toEqual(['answer', 'candidate:7', 'candidate:8']);
    expect(t.socket.sent[1]).toEqual({ type: 'candidate', candidate: cand(7) });
  });

  it('waits for the receiver to be ready before it answers (the probe loads its decoders meanwhile)', async () => {
    let ready: (go: boolean) => void = () => {};
    const t = setup({ beforeAnswer: () => new Promise((r) => (ready = r)) });
    t.socket.open();
    t.socket.deliver({ type: 'offer', sdp: OFFER });
    t.socket.deliver({ type: 'candidate', candidate: cand(1) });
    await settle();
    expect([t.peers.length, t.socket.sent.length]).toEqual([0, 0]);
    ready(true);
    await settle();
    expect(t.peer().steps).toEqual(['remote offer', 'create answer', 'local answer', 'add candidate:1']);
    expect(t.socket.sent.map((m) => m.type)).toEqual(['answer']);
  });

  it('leaves the offer unanswered when the receiver says no', async () => {
    const t = setup({ beforeAnswer: async () => false });
    t.socket.open();
    t.socket.deliver({ type: 'offer', sdp: OFFER });
    await settle();
    expect(t.socket.sent).toEqual([]);
    expect(t.peers).toHaveLength(0);
  });

  it('reports a refusal with its code and, when signalling closes, ends with it; no peer was made', async () => {
    const t = setup();
    t.socket.open();
    t.socket.deliver({ type: 'error', code: 'busy', message: 'this sender serves at most 1 receivers' });
    t.socket.drop(1013, 'busy');
    await settle();
    expect(t.log).toEqual(['accepted', 'signal error', 'error busy: this sender serves at most 1 receivers']);
    expect(t.ends).toEqual([
      {
        kind: 'signalling-closed',
        code: 1013,
        reason: 'busy',
        accepted: true,
        signalled: true,
        channelOpen: false,
        error: { code: 'busy', message: 'this sender serves at most 1 receivers' },
      },
    ]);
    expect(t.peers).toHaveLength(0);
  });

  it('tells a refused upgrade (closed before opening) from a sender that went away', () => {
    const t = setup();
    t.socket.drop(1006);
    expect(t.ends).toMatchObject([{ kind: 'signalling-closed', code: 1006, accepted: false, signalled: false }]);
  });

  it('drops malformed messages before the peer sees them, and goes on', async () => {
    const t = setup();
    t.socket.open();
    t.socket.deliver('not json');
    t.socket.deliver({ type: 'candidate', candidate: 'candidate:1' });
    t.socket.deliver({ type: 'nonsense' });
    t.socket.deliver({ type: 'offer', sdp: OFFER });
    await settle();
    expect(t.log.filter((l) => l.startsWith('malformed'))).toEqual(['malformed bad-json', 'malformed bad-signal', 'malformed bad-signal']);
    expect(t.socket.sent.map((m) => m.type)).toEqual(['answer']);
    expect(t.ends).toEqual([]);
  });

  it('ends at once on an offer that cannot make a data channel', async () => {
    const t = setup();
    t.socket.open();
    t.socket.deliver({ type: 'offer', sdp: 'v=0\r\n' });
    await settle();
    expect(t.ends).toMatchObject([{ kind: 'bad-offer', error: { code: 'bad-sdp' } }]);
    expect(t.socket.closed).toBe(true);
    expect(t.peers).toHaveLength(0);
  });

  it('reports a failed negotiation step and leaves the decision to the caller', async () => {
    const t = setup({ peer: (p) => (p.failRemote = new Error('bad fingerprint')) });
    t.socket.open();
    t.socket.deliver({ type: 'offer', sdp: OFFER });
    await settle();
    expect(t.log.at(-1)).toBe('failed offer: bad fingerprint');
    expect(t.socket.sent).toEqual([]);
    expect(t.ends).toEqual([]);
  });

  it('opens the sender’s channel, hands its binary messages on as bytes, and ends when it closes', async () => {
    const t = setup();
    t.socket.open();
    t.socket.deliver({ type: 'offer', sdp: OFFER });
    await settle();
    const ch = new FakeChannel();
    t.peer().channel(ch);
    expect(ch.binaryType).toBe('arraybuffer');
    expect(t.conn.isOpen).toBe(false);
    ch.open();
    expect(t.conn.isOpen).toBe(true);
    ch.deliver(Uint8Array.of(9, 1, 2).buffer); // the browser: ArrayBuffer
    ch.deliver(Uint8Array.of(0, 7, 8, 0).subarray(1, 3)); // werift: a Buffer, a view into a bigger one
    ch.deliver('text is not the protocol');
    expect(t.received).toEqual([
      { bytes: [9, 1, 2], ts: 42 },
      { bytes: [7, 8], ts: 42 },
    ]);
    ch.remoteClose();
    ch.remoteClose();
    expect(t.ends).toEqual([{ kind: 'channel-closed' }]);
    expect([t.socket.closed, t.peer().closed]).toEqual([true, true]);
    expect(t.log).toEqual(['accepted', 'signal offer', 'answered', 'open mmsc']);
  });

  it('opens a channel that is already open when it appears (werift)', async () => {
    const t = setup();
    t.socket.open();
    t.socket.deliver({ type: 'offer', sdp: OFFER });
    await settle();
    t.peer().channel(new FakeChannel('mmsc', 'open'));
    expect(t.log.at(-1)).toBe('open mmsc');
  });

  it('listens on a second channel but keeps the first as the one to reply on', async () => {
    const t = setup();
    t.socket.open();
    t.socket.deliver({ type: 'offer', sdp: OFFER });
    await settle();
    const first = new FakeChannel('mmsc', 'open');
    const second = new FakeChannel('other', 'open');
    t.peer().channel(first);
    t.peer().channel(second);
    second.deliver(Uint8Array.of(5).buffer);
    expect(t.conn.channel).toBe(first);
    expect(t.log.slice(-2)).toEqual(['open mmsc', 'extra other']);
    expect(t.received).toEqual([{ bytes: [5], ts: 42 }]);
  });

  it('ends when the peer connection fails, and reports the states before', async () => {
    const t = setup();
    t.socket.open();
    t.socket.deliver({ type: 'offer', sdp: OFFER });
    await settle();
    t.peer().state('connecting');
    t.peer().state('disconnected');
    expect(t.ends).toEqual([]);
    t.peer().state('failed');
    expect(t.log.slice(-3)).toEqual(['peer connecting', 'peer disconnected', 'peer failed']);
    expect(t.ends).toEqual([{ kind: 'peer', state: 'failed' }]);
  });

  it('says nothing more once the caller closed it', async () => {
    const t = setup();
    t.socket.open();
    t.socket.deliver({ type: 'offer', sdp: OFFER });
    await settle();
    const ch = new FakeChannel('mmsc', 'open');
    t.peer().channel(ch);
    await t.conn.close();
    expect([t.socket.closed, ch.closed, t.peer().closed]).toEqual([true, true, true]);
    ch.deliver(Uint8Array.of(1).buffer);
    ch.remoteClose();
    t.socket.drop(1000);
    t.socket.deliver({ type: 'error', code: 'x', message: 'late' });
    expect(t.received).toEqual([]);
    expect(t.ends).toEqual([]);
    expect(t.log).not.toContain('error x: late');
  });
});
