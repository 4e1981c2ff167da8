import { checkSdp, fromBase64, type IceCandidate, type IceServer, parseSignal, SignalError, type SignalMessage } from '@mmsc/protocol';
import type { RtpPacketIn } from '../rtp/rtp-assembler.js';
import type { EncodedPictureIn } from '../rtp/rtp-video.js';

/**
 * An event-handler slot. Written as a method's type so that its parameter is compared both ways:
 * the browser's objects and werift's hand richer events than these, and each must fit as it is.
 */
type Slot<E> = { bivarianceHack(event: E): void }['bivarianceHack'] | null | undefined;

/** What signalling needs of a WebSocket: the browser's and the `ws` package's both have it. */
export interface SignalSocket {
  readonly readyState: number;
  send(text: string): void;
  close(code?: number, reason?: string): void;
  onopen: Slot<unknown>;
  onmessage: Slot<{ data: unknown }>;
  onclose: Slot<{ code: number; reason: string }>;
  onerror: Slot<unknown>;
}

/** What the receiver needs of an RTCDataChannel (the browser's or werift's); sending is the caller's, on its own type. */
export interface ChannelLike {
  readonly label: string;
  readonly readyState: string;
  binaryType?: string;
  onopen?: Slot<unknown>;
  onmessage?: Slot<{ data: unknown }>;
  onclosing?: Slot<unknown>;
  onclose?: Slot<unknown>;
  close(): void;
}

/** What the receiver needs of an RTCPeerConnection (the browser's or werift's), answering the sender's offer. */
export interface PeerLike<C extends ChannelLike> {
  readonly connectionState: string;
  readonly localDescription: { sdp: string } | null;
  onicecandidate: Slot<{ candidate?: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null }>;
  onconnectionstatechange: Slot<unknown>;
  ondatachannel: Slot<{ channel: C }>;
  setRemoteDescription(offer: { type: 'offer'; sdp: string }): Promise<void>;
  addIceCandidate(candidate: IceCandidate): Promise<void>;
  createAnswer(): Promise<{ sdp?: string }>;
  setLocalDescription(answer: { type: 'answer'; sdp: string }): Promise<unknown>;
  close(): unknown;
}

/** What the platform can do on the sender's video track. */
export interface TrackControl {
  /** Sends a picture loss indication (RTCP PLI); absent where the platform asks by itself (the browser). */
  requestKeyframe?(): void;
}

/**
 * Where a platform delivers the sender's video track (a session whose hello says `transport: 'rtp'`),
 * for one attempt: packets where the platform gives them (Node, through werift), or whole pictures
 * where its own jitter buffer assembles them (the page: Chromium's, through encoded streams).
 */
export interface MediaSink {
  /** The sender's video track appeared. */
  track(control: TrackControl): void;
  /** One RTP packet of it; its arrival is stamped on the way in. */
  packet(p: RtpPacketIn): void;
  /** A whole coded picture, with the arrival of its last packet. */
  picture(p: EncodedPictureIn): void;
  /** The round trip the platform measured on the track (its NACKs' answers), ms. */
  rtt(ms: number): void;
}

/** Why an attempt ended by itself (a caller's own `close()` reports nothing). */
export type ConnectionEnd =
  | {
      kind: 'signalling-closed';
      code: number;
      reason: string;
      /** The socket had opened: the sender accepted the upgrade. */
      accepted: boolean;
      /** The sender had sent at least one text message (so this is not a refused upgrade). */
      signalled: boolean;
      /** The data channel was open: the sender ended a running session. */
      channelOpen: boolean;
      /** The last error message the sender sent before closing, if any (e.g. busy). */
      error: { code: string; message: string } | null;
    }
  /** The offer cannot make a data channel (checkSdp): no use waiting for ICE. */
  | { kind: 'bad-offer'; error: SignalError }
  | { kind: 'peer'; state: 'failed' | 'closed' }
  | { kind: 'channel-closed' };

export interface ConnectionEvents<C extends ChannelLike> {
  /** The signalling socket opened: the sender accepted the upgrade and will offer. */
  accepted?(): void;
  /** Every well-formed signalling message from the sender, before it is acted on. */
  signal?(message: SignalMessage): void;
  /** The answer (and the local candidates held for it) went out. */
  answered?(): void;
  /** The peer connection's state changed ('failed' and 'closed' also end the attempt). */
  peerState?(state: string): void;
  /**
   * The session's hello (its protocol bytes), signalled ahead of the data channel so that the video
   * track's pictures can be decoded before the channel is open; the channel then carries the same
   * bytes first. At most once an attempt, and only before the channel is open.
   */
  hello?(bytes: Uint8Array, receiveTs: number): void;
  /** The sender's data channel is open: the session's messages follow, its hello first. */
  open(channel: C): void;
  /** A binary message on a data channel (the sender's; text is not part of the protocol and is dropped). */
  message(bytes: Uint8Array, receiveTs: number): void;
  /** The sender's video track appeared (MediaSink.track). */
  track?(control: TrackControl): void;
  /** A packet of the video track, with its arrival. */
  rtp?(packet: RtpPacketIn, receiveTs: number): void;
  /** A whole picture of the video track (the platform's jitter buffer assembled it). */
  trackPicture?(picture: EncodedPictureIn): void;
  /** The track's round trip, as the platform measured it. */
  trackRtt?(ms: number): void;
  /** The sender opened another channel: it is listened to, never answered on (replies stay on the first). */
  extraChannel?(channel: C): void;
  /** A signalling message from the sender was malformed and dropped before the peer saw it. */
  malformed?(error: SignalError, text: string): void;
  /** The sender sent an error (a refusal such as busy, or a complaint); whether it ends the attempt is the caller's call. */
  senderError?(code: string, message: string): void;
  /** Applying the sender's offer or a candidate failed; whether that ends the attempt is the caller's call. */
  negotiationFailed?(step: 'offer' | 'candidate', error: Error): void;
  /** The attempt ended by itself; reported once, after everything was closed. */
  ended(end: ConnectionEnd): void;
}

