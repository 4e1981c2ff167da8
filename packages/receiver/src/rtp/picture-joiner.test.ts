import type { PictureMessage } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { type JoinerOutput, PictureJoiner, type TrackPicture } from './picture-joiner.js';

const announce = (frameId: number, rtpTs: number, bytes = 1000 + frameId): PictureMessage => ({
  type: 'picture',
  frameId,
  captureTs: 5000 + frameId,
  budget: 2000,
  key: frameId === 1,
  rtpTs,
  bytes,
});
const pic = (rtpTs: number, receiveTs: number, o: Partial<TrackPicture> = {}): TrackPicture => ({
  rtpTs,
  data: Uint8Array.of(rtpTs & 0xff, 1, 2),
  key: false,
  receiveTs,
  afterGap: false,
  ...o,
});
const ids = (o: JoinerOutput) => o.frames.map((f) => f.frame.frameId);

describe('PictureJoiner', () => {
  it('joins a picture to its announcement, whichever comes first, as a whole one-part video frame', () => {
    const j = new PictureJoiner({ patchCount: 6 });
    expect(ids(j.announce(announce(1, 90), 0))).toEqual([]);
    const first = j.picture(pic(90, 12, { key: true }), 15);
    expect(first.frames[0]).toEqual({
      afterGap: false,
      frame: {
        frameId: 1,
        captureTs: 5001,
        budget: 2000,
        parts: 1,
        partsReceived: 1,
        bytesReceived: 1001,
        lastReceiveTs: 12,
        complete: true,
        levels: new Uint8Array(6),
        received: [],
        video: { key: true, chunks: [Uint8Array.of(90, 1, 2)] },
        base: null,
      },
    });
    // The picture first: it waits for its announcement.
    expect(ids(j.picture(pic(180, 40), 40))).toEqual([]);
    expect(j.nextDeadline()).toBe(1240);
    expect(ids(j.announce(announce(2, 180), 60))).toEqual([2]);
    expect(j.stats).toEqual({ joined: 2, unannounced: 0, unmatched: 0 });
  });

  it('keeps the track’s order: a picture waiting for its announcement holds the later ones', () => {
    const j = new PictureJoiner({ patchCount: 1 });
    j.announce(announce(2, 180), 0);
    expect(ids(j.picture(pic(90, 1), 1))).toEqual([]);
    expect(ids(j.picture(pic(180, 2), 2))).toEqual([]);
    expect(ids(j.announce(announce(1, 90), 50))).toEqual([1, 2]);
  });

  it('drops a picture whose announcement does not come in time, and marks the next frame', () => {
    const j = new PictureJoiner({ patchCount: 1, waitMs: 100 });
    j.picture(pic(90, 0), 0);
    j.announce(announce(2, 180), 10);
    j.picture(pic(180, 20), 20);
    expect(j.poll(99).frames).toEqual([]);
    const out = j.poll(100);
    expect(out.dropped).toBe(true);
    expect(out.frames.map((f) => [f.frame.frameId, f.afterGap])).toEqual([[2, true]]);
    expect(j.stats.unannounced).toBe(1);
    // The late announcement finds nothing, and is forgotten when a later picture is joined.
    j.announce(announce(1, 90), 150);
    j.announce(announce(3, 270), 160);
    expect(j.picture(pic(270, 170), 170).frames.map((f) => [f.frame.frameId, f.afterGap])).toEqual([[3, false]]);
    expect(j.stats.unmatched).toBe(1);
  });

  it('carries a gap from the track through', () => {
    const j = new PictureJoiner({ patchCount: 1 });
    j.announce(announce(4, 360), 0);
    expect(j.picture(pic(360, 1, { afterGap: true }), 1).frames[0]?.afterGap).toBe(true);
  });

  it('forgets announcements of pictures that never came: passed by a later one, or after keepMs', () => {
    const j = new PictureJoiner({ patchCount: 1, keepMs: 1000 });
    j.announce(announce(1, 90), 0);
    j.announce(announce(2, 180), 0);
    j.announce(announce(9, 810), 0);
    expect(ids(j.picture(pic(180, 5), 5))).toEqual([2]);
    expect(j.stats.unmatched).toBe(1); // frame 1's
    j.poll(1000);
    expect(j.stats.unmatched).toBe(2); // frame 9's, too old
    expect(ids(j.picture(pic(810, 1001), 1001))).toEqual([]);
  });

  it('orders RTP timestamps across their 32-bit wrap', () => {
    const j = new PictureJoiner({ patchCount: 1 });
    j.announce(announce(1, 0xffffff00), 0);
    j.announce(announce(2, 0x50), 0);
    expect(ids(j.picture(pic(0x50, 1), 1))).toEqual([2]);
    expect(j.stats.unmatched).toBe(1); // 0xffffff00 comes before 0x50
  });

  it('a repeated announcement replaces the first', () => {
    const j = new PictureJoiner({ patchCount: 1 });
    j.announce(announce(1, 90, 10), 0);
    j.announce(announce(1, 90, 20), 1);
    expect(j.picture(pic(90, 2), 2).frames[0]?.frame.bytesReceived).toBe(20);
    expect(j.stats.unmatched).toBe(0);
  });

  it('is bounded: pictures beyond maxPictures drop the oldest, announcements beyond maxAnnouncements too', () => {
    const j = new PictureJoiner({ patchCount: 1, maxPictures: 4, maxAnnouncements: 8 });
    let dropped = 0;
    for (let i = 0; i < 10; i++) if (j.picture(pic(i * 90, i), i).dropped) dropped++;
    expect(j.waiting).toBe(4);
    expect(dropped).toBe(6);
    for (let i = 100; i < 200; i++) j.announce(announce(i, i * 90 + 5), 0);
    expect(j.stats.unmatched).toBe(92);
    j.clear();
    expect(j.waiting).toBe(0);
    expect(j.nextDeadline()).toBeNull();
  });
});
