export { type CollectedFrame, FrameCollector, feedbackFor, MISSING } from './collect-frame.js';
export { type ApplyStats, type PatchDecoder, Reassembler } from './reassemble.js';
export { type FrameRecord, LinkStats, type SenderRate, type StatsSummary, senderRateOf } from './session/link-stats.js';
export { type QueryPorts, type QueryState, QueryWorkflow, type Wanted } from './session/query.js';
export { LINK_LABEL, type LinkState, refusalReason, SessionMachine, type StageMessage } from './session/reconnect.js';
