import { randomInt } from 'node:crypto';
import { decodeTwcc, type TwccFeedback } from '@mmsc/codec';
import {
  GenericNack,
  type PeerConfig,
  type RTCDtlsTransport,
  RTCRtpCodecParameters,
  type RTCRtpTransceiver,
  RTP_EXTENSION_URI,
  type RtcpPacket,
  RtcpTransportLayerFeedback,
  RtpHeader,
  RtpPacket,
  SessionDescription,
  TransportWideCC,
  useNACK,
  usePLI,
  useSdesMid,
  useTransportWideCC,
} from 'werift';
import type { RtpVideoFormat } from '../engines/link-encoder.js';
import { defaultLimits } from './limits.js';
import { Pacer } from './pacer.js';
import { ResendBudget } from './resend-budget.js';
import { RtcpBudget, type RtcpLimits } from './rtcp-budget.js';

/**
 * What a peer offers for a video track of `format`: that one codec, with NACK, PLI and
 * transport-wide congestion-control feedback, and the mid and transport-wide sequence number
 * header extensions. No RTX, RED or FEC: a NACK is answered with the packet itself.
 */
export function videoPeerConfig(format: RtpVideoFormat): Pick<PeerConfig, 'codecs' | 'headerExtensions'> {
  const codec = new RTCRtpCodecParameters({
    mimeType: format.mimeType,
    clockRate: 90_000,
    payloadType: format.payloadType,
    rtcpFeedback: [useNACK(), usePLI(), { type: 'transport-cc' }],
    ...(format.fmtp ? { parameters: format.fmtp } : {}),
  });
  return { codecs: { video: [codec] }, headerExtensions: { video: [useSdesMid(), useTransportWideCC()] } };
}

/** An `a=fmtp` line's parameters by lower-case name. */
function fmtpParams(fmtp: string | undefined | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of (fmtp ?? '').split(';')) {
    const [k, v = ''] = kv.split('=', 2);
    if (k?.trim()) out.set(k.trim().toLowerCase(), v.trim().toLowerCase());
  }
  return out;
}

/**
 * Whether an answered codec can carry what `format` sends: the same MIME type and, for H.264, the
 * same packetization mode (FU-A needs mode 1) and profile (the first byte of `profile-level-id`;
 * the level may differ).
 */
function takesFormat(codec: { mimeType: string; parameters?: string | undefined }, format: RtpVideoFormat): boolean {
  if (codec.mimeType.toLowerCase() !== format.mimeType.toLowerCase()) return false;
  if (format.mimeType.toLowerCase() !== 'video/h264') return true;
  const ours = fmtpParams(format.fmtp);
  const theirs = fmtpParams(codec.parameters);
  const profile = (p: Map<string, string>) => (p.get('profile-level-id') ?? '42001f').slice(0, 2);
  return (theirs.get('packetization-mode') ?? '0') === (ours.get('packetization-mode') ?? '0') && profile(theirs) === profile(ours);
}

/**
 * Why a receiver's answer does not take the video track offered in `format`, or null when it does:
 * the answer has no video m-line, rejects it (port 0), will not receive on it (`inactive` or
 * `sendonly`), or lists no codec that carries the format. Throws for SDP werift cannot parse.
 */
export function trackDeclined(answerSdp: string, format: RtpVideoFormat): string | null {
  const video = SessionDescription.parse(answerSdp).media.find((m) => m.kind === 'video');
  if (!video) return 'the answer has no video m-line';
  if (video.port === 0) return 'the answer rejects the video m-line (port 0)';
  // No direction attribute is sendrecv (RFC 4566).
  if (video.direction === 'inactive' || video.direction === 'sendonly') return `the answer's video m-line is ${video.direction}`;
  if (!video.rtp.codecs.some((c) => takesFormat(c, format))) {
    const profile = fmtpParams(format.fmtp).get('profile-level-id');
    return `the answer's video m-line has no ${format.mimeType}${profile ? ` ${profile}` : ''} codec`;
  }
  return null;
}

/** werift's SRTCP session as a DTLS transport holds it: `decrypt` gives the compound RTCP packet its parser reads. */
interface SrtcpSession {
  decrypt: (buf: Buffer) => Buffer;
}

/** What the track's sender did for the receiver's repair requests and feedback. */
export interface TrackCounters {
  packetsSent: number;
  /** NACK messages received, the packets they asked for again, and those resent (ResendBudget). */
  nacks: number;
  nackedPackets: number;
  resentPackets: number;
  /** Picture loss indications received. */
  plis: number;
  /** Transport-wide feedback packets taken, those dropped as malformed, and those dropped unread (over the report budget). */
  transportFeedback: number;
  badFeedback: number;
  /** Pictures whose last packet went out a second time. */
  tailCopies: number;
  /** Packets whose transport-wide number was not the one `send` foretold (something else sent on the track). */
  misnumbered: number;
  feedbackDropped: number;
  /** Compound RTCP packets dropped unread (over the byte budget), and those whose malformed tail was cut off. */
  rtcpDropped: number;
  rtcpMalformed: number;
}

