import { depacketizeH264, depacketizeVp8, packetizeH264, packetizeVp8 } from '@mmsc/codec';
import { isProtocolError, pictureTrailer, TRAILER_NAL_HEADER, withPictureTrailer } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { cutPictureTrailer, trackFrame, trailerLayoutOf } from './track-picture.js';

const announce = { frameId: 7, captureTs: 1234.5, budget: 900, key: true, rtpTs: 111_105, bytes: 640 };
const SC = [0, 0, 0, 1];
// An SPS, a PPS and an IDR slice (header bytes 0x67, 0x68, 0x65), Annex B.
const AU = Uint8Array.from([...SC, 0x67, 0xf4, 0x00, 0x1f, ...SC, 0x68, 0xce, 0x38, 0x80, ...SC, 0x65, 0x88, 0x84, 0x21]);

/** The reason a cut fails, or null. */
function refusal(f: () => unknown): string | null {
  try {
    f();
  } catch (e) {
    return isProtocolError(e) ? e.code : `not a ProtocolError: ${String(e)}`;
  }
  return null;
}

describe('cutPictureTrailer', () => {
  it('H.264: the trailer’s own NAL unit after the access unit, as our depacketizer rebuilds it, comes off whole', () => {
    // What the sender puts on the track: the access unit's payloads, then the trailer's unit.
    const payloads = [...packetizeH264(AU, 8), Uint8Array.of(TRAILER_NAL_HEADER, ...pictureTrailer(announce))];
    const bytes = depacketizeH264(payloads);
    expect([...bytes.subarray(AU.length, AU.length + 5)]).toEqual([...SC, 0x17]);
    const { data, picture } = cutPictureTrailer(bytes, 'nal-unit');
    expect(data).toEqual(AU);
    expect(picture).toEqual({ type: 'picture', ...announce });
  });

  it('H.264: also behind a 3-byte start code', () => {
    const bytes = Uint8Array.from([...AU, 0, 0, 1, TRAILER_NAL_HEADER, ...pictureTrailer(announce)]);
    expect(cutPictureTrailer(bytes, 'nal-unit').data).toEqual(AU);
  });

  it('H.264: refuses a trailer that is not a unit of its own, or one with no access unit before it', () => {
    expect(refusal(() => cutPictureTrailer(withPictureTrailer(AU, announce), 'nal-unit'))).toBe('bad-field');
    const alone = Uint8Array.from([...SC, TRAILER_NAL_HEADER, ...pictureTrailer(announce)]);
    expect(refusal(() => cutPictureTrailer(alone, 'nal-unit'))).toBe('truncated');
    const otherType = Uint8Array.from([...AU, ...SC, 0x06, ...pictureTrailer(announce)]);
    expect(refusal(() => cutPictureTrailer(otherType, 'nal-unit'))).toBe('bad-field');
  });

  it('VP8: the trailer right after the frame, across packets', () => {
    const frame = Uint8Array.from({ length: 50 }, (_, i) => (i * 7) & 0xff);
    const bytes = depacketizeVp8(packetizeVp8(withPictureTrailer(frame, announce), 12));
    const { data, picture } = cutPictureTrailer(bytes, 'appended');
    expect(data).toEqual(frame);
    expect(picture.bytes).toBe(640);
    // A VP8 frame ending in what looks like a start code keeps its bytes.
    const tail = Uint8Array.from([...frame, 0, 0, 1, 0x17]);
    expect(cutPictureTrailer(withPictureTrailer(tail, announce), 'appended').data).toEqual(tail);
  });

  it('refuses a picture without a trailer, or with a broken one, either way', () => {
    for (const layout of ['nal-unit', 'appended'] as const) {
      expect(refusal(() => cutPictureTrailer(AU, layout))).not.toBeNull();
      const broken = Uint8Array.from([...AU, ...SC, TRAILER_NAL_HEADER, ...pictureTrailer(announce)]);
      broken[AU.length + 5] = 0xc1; // the message's first byte: never used in msgpack
      expect(refusal(() => cutPictureTrailer(broken, layout))).not.toBeNull();
    }
  });
});

describe('trailerLayoutOf', () => {
  it('knows the two codecs on the track by MIME type, in any case', () => {
    expect(['video/H264', 'video/h264', 'video/VP8', 'video/AV1'].map(trailerLayoutOf)).toEqual(['nal-unit', 'nal-unit', 'appended', null]);
  });
});

describe('trackFrame', () => {
  it('a whole one-part frame: the announcement’s numbers, the picture’s bytes and arrival', () => {
    const f = trackFrame({ data: AU, key: true, receiveTs: 2000 }, { type: 'picture', ...announce }, 3);
    expect(f).toMatchObject({
      frameId: 7,
      captureTs: 1234.5,
      budget: 900,
      bytesReceived: 640,
      lastReceiveTs: 2000,
      complete: true,
      parts: 1,
    });
    expect(f.video).toEqual({ key: true, chunks: [AU] });
    expect(f.levels).toEqual(new Uint8Array(3));
  });
});
