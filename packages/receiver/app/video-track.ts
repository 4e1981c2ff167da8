/**
 * The sender's video track on the page (a session whose hello says `transport: 'rtp'`): Chromium's
 * own receiver does the network half — jitter buffer, NACKs, reference tracking, keyframe requests
 * — and hands each whole coded picture to encoded streams (`encodedInsertableStreams`). There its
 * trailer (the picture's `picture` announcement) is cut off, a copy goes to the session (decoded by
 * the decode worker like any video frame) and the picture, without its trailer, goes on to
 * Chromium's decoder, which keeps its own keyframe requests alive. The track is never shown: the
 * worker's pictures are, in sync with the overlays.
 */
import type { PictureMessage } from '@mmsc/protocol';
import { cutPictureTrailer, type MediaSink, type TrailerLayout, trailerLayoutOf } from '../src/index.js';

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
        const meta = frame.getMetadata() as RTCEncodedVideoFrameMetadata & { receiveTime?: number; mimeType?: string };
        const bytes = new Uint8Array(frame.data);
        let data: Uint8Array = bytes;
        let picture: PictureMessage | null = null;
        const layout = layoutOf(receiver, meta);
        try {
          if (layout) ({ data, picture } = cutPictureTrailer(bytes, layout));
        } catch {
          // No valid trailer: the session counts the picture as lost; Chromium's decoder gets it as it came.
        }
        // Chromium's decoder never sees the trailer; the session gets a copy of its own (it goes to the worker).
        if (picture) frame.data = data.slice().buffer;
        media.picture({
          rtpTs: (meta.rtpTimestamp ?? frame.timestamp) >>> 0,
          data: data.slice(),
          key: frame.type === 'key',
          // When its last packet came (the performance clock), on the session's clock.
          receiveTs: typeof meta.receiveTime === 'number' ? Math.round(performance.timeOrigin + meta.receiveTime) : Date.now(),
          picture,
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

/** Where the track's pictures carry their trailer: the frame's codec (its MIME type, or its payload type's in the negotiated codecs). */
function layoutOf(receiver: RTCRtpReceiver, meta: { mimeType?: string; payloadType?: number }): TrailerLayout | null {
  const mime = meta.mimeType ?? receiver.getParameters().codecs.find((c) => c.payloadType === meta.payloadType)?.mimeType;
  return mime ? trailerLayoutOf(mime) : null;
}
