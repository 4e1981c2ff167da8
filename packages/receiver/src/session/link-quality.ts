import type { StatsSummary } from './link-stats.js';

/** One word for the link as the operator sees it, and why. */
export interface LinkQuality {
  level: 'good' | 'limited' | 'poor' | 'down' | 'starting';
  /** What made it less than good, in words (empty when good). */
  reasons: string[];
}

/** Below these shares of the session's frame rate the link is limited, then poor. */
const LIMITED_FPS = 0.85;
const POOR_FPS = 0.5;
/** Frame age (capture on the sender → received here) above which the link is limited, then poor, ms. */
const LIMITED_AGE_MS = 400;
const POOR_AGE_MS = 1000;
/** A link estimate below this is limited, bits per second: the picture is coarse whatever the query. */
const LIMITED_BPS = 500_000;

/**
 * The link in one word from what the page measures over the last seconds: the frame rate against
 * the session's, the frames' age, and the sender's estimate of the link's rate. `fps`: the
 * session's frame rate (null when unknown: the rate is not judged). Pure: the page renders it.
 */
export function linkQuality(s: StatsSummary, fps: number | null, open: boolean): LinkQuality {
  if (!open) return { level: 'down', reasons: ['not connected'] };
  if (s.frames.received === 0) return { level: 'starting', reasons: ['no frame yet'] };
  const poor: string[] = [];
  const limited: string[] = [];
  if (fps !== null && fps > 0) {
    const share = s.fps / fps;
    const text = `${s.fps.toFixed(1)} of ${fps} fps`;
    if (share < POOR_FPS) poor.push(text);
    else if (share < LIMITED_FPS) limited.push(text);
  }
  if (s.latency !== null) {
    const text = `frames ${Math.round(s.latency)} ms old`;
    if (s.latency > POOR_AGE_MS) poor.push(text);
    else if (s.latency > LIMITED_AGE_MS) limited.push(text);
  }
  if (s.link !== null && s.link.bps < LIMITED_BPS) limited.push(`link ${Math.round(s.link.bps / 1000)} kbit/s`);
  if (poor.length > 0) return { level: 'poor', reasons: [...poor, ...limited] };
  if (limited.length > 0) return { level: 'limited', reasons: limited };
  return { level: 'good', reasons: [] };
}
