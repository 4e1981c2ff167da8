import type { RateState } from '../rate/rate-controller.js';
import type { TrackCounters } from './video-track.js';

/** One link's counters (what `ReceiverLink` counts as it serves its receiver). */
export interface LinkCounters {
  connectedAt: string;
  framesSent: number;
  framesSkipped: number;
  bytesSent: number;
  lastBudget: number;
  lastFrameBytes: number;
  budgetViolations: number;
  protocolErrors: number;
  /** Keyframe requests (refresh messages, PLIs), and those ignored: a keyframe went too recently or is on its way already. */
  keyframeRequests: number;
  keyframeRequestsIgnored: number;
  lastFrameMs: Record<string, number>;
}

/** One receiver in /stats. */
export interface LinkStats extends LinkCounters {
  id: string;
  open: boolean;
  query: { id: string; text: string };
  refusals: Record<string, number>;
  rate: RateState;
  /** Where its pictures travel, and the video track's packets and repairs (transport `rtp`). */
  transport: 'channel' | 'rtp';
  track: TrackCounters | null;
}

export function newCounters(now = new Date()): LinkCounters {
  return {
    connectedAt: now.toISOString(),
    framesSent: 0,
    framesSkipped: 0,
    bytesSent: 0,
    lastBudget: 0,
    lastFrameBytes: 0,
    budgetViolations: 0,
    protocolErrors: 0,
    keyframeRequests: 0,
    keyframeRequestsIgnored: 0,
    lastFrameMs: {},
  };
}

export const round = (x: number) => Number(x.toFixed(1));
