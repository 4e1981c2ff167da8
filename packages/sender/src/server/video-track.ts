import { randomInt } from 'node:crypto';
import { twccArrivals } from '@mmsc/codec';
import {
  type PeerConfig,
  RTCRtpCodecParameters,
  type RTCRtpTransceiver,
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

/** Arrivals (µs after the reference time, null: lost) from werift's parse of a feedback packet. */
function transportWideArrivals(fb: TransportWideCC): { base: number; arrivalsUs: (number | null)[] } {
  return { base: fb.baseSequenceNumber, arrivalsUs: twccArrivals(fb) };
}

/** What the track's sender did for the receiver's repair requests. */
export interface TrackCounters {
  packetsSent: number;
  /** NACK messages received, and the packets they asked for again (answered from the last 128). */
  nacks: number;
  nackedPackets: number;
  /** Picture loss indications received. */
  plis: number;
  /** Transport-wide feedback packets received, and those dropped as malformed. */
  transportFeedback: number;
  badFeedback: number;
  /** Pictures whose last packet went out a second time (sendCopy). */
  tailCopies: number;
}

/** A picture's last packet goes out twice when it is at most this long (its trailer). */
const TAIL_COPY_MAX = 300;
/** How long after the picture its last packet's copy goes (ms): apart from a loss burst that took the first. */
const TAIL_COPY_DELAY_MS = 5;

/**
 * One receiver's video track on the sender (transport `rtp`): a picture's payloads go out as RTP
 * packets with one timestamp, consecutive sequence numbers and the marker bit on the last. werift's
 * RTCRtpSender keeps the last 128 packets and answers NACKs from them; a PLI is handed on.
 */
export class VideoTrack {
  private seq = randomInt(0, 0x10000);
  private readonly count: TrackCounters = {
    packetsSent: 0,
    nacks: 0,
    nackedPackets: 0,
    plis: 0,
    transportFeedback: 0,
    badFeedback: 0,
    tailCopies: 0,
  };

  constructor(
    private readonly transceiver: RTCRtpTransceiver,
    private readonly payloadType: number,
  ) {
    transceiver.sender.onGenericNack.subscribe((nack) => {
      this.count.nacks++;
      this.count.nackedPackets += nack.lost.length;
    });
    transceiver.sender.onPictureLossIndication.subscribe(() => {
      this.count.plis++;
    });
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
    this.transceiver.sender.onRtcp.subscribe((packet) => {
      const fb = (packet as { feedback?: unknown }).feedback;
      if (packet.type !== RtcpTransportLayerFeedback.type || !(fb instanceof TransportWideCC)) return;
      let parsed: { base: number; arrivalsUs: (number | null)[] };
      try {
        parsed = transportWideArrivals(fb);
      } catch {
        this.count.badFeedback++; // a malformed packet from the receiver: dropped
        return;
      }
      const { base, arrivalsUs } = parsed;
      this.count.transportFeedback++;
      const refMs = fb.referenceTime * 64;
      listener(
        base,
        arrivalsUs.map((us) => (us === null ? null : refMs + us / 1000)),
      );
    });
  }

  /**
   * Sends one picture's payloads (nothing goes out before the transport is up). Returns each
   * packet's transport-wide sequence number and wire bytes, or null when the receiver did not
   * take the transport-wide sequence number extension (its feedback cannot name them).
   */
  send(payloads: readonly Uint8Array[], rtpTs: number, overhead: number): { tseq: number; bytes: number }[] | null {
    const sender = this.transceiver.sender;
    const out: { tseq: number; bytes: number }[] = [];
    let numbered = true;
    payloads.forEach((p, i) => {
      const header = new RtpHeader({
        payloadType: this.payloadType,
        sequenceNumber: this.seq,
        timestamp: rtpTs,
        marker: i === payloads.length - 1,
      });
      this.seq = (this.seq + 1) & 0xffff;
      this.count.packetsSent++;
      const before = sender.dtlsTransport?.transportSequenceNumber;
      // werift numbers the packet (the transport-wide extension) before its first await.
      sender.sendRtp(new RtpPacket(header, Buffer.from(p.buffer, p.byteOffset, p.byteLength))).catch(() => undefined);
      const after = sender.dtlsTransport?.transportSequenceNumber;
      if (after === undefined || after === before) numbered = false;
      else out.push({ tseq: after & 0xffff, bytes: p.length + overhead });
      if (i === payloads.length - 1 && p.length <= TAIL_COPY_MAX) this.sendCopy(header, p);
    });
    return numbered ? out : null;
  }

  /**
   * The picture's last packet (its trailer, small) goes out once more, TAIL_COPY_DELAY_MS later and
   * with the same sequence number: lost alone, it would leave the picture unfinished until the
   * next picture's first packet showed the gap (a frame interval) and its repair came (a round trip).
   * The receiver takes whichever copy comes first (a browser's SRTP replay check drops the other).
   * The copy's transport-wide number is not the picture's: whether it arrives says nothing of loss.
   */
  private sendCopy(header: RtpHeader, payload: Uint8Array): void {
    const copy = new RtpPacket(new RtpHeader({ ...header }), Buffer.from(payload));
    setTimeout(() => {
      this.count.tailCopies++;
      this.transceiver.sender.sendRtp(copy).catch(() => undefined);
    }, TAIL_COPY_DELAY_MS).unref();
  }

  /**
   * The receiver declined the track: before its answer is applied, the transceiver is made inactive
   * and stopping, so werift skips the answer's video m-line (it would refuse the whole answer when
   * the line has no codec it offered) and sends nothing on it.
   */
  decline(): void {
    this.transceiver.setDirection('inactive');
    this.transceiver.stop();
  }

  counters(): TrackCounters {
    return { ...this.count };
  }
}
