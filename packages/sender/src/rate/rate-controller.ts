/**
 * Application rate control for one receiver (RATE_CONTROL.md). Pure: time and measurements come in
 * as arguments, so it runs the same on a live data channel and on a simulated trace.
 *
 * Signals:
 * - feedback: the receiver reports each frame's bytes and the receive time of its last part; goodput
 *   is bytes delivered over receive-clock time in a sliding window (the link's real delivery rate
 *   whenever the sender keeps it busy);
 * - backlog: bytes sent but not yet reported received (in werift's queue, in flight, in the network);
 * - srtt from SCTP, whose rise above its minimum shows queueing in the network.
 * Control: budget B = rate × frame interval × (1 − margin), less what the backlog stands above
 * `maxDelayS` at the estimated rate (no frame while that leaves under a quarter of B); probe upwards
 * multiplicatively while the link keeps up; when it does not, follow measured goodput.
 */
import { type Arrival, ArrivalGroups, type ClosedGroup, LOSS_WINDOW_S, STALL_S } from './arrival-groups.js';
import type { TrackArrival } from './track-arrivals.js';

export interface RateOptions {
  fps: number;
  initialBps: number;
  minBps: number;
  maxBps: number;
  /** Share of the rate kept free of frames, for feedback and estimation error. */
  margin: number;
  /** Target bound on queued data: at most this many seconds at the estimated rate. */
  maxDelayS: number;
  /** Sliding window for goodput, seconds of receive time. */
  windowS: number;
  /** Multiplicative increase per update while probing. */
  probeGain: number;
  /**
   * Multiplicative increase per update before the link has shown any limit (no hold or backoff yet):
   * a slow start, so a fast link is found in well under a second.
   */
  startGain: number;
  /** Queueing delay (srtt above its minimum) that counts as congestion, seconds. */
  srttRiseS: number;
  /**
   * Slow start pauses (no growth) on feedback for a frame that took longer than this to deliver
   * (send → feedback, less the base RTT), seconds: the link is near its rate.
   */
  startPauseS: number;
}

export const DEFAULT_RATE: RateOptions = {
  fps: 10,
  // WebRTC's own start is 300 kbit/s; 1 Mbit/s finds a 20 Mbit/s link in ~1.4 s of slow start.
  initialBps: 1_000_000,
  minBps: 100_000,
  maxBps: 200_000_000,
  margin: 0.05,
  maxDelayS: 0.25,
  windowS: 0.5,
  probeGain: 1.15,
  startGain: 1.25,
  srttRiseS: 0.06,
  startPauseS: 0.2,
};

interface Sent {
  frameId: number;
  bytes: number;
  budget: number;
  sentAt: number;
  /** Bytes still unacknowledged ahead of this frame when it was sent. */
  behind: number;
}

export interface RateState {
  /** Estimated deliverable rate, bits per second. */
  rateBps: number;
  /** Goodput measured from feedback over the window, bits per second (NaN until measured). */
  goodputBps: number;
  backlogBytes: number;
  srttS: number | null;
  mode: 'start' | 'probe' | 'hold' | 'backoff' | 'timeout' | 'outage';
  framesSkipped: number;
  /** Share of packets lost (retransmission stalls per packet) over the last 2 s. */
  lossFraction: number;
  /** Transport `rtp`: the bottleneck's rate as the last update measured it (bits/s), or null. */
  bottleneckBps: number | null;
}

/**
 * Why `onFeedback` refused a report (RATE_CONTROL.md, "Feedback sanity"). A refused report changes
 * nothing: its frame stays outstanding and, if no acceptable report follows, times out.
 * - `feedback-bytes`: the byte count is not finite, negative, or more than was sent for that frame;
 * - `feedback-time`: `receiveTs` is not finite, or the receiver's clock does not keep up with the
 *   sender's (it went backwards, stalled, or ran ahead).
 * A report for a frame that is not outstanding is not a rejection (`null`): duplicates and late
 * reports are normal on a lossy link.
 */
export type FeedbackRejection = 'feedback-bytes' | 'feedback-time';

/** What `onFeedback` returns: `null` when the report was used or harmlessly ignored, else why not. */
export type FeedbackResult = FeedbackRejection | null;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

/** Frames whose feedback is this late are taken as lost (seconds). */
const FEEDBACK_TIMEOUT_S = 2;
/**
 * No feedback for this long while frames are outstanding is an outage (seconds; longer than an SCTP retransmission wait, werift's minimum RTO being 1 s, plus a frame): what is
 * outstanding is written off (it would arrive stale), and until a report comes back only a small
 * probe frame goes out every OUTAGE_PROBE_S, so nothing old queues up in front of the fresh
 * pictures when the link returns.
 */
