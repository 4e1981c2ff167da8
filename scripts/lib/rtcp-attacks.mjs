// @ts-check
// The abuse suite's attacks on the video track's RTCP (transport `rtp`): a receiver completes the
// handshake like any other, takes the track, then floods the sender with NACKs, PLIs, malformed or
// lying transport-wide feedback, or receiver-report and SDES garbage. The packets are raw bytes:
// werift's `sendRtcp` encrypts whatever `serialize()` gives, so nothing here is limited to what
// werift itself would send.
import { randomBytes, randomInt } from 'node:crypto';
import { VIDEO_TRACK_CONFIG } from '@mmsc/cli';
import { encodeTwcc } from '@mmsc/codec';
import { RTP_EXTENSION_URI } from 'werift';

/** @import { RTCPeerConnection, RTCRtpReceiver } from 'werift' */

/** What the hostile receiver accepts of the offer's video section: what the Node receiver accepts (the sender's H.264 or VP8, with NACK, PLI and transport-wide feedback). */
export const VIDEO_PEER_CONFIG = VIDEO_TRACK_CONFIG;

/** werift's RTP history (the sender answers NACKs from its last 128 packets). */
const HISTORY = 128;

/**
 * The video track as the hostile receiver sees it: what arrived (first copies and repeats, pictures,
 * keyframes) and the sequence numbers its lies and NACKs name.
 * @typedef {object} TrackTap
 * @property {RTCRtpReceiver | null} receiver
 * @property {number | null} ssrc the sender's media SSRC
 * @property {number} packets RTP packets received the first time, and their payload bytes
 * @property {number} bytes
 * @property {number} repeats packets received again (retransmissions), and their payload bytes
 * @property {number} repeatBytes
 * @property {number} pictures pictures completed (marker bits of first copies)
 * @property {Set<number>} keyframes RTP timestamps of keyframes
 * @property {number[]} recent the last 128 RTP sequence numbers received
 * @property {{ tseq: number, at: number }[]} unreported transport-wide numbers received since the last lie (ms)
 * @property {(packets: Uint8Array[]) => boolean} send sends one compound RTCP packet of these bytes
 */

/**
 * Watches the video track of `pc` (call before the offer is answered). werift's own transport-wide
 * feedback is kept from going out (its packets' length fields are short, and it reports lost packets
 * as received): `honestFeedback` or a lie reports the packets in `unreported` instead.
 * @param {RTCPeerConnection} pc
 * @returns {TrackTap}
 */
export function tapTrack(pc) {
  /** @type {Set<number>} */
  const seen = new Set();
  /** @type {number[]} */
  const order = [];
  /** @type {TrackTap} */
  const tap = {
    receiver: null,
    ssrc: null,
    packets: 0,
    bytes: 0,
    repeats: 0,
    repeatBytes: 0,
    pictures: 0,
    keyframes: new Set(),
    recent: [],
    unreported: [],
    send(packets) {
      const t = tap.receiver?.dtlsTransport;
      if (!t || pc.connectionState === 'closed') return false;
      t.sendRtcp(packets.map((b) => /** @type {any} */ ({ serialize: () => Buffer.from(b) }))).catch(() => undefined);
      return true;
    },
  };
  pc.ontrack = ({ track, receiver }) => {
    if (track.kind !== 'video') return;
    tap.receiver = receiver;
    const r = /** @type {{ setupTWCC?: unknown }} */ (/** @type {unknown} */ (receiver));
    if (typeof r.setupTWCC === 'function') r.setupTWCC = () => undefined;
    const vp8 = track.codec?.mimeType.toLowerCase() === 'video/vp8';
    track.onReceiveRtp.subscribe((rtp, extensions) => {
      const h = rtp.header;
      tap.ssrc ??= h.ssrc;
      const tseq = extensions?.[RTP_EXTENSION_URI.transportWideCC];
      if (typeof tseq === 'number') tap.unreported.push({ tseq, at: performance.now() });
      if (tap.unreported.length > 4096) tap.unreported.splice(0, tap.unreported.length - 4096);
      if (seen.has(h.sequenceNumber)) {
        tap.repeats++;
        tap.repeatBytes += rtp.payload.length;
        return;
      }
      seen.add(h.sequenceNumber);
      order.push(h.sequenceNumber);
      if (order.length > 8192) seen.delete(/** @type {number} */ (order.shift()));
      tap.packets++;
      tap.bytes += rtp.payload.length;
      tap.recent.push(h.sequenceNumber);
      if (tap.recent.length > HISTORY) tap.recent.shift();
      if (h.marker) tap.pictures++;
      if (isKeyPayload(rtp.payload, vp8)) tap.keyframes.add(h.timestamp);
    });
  };
  return tap;
}

