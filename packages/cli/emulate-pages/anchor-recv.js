// The anchor's receiving peer: shows the remote track in a <video>, and for each presented frame reads the
// stamped frame number and scores the picture (as the operator sees it, scaled to the clip's size) against
// that source frame. Driven by packages/cli/src/emulate/anchor.ts (window.anchor).
import { codecPreferences, findStat, gathered, loadClip, mediaPermission } from './anchor-common.js';
import { readStamp, scorePicture, unwrapStamp } from './stamp.js';

let pc = null;
let media = null;
const shown = [];
let unreadable = 0;
let callbacks = 0;
let lastN = null;
let lastStamp = null;
/** Frames the compositor presented without a callback here (main thread busy), and time spent scoring. */
let missed = 0;
let lastPresented = null;
let busyMs = 0;

/** Source frames as RGBA pixels, decoded up front (a few hundred frames; beyond that, on demand). */
function sourcePixels(manifest, bitmaps) {
  const canvas = new OffscreenCanvas(manifest.width, manifest.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const pixels = (i) => {
    ctx.clearRect(0, 0, manifest.width, manifest.height);
    ctx.drawImage(bitmaps[i], 0, 0);
    return ctx.getImageData(0, 0, manifest.width, manifest.height).data;
  };
  if (manifest.frames <= 600) {
    const all = bitmaps.map((_, i) => pixels(i));
    return (i) => all[i];
  }
  return pixels;
}

function watch(video, manifest, source) {
  const { width, height } = manifest;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const onFrame = (_now, meta) => {
    const shownAt = Date.now();
    const t0 = performance.now();
    callbacks++;
    if (lastPresented !== null) missed += Math.max(0, meta.presentedFrames - lastPresented - 1);
    lastPresented = meta.presentedFrames;
    // Scaled to the clip's size when Chrome lowered the sent resolution: what the operator sees.
    ctx.drawImage(video, 0, 0, width, height);
    const picture = ctx.getImageData(0, 0, width, height).data;
    const stamp = readStamp(picture, width, height, 4);
    if (stamp === null) unreadable++;
    else {
      // The unwrapped stamp is the source frame index; a looped clip starts again at 0.
      const n = unwrapStamp(stamp, lastStamp) % manifest.frames;
      lastStamp = stamp;
      if (n !== lastN) {
        lastN = n;
        const s = scorePicture(picture, 4, source(n), 4, width, height, manifest.boxes[n] ?? []);
        shown.push({ n, shownAt, psnr: s.psnr, queryPsnr: s.queryPsnr });
      }
    }
    busyMs += performance.now() - t0;
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

window.anchor = {
  async init(cfg) {
    if (cfg.mediaPermission) media = await mediaPermission();
    const { manifest, bitmaps } = await loadClip();
    const source = sourcePixels(manifest, bitmaps);
    const video = document.getElementById('video');
    pc = new RTCPeerConnection({ iceServers: cfg.iceServers, iceTransportPolicy: cfg.iceTransportPolicy });
    pc.addEventListener('track', (e) => {
      video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
      video.play().catch(() => undefined);
    });
    watch(video, manifest, source);
    return { frames: manifest.frames };
  },
  /** Non-trickle: answers once gathering completes, with every candidate in the answer. */
  async answer(sdp, codec, gatherMs) {
    await pc.setRemoteDescription({ type: 'offer', sdp });
    for (const t of pc.getTransceivers()) {
      if (t.receiver.track.kind === 'video') t.setCodecPreferences(codecPreferences(RTCRtpReceiver.getCapabilities('video'), codec));
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc, gatherMs);
    return pc.localDescription.sdp;
  },
  firstShown() {
    return shown.length > 0 ? shown[0].shownAt : null;
  },
  async stats() {
    const r = await pc.getStats();
    const s = findStat(r, 'inbound-rtp', 'video');
    return {
      at: Date.now(),
      bytesReceived: s?.bytesReceived ?? 0,
      framesPerSecond: s?.framesPerSecond ?? null,
      framesDecoded: s?.framesDecoded ?? 0,
      framesDropped: s?.framesDropped ?? 0,
      freezeCount: s?.freezeCount ?? 0,
      totalFreezesDuration: s?.totalFreezesDuration ?? 0,
      jitterBufferDelay: s?.jitterBufferDelay ?? 0,
      jitterBufferEmittedCount: s?.jitterBufferEmittedCount ?? 0,
      nackCount: s?.nackCount ?? 0,
      pliCount: s?.pliCount ?? 0,
      frameWidth: s?.frameWidth ?? null,
      frameHeight: s?.frameHeight ?? null,
    };
  },
  /** Connection states and local candidate count, for a failed connection's error message. */
  state() {
    if (!pc) return 'no peer connection';
    const candidates = (pc.localDescription?.sdp.match(/^a=candidate:/gm) ?? []).length;
    return `ice gathering ${pc.iceGatheringState}, ice ${pc.iceConnectionState}, connection ${pc.connectionState}, ${candidates} local candidates`;
  },
  collect() {
    return { shown, unreadable, callbacks, missed, busyMs };
  },
  stop() {
    pc?.close();
    if (media) for (const t of media.getTracks()) t.stop();
  },
};