export const OUTAGE_S = 1.2;
export const OUTAGE_PROBE_S = 0.25;
/** A probe frame's budget during an outage (bytes). */
export const OUTAGE_PROBE_BYTES = 800;
/** When the link returns the rate resumes at this share of what it was before the outage. */
const RESUME_SHARE = 0.8;
/**
 * Transport `rtp`: a report ending an outage whose picture waited more than twice the fastest recent
 * send → feedback time plus QUEUED_S shows a queue, not an outage: the rate resumes at this share.
 * On the AT&T driving trace the link slowed to ~1 Mbit/s with a queue of about a second; resuming at
 * 0.8 of 4.5 Mbit/s filled it again, and the sender went from outage to outage (0.45 of capacity).
 */
const QUEUED_S = 0.3;
const QUEUED_RESUME_SHARE = 0.25;
/** A window whose frames used less than this share of their budgets says nothing about capacity. */
const FILLED = 0.7;
/** Capacity samples older than this (receive clock, seconds) leave the estimate. */
const CAPACITY_WINDOW_S = 1.5;
/** A frame whose budget the backlog cut below this share of its nominal one is skipped instead. */
const MIN_SHARE = 0.25;
/** At most this many frames await feedback; older ones are written off like timed-out ones. */
export const SENT_CAP = 1000;
/** Upper bound on the delivered and capacity histories, whatever the options. */
const HISTORY_MAX = 256;
/**
 * How far a report's receive time may be off the sender clock, taken at the reference offset between
 * the two clocks (s): behind (a stalled or slow clock, or feedback delayed on its way back) or ahead.
 */
const CLOCK_SLACK_S = 2;
/** How far the receive clock may step backwards between accepted reports (s). */
const CLOCK_BACK_S = 0.1;
/**
 * How fast the reference offset follows the reports, seconds per second of sender time: far above
 * real clock drift (≤ 0.05 %), far below a clock that stalls or races, which therefore falls out of
 * the slack within seconds.
 */
const CLOCK_DRIFT = 0.01;
/**
 * A run of refused reports that agree among themselves for this long (sender clock, s) is taken as
 * the receiver's clock having stepped: it becomes the reference. Longer than CLOCK_SLACK_S, so a
 * clock that never advances can never qualify.
 */
const RESYNC_S = 3;
/**
 * Transport `rtp`: the share of the measured bottleneck rate the rate stays at or under. The rest
 * is the room that NACK repairs, a picture above its budget and the next picture's first packets use
 * without waiting: at 2 % loss on a 2 Mbit/s link, running at the whole rate kept p95 frame age
 * at 355–430 ms (the call's: 202–238 ms); a repair waited behind the whole queue. With the track
 * paced, 0.9 kept it at 191–203 ms (RATE_CONTROL.md).
 */
export const DIRECT_SHARE = 0.9;
/** Growth per frame (at 10 fps) towards a measured bottleneck rate. */
const DIRECT_CLIMB = 1.25;
/** A picture's packets give a dispersion sample when at least this many arrived. */
const MIN_TRAIN = 2;
/** The bottleneck's rate is taken as measured once this many pictures within CAPACITY_WINDOW_S gave a sample. */
const MIN_DIRECT = 3;
/** How many of the newest samples, all below the window's median, are taken as the bottleneck having slowed. */
const DIRECT_RECENT = 3;
/** Loss above this share of packets lowers the loss-based bound; below LOSS_LOW it is lifted (GCC's thresholds). */
const LOSS_HIGH = 0.1;
const LOSS_LOW = 0.02;
/** overdue: the bounds on how long a picture's transport-wide feedback is waited for, and the slack over twice the fastest (s). */
const UNANSWERED_MIN_S = 0.3;
const UNANSWERED_SLACK_S = 0.15;
/** How many pictures' send → feedback times are kept. */
const FB_DELAYS = 20;
/**
 * On the video track the loss-based bound is judged on at least this many packets, counted since its
 * last cut: a picture that lost most of its packets in an outage or a fade had kept the 2-s loss share
 * above 10 % for 2 s, and the bound came down every 0.3 s meanwhile, to a twentieth.
 */
const LOSS_MIN_PACKETS = 20;
/** The loss-based bound comes down at most once per this long (s). */
const LOSS_CUT_S = 0.3;
/**
 * Transport `rtp`: the bottleneck's queue, modelled from what was sent and the measured bottleneck
 * rate, may hold this much (seconds at that rate) when a picture's budget is taken; the picture is
 * made smaller by what stands above it. A picture goes out as one burst, so whatever of the last one
 * still waits is time this one waits too.
 */
export const TRACK_QUEUE_S = 0.02;

/** A point of the receiver's clock (seconds) and the sender's clock when it was reported. */
interface ClockPoint {
  at: number;
  now: number;
}

/** The last accepted report, and the reference offset between the clocks (sender − receive, s). */
interface ReceiveClock extends ClockPoint {
  offset: number;
}

/** Whether a report at receive time `at`, arriving at sender time `now`, advanced like the sender clock since `ref`. */
function advancesLike(ref: ClockPoint, at: number, now: number): boolean {
  const received = at - ref.at;
  const elapsed = now - ref.now;
  return received >= -CLOCK_BACK_S && received >= elapsed - CLOCK_SLACK_S && received <= elapsed + CLOCK_SLACK_S;
}

