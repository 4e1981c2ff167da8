export { BASE_STEP, type BaseLayer, BaseLayerError, baseError, baseImage, decodeBase, encodeBase, makeBase } from './base-layer.js';
export { ModelError, type ModelErrorCode } from './models/errors.js';
export { loadModel, sha256Hex } from './models/load-model.js';
export { type CodecEntry, codecEntries, type Manifest, type ModelFile, parseManifest, type TensorSpec } from './models/manifest.js';
export type { ModelReader, OrtRuntime, OrtSession, OrtTensor } from './models/ort.js';
export { type CodecSide, PATCH_VALUES, PatchCodecs } from './patch-codecs.js';
export { GeometryError, patchify, placePatches, unpatchify } from './patchify.js';
export {
  depacketizeH264,
  depacketizeVp8,
  h264StartsAccessUnit,
  isH264Keyframe,
  isVp8Keyframe,
  RtpPayloadError,
  vp8StartsFrame,
} from './rtp/depacketize.js';
export { packetizeH264, packetizeVp8, RTP_MAX_PAYLOAD } from './rtp/packetize.js';
export {
  decodeTwcc,
  encodeTwcc,
  type ParsedTwcc,
  type ParsedTwccChunk,
  TWCC_DELTA_UNIT_US,
  TWCC_REFERENCE_UNIT_US,
  TwccError,
  type TwccErrorCode,
  type TwccFeedback,
  twccArrivals,
  twccChunks,
} from './rtp/twcc.js';
export { avcCodecString, nalPayloads, withoutSei } from './video/annexb.js';
export { allocYuv, type Chroma, chromaSize, rgbToYuv, type YuvPicture, yuvToRgb } from './video/yuv.js';
