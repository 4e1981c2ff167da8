/**
 * The sender's video track in a Node receiver (werift): what the peer accepts of the offer's
 * `m=video` section, and each RTP packet handed to the session as it arrives. werift's receiver
 * does the rest of a WebRTC receiver's duties on the track: receiver reports, NACKs for the gaps
 * it sees (its NackHandler) and transport-wide congestion control feedback every 100 ms.
 */
import type { MediaSink } from '@mmsc/receiver';
import {
  type PeerConfig,
  type RTCPeerConnection,
  RTCRtpCodecParameters,
  useNACK,
  usePLI,
  useSdesMid,
  useTransportWideCC,
  useTWCC,
} from 'werift';

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

/** Hands the sender's video track to `media`: its packets as they arrive, and a PLI on request. */
export function receiveVideoTrack(pc: RTCPeerConnection, media: MediaSink): void {
  pc.ontrack = ({ track, receiver }) => {
    if (track.kind !== 'video') return;
    let ssrc = track.ssrc;
    media.track({
      requestKeyframe: () => {
        if (ssrc !== undefined) void receiver.sendRtcpPLI(ssrc);
      },
    });
    track.onReceiveRtp.subscribe((rtp) => {
      const h = rtp.header;
      ssrc ??= h.ssrc;
      media.packet({ seq: h.sequenceNumber, timestamp: h.timestamp, marker: h.marker, payload: rtp.payload });
    });
  };
}