export class RateController {
  private rate: number; // bits/s
  private goodput = Number.NaN;
  private readonly sent: Sent[] = [];
  private readonly delivered: { bytes: number; budget: number; at: number; sentAt: number; queued: boolean }[] = [];
  private srtt: number | null = null;
  private minSrtt = Number.POSITIVE_INFINITY;
  private mode: RateState['mode'] = 'start';
  /** Rate at the last hold or backoff: probing slows down near it (and resumes full speed past it). */
  private ceiling = Number.POSITIVE_INFINITY;
  /** Set at the first hold, backoff or timeout: the slow start is over. */
  private limitSeen = false;
  private readonly capacity: { bps: number; at: number }[] = [];
  /** The last group's capacity sample, kept once the next group shows the queue still standing. */
  private candidate: { bps: number; at: number } | null = null;
  private skipped = 0;
  /** The last accepted report's receive time (never decreasing) and sender time; the clocks' offset. */
  private clock: ReceiveClock | null = null;
  /** The first of the refused reports since then that agree among themselves (a possible clock step). */
  private resync: ClockPoint | null = null;
  /** Bound on `delivered` and `capacity`: four times their windows' worth of frames, within [8, 256]. */
  private readonly historyCap: number;
  /** Frames released together, retransmission stalls, queueing delay and loss (arrival-groups.ts). */
  private readonly groups = new ArrivalGroups();
  /** Sender time of the last accepted report (null before the first). */
  private lastFeedbackAt: number | null = null;
  /** During an outage: the rate before it, and when the last probe frame went out. */
  private outage: { resumeBps: number; probedAt: number } | null = null;
  /** The link came back from an outage since `takeResumed` was last asked. */
  private resumed = false;
  /**
   * Transport `rtp`: the bottleneck's rate as each picture's packets came out of it (a picture is
   * sent as one burst, so its packets leave the bottleneck back to back), from transport-wide
   * feedback; and its packets, lost or not, over the last LOSS_WINDOW_S.
   */
  private readonly dispersion: { bps: number; at: number }[] = [];
  private readonly trackLoss: { at: number; packets: number; lost: number }[] = [];
  /** The loss-based bound on the rate (bits/s): lowered only while loss is high. */
  private lossBound = Number.POSITIVE_INFINITY;
  /** The operator's cap on this link (a receiver's `view`), bits/s; infinite for none. */
  private cap = Number.POSITIVE_INFINITY;
  /** When the loss bound last came down (sender clock, s). */
  private lossCutAt = Number.NEGATIVE_INFINITY;
  /** Transport `rtp`: when the delay-based estimate last came down (sender clock, s). */
  private cutAt = Number.NEGATIVE_INFINITY;

  constructor(readonly opts: RateOptions = DEFAULT_RATE) {
    this.rate = opts.initialBps;
    const frames = Math.ceil(4 * opts.fps * Math.max(opts.windowS, CAPACITY_WINDOW_S));
    this.historyCap = Math.min(HISTORY_MAX, Math.max(8, Number.isFinite(frames) ? frames : HISTORY_MAX));
  }

  /** Sizes of the internal histories (for tests and diagnostics): all stay bounded whatever the receiver reports. */
  historyLength(): { sent: number; delivered: number; capacity: number; arrivals: number } {
    return {
      sent: this.sent.length,
      delivered: this.delivered.length,
      capacity: this.capacity.length,
      arrivals: this.groups.historyLength(),
    };
  }

  /** Bytes sent but not yet reported received. */
  get backlog(): number {
    return this.sent.reduce((s, f) => s + f.bytes, 0);
  }

  /**
   * Wire-byte budget for the next frame: the rate over the time since the last frame's budget (one
   * frame interval, up to 2 when the sender fell behind — a slow source or a busy CPU — so the link
   * stays used), less the margin, and less whatever the backlog stands above its bound (`maxDelayS`
   * at the rate): a frame that would queue behind too much is made smaller rather than dropped, so
   * the queue after it never exceeds the bound plus one nominal frame, as with skipping, but the link
   * does not idle while the next frame is being made.
   */
  budget(now?: number): number {
    if (this.overdueProbe) return OUTAGE_PROBE_BYTES;
    const b = Math.max(0, Math.floor(this.nominal(now) - this.excess(now)));
    return this.outage ? Math.min(b, OUTAGE_PROBE_BYTES) : b;
  }

  /** The rate's share of the time since the last budget, before the backlog is taken into account. */
  private nominal(now?: number): number {
    const interval = 1 / this.opts.fps;
    const last = this.lastSentAt;
    const elapsed = now === undefined || last === null ? interval : Math.min(2 * interval, Math.max(interval, now - last));
    // DIRECT_SHARE already keeps room below a measured bottleneck rate: no margin on top of it.
    return (this.rate / 8) * (this.direct ? 1 : 1 - this.opts.margin) * elapsed;
  }

