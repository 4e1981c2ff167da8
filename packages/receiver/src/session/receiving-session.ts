/**
 * One receiving session, whatever runs it (the page, `mmsc probe`, the e2e reference, the test
 * receiver): the link to the sender (signalling, peer, reconnect state), the data channel's
 * messages collected into frames, feedback for each frame as it completes (the one feedback path),
 * decoding through a PictureDecoding, keyframe requests for pictures that could not be decoded,
 * the operator's query with its query ids and its grounding, and the link stats. The runners are
 * adapters: they give the platform (socket, peer, decoders) and listen to the typed events.
 */
import {
  decodeMessage,
  encodeMessage,
  type GroundingMessage,
  type HelloMessage,
  type Message,
  type RelevanceMessage,
  type SignalError,
  type SignalMessage,
} from '@mmsc/protocol';
import type { CollectedFrame } from '../collect-frame.js';
import type { ApplyStats } from '../reassemble.js';
import { type FinishedFrame, FrameReceiver, type TrackReceipt } from '../receive/frame-receiver.js';
import type { ChannelLike, TrackControl } from '../receive/receiver-connection.js';
import { type RtpPacketIn, repairDeadline } from '../rtp/rtp-assembler.js';
import type { EncodedPictureIn } from '../rtp/rtp-video.js';
import type { DecodedPicture, DecoderReady, PictureDecoding } from './decoding.js';
import { Emitter } from './emitter.js';
import { LinkStats, type SenderRate, type StatsSummary } from './link-stats.js';
import type { QueryState } from './query.js';
import { type LinkState, SessionMachine } from './reconnect.js';
import { type LinkEnd, type LinkOptions, SignalLink } from './signal-link.js';
import { StaleHold } from './stale-hold.js';

export interface ReceivingSessionOptions<C extends ChannelLike> extends LinkOptions<C> {
  /** Where pictures are made; null or absent: frames are only collected and acknowledged. */
  decoding?: PictureDecoding | null;
}

/** What went wrong; whether it ends anything is said by `closed` (the link) or the stage. */
export type SessionError =
  /** A data-channel message that is not a valid protocol message (dropped). */
  | { kind: 'protocol'; message: string }
  /** The sender's error message inside a session (`ref` names the query it concerns, if any). */
  | { kind: 'sender'; code: string; message: string; ref: string | null }
  /** The sender's error on signalling (busy, rate-limited, …). */
  | { kind: 'signalling'; code: string; message: string }
  /** A malformed signalling message from the sender (dropped). */
  | { kind: 'malformed-signal'; error: SignalError; text: string }
  | { kind: 'negotiation'; step: 'offer' | 'candidate'; error: Error }
  /** This session's pictures cannot be made: decoders refused (DecoderMismatchError) or not loaded. */
  | { kind: 'decoder'; message: string; cause: unknown }
  /** One frame's decode failed; the next goes on. */
  | { kind: 'decode'; frameId: number; message: string };

/** A new picture, as this thread holds it (Node decoding; the page's worker draws its own). */
export interface ShownPicture {
  image: Uint8Array;
  width: number;
  height: number;
  frame: CollectedFrame;
  stats: ApplyStats;
  shownAt: number;
}

export interface ReceivingEvents<C extends ChannelLike> {
  /** The link's state (connecting, negotiating, open, waiting, idle) and its detail. */
  state: [state: LinkState, detail: string];
  /** What the stage shows (SessionMachine.stage()) may have changed. */
  stage: [];
  open: [channel: C];
  /** Every well-formed signalling message from the sender. */
  signal: [message: SignalMessage];
  /**
   * Every protocol message as it arrived, before it is read: the data channel's, and a hello the
   * sender signalled ahead of it (the channel's repeat of that hello is not emitted again).
   */
  data: [bytes: Uint8Array, receiveTs: number];
  /** What the video track brought (a packet's payload and header, or a whole picture's bytes), as it arrived. */
  media: [bytes: number, receiveTs: number];
  /** Every valid protocol message (hello, frame parts, grounding, …). */
  message: [message: Message];
  /** A session began: `previous` is the hello it replaces (another sessionId: the sender restarted). */
  hello: [hello: HelloMessage, previous: HelloMessage | null, epoch: number];
  /** A frame was collected (its feedback is already sent when `live`; a frame given up as the link went is not live). */
  frame: [frame: FinishedFrame, live: boolean];
  decoderReady: [epoch: number, ready: DecoderReady];
  /** Every frame decoded, also one that was held (stats.refresh) or that a newer one keeps off the screen. */
  decoded: [picture: DecodedPicture, frame: CollectedFrame];
  picture: [picture: ShownPicture];
  /** A keyframe was asked for: the picture of `frameId` could not be decoded, or (null) the video track lost pictures. */
  refresh: [frameId: number | null, reason: string];
  /** `whose`: the operator's query, the sender's own initial one, or an older query of the operator's. */
  grounding: [message: GroundingMessage, whose: 'operator' | 'sender' | 'stale'];
  relevance: [message: RelevanceMessage];
  /** Where the operator's query stands, in words. */
  query: [state: QueryState, text: string];
  /** The stats panel's figures, as of a picture reaching the screen. */
  stats: [summary: StatsSummary];
  error: [error: SessionError];
  notice: [text: string];
  /** The link went; a retry follows where the session has a retry policy. */
  closed: [reason: string, end: LinkEnd];
}

