// The sender library's main entry points; every module is also reachable as @mmsc/sender/<path>.js.

export type { Engine, EngineOptions, LinkEncoder, LinkFrame, LinkPicture, RefreshAnswer } from './engines/link-encoder.js';
export { DEFAULT_ENGINE, engineFor, engines, FALLBACK_ENGINE, UnknownEngineError } from './engines/registry.js';
export { curvesOf, helloFor } from './hello.js';
export { type FramePipeline, InlineModels, type PipelineFrame, type PipelineModels, SourcePipeline } from './pipeline/frame-pipeline.js';
export { WorkerModels } from './pipeline/worker-models.js';
export { type GroundedQuery, groundText } from './relevance/grounder.js';
export { loadLexicon, loadRelevance } from './relevance/load-relevance.js';
export { DetectorRelevance, QueryRelevance } from './relevance/relevance-model.js';
export { type AppOptions, buildApp } from './server/app.js';
export { Links, type LinksOptions } from './server/links.js';
export { ReceiverLink } from './server/receiver-link.js';
export { Streamer, type StreamerOptions } from './server/streamer.js';
export { type FrameSource, openSource, SourceError } from './sources/sources.js';
