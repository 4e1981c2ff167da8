/**
 * What an operator saw, from the pictures a receiver showed: pure summaries shared by both peers of
 * an emulation run (mmsc and the WebRTC anchor), so they are counted the same way.
 */

/** One new picture on the receiver's screen. */
export interface Shown {
  /** The source frame it shows (its stamp); null for a picture that was not read back. */
  n: number | null;
  /** When it was shown, epoch ms. */
  shownAt: number;
  /** When the sender captured that frame, epoch ms (null if unknown). */
  capturedAt: number | null;
  /** PSNR against its own source frame, over the frame (stamp rows excluded), dB; null: not read back. */
  psnr: number | null;
  /** PSNR inside the query's ground-truth region, dB; null where the frame has none. */
  queryPsnr: number | null;
}

/** A gap longer than this without a new picture is a stall. */
export const STALL_MS = 500;

export interface PeerSummary {
  /** Application bytes delivered per second while streaming (first to last picture). */
  goodputBps: number | null;
  /** What the link could carry over the same interval; null for an unlimited link. */
  capacityBps: number | null;
  /** New pictures per second from the first picture to the end of the run. */
  fps: number | null;
  ageMsP50: number | null;
  ageMsP95: number | null;
  /** Gaps of more than 500 ms without a new picture (the tail after the last picture counts). */
  stalls: number;
  maxStallMs: number;
  /** From the start of the connection to the first picture, ms; null when none came. */
  firstPictureMs: number | null;
  /** Mean over shown pictures (those read back and scored). */
  psnr: number | null;
  queryPsnr: number | null;
  connectFailures: number;
  /** Pictures shown. */
  pictures: number;
}

export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

const mean = (v: readonly number[]) => (v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length);
const round = (v: number | null, digits = 0) => (v === null ? null : Number(v.toFixed(digits)));

/** Stall count and longest stall over [firstPictureAt, endAt], from the pictures' show times. */
export function stallsOf(shownAt: readonly number[], endAt: number): { stalls: number; maxStallMs: number } {
  let stalls = 0;
  let maxStallMs = 0;
  const times = [...shownAt, endAt];
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] as number) - (times[i - 1] as number);
    if (gap > STALL_MS) {
      stalls++;
      maxStallMs = Math.max(maxStallMs, gap);
    }
  }
  return { stalls, maxStallMs: Math.round(maxStallMs) };
}

export interface SummaryInput {
  shown: readonly Shown[];
  /** When the peer started connecting, epoch ms. */
  startAt: number;
  /** End of the run, epoch ms. */
  endAt: number;
  /** Application bytes delivered between the first and the last picture (or null if not measured). */
  bytes: number | null;
  capacityBps: number | null;
  connectFailures: number;
}

export function summarise(i: SummaryInput): PeerSummary {
  const shown = [...i.shown].sort((a, b) => a.shownAt - b.shownAt);
  const first = shown[0];
  if (!first)
    return {
      goodputBps: null,
      capacityBps: i.capacityBps === null ? null : Math.round(i.capacityBps),
      fps: 0,
      ageMsP50: null,
      ageMsP95: null,
      stalls: 0,
      maxStallMs: 0,
      firstPictureMs: null,
      psnr: null,
      queryPsnr: null,
      connectFailures: i.connectFailures,
      pictures: 0,
    };
  const last = shown.at(-1) as Shown;
  const span = (last.shownAt - first.shownAt) / 1000;
  const ages = shown.flatMap((s) => (s.capturedAt === null ? [] : [s.shownAt - s.capturedAt]));
  const q = shown.flatMap((s) => (s.queryPsnr === null ? [] : [s.queryPsnr]));
  const { stalls, maxStallMs } = stallsOf(
    shown.map((s) => s.shownAt),
    i.endAt,
  );
  return {
    goodputBps: i.bytes === null || span <= 0 ? null : Math.round((i.bytes * 8) / span),
    capacityBps: i.capacityBps === null ? null : Math.round(i.capacityBps),
    fps: round((shown.length - 1) / Math.max(1e-3, (i.endAt - first.shownAt) / 1000), 2),
    ageMsP50: round(quantile(ages, 0.5)),
    ageMsP95: round(quantile(ages, 0.95)),
    stalls,
    maxStallMs,
    firstPictureMs: Math.round(first.shownAt - i.startAt),
    psnr: round(mean(shown.flatMap((s) => (s.psnr === null ? [] : [s.psnr]))), 2),
    queryPsnr: round(mean(q), 2),
    connectFailures: i.connectFailures,
    pictures: shown.length,
  };
}

/** Per-second series for plots, on a time axis in seconds from `t0` (epoch ms). */
export interface SecondRow {
  t: number;
  fps: number;
  ageMs: number | null;
  psnr: number | null;
  queryPsnr: number | null;
}

export function perSecond(shown: readonly Shown[], t0: number, seconds: number): SecondRow[] {
  const rows: SecondRow[] = [];
  for (let t = 0; t < seconds; t++) {
    const inSecond = shown.filter((s) => s.shownAt >= t0 + t * 1000 && s.shownAt < t0 + (t + 1) * 1000);
    const ages = inSecond.flatMap((s) => (s.capturedAt === null ? [] : [s.shownAt - s.capturedAt]));
    const q = inSecond.flatMap((s) => (s.queryPsnr === null ? [] : [s.queryPsnr]));
    rows.push({
      t,
      fps: inSecond.length,
      ageMs: round(mean(ages)),
      psnr: round(mean(inSecond.flatMap((s) => (s.psnr === null ? [] : [s.psnr]))), 2),
      queryPsnr: round(mean(q), 2),
    });
  }
  return rows;
}

/** Sums timestamped byte counts into per-second bit rates from `t0`. */
export function ratePerSecond(samples: readonly { at: number; bytes: number }[], t0: number, seconds: number): number[] {
  const out = new Array<number>(seconds).fill(0);
  for (const s of samples) {
    const k = Math.floor((s.at - t0) / 1000);
    if (k >= 0 && k < seconds) out[k] = (out[k] as number) + s.bytes * 8;
  }
  return out;
}

/** One shown picture as `--pictures` keeps it: ms on the link's clock, its age (ms), PSNR (dB). */
export interface PictureRow {
  t: number;
  n: number | null;
  ageMs: number | null;
  psnr: number | null;
  queryPsnr: number | null;
}

/** Every shown picture of one peer, on the clock of that peer's own start of the link. */
export function pictureRows(shown: readonly Shown[], linkStart: number): PictureRow[] {
  return shown.map((p) => ({
    t: p.shownAt - linkStart,
    n: p.n,
    ageMs: p.capturedAt === null ? null : p.shownAt - p.capturedAt,
    psnr: p.psnr,
    queryPsnr: p.queryPsnr,
  }));
}
