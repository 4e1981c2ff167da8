import type { Chroma } from '@mmsc/codec';
import { H264Encoder } from '@mmsc/codec/h264-node';
import { type HelloMessage, splitVideo } from '@mmsc/protocol';
import { fitQuality } from '../allocate/fit-quality.js';
import { DEFAULT_QP_TIERS, macroblockOffsets, type QpTiers, qpRegions } from '../allocate/qp-regions.js';
import type { RgbImage } from '../images.js';
import { DEFAULT_CHROMA, planesOf } from './encode-video.js';

export interface EncodedStill {
  /** The `video` messages of one keyframe, as a link would carry them. */
  parts: Uint8Array[];
  wireBytes: number;
  chroma: Chroma;
  crf: number;
}

/** crf is searched in quarter steps, as the stills peers' quality knobs are searched. */
const STEPS = 4;
const MAX_CRF = 51;

/**
 * The h264 engine's picture of one still at a budget of wire bytes: a keyframe with the live
 * engine's x264 settings and quantizer map from the relevance, at the lowest crf (best quality)
 * whose messages fit. The live engine reaches its quality through CBR and its bucket instead; a
 * still has no stream to average over, so the stills evaluation searches crf as it does for the
 * peers. When even crf 51 does not fit in 4:4:4 (busy pictures at ~9 kB), 4:2:0 is tried — its
 * chroma costs a quarter. Null when nothing fits.
 */
export async function encodeStill(
  image: RgbImage,
  scores: Float32Array,
  budget: number,
  hello: HelloMessage,
  tiers: QpTiers = DEFAULT_QP_TIERS,
  chroma: Chroma = DEFAULT_CHROMA,
): Promise<EncodedStill | null> {
  const regions = qpRegions(
    macroblockOffsets(scores, image.width / hello.patchSize, hello.patchSize, image.width, image.height, tiers),
    image.width,
    image.height,
  );
  const wire = (parts: Uint8Array[]) => parts.reduce((n, p) => n + p.length, 0);
  for (const c of chroma === '444' ? (['444', '420'] as const) : (['420'] as const)) {
    const pic = planesOf(image, c);
    const code = async (crf: number) => {
      const enc = await H264Encoder.create({
        width: image.width,
        height: image.height,
        fps: hello.fps ?? 10,
        bitrate: 0,
        bufferBits: 0,
        crf,
        chroma: c,
      });
      try {
        const out = enc.encode(pic, regions, 0, true);
        return splitVideo({ frameId: 0, captureTs: 0, budget, key: true, data: out.data }, hello.maxMessageBytes);
      } finally {
        enc.close();
      }
    };
    // Sizes grow with q = STEPS × (51 − crf): the largest q that fits is the finest picture.
    const fit = await fitQuality(0, MAX_CRF * STEPS, budget, (q) => code(MAX_CRF - q / STEPS), wire);
    if (fit) return { parts: fit.coded, wireBytes: wire(fit.coded), chroma: c, crf: MAX_CRF - fit.q / STEPS };
  }
  return null;
}