export class ReceivingSession<C extends ChannelLike> extends Emitter<ReceivingEvents<C>> {
  /** Link state, session epochs, decoder state, the shown frame and the query workflow. */
  readonly machine: SessionMachine;
  readonly stats = new LinkStats();
  readonly link: SignalLink<C>;
  /** Collects frames; its counters (messages, bytes, frames, incomplete, over budget) cover the session's life. */
  readonly receiver = new FrameReceiver();
  hello: HelloMessage | null = null;
  grounding: GroundingMessage | null = null;
  relevance: RelevanceMessage | null = null;
  /** The sender's own estimate of this link's rate (its /stats), as the runner last read it. */
  senderRate: SenderRate | null = null;
  /** Keyframes asked for. */
  refreshes = 0;
  /** Picture loss indications sent on the video track. */
  plis = 0;
  private readonly decoding: PictureDecoding | null;
  private readonly now: () => number;
  /** What the platform can do on the current attempt's video track. */
  private trackControl: TrackControl | null = null;
  private trackTimer: { at: number; timer: ReturnType<typeof setTimeout> } | null = null;
  /** Pictures the current session's track lost, as counted into the stats so far. */
  private lostCounted = 0;
  /** Its stale pictures, likewise. */
  private staleCounted = 0;
  /** The current attempt's signalled hello, until the data channel's first message repeats it. */
  private signalledHello: Uint8Array | null = null;
  /** Decoded pictures on their way to the screen: a stale one waits for a fresher one (StaleHold). */
  private readonly display = new StaleHold<{ p: DecodedPicture; frame: CollectedFrame }>(({ p, frame }) => this.showPicture(p, frame));

  constructor(options: ReceivingSessionOptions<C>) {
    super();
    this.now = options.now ?? Date.now;
    this.decoding = options.decoding ?? null;
    this.machine = new SessionMachine({
      now: this.now,
      send: (queryId, text) => this.receiver.ctx !== null && this.send({ type: 'query', queryId, text }),
      status: (state, text) => this.emit('query', state, text),
    });
    const link = new SignalLink<C>(options);
    this.link = link;
    link.on('state', (state, detail) => {
      this.machine.linkChanged(state, detail);
      this.emit('state', state, detail);
      this.emit('stage');
    });
    link.on('open', (ch) => this.emit('open', ch));
    link.on('signal', (m) => this.emit('signal', m));
    link.on('hello', (bytes, receiveTs) => this.onSignalledHello(bytes, receiveTs));
    link.on('message', (bytes, receiveTs) => this.onData(bytes, receiveTs));
    link.on('track', (control) => {
      this.trackControl = control;
    });
    link.on('rtp', (packet, receiveTs) => this.onRtp(packet, receiveTs));
    link.on('trackPicture', (picture) => this.onTrackPicture(picture));
    // Losses wait for repair as long as a NACK and its answer take on this link.
    link.on('trackRtt', (ms) => this.receiver.setTrackDeadline(repairDeadline(ms)));
    link.on('senderError', (code, message) => this.emit('error', { kind: 'signalling', code, message }));
    link.on('malformed', (error, text) => this.emit('error', { kind: 'malformed-signal', error, text }));
    link.on('negotiationFailed', (step, error) => this.emit('error', { kind: 'negotiation', step, error }));
    link.on('notice', (text) => this.emit('notice', text));
    link.on('closed', (reason, end) => {
      // What arrived of the frame in progress is still worth showing.
      for (const f of this.receiver.close()) this.onFrame(f, false);
      this.signalledHello = null;
      this.trackControl = null;
      this.scheduleTrack();
      this.senderRate = null;
      this.emit('closed', reason, end);
    });
  }

  start(): void {
    this.link.start();
  }

  /** Closes the link (a later `start` connects again); resolves once the peer has closed. */
  stop(): Promise<void> {
    return this.link.stop();
  }

  /** Reconnects now, skipping any pending backoff. */
  reconnectNow(): void {
    this.link.reconnectNow();
  }

