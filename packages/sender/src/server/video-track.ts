import { randomInt } from 'node:crypto';
import { twccArrivals } from '@mmsc/codec';
import {
  type PeerConfig,
  RTCRtpCodecParameters,
  type RTCRtpTransceiver,
  RtcpTransportLayerFeedback,
  RtpHeader,
  RtpPacket,
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

  counters(): TrackCounters {
    return { ...this.count };
  }
}