/** Whether an RTP payload starts a keyframe: an H.264 SPS or IDR slice (alone or as a FU-A's first piece), a VP8 key frame's first packet. */
function isKeyPayload(/** @type {Buffer} */ p, /** @type {boolean} */ vp8) {
  if (p.length < 2) return false;
  if (vp8) return ((p[0] ?? 0) & 0x10) !== 0 && ((p[1] ?? 1) & 0x01) === 0;
  const type = (p[0] ?? 0) & 0x1f;
  if (type === 28) return ((p[1] ?? 0) & 0x80) !== 0 && ((p[1] ?? 0) & 0x1f) === 5;
  return type === 5 || type === 7;
}

// ---------------------------------------------------------------------------------------------
// RTCP packets as bytes (RFC 3550, RFC 4585, draft-holmer-rmcat-transport-wide-cc-extensions)

/** One RTCP packet: header (count/FMT, PT, length from the body) and body, padded to 32 bits. */
function rtcp(/** @type {number} */ countOrFmt, /** @type {number} */ pt, /** @type {Uint8Array} */ body) {
  const size = 4 + Math.ceil(body.length / 4) * 4;
  const out = Buffer.alloc(size);
  out[0] = 0x80 | (countOrFmt & 0x1f);
  out[1] = pt;
  out.writeUInt16BE(size / 4 - 1, 2);
  out.set(body, 4);
  return out;
}
const u32 = (/** @type {number[]} */ ...xs) => {
  const b = Buffer.alloc(4 * xs.length);
  xs.forEach((x, i) => {
    b.writeUInt32BE(x >>> 0, 4 * i);
  });
  return b;
};

/** A picture loss indication (PSFB FMT 1). */
export const pli = (/** @type {number} */ sender, /** @type {number} */ media) => rtcp(1, 206, u32(sender, media));

/** A generic NACK (RTPFB FMT 1) for `seqs`: FCI entries of a packet id and the bitmask of the 16 after it. */
export function nack(/** @type {number} */ sender, /** @type {number} */ media, /** @type {readonly number[]} */ seqs) {
  /** @type {number[]} */
  const fci = [];
  let pid = -1;
  let blp = 0;
  for (const s of [...new Set(seqs.map((x) => x & 0xffff))].sort((a, b) => a - b)) {
    if (pid >= 0 && s - pid >= 1 && s - pid <= 16) {
      blp |= 1 << (s - pid - 1);
      continue;
    }
    if (pid >= 0) fci.push(((pid << 16) | blp) >>> 0);
    pid = s;
    blp = 0;
  }
  if (pid >= 0) fci.push(((pid << 16) | blp) >>> 0);
  return rtcp(1, 205, u32(sender, media, ...fci));
}

/** Transport-wide feedback's fixed part (without the RTCP header): SSRCs, base, count, reference time, feedback count. */
function twccFixed(
  /** @type {number} */ sender,
  /** @type {number} */ media,
  /** @type {number} */ base,
  /** @type {number} */ count,
  /** @type {number} */ ref,
) {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(sender >>> 0, 0);
  b.writeUInt32BE(media >>> 0, 4);
  b.writeUInt16BE(base & 0xffff, 8);
  b.writeUInt16BE(count & 0xffff, 10);
  b.writeUIntBE(ref & 0xffffff, 12, 3);
  b[15] = randomInt(256);
  return b;
}

/**
 * Malformed transport-wide feedback, by kind. `base` is a recent transport-wide number (the packets
 * it names were really sent). Each is what a careless or hostile receiver could put on the wire.
 * @type {Record<string, (sender: number, media: number, base: number) => Uint8Array>}
 */
