/**
 * The Node receiver's transport-wide congestion-control feedback, in place of werift's: each video
 * packet's transport-wide sequence number and arrival go to a `TwccRecorder`, and every
 * `TWCC_INTERVAL_MS` (at once when `TWCC_PENDING_MAX` packets wait) one feedback packet, encoded by
 * `encodeTwcc`, goes to the sender over the peer's DTLS transport.
 *
 * werift's own ReceiverTWCC (created on the first packet when the codec lists `transport-cc`) leaves
 * lost packets out of its run-length chunks, as if received, sorts numbers without regard to the
 * 16-bit wrap and truncates times: `silenceWeriftTwcc` keeps it from being created.
 */
import { encodeTwcc } from '@mmsc/codec';
import { TwccRecorder, type TwccRecorderCounters } from '@mmsc/receiver';
import type { RTCRtpReceiver, RtcpPacket } from 'werift';

/** How often feedback goes out while packets arrive (ms). */
export const TWCC_INTERVAL_MS = 50;
/** Feedback goes out at once when this many received packets wait for it. */
export const TWCC_PENDING_MAX = 100;

/**
 * Keeps werift's ReceiverTWCC from being made on `receiver` (its `setupTWCC`, typed public, is
 * replaced on the instance; one already made is muted). False when werift's shape has changed and
 * it could not be stopped: werift then sends its feedback, and ours must not go out beside it.
 */
export function silenceWeriftTwcc(receiver: RTCRtpReceiver): boolean {
  const r = receiver as unknown as { setupTWCC?: unknown; receiverTWCC?: { handleTWCC?: unknown } };
  if (typeof r.setupTWCC !== 'function') return false;
  r.setupTWCC = () => undefined;
  if (r.receiverTWCC) {
    if (typeof r.receiverTWCC.handleTWCC !== 'function') return false;
    r.receiverTWCC.handleTWCC = () => undefined;
  }
  return true;
}

/** Bytes werift's `sendRtcp` passes on as they are (it concatenates each packet's `serialize()`). */
const rawRtcp = (bytes: Uint8Array): RtcpPacket => ({ serialize: () => Buffer.from(bytes) }) as unknown as RtcpPacket;

/** One video track's feedback to its sender. */
export class TwccFeedbackSender {
  private readonly recorder = new TwccRecorder();
  private timer: NodeJS.Timeout | null = null;
  private mediaSsrc: number | null = null;
  private closed = false;

  /**
   * @param receiver the track's werift receiver (its RTCP SSRC and DTLS transport)
   * @param isOpen whether the peer still runs (nothing goes out after it closed)
   * @param nowUs a monotonic clock in µs
   */
  constructor(
    private readonly receiver: RTCRtpReceiver,
    private readonly isOpen: () => boolean,
    private readonly nowUs: () => number = () => performance.now() * 1000,
  ) {}

  get counters(): Readonly<TwccRecorderCounters> {
    return this.recorder.stats;
  }

  /** A packet of the track (media SSRC `ssrc`) with transport-wide sequence number `seq` arrived now. */
  packet(seq: number, ssrc: number): void {
    if (this.closed) return;
    this.mediaSsrc = ssrc;
    this.recorder.packet(seq, this.nowUs());
    if (this.recorder.pending >= TWCC_PENDING_MAX) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), TWCC_INTERVAL_MS);
      this.timer.unref();
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const transport = this.receiver.dtlsTransport;
    if (this.mediaSsrc === null || !transport) return;
    if (!this.isOpen()) {
      this.close();
      return;
    }
    for (const fb of this.recorder.feedback(this.receiver.rtcpSsrc, this.mediaSsrc)) {
      transport.sendRtcp([rawRtcp(encodeTwcc(fb))]).catch(() => undefined);
    }
  }
}