export interface ConnectionOptions<C extends ChannelLike> {
  /** A new socket to the sender's /signal, not yet open (handlers are attached before it can deliver). */
  socket: SignalSocket;
  /**
   * Makes the peer when the offer arrives, so a refused or busy attempt never makes one; with the
   * offer's ICE servers, and where to deliver a video track the offer carries.
   */
  createPeer: (iceServers: readonly IceServer[], media: MediaSink) => PeerLike<C>;
  /**
   * Waited for before the offer is answered, so nothing can arrive before the receiver is ready
   * (the probe loads its decoders meanwhile). It resolves whether to answer: false leaves the
   * offer unanswered (the caller is ending the attempt).
   */
  beforeAnswer?: () => Promise<boolean>;
  now?: () => number;
}

const SOCKET_OPEN = 1;

/** Binary data-channel data as bytes: an ArrayBuffer (the browser) or a view of one (werift's Buffer). */
function bytesOf(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

/**
 * One attempt at a session with the sender, as the receiver sees it: WebSocket signalling (the
 * sender offers and owns the data channel), the peer answering, ICE candidates trickled both ways,
 * and the channel's messages handed on. Every sender message is checked with the protocol's
 * signalling schema before the peer sees it. Signalling is handled in arrival order, so a
 * candidate never overtakes the offer it belongs to; candidates that come before the offer wait
 * for it, and our own wait for the answer (the sender cannot use them before it). It neither
 * retries nor times out: the page reconnects with backoff, the probe gives up; both own their
 * clocks. Node and the browser inject their own socket and peer.
 */
export class ReceiverConnection<C extends ChannelLike> {
  /** The sender's data channel, once it appeared. */
  channel: C | null = null;
  private readonly socket: SignalSocket;
  private peer: PeerLike<C> | null = null;
  private readonly extra: C[] = [];
  private live = true;
  private accepted = false;
  private signalled = false;
  private remoteSet = false;
  private answered = false;
  private helloSignalled = false;
  private readonly remoteCandidates: IceCandidate[] = [];
  private readonly localCandidates: IceCandidate[] = [];
  private lastError: { code: string; message: string } | null = null;
  private signalling: Promise<void> = Promise.resolve();
  private closing: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(
    private readonly options: ConnectionOptions<C>,
    private readonly on: ConnectionEvents<C>,
  ) {
    this.now = options.now ?? Date.now;
    const ws = options.socket;
    this.socket = ws;
    ws.onopen = () => {
      if (!this.live) return;
      this.accepted = true;
      on.accepted?.();
    };
    // An unreachable sender or a refused upgrade fires error, then always close: close says why.
    ws.onerror = () => {};
    ws.onmessage = (e) => {
      if (this.live && typeof e.data === 'string') this.onText(e.data);
    };
    ws.onclose = (e) => {
      if (!this.live) return;
      this.end({
        kind: 'signalling-closed',
        code: e.code,
        reason: e.reason,
        accepted: this.accepted,
        signalled: this.signalled,
        channelOpen: this.isOpen,
        error: this.lastError,
      });
    };
  }

  get isOpen(): boolean {
    return this.channel?.readyState === 'open';
  }

  /** Closes everything, reporting nothing; resolves once the peer has closed (werift's close is async). */
  close(): Promise<void> {
    this.live = false;
    if (this.closing) return this.closing;
    const { channel, socket, peer } = this;
    for (const ch of [channel, ...this.extra]) {
      if (!ch) continue;
      ch.onmessage = null;
      ch.onclose = null;
      ch.onclosing = null;
    }
    channel?.close();
    socket.onmessage = null;
    socket.onclose = null;
    socket.close();
    if (peer) {
      peer.onconnectionstatechange = null;
      peer.onicecandidate = null;
      peer.ondatachannel = null;
    }
    this.closing = Promise.resolve(peer?.close()).then(
      () => undefined,
      () => undefined,
    );
    return this.closing;
  }

  private end(end: ConnectionEnd): void {
    if (!this.live) return;
    void this.close();
    this.on.ended(end);
  }

  private sendSignal(m: SignalMessage): void {
    if (this.socket.readyState === SOCKET_OPEN) this.socket.send(JSON.stringify(m));
  }

  private onText(text: string): void {
    this.signalled = true;
    // Checked like the sender checks ours: a malformed message is reported and dropped; an offer
    // that cannot make a data channel ends the attempt at once.
    let m: SignalMessage;
    try {
      m = parseSignal(text);
      if (m.type === 'offer') checkSdp(m.sdp, 'offer');
    } catch (e) {
      const err = e instanceof SignalError ? e : new SignalError('bad-signal', String(e));
      if (err.code === 'bad-sdp') this.end({ kind: 'bad-offer', error: err });
      else this.on.malformed?.(err, text);
      return;
    }
    this.on.signal?.(m);
    if (!this.live) return;
    if (m.type === 'error') {
      // Not queued: a refusal is news now, not after a pending negotiation step.
      this.lastError = { code: m.code, message: m.message };
      this.on.senderError?.(m.code, m.message);
      return;
    }
    if (m.type === 'answer') return; // we answer; the sender never does
    if (m.type === 'hello') {
      if (this.helloSignalled || this.isOpen)
        this.on.malformed?.(
          new SignalError('bad-signal', 'a hello on signalling comes once, before the data channel opens: dropped'),
          text,
        );
      else {
        this.helloSignalled = true;
        this.on.hello?.(fromBase64(m.wire), this.now());
      }
      return;
    }
    const step = m.type;
    this.signalling = this.signalling
      .then(() => this.negotiate(m))
      .catch((e: unknown) => {
        if (this.live) this.on.negotiationFailed?.(step, e instanceof Error ? e : new Error(String(e)));
      });
  }

  private async negotiate(m: SignalMessage): Promise<void> {
    if (!this.live) return;
    if (m.type === 'offer') {
      if ((this.options.beforeAnswer && !(await this.options.beforeAnswer())) || !this.live) return;
      const pc = this.peer ?? this.makePeer(m.iceServers ?? []);
      await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      this.remoteSet = true;
      for (const c of this.remoteCandidates.splice(0)) await pc.addIceCandidate(c);
      const answer = await pc.createAnswer();
      await pc.setLocalDescription({ type: 'answer', sdp: answer.sdp ?? '' });
      if (!this.live) return;
      this.sendSignal({ type: 'answer', sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' });
      this.answered = true;
      for (const c of this.localCandidates.splice(0)) this.sendSignal({ type: 'candidate', candidate: c });
      this.on.answered?.();
    } else if (m.type === 'candidate' && m.candidate) {
      // A null candidate (end of candidates) needs nothing from us.
      if (this.remoteSet && this.peer) await this.peer.addIceCandidate(m.candidate);
      else this.remoteCandidates.push(m.candidate);
    }
  }

  private makePeer(iceServers: readonly IceServer[]): PeerLike<C> {
    const media: MediaSink = {
      track: (control) => {
        if (this.live) this.on.track?.(control);
      },
      packet: (p) => {
        if (this.live) this.on.rtp?.(p, this.now());
      },
      picture: (p) => {
        if (this.live) this.on.trackPicture?.(p);
      },
      rtt: (ms) => {
        if (this.live) this.on.trackRtt?.(ms);
      },
    };
    const pc = this.options.createPeer(iceServers, media);
    this.peer = pc;
    pc.onicecandidate = (e) => {
      const c = e.candidate;
      if (!c || !this.live) return;
      const candidate = { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null };
      if (this.answered) this.sendSignal({ type: 'candidate', candidate });
      else this.localCandidates.push(candidate);
    };
    pc.onconnectionstatechange = () => {
      if (!this.live) return;
      const s = pc.connectionState;
      this.on.peerState?.(s);
      if (s === 'failed' || s === 'closed') this.end({ kind: 'peer', state: s });
    };
    pc.ondatachannel = (e) => {
      if (this.live) this.onChannel(e.channel);
    };
    return pc;
  }

  private onChannel(ch: C): void {
    if ('binaryType' in ch) ch.binaryType = 'arraybuffer';
    // Handlers go on as the channel appears, so its first message (the hello) cannot slip by.
    ch.onmessage = (e) => {
      if (!this.live) return;
      const bytes = bytesOf(e.data);
      if (bytes) this.on.message(bytes, this.now());
    };
    if (this.channel) {
      this.extra.push(ch);
      this.on.extraChannel?.(ch);
      return;
    }
    this.channel = ch;
    let opened = false;
    const open = () => {
      if (opened || !this.live) return;
      opened = true;
      this.on.open(ch);
    };
    ch.onopen = open;
    ch.onclosing = () => this.end({ kind: 'channel-closed' });
    ch.onclose = () => this.end({ kind: 'channel-closed' });
    // werift opens a channel the remote created as soon as it appears; a browser's opens later.
    if (ch.readyState === 'open') open();
  }
}