  /**
   * Bytes the backlog stands above its bound; on transport `rtp`, with `now`, also the bytes the
   * modelled bottleneck queue holds above TRACK_QUEUE_S at the measured bottleneck rate.
   */
  private excess(now?: number): number {
    const backlog = Math.max(0, this.backlog - (this.rate / 8) * this.opts.maxDelayS);
    const c = now === undefined ? null : this.directCapacity(now);
    if (c === null || now === undefined) return backlog;
    return Math.max(backlog, this.queued(now, c) - (c / 8) * TRACK_QUEUE_S);
  }

  /** The bottleneck's rate from the dispersion of recent pictures' packets (bits/s), or null: too few. */
  private directCapacity(now: number): number | null {
    const recent = this.dispersion.filter((c) => now - c.at <= CAPACITY_WINDOW_S);
    if (recent.length < MIN_DIRECT) return null;
    // The newest DIRECT_RECENT samples, where all of them lie below the window's median, show that
    // the bottleneck slowed: their median, at once (the window's would take half of it to follow).
    const all = median(recent.map((c) => c.bps));
    const newest = recent.slice(-DIRECT_RECENT);
    return newest.length === DIRECT_RECENT && newest.every((c) => c.bps < all) ? median(newest.map((c) => c.bps)) : all;
  }

  /** Bytes of the modelled bottleneck queue at `now`, drained at `bps` since the last picture went in. */
  private queued(now: number, bps: number): number {
    const q = this.linkQueue;
    return q === null ? 0 : Math.max(0, q.bytes - (bps / 8) * Math.max(0, now - q.at));
  }

  private lastSentAt: number | null = null;
  /** Transport `rtp`: send → feedback times of the last pictures reported (s). */
  private readonly fbDelays: number[] = [];
  /** This tick's picture is a probe for overdue feedback (`overdue`), and when the last one went. */
  private overdueProbe = false;
  private overdueProbedAt = Number.NEGATIVE_INFINITY;
  /** Transport-wide feedback has come (transport `rtp`): loss is counted per packet. */
  private trackFed = false;
  /** The bottleneck's rate as the last update measured it (transport `rtp`), or null. */
  private bottleneck: number | null = null;
  /** Whether the last update had the bottleneck's rate measured (transport `rtp`). */
  private direct = false;
  /** Transport `rtp`: the modelled bottleneck queue after the last picture went in (bytes, sender clock s). */
  private linkQueue: { bytes: number; at: number } | null = null;

  /**
   * Whether a frame may be sent now (`now` in seconds, sender clock): false when the backlog above its
   * bound would leave the frame less than MIN_SHARE of its nominal budget (it would arrive late, and
   * be too small to be worth its framing). Frames without feedback for 2 s are written off as lost
   * (and the rate halved), so a silent receiver cannot stall the sender.
   */
  canSend(now: number): boolean {
    this.watchOutage(now);
    if (this.outage) {
      if (now - this.outage.probedAt < OUTAGE_PROBE_S) {
        this.skipped++;
        this.lastSentAt = now;
        return false;
      }
      this.outage.probedAt = now;
      return true;
    }
    const stale = this.sent.findIndex((f) => now - f.sentAt <= FEEDBACK_TIMEOUT_S);
    this.writeOff(stale < 0 ? this.sent.length : stale);
    this.overdueProbe = false;
    const nominal = this.nominal(now);
    if (nominal - this.excess(now) >= MIN_SHARE * nominal) return true;
    if (this.overdue(now) && now - this.overdueProbedAt >= OUTAGE_PROBE_S) {
      this.overdueProbe = true;
      this.overdueProbedAt = now;
      return true;
    }
    this.skipped++;
    // A skipped tick is not time the next frame may make up for: that would only rebuild the queue.
    this.lastSentAt = now;
    return false;
  }

  /**
   * Transport `rtp`: whether the oldest outstanding picture's transport-wide feedback is overdue
   * (twice the fastest recent send → feedback time plus UNANSWERED_SLACK_S, within UNANSWERED_MIN_S
   * and OUTAGE_S − UNANSWERED_SLACK_S). Its feedback packet may have been lost on the way back:
   * feedback covers each packet once, and a receiver sends it only while packets arrive, so such
   * pictures would keep the backlog above its bound, the sender silent, until an outage was declared
   * (on a burst-loss link: 0.95–1.34 s without a picture, twice a run). Or the link slowed (a fade)
   * and they are still queued. Either way a probe-sized picture (OUTAGE_PROBE_BYTES) goes out every
   * OUTAGE_PROBE_S while the backlog stays: its feedback, when it comes, settles everything sent
   * before it; on a slowed link it adds next to nothing to the queue.
   */
  private overdue(now: number): boolean {
    const oldest = this.sent[0];
    if (this.fbDelays.length === 0 || !oldest) return false;
    const fastest = Math.min(...this.fbDelays);
    const wait = Math.min(OUTAGE_S - UNANSWERED_SLACK_S, Math.max(UNANSWERED_MIN_S, 2 * fastest + UNANSWERED_SLACK_S));
    return now - oldest.sentAt > wait;
  }

