import { EventEmitter } from 'node:events';
import {
  checkAnswerSdp,
  type IceServer,
  parseSignal,
  type SessionErrorCode,
  SignalError,
  type SignalMessage,
  toBase64,
} from '@mmsc/protocol';
import type { RTCDataChannel, RTCPeerConnection } from 'werift';
import type { RtpVideoFormat } from '../engines/link-encoder.js';
import { holdEarlyDtls } from './early-dtls.js';
import { defaultLimits, type Limits } from './limits.js';
import type { RtcpLimits } from './rtcp-budget.js';
import { type TrackCounters, trackDeclined, VideoTrack, videoPeerConfig } from './video-track.js';
import { ConfiguredPeerConnection } from './werift-peer.js';

/** What werift exposes of SCTP at run time (typed private; platform notes list the fields). */
interface SctpInternals {
  srtt?: number;
  /** Its retransmission timeout, s: the handshake's (T1) and the data's (T3) until an RTT is measured. */
  rto: number;
}

/**
 * The SCTP association's first retransmission timeout, s. werift starts at RFC 9260's 3 s; on a lossy
 * link one lost INIT, COOKIE or channel OPEN then held the session's hello (and so its first picture)
 * 3 s, or 6 s for two (measured at 5 % loss: 3 of 10 page connects took 4.1–5.4 s). libwebrtc's own
 * SCTP times out its handshake after 1 s; 1 s is also werift's minimum RTO.
 */
export const SCTP_FIRST_RTO_S = 1;

type Candidate = NonNullable<Extract<SignalMessage, { type: 'candidate' }>['candidate']>;

export interface PeerEvents {
  /** The offer went out (the handshake deadline counts from here). */
  offered: [];
  /** A step of the handshake: the answer applied, an ICE or connection state reached (for the log). */
  phase: [what: string];
  /** The receiver's answer is applied (the video track is settled: kept, or declined before this). */
  answered: [];
  /**
   * Transport `rtp`: the video track can carry pictures (its DTLS transport is connected, SRTP keys
   * made) while the data channel may still be opening. Comes at most once, before or after `open`.
   */
  mediaReady: [];
  open: [];
  message: [Uint8Array];
  closed: [string];
  /** Signalling input refused: the peer has been told; `fatal` refusals close the session. */
  refused: [code: SessionErrorCode, message: string, fatal: boolean];
  /**
   * The receiver's answer declined the video track (`why`): the peer has no track from here on, and
   * the session's pictures travel on the data channel. Comes before `open`.
   */
  trackDeclined: [why: string];
  /** The receiver lost a picture on the video track (a PLI): the next one should be a keyframe. */
  pictureLoss: [];
  /** Transport-wide congestion-control feedback: arrivals (ms, receiver clock; null: lost) from `baseSeq` on. */
  transportFeedback: [baseSeq: number, arrivalsMs: (number | null)[]];
}

/**
 * What a peer does when the receiver's answer declines its video track: serve the session on the data
 * channel (`channel`, `serve --transport auto`), or refuse it with `track-declined` (`refuse`,
 * `serve --transport rtp`).
 */
export type TrackDeclined = 'channel' | 'refuse';

export type PeerLimits = Pick<Limits, 'maxSignalBytes' | 'maxPendingCandidates' | 'maxCandidates' | 'maxCandidateBytes'> & RtcpLimits;

/**
 * One receiver's WebRTC side: a werift peer that offers one reliable, ordered data channel and, for
 * a codec engine on transport `rtp`, a send-only video track in the engine's format. An answer that
 * declines the track (`trackDeclined` says how) makes the session run on the data channel, or is
 * refused, as `onTrackDeclined` says.
 * Loopback addresses are offered too (werift skips them by default). It asks only the ICE servers
 * it is given (none by default), and its offer hands them to the receiver. Everything the remote
 * side signals is checked against `limits` before werift sees it.
 */
export class Peer extends EventEmitter<PeerEvents> {
  readonly pc: RTCPeerConnection;
  readonly dc: RTCDataChannel;
  /** The video track (transport `rtp`); null when pictures travel on the data channel. */
  private track: VideoTrack | null = null;
  private remoteSet = false;
  private pendingCandidates: Candidate[] = [];
  private candidates = 0;
  private closed = false;
  private media = false;