export const BAD_TWCC = {
  // 65535 packets as 8 lost runs of 8191: 40 bytes that name every number there is.
  'huge count, all lost': (s, m, base) =>
    rtcp(15, 205, Buffer.concat([twccFixed(s, m, base, 0xffff, randomInt(1 << 23)), ...Array.from({ length: 9 }, () => u16(0x1fff))])),
  // 65535 packets received with small deltas, and the deltas of only ~1,300 of them.
  'huge count, deltas missing': (s, m, base) =>
    rtcp(
      15,
      205,
      Buffer.concat([
        twccFixed(s, m, base, 0xffff, randomInt(1 << 23)),
        ...Array.from({ length: 9 }, () => u16(0x3fff)),
        randomBytes(1300),
      ]),
    ),
  // One-bit status vectors, all received: 14 packets per chunk over ~1.4 KB.
  'status vectors, no deltas': (s, m, base) =>
    rtcp(15, 205, Buffer.concat([twccFixed(s, m, base, 0xffff, 0), ...Array.from({ length: 700 }, () => u16(0xbfff))])),
  // Runs of zero packets: a parser that adds each run's length never reaches the count.
  'zero-length runs': (s, m, base) =>
    rtcp(15, 205, Buffer.concat([twccFixed(s, m, base, 100, 0), ...Array.from({ length: 300 }, () => u16(0x2000))])),
  // The reserved status 3.
  'reserved status': (s, m, base) => rtcp(15, 205, Buffer.concat([twccFixed(s, m, base, 10, 0), u16(0x600a), Buffer.alloc(20)])),
  // The header's length says 200 words; 24 bytes follow.
  truncated: (s, m, base) => {
    const b = rtcp(15, 205, Buffer.concat([twccFixed(s, m, base, 20, 0), u16(0x2014), Buffer.alloc(2)]));
    b.writeUInt16BE(200, 2);
    return b;
  },
  // A count of zero.
  'zero count': (s, m, base) => rtcp(15, 205, twccFixed(s, m, base, 0, 0)),
  // Valid feedback on recent packets with a reference time anywhere in its 24 bits.
  'reference time jumps': (s, m, base) =>
    encodeTwcc({
      senderSsrc: s,
      mediaSsrc: m,
      baseSeq: base & 0xffff,
      referenceTime: randomInt(1 << 23) - (1 << 22),
      fbCount: randomInt(256),
      packets: Array.from({ length: 20 }, (_, i) => i * 1000),
    }),
  // Two feedback packets in one compound, the first one's length field past the end.
  'length past the compound': (s, m, base) => {
    const a = rtcp(15, 205, Buffer.concat([twccFixed(s, m, base, 1, 0), u16(0x2001), Buffer.from([4])]));
    a.writeUInt16BE(0xffff, 2);
    return Buffer.concat([a, rtcp(15, 205, Buffer.concat([twccFixed(s, m, base, 1, 0), u16(0x2001), Buffer.from([4])]))]);
  },
};
function u16(/** @type {number} */ x) {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(x & 0xffff);
  return b;
}

/**
 * A lie about the packets in `got` (transport-wide numbers, in arrival order): `instant` says every
 * one arrived within the same millisecond (a bottleneck thousands of times faster than the link),
 * `lost` that none arrived.
 * @param {number} sender @param {number} media @param {{ tseq: number }[]} got @param {'instant' | 'lost'} how @param {number} fbCount
 */
export function twccLie(sender, media, got, how, fbCount) {
  if (got.length === 0) return null;
  const first = /** @type {{ tseq: number }} */ (got[0]).tseq;
  const last = /** @type {{ tseq: number }} */ (got[got.length - 1]).tseq;
  const count = Math.min(0xffff, ((last - first) & 0xffff) + 1);
  const nowRef = Math.floor(performance.now() / 64) & 0x7fffff;
  const packets = Array.from({ length: count }, (_, i) => (how === 'lost' ? null : i === count - 1 ? 1000 : 0));
  return encodeTwcc({ senderSsrc: sender, mediaSsrc: media, baseSeq: first, referenceTime: nowRef, fbCount: fbCount & 0xff, packets });
}

/**
 * Honest transport-wide feedback on the packets in `got` (arrival order, times in ms): each
 * number from the lowest to the highest, with its arrival or as lost. Null when `got` is empty.
 * @param {number} sender @param {number} media @param {{ tseq: number, at: number }[]} got @param {number} fbCount
 */
