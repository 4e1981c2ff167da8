// The anchor's sending peer: draws the clip's frames on a canvas at the clip's frame rate and sends the
// canvas as a plain WebRTC video track. Driven by packages/cli/src/emulate/anchor.ts (window.anchor).
import { codecPreferences, findStat, gathered, loadClip, mediaPermission } from './anchor-common.js';

let pc = null;
let sender = null;
let media = null;
/** Per source frame index: every epoch-ms time it was drawn (captured), in order. */
const draws = [];
let running = false;
let timer = null;

/**
 * The frame clock: frame k (source frame k mod frames) is drawn at t0 + k / fps. The canvas stream is
 * `captureStream(0)` and each draw is followed by `requestFrame()`, so every drawn frame is exactly one
 * captured frame with a known draw time (`captureStream(fps)` would sample the canvas on its own clock,
 * repeating or skipping frames and blurring which draw a captured frame came from). Late ticks skip to the
 * frame that is due, like a camera would.
 */
function startClock(canvas, ctx, track, bitmaps, fps) {
  const t0 = performance.now();
  let k = 0;
  running = true;
  const tick = () => {
    if (!running) return;
    const due = Math.floor(((performance.now() - t0) * fps) / 1000);
    if (due >= k) {
      k = due;
      const i = k % bitmaps.length;
      ctx.drawImage(bitmaps[i], 0, 0, canvas.width, canvas.height);
      track.requestFrame();
      draws[i].push(Date.now());
      k++;
    }
    timer = setTimeout(tick, Math.max(0, t0 + (k * 1000) / fps - performance.now()));
  };
  tick();
}

window.anchor = {
  /** Loads the clip and starts drawing; the track exists before the offer. */
  async init(cfg) {
    if (cfg.mediaPermission) media = await mediaPermission();
    const { manifest, bitmaps } = await loadClip();
    for (let i = 0; i < manifest.frames; i++) draws.push([]);
    const canvas = document.getElementById('canvas');
    canvas.width = manifest.width;
    canvas.height = manifest.height;
    const ctx = canvas.getContext('2d');
    const stream = canvas.captureStream(0);
    const track = stream.getVideoTracks()[0];
    startClock(canvas, ctx, track, bitmaps, manifest.fps);
    pc = new RTCPeerConnection({ iceServers: cfg.iceServers, iceTransportPolicy: cfg.iceTransportPolicy });
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    transceiver.setCodecPreferences(codecPreferences(RTCRtpSender.getCapabilities('video'), cfg.codec));
    sender = transceiver.sender;
    return { frames: manifest.frames, fps: manifest.fps };
  },
  /** Non-trickle: the offer is read once gathering completes, with every candidate in it. */
  async offer(gatherMs) {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, gatherMs);
    return pc.localDescription.sdp;
  },
  /** Applies the answer, then raises the encoding's maximum bitrate (nothing else is changed). */
  async answer(sdp, maxBitrateBps) {
    await pc.setRemoteDescription({ type: 'answer', sdp });
    const params = sender.getParameters();
    if (!params.encodings || params.encodings.length === 0) throw new Error('sender has no encodings after negotiation');
    params.encodings[0].maxBitrate = maxBitrateBps;
    await sender.setParameters(params);
  },
  async stats() {
    const r = await pc.getStats();
    const out = findStat(r, 'outbound-rtp', 'video');
    let pair = null;
    const transport = findStat(r, 'transport');
    if (transport?.selectedCandidatePairId) pair = r.get(transport.selectedCandidatePairId) ?? null;
    if (!pair) for (const s of r.values()) if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
    const codec = out?.codecId ? r.get(out.codecId) : null;
    return {
      at: Date.now(),
      bytesSent: out?.bytesSent ?? 0,
      targetBitrate: out?.targetBitrate ?? null,
      nackCount: out?.nackCount ?? 0,
      pliCount: out?.pliCount ?? 0,
      frameWidth: out?.frameWidth ?? null,
      frameHeight: out?.frameHeight ?? null,
      availableOutgoingBitrate: pair?.availableOutgoingBitrate ?? null,
      codec: codec ? codec.mimeType.replace(/^video\//i, '') : null,
    };
  },
  /** Connection states and local candidate count, for a failed connection's error message. */
  state() {
    if (!pc) return 'no peer connection';
    const candidates = (pc.localDescription?.sdp.match(/^a=candidate:/gm) ?? []).length;
    return `ice gathering ${pc.iceGatheringState}, ice ${pc.iceConnectionState}, connection ${pc.connectionState}, ${candidates} local candidates`;
  },
  collect() {
    return { draws };
  },
  stop() {
    running = false;
    clearTimeout(timer);
    pc?.close();
    if (media) for (const t of media.getTracks()) t.stop();
  },
};
