import { chromaSize, type YuvPicture } from '@mmsc/codec';
import { UnsupportedVideoFormatError, type VideoCodec, type VideoDecoderPort } from '../src/index.js';

/**
 * The page's video decoders: WebCodecs `VideoDecoder` (Chromium needs a secure context:
 * http://127.0.0.1, http://localhost or https) for the engine's codec. Each access unit goes in
 * alone and its planes come out through `copyTo`, converted by the shared YUV code, so the canvas
 * shows exactly what Node's decoder gives (H.264 and AV1 decoding are bit-exact). Configured from
 * each keyframe (the codec string the engine reads off it, e.g. H.264's SPS).
 */
/** How long a decoder may hold a picture before the frame counts as failed. */
const HOLD_MS = 1000;

export function webCodecsDecoder(videoCodec: VideoCodec): Promise<VideoDecoderPort> {
  if (typeof VideoDecoder === 'undefined') {
    return Promise.reject(
      new Error('this browser has no WebCodecs VideoDecoder (Chromium exposes it only to https or http://127.0.0.1 pages)'),
    );
  }
  let waiting: { resolve: (f: YuvPicture) => void; reject: (e: Error) => void } | null = null;
  let codec: string | null = null;
  let timestamp = 0;
  const settle = (f: (w: NonNullable<typeof waiting>) => void) => {
    const w = waiting;
    waiting = null;
    if (w) f(w);
  };
  const make = () =>
    new VideoDecoder({
      output: (frame) => settle((w) => planes(frame).then(w.resolve, (e: unknown) => w.reject(e as Error))),
      error: (e) => {
        codec = null; // a decoder is closed after an error: the next keyframe makes a new one
        settle((w) => w.reject(new Error(`VideoDecoder: ${e.message}`)));
      },
    });
  let current = make();
  const supported = new Map<string, boolean>();
  const port: VideoDecoderPort = {
    async decode(data, key) {
      if (key) {
        const c = videoCodec.webCodecs(data);
        if (!c) throw new Error(`a ${videoCodec.label} keyframe that names no codec profile`);
        if (current.state === 'closed') current = make();
        if (c !== codec) {
          // Asked once per format: a browser without High 4:4:4 says so here, and the sender
          // restarts this receiver's stream in 4:2:0 when told `unsupported-format`.
          let ok = supported.get(c);
          if (ok === undefined) {
            ok = (await VideoDecoder.isConfigSupported({ codec: c, hardwareAcceleration: 'prefer-software' })).supported === true;
            supported.set(c, ok);
          }
          if (!ok) throw new UnsupportedVideoFormatError(c);
          current.configure({ codec: c, optimizeForLatency: true, hardwareAcceleration: 'prefer-software' });
          codec = c;
        }
      }
      if (!codec) throw new Error('no keyframe yet');
      const out = new Promise<YuvPicture>((resolve, reject) => {
        waiting = { resolve, reject };
      });
      current.decode(new EncodedVideoChunk({ type: key ? 'key' : 'delta', timestamp: timestamp++, data }));
      // With optimizeForLatency and no reordering (zerolatency) each access unit gives its picture
      // at once. No flush per frame: after a flush WebCodecs requires a keyframe (measured: every
      // other picture failed). A decoder that holds a picture anyway is reset and the frame failed.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          waiting = null;
          codec = null;
          if (current.state !== 'closed') current.reset();
          reject(new Error(`VideoDecoder gave no picture within ${HOLD_MS} ms`));
        }, HOLD_MS);
      });
      try {
        return await Promise.race([out, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      if (current.state !== 'closed') current.close();
    },
  };
  return Promise.resolve(port);
}

/** The frame's planes, tight (software decoding gives I420 or I444; NV12 is de-interleaved). */
async function planes(frame: VideoFrame): Promise<YuvPicture> {
  try {
    const width = frame.codedWidth;
    const height = frame.codedHeight;
    const vw = frame.visibleRect?.width ?? width;
    const vh = frame.visibleRect?.height ?? height;
    const buf = new Uint8Array(frame.allocationSize());
    const layout = await frame.copyTo(buf);
    const fmt = frame.format;
    const plane = (i: number) => layout[i] as PlaneLayout;
    const take = (p: PlaneLayout, pw: number, ph: number) => {
      const out = new Uint8Array(pw * ph);
      for (let r = 0; r < ph; r++) out.set(buf.subarray(p.offset + r * p.stride, p.offset + r * p.stride + pw), r * pw);
      return out;
    };
    if (fmt === 'I420' || fmt === 'I444') {
      const chroma = fmt === 'I420' ? '420' : '444';
      const { cw, ch } = chromaSize(vw, vh, chroma);
      return {
        width: vw,
        height: vh,
        chroma,
        y: take(plane(0), vw, vh),
        u: take(plane(1), cw, ch),
        v: take(plane(2), cw, ch),
        yStride: vw,
        uvStride: cw,
      };
    }
    if (fmt === 'NV12') {
      const uv = plane(1);
      const u = new Uint8Array((vw / 2) * (vh / 2));
      const v = new Uint8Array((vw / 2) * (vh / 2));
      for (let r = 0; r < vh / 2; r++)
        for (let c = 0; c < vw / 2; c++) {
          u[r * (vw / 2) + c] = buf[uv.offset + r * uv.stride + 2 * c] as number;
          v[r * (vw / 2) + c] = buf[uv.offset + r * uv.stride + 2 * c + 1] as number;
        }
      return { width: vw, height: vh, chroma: '420', y: take(plane(0), vw, vh), u, v, yStride: vw, uvStride: vw / 2 };
    }
    throw new Error(`VideoDecoder gave ${fmt ?? 'an unknown'} pixel format; this page reads I420, I444 and NV12`);
  } finally {
    frame.close();
  }
}