  constructor(
    private readonly signal: (m: SignalMessage) => void,
    private readonly limits: PeerLimits = defaultLimits(),
    private readonly iceServers: readonly IceServer[] = [],
    private readonly video: RtpVideoFormat | null = null,
    private readonly onTrackDeclined: TrackDeclined = 'channel',
  ) {
    super();
    this.pc = new ConfiguredPeerConnection(iceServers, {
      iceAdditionalHostAddresses: ['127.0.0.1'],
      // One transport for the channel and the track from the start: the channel keeps it when the
      // answer rejects the video m-line (werift's default gives each m-line its own, and the
      // remote bundles everything on the first, the video's).
      bundlePolicy: 'max-bundle',
      maxMessageSize: 262144,
      ...(video ? videoPeerConfig(video) : {}),
    });
    this.dc = this.pc.createDataChannel('mmsc', { ordered: true });
    const sctp = (this.pc.sctpTransport as unknown as { sctp?: SctpInternals } | undefined)?.sctp;
    if (sctp) sctp.rto = SCTP_FIRST_RTO_S;
    if (video) {
      const track = new VideoTrack(this.pc.addTransceiver('video', { direction: 'sendonly' }), video.payloadType, limits);
      this.track = track;
      track.onPictureLoss(() => this.emit('pictureLoss'));
      track.onTransportFeedback((base, arrivals) => this.emit('transportFeedback', base, arrivals));
      // The receiver's RTCP is bounded on every DTLS transport it can arrive on: the ones made now
      // (the data channel's and the track's) and any the answer makes (checked on each state change).
      const guard = () => {
        for (const t of this.pc.dtlsTransports) track.guard(t);
      };
      guard();
      this.pc.connectionStateChange.subscribe(guard);
      // SRTP is keyed when the track's DTLS transport connects; SCTP and the channel's open come after.
      const watched = new Set<object>();
      const watch = () => {
        for (const t of this.pc.dtlsTransports) {
          if (watched.has(t)) continue;
          watched.add(t);
          t.onStateChange.subscribe((state) => {
            if (state !== 'connected' || this.media || this.closed || !this.track) return;
            this.media = true;
            this.emit('phase', 'video track ready');
            this.emit('mediaReady');
          });
        }
      };
      watch();
      this.pc.connectionStateChange.subscribe(watch);
    }
    // A browser's first DTLS flight can beat werift's server to it (early-dtls.ts).
    for (const t of this.pc.dtlsTransports) holdEarlyDtls(t);
    this.dc.onopen = () => this.emit('open');
    this.dc.onMessage.subscribe((data) => {
      if (typeof data === 'string') return; // the protocol is binary; text is ignored
      this.emit('message', new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
    this.dc.onclose = () => this.close('data channel closed');
    this.pc.onIceCandidate.subscribe((c) => {
      if (c)
        this.signal({
          type: 'candidate',
          candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null },
        });
    });
    this.pc.connectionStateChange.subscribe((s) => {
      this.emit('phase', `connection ${s}`);
      if (s === 'failed' || s === 'closed') this.close(`connection ${s}`);
    });
    this.pc.iceConnectionStateChange.subscribe((s) => this.emit('phase', `ICE ${s}`));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async start(): Promise<void> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    if (this.closed) return;
    const sdp = this.pc.localDescription?.sdp ?? offer.sdp;
    this.signal(this.iceServers.length > 0 ? { type: 'offer', sdp, iceServers: [...this.iceServers] } : { type: 'offer', sdp });
    this.emit('offered');
  }

  /** Tells the peer why its input was refused (and closes the session when `fatal`). */
  private refuse(code: SessionErrorCode, message: string, fatal = false): void {
    if (this.closed) return;
    this.signal({ type: 'error', code, message });
    this.emit('refused', code, message, fatal);
    if (fatal) this.close(`${code}: ${message}`);
  }

  /** Handles one signalling text from the receiver; bad input is reported back, never thrown. */
  async onSignal(text: string): Promise<void> {
    if (this.closed) return;
    let m: SignalMessage;
    try {
      m = parseSignal(text, this.limits.maxSignalBytes);
      if (m.type === 'answer') checkAnswerSdp(m.sdp);
    } catch (e) {
      const err = e instanceof SignalError ? e : new SignalError('bad-signal', String(e));
      this.refuse(err.code, err.message, err.code === 'bad-sdp');
      return;
    }
    if (m.type === 'answer') {
      if (this.remoteSet) return this.refuse('bad-signal', 'an answer was already received');
      if (!this.settleTrack(m.sdp)) return;
      try {
        await this.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
      } catch (e) {
        return this.refuse('bad-sdp', `answer rejected: ${(e as Error).message}`, true);
      }
      this.remoteSet = true;
      this.emit('phase', 'answer applied');
      this.emit('answered');
      for (const c of this.pendingCandidates.splice(0)) await this.addCandidate(c);
    } else if (m.type === 'candidate' && m.candidate) {
      const c = m.candidate;
      if (Buffer.byteLength(c.candidate) > this.limits.maxCandidateBytes)
        return this.refuse('too-large', `an ICE candidate is at most ${this.limits.maxCandidateBytes} bytes`);
      if (++this.candidates > this.limits.maxCandidates)
        return this.refuse('too-many-candidates', `a session sends at most ${this.limits.maxCandidates} ICE candidates`, true);
      if (this.remoteSet) await this.addCandidate(c);
      else if (this.pendingCandidates.length >= this.limits.maxPendingCandidates)
        this.refuse('too-many-candidates', `at most ${this.limits.maxPendingCandidates} ICE candidates before the answer`, true);
      else this.pendingCandidates.push(c);
    } else if (m.type === 'offer') {
      this.refuse('bad-signal', 'the sender makes the offer; send an answer');
    } else if (m.type === 'hello') {
      this.refuse('bad-signal', 'the sender sends the hello; a receiver sends an answer and candidates');
    }
  }

  /**
   * Settles the video track by the receiver's answer, before werift applies it: kept when the answer
   * takes it; else dropped (`trackDeclined`: the session goes on on the data channel), or the
   * session refused with `track-declined` and false returned.
   */
  private settleTrack(answerSdp: string): boolean {
    if (!this.track || !this.video) return true;
    let why: string | null;
    try {
      why = trackDeclined(answerSdp, this.video);
    } catch (e) {
      this.refuse('bad-sdp', `answer rejected: ${(e as Error).message}`, true);
      return false;
    }
    if (why === null) return true;
    if (this.onTrackDeclined === 'refuse') {
      this.refuse('track-declined', `${why}; this sender sends pictures only on the video track`, true);
      return false;
    }
    this.track.decline();
    this.track = null;
    this.emit('trackDeclined', why);
    return true;
  }

  private async addCandidate(c: Candidate): Promise<void> {
    try {
      await this.pc.addIceCandidate(c as never);
    } catch (e) {
      this.refuse('bad-signal', `ICE candidate rejected: ${(e as Error).message}`);
    }
  }

  get open(): boolean {
    return !this.closed && this.dc.readyState === 'open';
  }

  /** Transport `rtp`: the video track can carry pictures (see `mediaReady`). */
  get mediaReady(): boolean {
    return this.media && !this.closed && this.track !== null;
  }

  /**
   * Sends one message on the data channel. Before the channel is open (a session whose track is
   * ready first) werift queues it behind the channel's DCEP OPEN and sends both once SCTP is up:
   * RFC 8832 lets the opener send before the ACK, and the ordered stream delivers the OPEN first.
   */
  send(bytes: Uint8Array): void {
    this.dc.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /**
   * Sends the session's hello (its protocol bytes) on signalling, ahead of the same bytes on the data
   * channel: the receiver can decode the video track's pictures before SCTP's handshake is over.
   */
  signalHello(bytes: Uint8Array): void {
    if (this.closed) return;
    this.signal({ type: 'hello', wire: toBase64(bytes) });
    this.emit('phase', 'hello signalled');
  }

  /**
   * Sends one picture's payloads on the video track (transport `rtp`; nothing without a track): each
   * packet's transport-wide sequence number and wire bytes (payload and `overhead`), or null when
   * the packets carry none (the receiver declined the extension) or nothing was sent.
   */
  sendRtp(payloads: readonly Uint8Array[], rtpTs: number, overhead = 0): { tseq: number; bytes: number }[] | null {
    if (this.closed || !this.track) return null;
    return this.track.send(payloads, rtpTs, overhead);
  }

  /** The video track's packets and the repairs asked of it; null without a track. */
  trackCounters(): TrackCounters | null {
    return this.track?.counters() ?? null;
  }

  /** Bytes the data channel has sent so far (what a relevance map cost, for the frame budget). */
  get bytesSent(): number {
    return this.dc.bytesSent;
  }

  /** SCTP smoothed RTT in seconds, when SCTP has measured one. */
  srtt(): number | null {
    const s = (this.pc.sctpTransport as unknown as { sctp?: SctpInternals } | undefined)?.sctp?.srtt;
    return typeof s === 'number' && s > 0 ? s : null;
  }

  /** Transport `rtp`: the video track's pacing rate (bits/s; not finite: none). */
  setPacingRate(bps: number): void {
    this.track?.setPacingRate(bps);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.pendingCandidates.length = 0;
    this.track?.close();
    void this.pc.close().catch(() => undefined);
    this.emit('closed', reason);
  }
}
