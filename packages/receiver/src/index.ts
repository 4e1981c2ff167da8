export { type CodecSide, PATCH_VALUES, PatchCodecs } from './codec/patch-codecs.js';
export { type CollectedFrame, FrameCollector, feedbackFor, MISSING } from './collect-frame.js';
export { ModelError, type ModelErrorCode } from './models/errors.js';
export { loadModel, sha256Hex } from './models/load-model.js';
export { type CodecEntry, codecEntries, type Manifest, type ModelFile, parseManifest, type TensorSpec } from './models/manifest.js';
export type { ModelReader, OrtRuntime, OrtSession, OrtTensor } from './models/ort.js';
export { GeometryError, patchify, placePatches, unpatchify } from './patchify.js';
export { type ApplyStats, type PatchDecoder, Reassembler } from './reassemble.js';