  /**
   * Enters an outage when no report came for OUTAGE_S (since the last one, or since the oldest
   * outstanding frame went out) while frames are outstanding: they are written off, the rate is
   * remembered for the link's return.
   */
  private watchOutage(now: number): void {
    if (this.outage) {
      // Probes that never come back leave, without halving anything (the receiver may be gone).
      while (this.sent.length > 0 && now - (this.sent[0] as Sent).sentAt > FEEDBACK_TIMEOUT_S) this.sent.shift();
      return;
    }
    const oldest = this.sent[0];
    if (!oldest) return;
    const quiet = now - Math.max(oldest.sentAt, this.lastFeedbackAt ?? Number.NEGATIVE_INFINITY);
    if (quiet < OUTAGE_S) return;
    this.outage = { resumeBps: this.rate, probedAt: Number.NEGATIVE_INFINITY };
    this.sent.length = 0;
    this.mode = 'outage';
    this.limitSeen = true;
  }

  /**
   * Whether the link came back from an outage since the last call (once per return): the next
   * picture should then be one the receiver can start from (a keyframe).
   */
  takeResumed(): boolean {
    const r = this.resumed;
    this.resumed = false;
    return r;
  }

  /** Takes the `n` oldest outstanding frames as lost: the rate halves (mode `timeout`). */
  private writeOff(n: number): void {
    if (n <= 0) return;
    this.sent.splice(0, n);
    this.rate = Math.max(this.opts.minBps, this.rate / 2);
    this.mode = 'timeout';
    this.limitSeen = true;
  }

  /**
   * A frame of `bytes` wire bytes went out. At most SENT_CAP frames stay outstanding: beyond that the
   * oldest are written off as on a timeout, so a silent receiver cannot grow the state even when
   * `canSend` is not called. `budgetAt` is when the frame's budget was taken (default `now`): the
   * next budget counts the time from there, so the time a frame spent being encoded is not lost
   * from the next one's budget (a sender slower than its clock would otherwise under-use the link).
   */
  onSent(frameId: number, bytes: number, now: number, budget = bytes, budgetAt = now): void {
    this.sent.push({ frameId, bytes, budget, sentAt: now, behind: this.backlog });
    const c = this.directCapacity(now);
    this.linkQueue = c === null ? null : { bytes: this.queued(now, c) + bytes, at: now };
    this.lastSentAt = budgetAt;
    this.writeOff(this.sent.length - SENT_CAP);
  }

  onSrtt(srttS: number): void {
    if (!(srttS > 0)) return;
    this.srtt = srttS;
    this.minSrtt = Math.min(this.minSrtt, srttS);
  }

  /**
   * The receiver got `bytes` of `frameId`, its last part at `receiveTs` (receiver clock, ms; `now` is
   * the sender clock, s). Frames sent before it and never reported are taken as lost and leave the
   * backlog.
   *
   * Returns `null` when the report was used, and also when `frameId` is not outstanding (a duplicate,
   * or a report arriving after its frame was written off: normal on a lossy link, so not a
   * rejection; it changes nothing). Otherwise the report is refused and changes nothing — its frame
   * stays outstanding — and the reason is returned: `feedback-bytes` for a byte count that is not
   * finite, negative or above the frame's sent bytes (the receiver counts the same wire bytes);
   * `feedback-time` for a `receiveTs` that is not finite or does not keep up with the sender clock
   * (more than 0.1 s before the last accepted one, or more than 2 s behind or ahead of the sender
   * clock at the clocks' reference offset).
   */
  onFeedback(frameId: number, bytes: number, receiveTs: number, now: number): FeedbackResult {
    if (!Number.isFinite(bytes) || bytes < 0) return 'feedback-bytes';
    if (!Number.isFinite(receiveTs)) return 'feedback-time';
    const idx = this.sent.findIndex((f) => f.frameId === frameId);
    if (idx < 0) return null;
    const f = this.sent[idx] as Sent;
    if (bytes > f.bytes) return 'feedback-bytes';
    if (!this.acceptClock(receiveTs / 1000, now)) return 'feedback-time';
    this.sent.splice(0, idx + 1);
    this.lastFeedbackAt = now;
    const at = (this.clock as ClockPoint).at;
    if (this.outage) {
      // The link is back: the rate resumes near where it was (the delay-based estimate corrects it
      // within a few frames if the link came back slower). Unless this report's picture waited far
      // longer than pictures do (transport `rtp`): then the silence was a queue, not an outage (a
      // link slowed to a fraction, its queue holding seconds), and resuming near the old rate only
      // fills it again; the rate starts low and climbs to what the link shows.
      // On the track the forward one-way delay tells: a silence of the return path alone (the
      // pictures arrived in time, their reports did not) leaves the forward queue empty.
      const fastest = this.fbDelays.length > 1 ? Math.min(...this.fbDelays.slice(0, -1)) : null;
      const fwdQueue = this.trackFed ? this.groups.queueOf({ at, sentAt: f.sentAt }) : null;
      const queued = fwdQueue !== null ? fwdQueue > QUEUED_S : fastest !== null && now - f.sentAt > 2 * fastest + QUEUED_S;
      this.rate = queued
        ? Math.max(this.opts.minBps, QUEUED_RESUME_SHARE * this.outage.resumeBps)
        : Math.max(this.rate, RESUME_SHARE * this.outage.resumeBps);
      this.outage = null;
      this.resumed = true;
      // What the outage took is not the link's loss rate now.
      this.trackLoss.length = 0;
      this.lossBound = Number.POSITIVE_INFINITY;
      this.mode = 'probe';
    }
    this.delivered.push({ bytes, budget: f.budget, at, sentAt: f.sentAt, queued: f.behind > 0 });
    const horizon = at - this.opts.windowS;
    // Keep the window's samples, but always the last four frames (a slow sender sends few); never
    // more than the cap, whatever the timestamps.
    while (this.delivered.length > 4 && (this.delivered[0] as { at: number }).at < horizon) this.delivered.shift();
    if (this.delivered.length > this.historyCap) this.delivered.splice(0, this.delivered.length - this.historyCap);
    const arrival: Arrival = { at, sentAt: f.sentAt, fbAt: now, bytes, budget: f.budget, queued: f.behind > 0 };
    for (const g of this.groups.add(arrival, this.rate)) this.update(g, now);
    return null;
  }