/** A picture's last packet goes out twice when it is at most this long (its trailer). */
const TAIL_COPY_MAX = 300;

/**
 * One receiver's video track on the sender (transport `rtp`): a picture's payloads go out as RTP
 * packets with one timestamp, consecutive sequence numbers and the marker bit on the last.
 *
 * The receiver's RTCP is the sender's work, so it is bounded before werift reads it (`guard`, on
 * each DTLS transport of the peer: between werift's SRTCP decryption and its RTCP parser): an
 * RtcpBudget drops what is over the receiver's byte budget, and takes the transport-wide feedback
 * out, which this track decodes itself (`decodeTwcc`) within the report budget; werift's own
 * estimator never sees it. werift's RTCRtpSender keeps the last 128 packets and answers NACKs
 * from them: each NACK's list is first cut to what a ResendBudget allows. A PLI is handed on (the
 * encoder bounds keyframes).
 */
export class VideoTrack {
  private seq = randomInt(0, 0x10000);
  private readonly count: Omit<TrackCounters, 'feedbackDropped' | 'rtcpDropped' | 'rtcpMalformed'> = {
    packetsSent: 0,
    nacks: 0,
    nackedPackets: 0,
    resentPackets: 0,
    plis: 0,
    transportFeedback: 0,
    badFeedback: 0,
    tailCopies: 0,
    misnumbered: 0,
  };
  /** The track's packets wait here for their time (a multiple of the bottleneck's rate). */
  private readonly pacer = new Pacer<{ packet: RtpPacket; tseq: number | null; copy: boolean }>();
  private timer: NodeJS.Timeout | null = null;
  /** Transport-wide feedback that reached werift's parser all the same (a transport not guarded): dropped. */
  private unguardedFeedback = 0;
  private readonly budget: RtcpBudget;
  private readonly resends = new ResendBudget();
  private readonly guarded = new WeakSet<object>();
  private readonly feedbackListeners: ((baseSeq: number, arrivalsMs: (number | null)[]) => void)[] = [];

  constructor(
    private readonly transceiver: RTCRtpTransceiver,
    private readonly payloadType: number,
    limits: RtcpLimits = defaultLimits(),
  ) {
    this.budget = new RtcpBudget(limits);
    const sender = transceiver.sender;
    // werift's router hands the sender each RTCP packet for its SSRC: NACK lists are cut to the budget first.
    const handle = sender.handleRtcpPacket.bind(sender);
    sender.handleRtcpPacket = (packet: RtcpPacket) => {
      if (packet.type === RtcpTransportLayerFeedback.type && packet.feedback instanceof GenericNack) {
        const nack = packet.feedback;
        this.count.nacks++;
        this.count.nackedPackets += nack.lost.length;
        nack.lost = this.resends.resend(nack.lost, performance.now());
        this.count.resentPackets += nack.lost.length;
      } else if (packet.type === RtcpTransportLayerFeedback.type && packet.feedback instanceof TransportWideCC) {
        // Only from a transport not guarded (none is expected): werift's parse is done, its estimator is not fed.
        this.unguardedFeedback++;
        return;
      }
      handle(packet);
    };
    sender.onPictureLossIndication.subscribe(() => {
      this.count.plis++;
    });
  }

  /**
   * Puts this track's RTCP budget between `transport`'s SRTCP decryption and werift's RTCP parser,
   * for the SRTCP session it has and each one it makes later (idempotent).
   */
  guard(transport: RTCDtlsTransport): void {
    if (this.guarded.has(transport)) return;
    this.guarded.add(transport);
    const wrap = (session: SrtcpSession | undefined) => {
      if (session && !this.guarded.has(session)) {
        this.guarded.add(session);
        const decrypt = session.decrypt;
        session.decrypt = (buf) => this.inbound(decrypt(buf));
      }
      return session;
    };
    let session = wrap(transport.srtcp as SrtcpSession | undefined);
    Object.defineProperty(transport, 'srtcp', {
      configurable: true,
      enumerable: true,
      get: () => session,
      set: (s: SrtcpSession | undefined) => {
        session = wrap(s);
      },
    });
  }

  /** One decrypted compound RTCP packet from the receiver: what werift may parse of it. Never throws. */
  private inbound(compound: Buffer): Buffer {
    try {
      const { rest, feedback } = this.budget.sort(compound, performance.now() / 1000);
      for (const bytes of feedback) this.transportWide(bytes);
      return rest === compound ? compound : Buffer.from(rest.buffer, rest.byteOffset, rest.byteLength);
    } catch {
      return Buffer.alloc(0);
    }
  }

  /** One transport-wide feedback packet: decoded, and handed to the listeners if it is about this track. */
  private transportWide(bytes: Uint8Array): void {
    let fb: TwccFeedback;
    try {
      fb = decodeTwcc(bytes);
    } catch {
      this.count.badFeedback++; // a malformed packet from the receiver: dropped
      return;
    }
    if (fb.mediaSsrc !== this.transceiver.sender.ssrc) return; // not about this track (werift's router drops these too)
    this.count.transportFeedback++;
    // The reference time as werift read it (24 bits unsigned, 64 ms units): times stay on the clock they had.
    const refMs = (fb.referenceTime & 0xffffff) * 64;
    const arrivalsMs = fb.packets.map((us) => (us === null ? null : refMs + us / 1000));
    for (const listener of this.feedbackListeners) listener(fb.baseSeq, arrivalsMs);
  }

