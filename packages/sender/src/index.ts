// The sender library's public surface: everything another package may import from `@mmsc/sender`.
// Test helpers are `@mmsc/sender/testing`; no other module path is exported (package.json "exports").

// Coding a frame outside a live link (evaluations, benches, round-trip tests)
export { type DistortionCurve, patchVariances } from './allocate/distortion.js';
export { fitQuality } from './allocate/fit-quality.js';
// Frames, images and sources
export { DEMO_IMAGE } from './assets.js';
// Engines (by the name a hello carries)
export type { Engine, EngineOptions, LinkEncoder, LinkFrame, LinkPicture, RefreshAnswer } from './engines/link-encoder.js';
export { DEFAULT_ENGINE, engineFor, engines, FALLBACK_ENGINE, isEngineName, UnknownEngineError } from './engines/registry.js';
export {
  type Crop,
  checkFrameOptions,
  coverCrop,
  DEFAULT_FRAME,
  FRAME_FITS,
  FRAME_SIZE,
  type FrameFit,
  type FrameGeometry,
  type FrameOptions,
  frameGeometry,
  SIZE_GRID,
} from './geometry.js';
export { curvesOf, helloFor } from './hello.js';
export { ImageError, listImages, type RgbImage, readFrame, readRgb, readSourceFrame, writeOverlay } from './images.js';
export { createLogger, type Log, type LogLevel, silentLog } from './log.js';
// Models
export { DEFAULT_MODELS_DIR, loadCodecs, ORT_SESSION_OPTIONS, readManifest, setOrtSpinning } from './models.js';
export { PatchCodeCache, type PatchEncoder } from './pipeline/code-cache.js';
export { type AllocatorName, FrameEncoder } from './pipeline/encode-frame.js';
export { encodeStill } from './pipeline/encode-still.js';
export { DEFAULT_CHROMA, VideoLinkEncoder } from './pipeline/encode-video.js';
export {
  type FramePipeline,
  InlineModels,
  type PipelineFrame,
  type PipelineHealth,
  type PipelineModels,
  SourcePipeline,
} from './pipeline/frame-pipeline.js';
export { KeepState } from './pipeline/keep-state.js';
export { WorkerModels } from './pipeline/worker-models.js';
// Relevance: a query grounded with the lexicon, the detector, their fusion
export type { DetectorOutput } from './relevance/decode-detections.js';
export { type GroundedQuery, groundOpen, groundText } from './relevance/grounder.js';
export { bestPerClass, IN_VIEW_SCORE, wordsNotInView } from './relevance/in-view.js';
export { groundQuery, type Lexicon, LexiconError } from './relevance/lexicon.js';
export { loadFusion, loadLexicon, loadRelevance } from './relevance/load-relevance.js';
export { COLOURS, type Colour, colourOf } from './relevance/modifiers.js';
export { OnnxTextImageRelevance, type TextImageEntry } from './relevance/onnx-text-image.js';
export {
  PersonMask,
  type PersonMaskEntry,
  type PersonMaskGrid,
  type PersonMaskGridResult,
  type PersonMaskResult,
  type PixelRect,
  stretchMask,
  stretchMaskRegion,
} from './relevance/person-mask.js';
export {
  DEFAULT_RELEVANCE_CHOICE,
  describeRelevanceChoice,
  parseRelevanceChoice,
  type RelevanceChoice,
} from './relevance/relevance-choice.js';
export {
  type Analysis,
  DEFAULT_RELEVANCE,
  DetectorRelevance,
  type DetectorRelevanceOptions,
  QueryRelevance,
  type RelevanceModel,
  type RelevanceResult,
} from './relevance/relevance-model.js';
export { TextDetector, type TextDetectorEntry, type TextMapResult } from './relevance/text-detector.js';
export type { AppOptions } from './server/app.js';
export { buildApp } from './server/app.js';
export { makeToken } from './server/auth.js';
export { defaultLimits, type Limits } from './server/limits.js';
export { Links, type LinksOptions } from './server/links.js';
export { ReceiverLink } from './server/receiver-link.js';
export { Streamer, type StreamerOptions } from './server/streamer.js';
export { ConfiguredPeerConnection } from './server/werift-peer.js';
export { sourceGeometry } from './sources/probe.js';
export { type FrameSource, openSource, PanSource, panCrop, SourceError } from './sources/sources.js';
// Starting a sender (`startSender` wires the rest), and its parts
export {
  DEFAULT_TRANSPORT,
  type LoadedModels,
  type RunningSender,
  type SenderConfig,
  SenderStartError,
  startSender,
  type TransportChoice,
  transportFor,
} from './start-sender.js';