  /** Stops for good: the link, the decoders, the listeners. */
  async close(): Promise<void> {
    await this.link.stop();
    if (this.trackTimer) clearTimeout(this.trackTimer.timer);
    this.trackTimer = null;
    this.display.clear();
    this.decoding?.close();
    this.removeAllListeners();
  }

  /** The operator's query: sent now when a session is up, else when the next one starts; each gets its own query id. */
  query(text: string): void {
    this.machine.query.submit(text);
  }

  /** Sends a message to the sender on the open channel; false when there is none. */
  send(message: Message): boolean {
    return this.link.send(encodeMessage(message, this.receiver.ctx ?? undefined));
  }

  /**
   * Asks the sender for a keyframe: the picture of `frameId` could not be decoded, or (null) the
   * video track lost pictures (the last one stays up). On the track, a PLI goes too where the
   * platform can send one.
   */
  requestKeyframe(frameId: number | null, reason: string): void {
    this.refreshes++;
    if (this.hello?.transport === 'rtp' && this.trackControl?.requestKeyframe) {
      this.plis++;
      this.trackControl.requestKeyframe();
    }
    this.send({ type: 'refresh', reason });
    this.emit('refresh', frameId, reason);
  }

  /**
   * A picture reached the screen: the page calls this as it draws the worker's picture; pictures
   * decoded in this thread are shown as they are decoded. `receiveTs`: when its frame arrived.
   */
  shown(frameId: number, stats: ApplyStats, receiveTs: number | undefined, at = this.now()): void {
    this.stats.onShown(at, stats);
    this.machine.shown(frameId, receiveTs);
    this.emit('stats', this.summary(at));
    this.emit('stage');
  }

  summary(now = this.now()): StatsSummary {
    return this.stats.summary(now, this.hello?.fps ?? null, this.senderRate);
  }

  /**
   * A hello the sender signalled ahead of the data channel: the session begins with it, so that the
   * video track's first picture is decoded before the channel opens. The channel's first message
   * then repeats it and changes nothing.
   */
  private onSignalledHello(bytes: Uint8Array, receiveTs: number): void {
    let type: string;
    try {
      type = decodeMessage(bytes).type;
    } catch (e) {
      type = `invalid (${e instanceof Error ? e.message : String(e)})`;
    }
    if (type !== 'hello') {
      this.stats.onProtocolError();
      this.emit('error', { kind: 'protocol', message: `the sender signalled a message that is not a hello: ${type}; dropped` });
      return;
    }
    this.signalledHello = bytes;
    this.onData(bytes, receiveTs, true);
  }

  /** A protocol message: from the data channel, or (`signalled`) a hello from signalling. */
  private onData(bytes: Uint8Array, receiveTs: number, signalled = false): void {
    const early = this.signalledHello;
    if (!signalled && early) {
      // The channel's first message: the signalled hello again (bytes counted, nothing else), or
      // something else, read as usual.
      this.signalledHello = null;
      if (sameBytes(bytes, early)) {
        this.stats.onBytes(bytes.length, receiveTs);
        return;
      }
    }
    this.stats.onBytes(bytes.length, receiveTs);
    this.emit('data', bytes, receiveTs);
    const r = this.receiver.receive(bytes, receiveTs);
    if (r.type === 'invalid') {
      this.stats.onProtocolError();
      this.emit('error', { kind: 'protocol', message: r.error.message });
      return;
    }
    this.emit('message', r.message);
    if (r.type === 'hello') {
      this.onHello(r.message, r.previous, signalled && !this.link.isOpen);
      this.onTrack(r.track);
    } else if (r.type === 'frame') this.onTrack({ frames: r.frames, keyframe: false });
    else if (r.type === 'other') this.onOther(r.message);
    // A stray frame part (before the hello) cannot be placed.
  }

  private onRtp(packet: RtpPacketIn, receiveTs: number): void {
    // What the link carried: the payload and a 12-byte RTP header.
    const bytes = packet.payload.length + 12;
    this.stats.onBytes(bytes, receiveTs);
    this.emit('media', bytes, receiveTs);
    this.onTrack(this.receiver.rtpPacket(packet, receiveTs));
  }

  private onTrackPicture(picture: EncodedPictureIn): void {
    this.stats.onBytes(picture.data.length, picture.receiveTs);
    this.emit('media', picture.data.length, picture.receiveTs);
    this.onTrack(this.receiver.trackPicture(picture, this.now()));
  }

  /** Frames finished (by a data-channel message or the video track); a keyframe asked for where the track lost pictures. */
  private onTrack(r: TrackReceipt): void {
    const t = this.receiver.trackStats;
    const lost = t ? t.dropped + t.undecodable + t.badTrailer : 0;
    if (lost > this.lostCounted) this.stats.picturesLost += lost - this.lostCounted;
    this.lostCounted = lost;
    const stale = t?.stale ?? 0;
    if (stale > this.staleCounted) this.stats.picturesStale += stale - this.staleCounted;
    this.staleCounted = stale;
    for (const f of r.frames) this.onFrame(f, true);
    if (r.keyframe) this.requestKeyframe(null, 'picture-lost');
    this.scheduleTrack();
  }