  /** `listener` runs on each picture loss indication from the receiver. */
  onPictureLoss(listener: () => void): void {
    this.transceiver.sender.onPictureLossIndication.subscribe(listener);
  }

  /**
   * `listener` runs on each transport-wide congestion-control feedback packet from the receiver:
   * its base sequence number and, per sequence number from there, the arrival in ms on the
   * receiver's clock or null (not received).
   */
  onTransportFeedback(listener: (baseSeq: number, arrivalsMs: (number | null)[]) => void): void {
    this.feedbackListeners.push(listener);
  }

  /**
   * Puts one picture's payloads on the track, through the pacer (nothing goes out before the
   * transport is up). The last payload, when small (the picture's trailer), goes twice: lost alone,
   * it would leave the picture unfinished until the next picture's first packet showed the gap (a
   * frame interval) and its repair came (a round trip); the receiver takes whichever copy comes first
   * (a browser's SRTP replay check drops the other). Returns each packet's transport-wide sequence
   * number (the one werift will give it: werift numbers every packet it sends, and only this pacer
   * sends on the track) and wire bytes, or null when the packets will not be numbered (the transport
   * is not up, or the receiver did not take the extension). The copy's number is not the picture's:
   * whether it arrives says nothing of loss.
   */
  send(payloads: readonly Uint8Array[], rtpTs: number, overhead: number): { tseq: number; bytes: number }[] | null {
    const transport = this.transceiver.sender.dtlsTransport;
    const numbered = transport?.state === 'connected' && this.numbersPackets();
    let next = (transport?.transportSequenceNumber ?? 0) + this.pacer.length;
    const out: { tseq: number; bytes: number }[] = [];
    payloads.forEach((p, i) => {
      const last = i === payloads.length - 1;
      const header = () => new RtpHeader({ payloadType: this.payloadType, sequenceNumber: this.seq, timestamp: rtpTs, marker: last });
      const bytes = p.length + overhead;
      this.resends.sent(this.seq, bytes);
      this.count.packetsSent++;
      next = (next + 1) & 0xffff;
      this.pacer.push(
        { packet: new RtpPacket(header(), Buffer.from(p.buffer, p.byteOffset, p.byteLength)), tseq: numbered ? next : null, copy: false },
        bytes,
      );
      out.push({ tseq: next, bytes });
      if (last && p.length <= TAIL_COPY_MAX) {
        next = (next + 1) & 0xffff;
        this.pacer.push({ packet: new RtpPacket(header(), Buffer.from(p)), tseq: numbered ? next : null, copy: true }, bytes);
      }
      this.seq = (this.seq + 1) & 0xffff;
    });
    this.pump();
    return numbered ? out : null;
  }

  /**
   * The pacing rate (bits/s; not finite: none, each picture goes as one burst). The link sets it to a
   * multiple of the measured bottleneck rate.
   */
  setPacingRate(bps: number): void {
    this.pacer.setRate(bps, performance.now());
    this.pump();
  }

  /** Whether werift puts a transport-wide sequence number on the track's packets (the receiver took the extension). */
  private numbersPackets(): boolean {
    const exts = (this.transceiver.sender as unknown as { headerExtensions?: { uri: string }[] }).headerExtensions;
    return exts?.some((e) => e.uri === RTP_EXTENSION_URI.transportWideCC) ?? false;
  }

  /** Sends what the pacer lets go now; comes back when the next may go. */
  private readonly pump = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = performance.now();
    const sender = this.transceiver.sender;
    for (const q of this.pacer.due(now)) {
      // werift numbers the packet (the transport-wide extension) before its first await.
      sender.sendRtp(q.packet).catch(() => undefined);
      if (q.copy) this.count.tailCopies++;
      if (q.tseq !== null && ((sender.dtlsTransport?.transportSequenceNumber ?? -1) & 0xffff) !== q.tseq) this.count.misnumbered++;
    }
    const at = this.pacer.nextAt(now);
    if (at === null) return;
    this.timer = setTimeout(this.pump, Math.max(0, at - now));
    this.timer.unref();
  };

  /** Stops sending: what waits in the pacer is dropped. */
  close(): void {
    this.pacer.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * The receiver declined the track: before its answer is applied, the transceiver is made inactive
   * and stopping, so werift skips the answer's video m-line (it would refuse the whole answer when
   * the line has no codec it offered) and sends nothing on it.
   */
  decline(): void {
    this.close();
    this.transceiver.setDirection('inactive');
    this.transceiver.stop();
  }

  counters(): TrackCounters {
    const b = this.budget.counters;
    return {
      ...this.count,
      feedbackDropped: b.feedbackDropped + this.unguardedFeedback,
      rtcpDropped: b.overBudget,
      rtcpMalformed: b.malformed,
    };
  }
}