  /**
   * The reports' receive times now come from another clock (the link switched to transport-wide
   * feedback): the reference is taken afresh from the next report, and the receive-time histories
   * restart.
   */
  clockChanged(): void {
    this.clock = null;
    this.resync = null;
    this.delivered.length = 0;
    this.capacity.length = 0;
    this.groups.reset();
  }

  /**
   * Transport `rtp`: a picture's arrival from transport-wide congestion-control feedback (per packet,
   * first transmissions only: a packet a NACK repaired counts as lost, and its repair does not count
   * as the link's delay). Its last packet's arrival is the picture's receive time; the spread of its
   * packets gives a sample of the bottleneck's rate; its losses are the loss-based bound's input. A
   * picture none of whose packets arrived leaves the backlog as lost.
   */
  onTrackArrival(a: TrackArrival, now: number): FeedbackResult {
    this.trackFed = true;
    this.fbDelays.push(now - a.sentAt);
    if (this.fbDelays.length > FB_DELAYS) this.fbDelays.shift();
    this.trackLoss.push({ at: now, packets: a.packets, lost: a.lost });
    while (
      this.trackLoss.length > 1 &&
      (now - (this.trackLoss[0] as { at: number }).at > LOSS_WINDOW_S || this.trackLoss.length > HISTORY_MAX)
    )
      this.trackLoss.shift();
    if (a.lastAtMs === null) {
      const idx = this.sent.findIndex((f) => f.frameId === a.frameId);
      if (idx >= 0) this.sent.splice(idx, 1);
      return null;
    }
    const spanS = a.firstAtMs === null ? 0 : (a.lastAtMs - a.firstAtMs) / 1000;
    if (a.packets - a.lost >= MIN_TRAIN && spanS >= 0.001 && a.trailingBytes > 0) {
      this.dispersion.push({ bps: (a.trailingBytes * 8) / spanS, at: now });
      while (
        this.dispersion.length > 1 &&
        (now - (this.dispersion[0] as { at: number }).at > CAPACITY_WINDOW_S || this.dispersion.length > HISTORY_MAX)
      )
        this.dispersion.shift();
    }
    return this.onFeedback(a.frameId, a.bytes, a.lastAtMs, now);
  }

  /** Share of packets lost: from transport-wide feedback when there is any, else as the arrival groups show it. */
  private lossShare(): number {
    if (!this.trackFed) return this.groups.lossFraction();
    const packets = this.trackLoss.reduce((s, l) => s + l.packets, 0);
    return packets > 0 ? this.trackLoss.reduce((s, l) => s + l.lost, 0) / packets : 0;
  }

  /**
   * Checks a report's receive time (s): at most CLOCK_BACK_S before the last accepted one, and within
   * CLOCK_SLACK_S of the sender clock at the reference offset. An accepted report moves the reference
   * offset towards its own by at most CLOCK_DRIFT per second (so a clock that stalls or races cannot
   * drag it along) and the last receive time forwards only (so one creeping back cannot pass step by
   * step). Refused reports that agree among themselves for RESYNC_S are taken as a stepped receiver
   * clock: the reference moves there and the receive-time histories restart.
   */
  private acceptClock(at: number, now: number): boolean {
    const c = this.clock;
    if (c === null) {
      this.clock = { at, now, offset: now - at };
      return true;
    }
    const lag = now - at - c.offset;
    if (at - c.at >= -CLOCK_BACK_S && Math.abs(lag) <= CLOCK_SLACK_S) {
      const step = CLOCK_DRIFT * Math.max(0, now - c.now);
      this.clock = { at: Math.max(c.at, at), now, offset: c.offset + Math.min(step, Math.max(-step, lag)) };
      this.resync = null;
      return true;
    }
    const r = this.resync;
    if (r === null || !advancesLike(r, at, now)) {
      this.resync = { at, now };
      return false;
    }
    if (now - r.now < RESYNC_S) return false;
    this.clock = { at, now, offset: now - at };
    this.resync = null;
    this.delivered.length = 0;
    this.capacity.length = 0;
    this.groups.reset();
    return true;
  }