export function twccTruth(sender, media, got, fbCount) {
  const first = got[0];
  if (!first) return null;
  /** @type {Map<number, number>} */
  const at = new Map();
  for (const g of got) {
    const off = (g.tseq - first.tseq + 0x8000) & 0xffff; // around the first, wrapping
    if (!at.has(off)) at.set(off, g.at);
  }
  const offs = [...at.keys()];
  const lo = Math.min(...offs);
  const hi = Math.max(...offs);
  const t0 = Math.min(...at.values());
  const ref = Math.floor(t0 / 64);
  const packets = Array.from({ length: hi - lo + 1 }, (_, i) => {
    const t = at.get(lo + i);
    return t === undefined ? null : Math.round((t - ref * 64) * 1000);
  });
  return encodeTwcc({
    senderSsrc: sender,
    mediaSsrc: media,
    baseSeq: (first.tseq + lo - 0x8000) & 0xffff,
    referenceTime: ref & 0x7fffff,
    fbCount: fbCount & 0xff,
    packets,
  });
}

/**
 * Sends honest transport-wide feedback on `tap`'s track every 50 ms, as a receiver does, until the
 * returned function is called.
 * @param {TrackTap} tap @param {number} own @param {number} ssrc
 */
function honestFeedback(tap, own, ssrc) {
  let n = 0;
  const timer = setInterval(() => {
    const fb = twccTruth(own, ssrc, tap.unreported.splice(0), n++);
    if (fb) tap.send([fb]);
  }, 50);
  return () => clearInterval(timer);
}

/**
 * Receiver-report, SDES and other RTCP garbage, by kind (each a whole compound packet).
 * @type {Record<string, (sender: number, media: number) => Uint8Array>}
 */
export const JUNK = {
  // 31 report blocks about the sender's SSRC and random ones, every field random (LSR/DLSR, lost, jitter).
  'receiver report, random blocks': (s, m) =>
    rtcp(
      31,
      201,
      Buffer.concat([
        u32(s),
        ...Array.from({ length: 31 }, (_, i) => Buffer.concat([u32(i % 2 ? m : randomInt(2 ** 32 - 1)), randomBytes(20)])),
      ]),
    ),
  // A receiver report that says 31 blocks and carries one.
  'receiver report, count past its length': (s, m) => rtcp(31, 201, Buffer.concat([u32(s, m), randomBytes(20)])),
  // SDES items that are not UTF-8, with lengths past the packet's end.
  'SDES, bad items': (s) =>
    rtcp(
      3,
      202,
      Buffer.concat([u32(s), Buffer.from([1, 200, 0xff, 0xfe, 0xc3]), u32(randomInt(2 ** 32 - 1)), Buffer.from([2, 255]), randomBytes(40)]),
    ),
  // A compound of a sender report, BYE and APP packets, all of random content.
  'SR, BYE and APP garbage': (s) =>
    Buffer.concat([rtcp(5, 200, Buffer.concat([u32(s), randomBytes(40)])), rtcp(31, 203, randomBytes(12)), rtcp(0, 204, randomBytes(64))]),
  // Random bytes after a valid-looking header (feedback types 205 and 206 with unknown FMTs).
  'feedback of unknown kinds': (s, m) =>
    Buffer.concat([rtcp(7, 205, Buffer.concat([u32(s, m), randomBytes(32)])), rtcp(9, 206, randomBytes(8))]),
  // A header whose length is 0 words, then bytes.
  'zero lengths': () => Buffer.concat([Buffer.from([0x81, 201, 0, 0]), Buffer.from([0x80, 202, 0, 0]), randomBytes(16)]),
};

// ---------------------------------------------------------------------------------------------
// The attacks

/**
 * What the attacks need of the suite: a receiver that takes the track, the sender's /stats, and
 * the run's clock.
 * @typedef {object} SuiteContext
 * @property {(o: { peerConfig?: object, onPeer?: (pc: RTCPeerConnection) => void }) => Promise<any>} receiver
 * @property {() => Promise<import('./types.mjs').SenderStats>} stats
 * @property {() => boolean} alive
 * @property {(pred: () => boolean, ms: number) => Promise<boolean>} until
 * @property {(ms: number) => Promise<void>} sleep
 * @property {number} attackMs
 */

/** @typedef {{ checks: [string, boolean, string][], info: Record<string, unknown> }} AttackOutcome */

/**
 * Runs `fn(i)` at `perSecond` (in batches, on a 5 ms timer) until `end` or until `stop()`. Returns how many ran.
 * @param {number} perSecond @param {number} end @param {() => boolean} stop @param {(i: number) => void} fn @param {(ms: number) => Promise<void>} sleep
 */
async function paced(perSecond, end, stop, fn, sleep) {
  const t0 = Date.now();
  let n = 0;
  while (Date.now() < end && !stop()) {
    const due = Math.floor(((Date.now() - t0) / 1000) * perSecond);
    while (n < due) fn(n++);
    await sleep(5);
  }
  return n;
}