  /** One timer for the track's next deadline (a loss waiting for repair, a keyframe asked again). */
  private scheduleTrack(): void {
    const now = this.now();
    const at = this.receiver.trackDeadline(now);
    if (this.trackTimer && this.trackTimer.at === at) return;
    if (this.trackTimer) clearTimeout(this.trackTimer.timer);
    this.trackTimer = null;
    if (at === null) return;
    const timer = setTimeout(() => {
      this.trackTimer = null;
      this.onTrack(this.receiver.pollTrack(this.now()));
    }, at - now);
    this.trackTimer = { at, timer };
  }

  private onHello(hello: HelloMessage, previous: HelloMessage | null, beforeChannel: boolean): void {
    this.display.clear();
    this.hello = hello;
    this.lostCounted = 0;
    this.staleCounted = 0;
    this.grounding = null;
    this.relevance = null;
    this.stats.reset();
    this.link.healthy();
    // Sends the operator's query again, if any (before the channel is open: once it opens).
    const epoch = this.machine.began(hello.sessionId, beforeChannel);
    this.emit('hello', hello, previous, epoch);
    this.emit('stage');
    this.decoding?.begin(epoch, hello).then(
      (ready) => {
        if (!this.machine.decoderLoaded(epoch)) return;
        this.emit('decoderReady', epoch, ready);
        this.emit('stage');
      },
      (e: unknown) => {
        if (epoch !== this.machine.epoch) return;
        const message = e instanceof Error ? e.message : String(e);
        this.machine.decoderFailed(message);
        this.emit('error', { kind: 'decoder', message, cause: e });
        this.emit('stage');
      },
    );
  }

  private onFrame(f: FinishedFrame, live: boolean): void {
    // Feedback leaves at once: the sender's rate control measures the link, not this receiver's decoder.
    if (live) this.send(f.feedback);
    if (this.machine.frameArrived()) this.emit('stage');
    const { frame } = f;
    this.stats.onFrame({
      frameId: frame.frameId,
      receiveTs: frame.lastReceiveTs,
      captureTs: frame.captureTs,
      bytes: frame.bytesReceived,
      budget: frame.budget,
      complete: frame.complete,
    });
    this.emit('frame', f, live);
    if (!this.decoding || f.held) return;
    const epoch = this.machine.epoch;
    this.decoding.decode(epoch, frame).then(
      (p) => {
        if (p && epoch === this.machine.epoch) this.onDecoded(p, frame);
      },
      (e: unknown) => this.emit('error', { kind: 'decode', frameId: frame.frameId, message: e instanceof Error ? e.message : String(e) }),
    );
  }

  private onDecoded(p: DecodedPicture, frame: CollectedFrame): void {
    if (p.stats.refresh) this.requestKeyframe(p.frameId, p.stats.refresh);
    this.stats.onDecoded(p.stats.decodeMs, frame.lastReceiveTs, p.queued);
    this.emit('decoded', p, frame);
    if (!p.image || p.stats.decoded === 0 || p.stats.refresh) return;
    this.display.offer({ p, frame }, frame.stale === true);
  }

  private showPicture(p: DecodedPicture, frame: CollectedFrame): void {
    if (!p.image) return;
    const shownAt = this.now();
    this.shown(p.frameId, p.stats, frame.lastReceiveTs, shownAt);
    this.emit('picture', { image: p.image.rgb, width: p.image.width, height: p.image.height, frame, stats: p.stats, shownAt });
  }

  private onOther(m: Message): void {
    switch (m.type) {
      case 'grounding': {
        this.grounding = m;
        this.emit(
          'grounding',
          m,
          this.machine.query.grounded(
            m.queryId,
            m.fallback,
            m.words.filter((w) => w.notInView).map((w) => w.word),
            m.words.filter((w) => !w.negated).length,
          ),
        );
        return;
      }
      case 'relevance':
        this.relevance = m;
        this.emit('relevance', m);
        return;
      case 'error':
        if (this.machine.senderError(m.code, m.message, m.ref)) this.emit('stage');
        this.emit('error', { kind: 'sender', code: m.code, message: m.message, ref: m.ref });
        return;
      case 'picture':
        // It rides in its picture's trailer on the video track; one on the data channel is not read
        // (counted in receiver.stats.unexpected, without a notice for each).
        return;
      default:
        this.emit('notice', `unexpected ${m.type} message from the sender`);
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