  /**
   * One decision per closed arrival group (frames released together count once, judged by the last
   * of them, which waited least): the delay-based estimate moves on queueing, the loss-based bound on
   * the share of packets lost; the rate follows the lower of the two.
   */
  private update(g: ClosedGroup, now: number): void {
    const o = this.opts;
    const d = this.delivered;
    const f = g.last;
    // Budgets used: a still scene sent as "keep" patches says nothing about capacity.
    const offered = d.reduce((s, x) => s + x.budget, 0);
    const filled = offered > 0 && d.reduce((s, x) => s + x.bytes, 0) >= FILLED * offered;
    if (d.length >= 3) {
      const span = (d[d.length - 1] as (typeof d)[number]).at - (d[0] as (typeof d)[number]).at;
      if (span > 0.15) this.goodput = (d.slice(1).reduce((s, x) => s + x.bytes, 0) * 8) / span;
    }
    // Capacity: a group sent while earlier data was still in flight, and arriving further behind its
    // predecessor than it was sent, waited for the link: its bytes over that arrival gap are the link
    // rate. Frames from a slow sender (or an idle link) arrive as spaced as they left and say nothing;
    // a group that waited for a retransmission measured the wait, not the link.
    // Only inside a standing queue: the group before, this one and the next all waited above the
    // base delay. A frame held back by a retransmission wait (short ones are not told from a queue
    // by the delay alone) is followed by one that is not, and gives no sample.
    const waited = g.queueS > STALL_S && g.prevQueueS > STALL_S;
    if (this.candidate && waited) this.capacity.push(this.candidate);
    this.candidate = null;
    const groupBudget = g.frames === 1 ? g.first.budget : g.bytes;
    if (waited && g.first.queued && !g.stalled && g.bytes >= FILLED * groupBudget && g.recvSpan !== null && g.sendSpan !== null) {
      if (g.recvSpan > 0.003 && g.recvSpan > 1.1 * g.sendSpan) this.candidate = { bps: (g.bytes * 8) / g.recvSpan, at: f.at };
    }
    while (this.capacity.length > 0 && f.at - (this.capacity[0] as { at: number }).at > CAPACITY_WINDOW_S) this.capacity.shift();
    if (this.capacity.length > this.historyCap) this.capacity.splice(0, this.capacity.length - this.historyCap);
    // Transport `rtp`: the packets' dispersion measures the bottleneck directly (any queue or none).
    const measured = this.directCapacity(now);
    const direct = measured !== null;
    this.direct = direct;
    this.bottleneck = measured;
    const target = measured === null ? Number.NaN : DIRECT_SHARE * measured;
    const capacity = direct ? measured : this.capacity.length ? median(this.capacity.map((c) => c.bps)) : Number.NaN;

    const frameDelay = f.fbAt - f.sentAt; // sender clock: send → feedback back
    const interval = 1 / o.fps;
    const base = Number.isFinite(this.minSrtt) ? this.minSrtt : 0;
    // A frame is a burst: its own last chunks wait up to one interval (or its serialisation, if
    // longer) behind its first ones, so only queueing beyond that counts as congestion.
    const own = Math.max(interval, (f.bytes * 8) / this.rate);
    const queueing = this.srtt === null ? 0 : this.srtt - base;
    // On the track the forward link's queue is read from its own one-way delays (transport-wide
    // arrival times): the time feedback takes to come back, and SCTP's round trip, also hold the
    // return path, whose stalls are not this link's congestion (on the AT&T trace the uplink stops
    // for 1–4 s while the downlink delivers; the late batch then read as a queue, cut after cut).
    const congested = this.trackFed
      ? g.queueS > own + o.srttRiseS
      : queueing > interval + o.srttRiseS || g.queueS > own + o.srttRiseS || frameDelay > o.maxDelayS + own + base;
    // A cut answers the queue seen by pictures sent before it: on the track, those pictures' reports
    // (one batch, after a stall) cut once, not once each.
    const answered = this.trackFed && f.sentAt <= this.cutAt;
    if (congested && answered) {
      if (direct) this.rate = Math.min(this.rate, target);
      this.mode = 'backoff';
    } else if (congested) {
      this.cutAt = now;
      // The link did not keep up: go to its measured capacity, or back off multiplicatively.
      // With a measured bottleneck rate the queue came from a burst above it (or the rate fell):
      // a little under both drains it.
      this.rate = direct ? Math.min(0.85 * this.rate, target) : Number.isFinite(capacity) ? Math.min(this.rate, capacity) : this.rate * 0.7;
      this.mode = 'backoff';
      this.ceiling = this.rate;
      this.limitSeen = true;
    } else if (direct) {
      // The bottleneck's rate is measured (transport `rtp`): never above it; below it, climb
      // towards it fast — the measure, not a probe, says where the link is, also after a dip.
      if (this.rate > target) {
        this.rate = target;
        this.mode = 'hold';
        this.limitSeen = true;
      } else {
        // Whether or not the pictures filled their budgets: the measure, not what was sent, shows
        // the room (at a few hundred kbit/s x264 stays under its budgets, and waiting for full ones
        // held the rate at a twentieth of a measured 1.3 Mbit/s).
        this.rate = Math.min(target, this.rate * DIRECT_CLIMB ** (1 / Math.max(1, o.fps / 10)));
        this.mode = 'probe';
      }
      this.ceiling = Math.max(this.rate, capacity);
    } else if (Number.isFinite(capacity) && this.rate * (1 - o.margin) > capacity && f.queued && waited) {
      // Frames leave faster than the link delivers: budget exactly what it delivers (the backlog
      // check keeps any excess from piling up). Only while frames still wait behind earlier ones: a
      // frame that found the link idle shows the older samples are out of date (capacity grew).
      this.rate = capacity / (1 - o.margin);
      this.mode = 'hold';
      this.ceiling = this.rate;
      this.limitSeen = true;
    } else if (filled && !this.limitSeen && frameDelay - base > o.startPauseS) {
      // Slow start pauses while frames take over two intervals to deliver: the link is near its
      // rate and growing on would only queue. Measured on a shaped 1 Mbit/s netns, with the 1 Mbit/s
      // start: 9.51–9.63 fps (3 runs) against 8.9–9.5 before (the 2 Mbit/s start grew on while the
      // keyframe was still in the queue: 4–6 frames of backlog, ~10 skipped ticks).
      this.mode = 'hold';
    } else if (filled && !this.limitSeen && f.bytes >= FILLED * f.budget) {
      // Slow start: no limit seen yet, grow fast (the backlog check bounds the overshoot). Only on a
      // frame that itself filled its budget: after a keyframe that borrowed credit, x264's next frames
      // repay it, small; the window still looks filled, and those frames arrive fast on any link, so
      // growing on them took a shaped 1 Mbit/s link's rate to 2.4 Mbit/s and queued ~100 kB.
      this.rate *= o.startGain ** (1 / Math.max(1, o.fps / 10));
      this.mode = 'start';
    } else if (filled && !this.limitSeen) {
      this.mode = 'start'; // slow start, this frame under its budget: no growth on it
    } else if (filled) {
      // Probe. Near the last ceiling creep (2 % per frame); well below it, or once clearly past it
      // (capacity grew), probe fast.
      if (this.rate > 1.3 * this.ceiling) this.ceiling = Number.POSITIVE_INFINITY;
      this.rate *= this.rate > 0.85 * this.ceiling ? 1.02 : o.probeGain ** (1 / Math.max(1, o.fps / 5));
      this.mode = 'probe';
    } else {
      this.mode = 'hold'; // under-used budgets: nothing learned, nothing changed
    }
    this.lossBased(now);
    this.rate = Math.min(o.maxBps, this.cap, this.lossBound, Math.max(o.minBps, this.rate));
    this.rate = Math.max(o.minBps, this.rate);
  }