/**
 * A receiver that holds a session on the track (`tapTrack`), once its first pictures came. Unless
 * `honest` is false it sends honest transport-wide feedback every 50 ms (stopped by `close`).
 * @param {SuiteContext} ctx @param {{ honest?: boolean }} [o]
 */
async function trackReceiver(ctx, o = {}) {
  /** @type {TrackTap | null} */
  let tap = null;
  const rx = await ctx.receiver({
    peerConfig: VIDEO_PEER_CONFIG,
    onPeer: (pc) => {
      tap = tapTrack(pc);
    },
  });
  const t = /** @type {TrackTap} */ (/** @type {unknown} */ (tap));
  await ctx.until(() => rx.hello !== null && t.ssrc !== null, 8000);
  const wrong =
    rx.hello?.transport !== 'rtp'
      ? `the sender does not use the track (hello transport ${rx.hello?.transport})`
      : t.ssrc === null
        ? 'no packet on the track within 8 s'
        : null;
  if (wrong !== null || t.ssrc === null) {
    await rx.close();
    throw new Error(wrong ?? 'no packet');
  }
  const own = t.receiver?.rtcpSsrc ?? randomInt(2 ** 32 - 1);
  const stop = o.honest === false ? () => {} : honestFeedback(t, own, t.ssrc);
  await ctx.until(() => t.pictures >= 2, 5000);
  return {
    rx,
    tap: t,
    ssrc: t.ssrc,
    own,
    async close() {
      stop();
      await rx.close();
    },
  };
}

/**
 * The track sender's control (not an attack): one more receiver on the track that behaves (werift's
 * NACKs, honest transport-wide feedback).
 * @param {SuiteContext} ctx
 */
export function trackControl(ctx) {
  return {
    name: 'control-one-track-receiver',
    async run() {
      const r = await trackReceiver(ctx);
      await ctx.sleep(ctx.attackMs);
      await r.close();
      return { checks: /** @type {[string, boolean, string][]} */ ([]), info: { pictures: r.tap.pictures } };
    },
  };
}

/** This receiver's link in /stats (by its session id), or null. */
async function linkOf(/** @type {SuiteContext} */ ctx, /** @type {any} */ rx) {
  const st = await ctx.stats();
  return /** @type {any} */ (st.receivers.find((r) => r.id === rx.hello?.sessionId) ?? null);
}

