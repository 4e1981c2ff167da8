/**
 * The sender's video track in a Node receiver (werift): what the peer accepts of the offer's
 * `m=video` section, each RTP packet handed to the session as it arrives, the NACKs for lost
 * packets, a PLI when the session asks for a keyframe, and transport-wide congestion-control
 * feedback (`TwccFeedbackSender`, every 50 ms). werift's receiver sends the receiver reports.
 *
 * The NACKs are ours (the receiver's NackList): werift's own NackHandler asks for a lost packet
 * every 5 ms, up to 11 times within ~55 ms, so on a link with a round trip over 5 ms each loss is
 * retransmitted several times over (werift's sender answers every NACK), and a retransmission
 * that is lost too is never asked for again once the round trip passes ~55 ms.
 *
 * The transport-wide feedback is ours too (werift's reports lost packets as received). A packet that
 * repairs a loss (one a NACK asked for) is left out of it: werift's sender retransmits with
 * the original transport-wide number, and that number's packet was lost.
 */
import { type MediaSink, NackList, repairDeadline } from '@mmsc/receiver';
import {
  GenericNack,
  type PeerConfig,
  type RTCPeerConnection,
  RTCRtpCodecParameters,
  type RTCRtpReceiver,
  RTP_EXTENSION_URI,
  RtcpTransportLayerFeedback,
  useNACK,
  usePLI,
  useSdesMid,
  useTransportWideCC,
  useTWCC,
} from 'werift';
import { silenceWeriftTwcc, TwccFeedbackSender } from './twcc-feedback.js';

/** The RTCP feedback the sender's offer lists for its one video codec. */
const FEEDBACK = [useNACK(), usePLI(), useTWCC()];

const h264 = (profileLevelId: string) =>
  new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90_000,
    payloadType: 102,
    rtcpFeedback: FEEDBACK,
    parameters: `packetization-mode=1;profile-level-id=${profileLevelId};level-asymmetry-allowed=1`,
  });

/**
 * What the Node receiver's peer accepts on a video m-section: H.264 (High 4:4:4 `f4001f`, or
 * `42e01f` when the sender codes 4:2:0) or VP8, with NACK, PLI and transport-wide feedback. werift
 * matches codecs by MIME type and answers with the offer's own parameters.
 */
export const VIDEO_TRACK_CONFIG: Pick<PeerConfig, 'codecs' | 'headerExtensions'> = {
  codecs: {
    video: [
      h264('f4001f'),
      h264('42e01f'),
      new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90_000, payloadType: 96, rtcpFeedback: FEEDBACK }),
    ],
  },
  headerExtensions: { video: [useSdesMid(), useTransportWideCC()] },
};

/** Sequence numbers per NACK message (each FCI entry covers up to 17; an RTCP packet stays well under the MTU). */
const NACK_BATCH = 64;

/**
 * Stops werift's own NACKs on `receiver` (its NackHandler, a private member: reached by name, and
 * left alone if its shape ever changes). False when they could not be stopped: werift NACKs then.
 */
function silenceWeriftNacks(receiver: RTCRtpReceiver): boolean {
  const handler = (receiver as unknown as { nack?: { addPacket?: unknown } }).nack;
  if (!handler || typeof handler.addPacket !== 'function') return false;
  handler.addPacket = () => undefined;
  return true;
}

/**
 * Hands the sender's video track to `media`: its packets as they arrive, NACKs for the lost ones, a
 * PLI on request; sends transport-wide feedback on them.
 */
export function receiveVideoTrack(pc: RTCPeerConnection, media: MediaSink): void {
  pc.ontrack = ({ track, receiver }) => {
    if (track.kind !== 'video') return;
    let ssrc = track.ssrc;
    // Looking back 32 numbers: a keyframe whose first packets were lost before any came is still repaired.
    const nacks = silenceWeriftNacks(receiver) ? new NackList({ lookBack: 32 }) : null;
    const open = () => pc.connectionState !== 'closed';
    const twcc = silenceWeriftTwcc(receiver) ? new TwccFeedbackSender(receiver, open) : null;
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'closed') twcc?.close();
    });
    let timer: NodeJS.Timeout | null = null;
    let rtt: number | null = null;
    const sendNacks = () => {
      timer = null;
      if (!nacks || ssrc === undefined || pc.connectionState === 'closed') return;
      const now = Date.now();
      const lost = nacks.due(now);
      for (let i = 0; i < lost.length; i += NACK_BATCH) {
        const feedback = new GenericNack({ senderSsrc: receiver.rtcpSsrc, mediaSourceSsrc: ssrc, lost: lost.slice(i, i + NACK_BATCH) });
        receiver.dtlsTransport?.sendRtcp([new RtcpTransportLayerFeedback({ feedback })]).catch(() => undefined);
      }
      const next = nacks.nextDue(now);
      if (next !== null) {
        timer = setTimeout(sendNacks, next - now);
        timer.unref();
      }
    };
    media.track({
      requestKeyframe: () => {
        if (ssrc !== undefined) void receiver.sendRtcpPLI(ssrc);
      },
    });
    track.onReceiveRtp.subscribe((rtp, extensions) => {
      const h = rtp.header;
      ssrc ??= h.ssrc;
      let repair = false;
      if (nacks) {
        repair = nacks.packet(h.sequenceNumber, Date.now());
        if (nacks.rttMs !== rtt) {
          rtt = nacks.rttMs;
          nacks.setMaxAge(repairDeadline(rtt));
          media.rtt(rtt);
        }
        // A new gap is asked for at once, not when the timer for an older one's retry fires.
        if (nacks.pending > 0) {
          const now = Date.now();
          const next = nacks.nextDue(now);
          if (next !== null && next <= now) {
            if (timer) clearTimeout(timer);
            sendNacks();
          } else if (!timer) sendNacks();
        }
      }
      const transportSeq = extensions?.[RTP_EXTENSION_URI.transportWideCC];
      if (twcc && !repair && typeof transportSeq === 'number') twcc.packet(transportSeq, h.ssrc);
      media.packet({ seq: h.sequenceNumber, timestamp: h.timestamp, marker: h.marker, payload: rtp.payload });
    });
  };
}
