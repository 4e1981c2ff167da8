/**
 * The sender's video track on the page (a session whose hello says `transport: 'rtp'`): Chromium's
 * own receiver does the network half — jitter buffer, NACKs, reference tracking, keyframe requests
 * — and hands each whole coded picture to encoded streams (`encodedInsertableStreams`), where a
 * copy goes to the session (joined to its announcement, decoded by the decode worker like any
 * video frame) and the picture itself goes on to Chromium's decoder, which keeps its own keyframe
 * requests alive. The track is never shown: the worker's pictures are, in sync with the overlays.
 */
import type { MediaSink } from '../src/index.js';

/** Chromium's encoded streams of a receiver (not in TypeScript's DOM types). */
interface EncodedStreams {
  readable: ReadableStream<RTCEncodedVideoFrame>;
  writable: WritableStream<RTCEncodedVideoFrame>;
}

/** The peer configuration that lets the page see the track's encoded pictures. */
export const ENCODED_STREAMS = { encodedInsertableStreams: true } as RTCConfiguration;

/** Delivers a video receiver's whole pictures to `media`; false where the browser has no encoded streams. */
export function receiveVideoTrack(receiver: RTCRtpReceiver, media: MediaSink): boolean {
  const create = (receiver as unknown as { createEncodedStreams?: () => EncodedStreams }).createEncodedStreams;
  if (typeof create !== 'function') return false;
  const { readable, writable } = create.call(receiver);
  media.track({});
  const tap = new TransformStream<RTCEncodedVideoFrame, RTCEncodedVideoFrame>({
    transform(frame, controller) {
      if (frame.type !== 'empty') {
        const meta = frame.getMetadata() as RTCEncodedVideoFrameMetadata & { receiveTime?: number };
        media.picture({
          rtpTs: (meta.rtpTimestamp ?? frame.timestamp) >>> 0,
          data: new Uint8Array(frame.data.slice(0)),
          key: frame.type === 'key',
          // When its last packet came (the performance clock), on the session's clock.
          receiveTs: typeof meta.receiveTime === 'number' ? Math.round(performance.timeOrigin + meta.receiveTime) : Date.now(),
        });
      }
      controller.enqueue(frame);
    },
  });
  readable
    .pipeThrough(tap)
    .pipeTo(writable)
    .catch(() => undefined);
  return true;
}