/** @param {SuiteContext} ctx @returns {{ name: string, holdsSession: boolean, track: true, run: () => Promise<AttackOutcome> }[]} */
export function trackAttacks(ctx) {
  const stop = () => !ctx.alive();
  return [
    {
      // Every recent sequence number asked for again, 500 times a second, and now and then a NACK
      // naming ~5,000 numbers: the sender may repair, not multiply its stream.
      name: 'rtcp-nack-flood',
      holdsSession: true,
      track: true,
      async run() {
        const { rx, tap, ssrc, own, close } = await trackReceiver(ctx);
        const end = Date.now() + ctx.attackMs;
        const at0 = { packets: tap.packets, bytes: tap.bytes, repeats: tap.repeats, repeatBytes: tap.repeatBytes, pictures: tap.pictures };
        const sent = await paced(
          500,
          end,
          stop,
          (i) => {
            const last = tap.recent.at(-1) ?? 0;
            const seqs =
              i % 100 === 99 ? Array.from({ length: 5000 }, (_, k) => last - k) : Array.from({ length: 128 }, (_, k) => last - k);
            tap.send([nack(own, ssrc, seqs)]);
          },
          ctx.sleep,
        );
        await ctx.sleep(300);
        const link = await linkOf(ctx, rx);
        await close();
        const firsts = tap.packets - at0.packets;
        const repeats = tap.repeats - at0.repeats;
        const firstBytes = tap.bytes - at0.bytes;
        const repeatBytes = tap.repeatBytes - at0.repeatBytes;
        const pictures = tap.pictures - at0.pictures;
        // What the history held when the flood began may come again too: 128 packets of at most 1200 bytes.
        const history = 128 * 1200;
        return {
          checks: [
            [
              'rtcp-nack-flood: retransmissions stay within the bytes the track sent (plus its 128-packet history)',
              repeatBytes <= firstBytes + history,
              `${repeats} packets (${repeatBytes} B) again for ${firsts} first copies (${firstBytes} B), ${sent} NACKs; sender: ${JSON.stringify(link?.track ?? null)}`,
            ],
            ['rtcp-nack-flood: the flooding receiver keeps getting pictures', pictures >= 2, `${pictures} pictures during the flood`],
            [
              'rtcp-nack-flood: the sender heard the NACKs',
              (link?.track?.nacks ?? 0) > 0,
              `${link?.track?.nacks ?? 'no link'} NACKs counted`,
            ],
          ],
          info: { nacks: sent, firsts, firstBytes, repeats, repeatBytes, pictures, track: link?.track ?? null },
        };
      },
    },
    {
      // 500 PLIs a second: at most one keyframe per 500 ms for the flooder, none for anyone else.
      name: 'rtcp-pli-flood',
      holdsSession: true,
      track: true,
      async run() {
        const { rx, tap, ssrc, own, close } = await trackReceiver(ctx);
        const end = Date.now() + ctx.attackMs;
        const t0 = Date.now();
        const at0 = { keys: tap.keyframes.size, pictures: tap.pictures };
        const sent = await paced(500, end, stop, () => tap.send([pli(own, ssrc)]), ctx.sleep);
        const seconds = (Date.now() - t0) / 1000;
        await ctx.sleep(300);
        const link = await linkOf(ctx, rx);
        await close();
        const keys = tap.keyframes.size - at0.keys;
        const pictures = tap.pictures - at0.pictures;
        const ignored = link?.keyframeRequestsIgnored ?? null;
        return {
          checks: [
            [
              'rtcp-pli-flood: keyframes stay at most one per 500 ms',
              keys <= Math.ceil(seconds * 2) + 1,
              `${keys} keyframes in ${seconds.toFixed(1)} s for ${sent} PLIs`,
            ],
            ['rtcp-pli-flood: the flooding receiver keeps getting pictures', pictures >= 2, `${pictures} pictures during the flood`],
            [
              'rtcp-pli-flood: the sender heard the PLIs and counts the ones it ignored',
              (link?.track?.plis ?? 0) >= sent / 2 && typeof ignored === 'number' && ignored >= (link?.track?.plis ?? 0) - keys - 1,
              `${link?.track?.plis ?? 'no link'} PLIs counted of ${sent}, ${ignored} keyframe requests ignored`,
            ],
          ],
          info: { plis: sent, keys, pictures, seconds: Number(seconds.toFixed(1)), ignored, track: link?.track ?? null },
        };
      },
    },
    {
      // Malformed transport-wide feedback, 500 packets a second of every kind in BAD_TWCC, beside
      // werift's own (honest) feedback.
      name: 'rtcp-twcc-malformed',
      holdsSession: true,
      track: true,
      async run() {
        const { rx, tap, ssrc, own, close } = await trackReceiver(ctx);
        const end = Date.now() + ctx.attackMs;
        const kinds = Object.values(BAD_TWCC);
        const sent = await paced(
          500,
          end,
          stop,
          (i) => {
            const base = tap.unreported.at(-20)?.tseq ?? 0;
            tap.send([/** @type {(typeof kinds)[number]} */ (kinds[i % kinds.length])(own, ssrc, base)]);
          },
          ctx.sleep,
        );
        await ctx.sleep(300);
        const link = await linkOf(ctx, rx);
        await close();
        const t = link?.track ?? null;
        return {
          checks: [
            [
              'rtcp-twcc-malformed: the sender drops what it cannot read or take, and keeps the link',
              t !== null && (t.badFeedback ?? 0) + (t.feedbackDropped ?? 0) > 0,
              `${sent} sent; sender: ${JSON.stringify(t)}`,
            ],
          ],
          info: { sent, kinds: Object.keys(BAD_TWCC), track: t, rate: link?.rate ?? null },
        };
      },
    },
    {
      // Two receivers whose only transport-wide feedback lies, every 50 ms like an honest one: one
      // says each packet arrived within the same millisecond, the other that none arrived.
      name: 'rtcp-twcc-lies',
      holdsSession: true,
      track: true,
      async run() {
        const liars = await Promise.all([trackReceiver(ctx, { honest: false }), trackReceiver(ctx, { honest: false })]);
        const hows = /** @type {const} */ (['instant', 'lost']);
        const end = Date.now() + ctx.attackMs;
        /** @type {{ rateBps: number, mode?: string }[][]} */
        const rates = [[], []];
        const at0 = liars.map((l) => l.tap.pictures);
        let fb = 0;
        while (Date.now() < end && ctx.alive()) {
          liars.forEach((l, i) => {
            const got = l.tap.unreported.splice(0);
            const lie = twccLie(l.own, l.ssrc, got, /** @type {'instant' | 'lost'} */ (hows[i]), fb);
            if (lie) l.tap.send([lie]);
          });
          fb++;
          await ctx.sleep(50);
          if (fb % 10 === 0) {
            const st = await ctx.stats();
            liars.forEach((l, i) => {
              const r = /** @type {any} */ (st.receivers.find((x) => x.id === l.rx.hello?.sessionId));
              if (r) rates[i]?.push({ rateBps: r.rate?.rateBps, mode: r.rate?.mode });
            });
          }
        }
        const links = await Promise.all(liars.map((l) => linkOf(ctx, l.rx)));
        for (const l of liars) await l.close();
        const maxBps = (/** @type {{ rateBps: number }[] | undefined} */ rs) => Math.max(0, ...(rs ?? []).map((r) => r.rateBps));
        const sane = (/** @type {{ rateBps: number }[] | undefined} */ rs) =>
          (rs ?? []).every((r) => Number.isFinite(r.rateBps) && r.rateBps > 0);
        const pictures = liars.map((l, i) => l.tap.pictures - (at0[i] ?? 0));
        const bytesPerS = links.map((k) => (k ? (k.bytesSent * 8) / ((Date.now() - Date.parse(k.connectedAt)) / 1000) : null));
        return {
          checks: [
            [
              'rtcp-twcc-lies: the rates stay finite and positive whatever the feedback claims',
              sane(rates[0]) && sane(rates[1]) && (rates[0]?.length ?? 0) > 0,
              `instant: max ${Math.round(maxBps(rates[0]) / 1e3)} kbit/s, lost: max ${Math.round(maxBps(rates[1]) / 1e3)} kbit/s`,
            ],
            [
              'rtcp-twcc-lies: an instant-arrival lie gets no more than the sender’s maximum rate (20 Mbit/s)',
              maxBps(rates[0]) <= 20e6,
              `max ${Math.round(maxBps(rates[0]) / 1e3)} kbit/s; ${Math.round((bytesPerS[0] ?? 0) / 1e3)} kbit/s sent on average`,
            ],
            [
              'rtcp-twcc-lies: everything-lost feedback never raises that receiver’s rate above its start (1 Mbit/s)',
              maxBps(rates[1]) <= 1_000_000,
              `max ${Math.round(maxBps(rates[1]) / 1e3)} kbit/s, last ${Math.round((rates[1]?.at(-1)?.rateBps ?? 0) / 1e3)} kbit/s; ${Math.round((bytesPerS[1] ?? 0) / 1e3)} kbit/s sent on average`,
            ],
          ],
          info: {
            feedbackPackets: fb,
            rates: rates.map((rs) => rs.map((r) => Math.round(r.rateBps / 1e3))),
            modes: rates.map((rs) => rs.at(-1)?.mode ?? null),
            pictures,
            kbpsSent: bytesPerS.map((b) => (b === null ? null : Math.round(b / 1e3))),
            tracks: links.map((k) => k?.track ?? null),
          },
        };
      },
    },
    {
      // Receiver reports, SDES, SR/BYE/APP and unknown feedback, all garbage, 500 compounds a second.
      name: 'rtcp-junk',
      holdsSession: true,
      track: true,
      async run() {
        const { rx, tap, ssrc, own, close } = await trackReceiver(ctx);
        const end = Date.now() + ctx.attackMs;
        const kinds = Object.values(JUNK);
        const at0 = tap.pictures;
        const sent = await paced(
          500,
          end,
          stop,
          (i) => tap.send([/** @type {(typeof kinds)[number]} */ (kinds[i % kinds.length])(own, ssrc)]),
          ctx.sleep,
        );
        await ctx.sleep(300);
        const link = await linkOf(ctx, rx);
        await close();
        const pictures = tap.pictures - at0;
        return {
          checks: [
            [
              'rtcp-junk: the receiver sending garbage keeps its session and its pictures',
              link !== null && pictures >= 2,
              `${pictures} pictures; ${sent} sent`,
            ],
          ],
          info: { sent, kinds: Object.keys(JUNK), pictures, track: link?.track ?? null },
        };
      },
    },
  ];
}
