export { type CollectedFrame, FrameCollector, feedbackFor, MISSING } from './collect-frame.js';
