import { seededRandom } from '@mmsc/protocol';
import { describe, expect, it } from 'vitest';
import { type AssembledPicture, RtpAssembler, type RtpPacketIn, repairDeadline } from './rtp-assembler.js';

// A made-up codec: a payload whose first byte is 0xff begins a picture (as VP8's S bit does).
const START = 0xff;
const startsPicture = (p: Uint8Array) => p[0] === START;

/** A picture's packets from `seq` on: the first one flagged as a start when `flagged`, the marker on the last. */
function picture(seq: number, rtpTs: number, n: number, flagged = true): RtpPacketIn[] {
  return Array.from({ length: n }, (_, i) => ({
    seq: (seq + i) & 0xffff,
    timestamp: rtpTs,
    marker: i === n - 1,
    payload: Uint8Array.of(i === 0 && flagged ? START : 0, rtpTs & 0xff, i),
  }));
}

/** Feeds packets at `at` (ms), returning the pictures that came out. */
function feed(a: RtpAssembler, packets: RtpPacketIn[], at: number): AssembledPicture[] {
  return packets.flatMap((p) => a.push(p, at).pictures);
}

const stamps = (ps: AssembledPicture[]) => ps.map((p) => p.rtpTs);

describe('RtpAssembler', () => {
  it('outputs each picture when its marker packet completes it, payloads in order', () => {
    const a = new RtpAssembler({ startsPicture });
    const out = [
      ...feed(a, picture(100, 9000, 1), 10),
      ...feed(a, picture(101, 12000, 3, false), 20),
      ...feed(a, picture(104, 15000, 2, false), 30),
    ];
    expect(stamps(out)).toEqual([9000, 12000, 15000]);
    expect(out[1]?.payloads.map((p) => p[2])).toEqual([0, 1, 2]);
    expect(out.map((p) => p.afterGap)).toEqual([false, false, false]);
    expect(out[1]).toMatchObject({ firstArrival: 20, lastArrival: 20, bytes: 9 });
    expect(a.pending).toBe(0);
  });

  it('puts reordered packets back in sequence order, and the arrivals span first to last', () => {
    const a = new RtpAssembler({ startsPicture });
    const [p0, p1, p2, p3] = picture(7, 3000, 4);
    expect(feed(a, [p2!, p0!, p3!], 5)).toEqual([]);
    const [pic] = feed(a, [p1!], 9);
    expect(pic?.payloads.map((p) => p[2])).toEqual([0, 1, 2, 3]);
    expect(pic).toMatchObject({ firstArrival: 5, lastArrival: 9 });
  });

  it('holds later pictures behind a loss until it is repaired, then outputs all in order', () => {
    const a = new RtpAssembler({ startsPicture, deadlineMs: 200 });
    const first = picture(10, 1000, 3);
    const later = [...picture(13, 2000, 2, false), ...picture(15, 3000, 2, false)];
    feed(a, [first[0]!, first[2]!], 0);
    expect(feed(a, later, 10)).toEqual([]);
    expect(a.nextDeadline(10)).toBe(200); // the loss showed at 0, when packet 12 arrived
    expect(a.poll(150).pictures).toEqual([]);
    const out = feed(a, [first[1]!], 150); // the NACK's answer
    expect(stamps(out)).toEqual([1000, 2000, 3000]);
    expect(out.some((p) => p.afterGap)).toBe(false);
    expect(a.nextDeadline(150)).toBeNull();
  });

  it('drops a picture not repaired by the deadline once a later one is whole, and marks that one', () => {
    const a = new RtpAssembler({ startsPicture, deadlineMs: 200 });
    const first = picture(10, 1000, 3);
    feed(a, [first[0]!, first[2]!], 0);
    feed(a, picture(13, 2000, 2, false), 50);
    expect(a.poll(199).pictures).toEqual([]);
    const out = a.poll(200);
    expect(out.dropped).toBe(true);
    expect(stamps(out.pictures)).toEqual([2000]);
    expect(out.pictures[0]?.afterGap).toBe(true);
    expect(a.stats).toMatchObject({ droppedPictures: 1, droppedPackets: 2 });
    // The repair comes too late: a late packet, nothing more.
    expect(feed(a, [first[1]!], 250)).toEqual([]);
    expect(a.stats.late).toBe(1);
    const next = feed(a, picture(15, 3000, 1, false), 260);
    expect(next.map((p) => [p.rtpTs, p.afterGap])).toEqual([[3000, false]]);
  });

  it('waits past the deadline while no later picture is whole, and drops as soon as one is', () => {
    const a = new RtpAssembler({ startsPicture, deadlineMs: 100 });
    const first = picture(0, 1000, 2);
    const second = picture(2, 2000, 3, false);
    feed(a, [first[0]!, second[0]!], 0); // packet 1 lost
    expect(a.poll(500).pictures).toEqual([]);
    expect(a.nextDeadline(500)).toBeNull(); // past it: only a packet can change anything
    const out = a.push(second[2]!, 510);
    expect(out.pictures).toEqual([]); // 3 is missing too
    const done = a.push(second[1]!, 520);
    // Picture 2000 starts after 1000's lost marker: its start is not known, so it cannot be whole.
    expect(done.pictures).toEqual([]);
    const third = feed(a, picture(5, 3000, 1, false), 530);
    expect(stamps(third)).toEqual([3000]);
    expect(a.stats.droppedPictures).toBe(2);
  });

  it('finds a picture after a lost marker by the codec’s start signal', () => {
    const a = new RtpAssembler({ startsPicture, deadlineMs: 100 });
    const first = picture(0, 1000, 2);
    feed(a, [first[0]!], 0); // its marker packet (1) is lost
    const out = feed(a, picture(2, 2000, 2, true), 10);
    expect(out).toEqual([]);
    expect(a.poll(109).pictures).toEqual([]); // the loss showed at 10, when packet 2 came
    const later = a.poll(110);
    expect(later.pictures.map((p) => [p.rtpTs, p.afterGap])).toEqual([[2000, true]]);
  });

  it('ends a picture at a timestamp change even without a marker', () => {
    const a = new RtpAssembler({ startsPicture });
    const unmarked = picture(0, 1000, 2).map((p) => ({ ...p, marker: false }));
    expect(feed(a, unmarked, 0)).toEqual([]);
    const out = feed(a, picture(2, 2000, 1, false), 5);
    expect(stamps(out)).toEqual([1000, 2000]);
  });

  it('needs a start to begin: packets before the first known start wait, then go', () => {
    const a = new RtpAssembler({ startsPicture, deadlineMs: 100 });
    // Joined mid-picture: the tail of a picture (no start signal), then a whole one.
    const tail = picture(50, 1000, 3, false).slice(1);
    feed(a, tail, 0);
    expect(feed(a, picture(53, 2000, 2, false), 10)).toEqual([]);
    const out = a.poll(100);
    expect(out.pictures.map((p) => [p.rtpTs, p.afterGap])).toEqual([[2000, true]]);
    expect(out.dropped).toBe(true);
    // The codec's start signal ends the wait at once; a late start packet (a NACK's answer) comes first.
    const b = new RtpAssembler({ startsPicture, deadlineMs: 100 });
    const key = picture(900, 5000, 3);
    expect(feed(b, [key[1]!, key[2]!], 0)).toEqual([]);
    expect(stamps(feed(b, [key[0]!], 40))).toEqual([5000]);
  });

  it('follows the 16-bit sequence number around its wrap', () => {
    const a = new RtpAssembler({ startsPicture });
    const packets = [...picture(65533, 1000, 2), ...picture(65535, 2000, 3, false), ...picture(2, 3000, 1, false)];
    const out = feed(a, [packets[1]!, packets[0]!, packets[3]!, packets[2]!, packets[4]!, packets[5]!], 0);
    expect(stamps(out)).toEqual([1000, 2000, 3000]);
    expect(out[1]?.payloads.map((p) => p[2])).toEqual([0, 1, 2]);
  });

  it('tolerates duplicates, before and after output', () => {
    const a = new RtpAssembler({ startsPicture });
    const pic = picture(300, 1000, 3);
    const out = feed(a, [pic[0]!, pic[0]!, pic[1]!, pic[1]!, pic[2]!, pic[2]!, pic[0]!], 0);
    expect(stamps(out)).toEqual([1000]);
    expect(out[0]?.payloads).toHaveLength(3);
    expect(a.stats).toMatchObject({ duplicates: 2, late: 2 });
  });

  it('starts over from a packet far ahead (an outage), and asks for a keyframe by reporting a drop', () => {
    const a = new RtpAssembler({ startsPicture, maxPackets: 64 });
    feed(a, picture(0, 1000, 2), 0);
    feed(a, picture(2, 2000, 2).slice(0, 1), 5);
    const jump = a.push(picture(500, 9000, 1, false)[0]!, 10);
    expect(jump).toEqual({ pictures: [], dropped: true });
    expect(a.stats.resets).toBe(1);
    // Only a picture with a known start comes out after a start over; the tail before it (500) waits
    // for its start (a NACK's answer) until the deadline.
    expect(feed(a, picture(501, 9900, 2), 20)).toEqual([]);
    const out = a.poll(10 + 300);
    expect(out.pictures.map((p) => [p.rtpTs, p.afterGap])).toEqual([[9900, true]]);
    // As far behind: a start over too (a sender that restarted its numbering lower).
    expect(a.push(picture(200, 100, 1)[0]!, 400)).toMatchObject({ dropped: true, pictures: [{ rtpTs: 100 }] });
    expect(a.stats.resets).toBe(2);
  });

  it('starts over when the payloads held pass maxBytes, and refuses a packet that alone is larger', () => {
    const a = new RtpAssembler({ startsPicture, maxBytes: 10 });
    const big = { seq: 1, timestamp: 1, marker: false, payload: new Uint8Array(6).fill(START) };
    a.push(big, 0);
    expect(a.push({ ...big, seq: 2 }, 0).dropped).toBe(true);
    expect(a.pending).toBe(1);
    a.push({ ...big, seq: 3, payload: new Uint8Array(11) }, 0);
    expect(a.stats.malformed).toBe(1);
  });

  it('refuses what is not a packet', () => {
    const a = new RtpAssembler({ startsPicture });
    for (const [seq, timestamp] of [
      [70000, 1],
      [-1, 1],
      [1.5, 1],
      [1, -3],
      [1, 2 ** 32],
      [Number.NaN, 1],
    ])
      a.push({ seq: seq as number, timestamp: timestamp as number, marker: true, payload: Uint8Array.of(START) }, 0);
    expect(a.stats.malformed).toBe(6);
    expect(a.pending).toBe(0);
  });

  it('stays bounded and consistent under garbage: random sequence numbers, stamps, markers and sizes', () => {
    const rand = seededRandom(21);
    const a = new RtpAssembler({ startsPicture, maxPackets: 256, maxBytes: 64 * 1024, deadlineMs: 50 });
    let seen = 0;
    for (let i = 0; i < 20_000; i++) {
      const p = {
        seq: Math.floor(rand() * 65536),
        timestamp: Math.floor(rand() * 4) * 3000,
        marker: rand() < 0.3,
        payload: new Uint8Array(Math.floor(rand() * 1500)).fill(rand() < 0.2 ? START : 1),
      };
      const out = a.push(p, i);
      seen += out.pictures.length;
      expect(a.pending).toBeLessThanOrEqual(256);
      for (const pic of out.pictures) expect(pic.payloads.length).toBeGreaterThan(0);
    }
    expect(seen).toBeGreaterThan(0);
    // A steady stream after the garbage is assembled again (its start found by the codec's signal).
    const out = feed(a, [...picture(40000, 77, 3), ...picture(40003, 78, 2, false)], 30_000);
    expect(stamps(out.slice(-2))).toEqual([77, 78]);
  });

  it('clear() forgets everything held', () => {
    const a = new RtpAssembler({ startsPicture });
    feed(a, picture(5, 1000, 3).slice(0, 2), 0);
    a.clear();
    expect(a.pending).toBe(0);
    expect(stamps(feed(a, picture(1000, 2000, 2), 10))).toEqual([2000]);
  });

  it('repairDeadline: four round trips and 100 ms, within 300..1000 ms', () => {
    expect([0, 20, 50, 100, 200, 400].map(repairDeadline)).toEqual([300, 300, 300, 500, 900, 1000]);
  });
});