  /**
   * The operator's cap on this link, bits/s (0: none): the rate comes down to it at once and stays
   * at or under it (never under `minBps`); lifted, the rate grows again from there as it probes.
   */
  setCap(bps: number): void {
    this.cap = bps > 0 ? Math.max(this.opts.minBps, bps) : Number.POSITIVE_INFINITY;
    this.rate = Math.min(this.rate, this.cap);
  }

  /**
   * The loss-based bound, as GCC's: above LOSS_HIGH of packets lost it comes down to
   * rate × (1 − loss / 2), at most once per LOSS_CUT_S; between LOSS_LOW and LOSS_HIGH it holds;
   * below LOSS_LOW it is lifted (the delay-based estimate alone decides, growing from where it is).
   * A reliable channel repairs loss, so loss alone is no reason to send less until it is high enough
   * that the repairs themselves (and SCTP's halved windows) cost more than they carry.
   */
  private lossBased(now: number): void {
    // On the track: judged on at least LOSS_MIN_PACKETS packets, and each cut on packets sent after the last.
    if (this.trackFed && this.trackLoss.reduce((s, l) => s + l.packets, 0) < LOSS_MIN_PACKETS) return;
    const loss = this.lossShare();
    if (loss > LOSS_HIGH) {
      if (now - this.lossCutAt >= LOSS_CUT_S) {
        this.lossBound = Math.min(this.lossBound, this.rate) * (1 - loss / 2);
        this.lossCutAt = now;
        this.limitSeen = true;
        this.trackLoss.length = 0;
      }
    } else if (loss < LOSS_LOW) {
      this.lossBound = Number.POSITIVE_INFINITY;
    }
  }

  state(): RateState {
    return {
      rateBps: this.rate,
      goodputBps: this.goodput,
      backlogBytes: this.backlog,
      srttS: this.srtt,
      mode: this.mode,
      framesSkipped: this.skipped,
      lossFraction: this.lossShare(),
      bottleneckBps: this.bottleneck,
    };
  }
}
