import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { type AnchorIceServer, type AnchorResult, runAnchor } from './anchor.js';
import { type PictureRow, perSecond, pictureRows, type Shown, summarise } from './metrics.js';
import { type MmscPeerOptions, type MmscPeerRaw, runMmscPeer } from './mmsc-peer.js';
import { EmulatedNetwork, type LinkConfig, NAT, natUnavailable, SENDER_ADDR } from './netns.js';
import { type PagePeerRaw, runPagePeer } from './page-peer.js';
import type { EmulationReport, PeerName, PeerReport, PeerSeries } from './report.js';
import { Capacity, resolveDirection, type Scenario } from './scenario.js';

export interface RunOptions {
  clipDir: string;
  fps: number;
  /** Extra `mmsc serve` options for the mmsc peer. */
  serveArgs?: string[];
  tracesDir: string;
  /** Overrides the scenario's length (s per peer). */
  seconds?: number;
  peers: PeerName[];
  anchorCodec: 'VP8' | 'VP9' | 'AV1' | 'H264';
  anchorMaxBitrateBps: number;
  /** Connection attempts per peer before it counts as failed for the run. */
  attempts?: number;
  /** A folder for `serve`'s logs (`<scenario>.serve.log`, every attempt of both mmsc peers); none: not kept. */
  serveLogDir?: string;
  /** A file for every shown picture of each peer (link clock, age, PSNR); none: not kept. */
  picturesFile?: string;
  log: (s: string) => void;
}

const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);

function secondsAxis(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The sender's estimate per second of the link clock, and its mean while pictures came. */
function estimates(samples: readonly [number, number][], first: Shown | undefined, linkStart: number, n: number) {
  const estimate = new Array<number | null>(n).fill(null);
  for (const [at, bps] of samples) {
    const k = Math.floor((at - linkStart) / 1000);
    if (k >= 0 && k < n) estimate[k] = bps;
  }
  const m = mean(samples.filter(([at]) => first !== undefined && at >= first.shownAt).map(([, v]) => v));
  return { estimate, streamingMean: m === null ? null : Math.round(m) };
}

/** The real page: its pictures as read from its canvas; bytes are what the sender sent it (no per-second split). */
function pagePeer(
  raw: PagePeerRaw | null,
  failures: number,
  linkStart: number,
  cap: Capacity,
  n: number,
): { report: PeerReport; series: PeerSeries } {
  const shown = raw?.shown ?? [];
  const first = shown[0];
  const last = shown.at(-1);
  const capacityBps = first && last ? cap.bps(first.shownAt - linkStart, last.shownAt - linkStart) : cap.meanBps();
  const summary = summarise({
    shown,
    startAt: raw?.startedAt ?? linkStart,
    endAt: raw?.endAt ?? linkStart,
    bytes: raw?.bytes ?? null,
    capacityBps,
    connectFailures: failures,
  });
  const { estimate, streamingMean } = estimates(raw?.estimates ?? [], first, linkStart, n);
  return {
    report: {
      ...summary,
      estimateBpsMean: streamingMean,
      what: 'Chromium, the served page',
      errors: [...(raw?.failure ? [raw.failure] : []), ...(raw?.errors ?? [])],
      extra: { unreadableStamps: raw?.unreadableStamps ?? null, goodput: 'bytes the sender sent it' },
    },
    series: { goodputBps: new Array<number | null>(n).fill(null), estimateBps: estimate, rows: perSecond(shown, linkStart, n) },
  };
}

function mmscPeer(
  raw: MmscPeerRaw | null,
  failures: number,
  linkStart: number,
  cap: Capacity,
  n: number,
): { report: PeerReport; series: PeerSeries } {
  const shown = raw?.shown ?? [];
  const first = shown[0];
  const last = shown.at(-1);
  const bytes =
    raw && first && last ? raw.bytes.filter(([at]) => at >= first.shownAt && at < last.shownAt).reduce((s, [, b]) => s + b, 0) : null;
  const capacityBps = first && last ? cap.bps(first.shownAt - linkStart, last.shownAt - linkStart) : cap.meanBps();
  const summary = summarise({
    shown,
    startAt: raw?.startedAt ?? linkStart,
    endAt: raw?.endAt ?? linkStart,
    bytes,
    capacityBps,
    connectFailures: failures,
  });
  const goodput = new Array<number>(n).fill(0);
  for (const [at, b] of raw?.bytes ?? []) {
    const k = Math.floor((at - linkStart) / 1000);
    if (k >= 0 && k < n) goodput[k] = (goodput[k] as number) + b * 8;
  }
  const { estimate, streamingMean } = estimates(raw?.estimates ?? [], first, linkStart, n);
  const p = raw?.probe;
  return {
    report: {
      ...summary,
      estimateBpsMean: streamingMean,
      what: p ? `${p.engine ?? 'mmsc'}${p.track ? ' on the RTP track' : ' on the data channel'}` : 'mmsc',
      errors: [...(raw?.failure ? [raw.failure] : []), ...(p?.errors ?? [])],
      extra: {
        framesReceived: p?.frames ?? null,
        refreshes: p?.refreshes ?? null,
        budgetViolations: p?.budgetViolations ?? null,
        ...(p?.track
          ? {
              trackDropped: p.track.dropped,
              trackStale: p.track.stale,
              trackSkipped: p.track.skipped,
              plis: p.track.plis,
            }
          : {}),
        unreadableStamps: raw?.unreadableStamps ?? null,
      },
    },
    series: { goodputBps: goodput, estimateBps: estimate, rows: perSecond(shown, linkStart, n) },
  };
}

function anchorPeer(
  a: AnchorResult | null,
  failures: number,
  linkStart: number,
  cap: Capacity,
  n: number,
  endAt: number,
): { report: PeerReport; series: PeerSeries } {
  const shown: Shown[] = a?.shown ?? [];
  const first = shown[0];
  const last = shown.at(-1);
  const rows = a?.seconds ?? [];
  const firstAt = a?.firstPictureAt ?? linkStart;
  const r0 = rows[0];
  const rN = rows.at(-1);
  const bytes =
    r0 && rN && rN.t > r0.t
      ? ((rN.bytesReceived - r0.bytesReceived) * ((last?.shownAt ?? 0) - (first?.shownAt ?? 0))) / ((rN.t - r0.t) * 1000)
      : null;
  const capacityBps = first && last ? cap.bps(first.shownAt - linkStart, last.shownAt - linkStart) : cap.meanBps();
  const summary = summarise({ shown, startAt: a?.startedAt ?? linkStart, endAt, bytes, capacityBps, connectFailures: failures });
  const goodput = new Array<number>(n).fill(0);
  const estimate = new Array<number | null>(n).fill(null);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as AnchorResult['seconds'][number];
    const k = Math.floor((firstAt + row.t * 1000 - linkStart) / 1000);
    if (k < 0 || k >= n) continue;
    const prev = rows[i - 1];
    if (prev) goodput[k] = ((row.bytesReceived - prev.bytesReceived) * 8) / Math.max(1e-3, row.t - prev.t);
    estimate[k] = row.availableOutgoingBitrate;
  }
  const est = rows.flatMap((r) => (r.availableOutgoingBitrate === null ? [] : [r.availableOutgoingBitrate]));
  const lastRow = rN;
  return {
    report: {
      ...summary,
      estimateBpsMean: mean(est) === null ? null : Math.round(mean(est) as number),
      what: a ? `${a.codec}, max ${(a.maxBitrateBps / 1e6).toFixed(0)} Mbit/s` : 'WebRTC',
      errors: a?.errors ?? [],
      extra: {
        nacks: lastRow?.nackCount ?? null,
        plis: lastRow?.pliCount ?? null,
        freezes: lastRow?.freezeCount ?? null,
        freezeSeconds: lastRow ? Number(lastRow.totalFreezesDuration.toFixed(2)) : null,
        framesDropped: lastRow?.framesDropped ?? null,
        resolution: lastRow?.frameWidth ? `${lastRow.frameWidth}×${lastRow.frameHeight}` : null,
      },
    },
    series: { goodputBps: goodput, estimateBps: estimate, rows: perSecond(shown, linkStart, n) },
  };
}

/** Runs one scenario: builds the network, self-checks the link, then each peer alone on a fresh link. */
export async function runScenario(sc: Scenario, o: RunOptions): Promise<EmulationReport> {
  const seconds = o.seconds ?? sc.seconds;
  const attempts = o.attempts ?? 3;
  const work = await mkdtemp(join(tmpdir(), `mmsc-emulate-${sc.name}-`));
  const env = {
    tracesDir: o.tracesDir,
    workDir: work,
    readText: (p: string) => readFileSync(p, 'utf8'),
    writeText: (p: string, t: string) => writeFileSync(p, t),
  };
  const forward = resolveDirection(sc.forward, 'forward', env);
  const reverse = resolveDirection(sc.reverse ?? sc.forward, 'reverse', env);
  const nat = sc.topology === 'nat';
  const config: LinkConfig = { forward, reverse, a_net: '198.18.1.0/24', b_net: '198.18.2.0/24' };
  const checkFile = join(work, 'link-check.json');
  await writeFile(checkFile, JSON.stringify(config));
  // Behind NAT the link is the receiver's access link, between its NAT's public side and the router.
  const configFile = join(work, 'link.json');
  await writeFile(configFile, JSON.stringify(nat ? { ...config, a_net: NAT.aNet, b_net: NAT.bNet } : config));
  const cap = new Capacity(forward, (p) => readFileSync(p, 'utf8'));
  const prefix = `mme${process.pid % 10000}`;
  if (nat) {
    const why = natUnavailable();
    if (why) throw new CliError(why, 1);
  }
  let net = await EmulatedNetwork.open(prefix, o.log);
  let mmsc: { report: PeerReport; series: PeerSeries } | null = null;
  let anchor: { report: PeerReport; series: PeerSeries } | null = null;
  let page: { report: PeerReport; series: PeerSeries } | null = null;
  const pictures: Partial<Record<PeerName, PictureRow[]>> = {};
  const report: NonNullable<EmulationReport['raw']> = { probe: null, anchorStats: null };
  let measured: unknown = null;
  let ok = false;
  // The time axis covers connection set-up (first picture) and the run.
  const n = seconds + 30;
  try {
    o.log(`${sc.name}: self-check of the link`);
    const check = await net.selfCheck(checkFile);
    measured = check;
    ok = check.ok === true;
    let iceServers: AnchorIceServer[] = [];
    let relay: { urls: string; username: string; credential: string } | null = null;
    if (nat) {
      // The self-check measured the link between two plain hosts; the peers run behind NAT on the same link.
      await net.close();
      net = await EmulatedNetwork.open(prefix, o.log, 'nat');
      relay = await net.startTurn();
      iceServers = [relay];
    }
    // Behind NAT, `serve` is given the relay (the credential through the environment, never argv
    // or a log); its offer hands it to the page and the probe.
    const relayArgs = relay ? ['--ice-server', relay.urls, '--ice-username', relay.username] : [];
    // mmsc's two receivers: `serve` in the sender's namespace, the link started afresh right before they connect.
    const senderOptions = (stats: string, started: (at: number) => void): MmscPeerOptions => ({
      senderNs: net.senderNs,
      receiverNs: net.receiverNs,
      senderAddr: SENDER_ADDR,
      ...(nat ? { connectAddr: NAT.senderPublic } : {}),
      clipDir: o.clipDir,
      fps: o.fps,
      seconds,
      serveArgs: [...relayArgs, ...(o.serveArgs ?? [])],
      ...(relay ? { serveEnv: { MMSC_ICE_CREDENTIAL: relay.credential } } : {}),
      ...(o.serveLogDir ? { serveLogFile: join(o.serveLogDir, `${sc.name}.serve.log`) } : {}),
      beforeConnect: async () => {
        await net.startLink(configFile, join(work, stats));
        started(net.linkStartedAt);
      },
      log: o.log,
    });
    if (o.peers.includes('mmsc')) {
      let failures = 0;
      let raw: MmscPeerRaw | null = null;
      let linkStart = 0;
      for (let i = 0; i < attempts; i++) {
        o.log(`${sc.name}: mmsc, attempt ${i + 1}`);
        const r = await runMmscPeer(
          senderOptions(`stats-mmsc-${i}.jsonl`, (at) => {
            linkStart = at;
          }),
        ).catch((e: unknown) => ({ raw: null, serveLog: (e as Error).message }));
        raw = r.raw;
        if (raw && raw.shown.length > 0) break;
        failures++;
        const why = raw
          ? (raw.failure ?? (raw.probe?.errors.join('; ') || `${raw.probe?.frames ?? 0} frames, none decoded`))
          : r.serveLog.slice(-300);
        o.log(`${sc.name}: mmsc attempt ${i + 1} showed no picture: ${why}`);
      }
      mmsc = mmscPeer(raw, failures, linkStart, cap, n);
      pictures.mmsc = pictureRows(raw?.shown ?? [], linkStart);
      report.probe = raw?.probe ?? null;
    }
    if (o.peers.includes('page')) {
      let failures = 0;
      let raw: PagePeerRaw | null = null;
      let linkStart = 0;
      for (let i = 0; i < attempts; i++) {
        o.log(`${sc.name}: the page in Chromium, attempt ${i + 1}`);
        raw = await runPagePeer(
          senderOptions(`stats-page-${i}.jsonl`, (at) => {
            linkStart = at;
          }),
        ).catch((e: unknown) => {
          o.log(`${sc.name}: page failed: ${(e as Error).message}`);
          return null;
        });
        if (raw && raw.shown.length > 0) break;
        failures++;
        o.log(`${sc.name}: page attempt ${i + 1} showed no picture: ${raw?.failure ?? ''}`);
      }
      page = pagePeer(raw, failures, linkStart, cap, n);
      pictures.page = pictureRows(raw?.shown ?? [], linkStart);
    }
    if (o.peers.includes('anchor')) {
      let failures = 0;
      let a: AnchorResult | null = null;
      let linkStart = 0;
      let endAt = 0;
      for (let i = 0; i < attempts; i++) {
        o.log(`${sc.name}: anchor (${o.anchorCodec}), attempt ${i + 1}`);
        a = await runAnchor({
          beforeOffer: async () => {
            await net.startLink(configFile, join(work, `stats-anchor-${i}.jsonl`));
            linkStart = net.linkStartedAt;
          },
          clipDir: o.clipDir,
          seconds,
          senderNs: net.senderNs,
          receiverNs: net.receiverNs,
          codec: o.anchorCodec,
          iceServers,
          maxBitrateBps: o.anchorMaxBitrateBps,
          log: o.log,
        }).catch((e: unknown) => {
          o.log(`${sc.name}: anchor failed: ${(e as Error).message}`);
          return null;
        });
        endAt = Date.now();
        if (a?.connected && a.shown.length > 0) break;
        failures++;
      }
      anchor = anchorPeer(a, failures, linkStart, cap, n, endAt);
      pictures.anchor = pictureRows(a?.shown ?? [], linkStart);
      report.anchorStats = a?.seconds ?? null;
    }
  } finally {
    await net.close();
    await rm(work, { recursive: true, force: true });
  }
  if (o.picturesFile) await writeFile(o.picturesFile, `${JSON.stringify({ scenario: sc.name, peers: pictures })}\n`);
  // The time axis ends two seconds after the last second either peer did anything in.
  const active = (p: PeerSeries | null | undefined) =>
    p ? Math.max(-1, ...p.goodputBps.map((v, i) => ((v ?? 0) > 0 ? i : -1)), ...p.rows.map((r, i) => (r.fps > 0 ? i : -1))) : -1;
  const len = Math.min(n, Math.max(active(mmsc?.series), active(page?.series), active(anchor?.series)) + 3);
  const cut = (p: PeerSeries | null | undefined): PeerSeries | null =>
    p ? { goodputBps: p.goodputBps.slice(0, len), estimateBps: p.estimateBps.slice(0, len), rows: p.rows.slice(0, len) } : null;
  return {
    scenario: sc.name,
    title: sc.title,
    date: new Date().toISOString().slice(0, 10),
    machine: `${hostname()} (${cpus().length} cores)`,
    seconds,
    link: { set: { forward: sc.forward, reverse: sc.reverse ?? 'same as forward' }, measured, ok },
    mmsc: mmsc?.report ?? null,
    page: page?.report ?? null,
    anchor: anchor?.report ?? null,
    series: {
      t: secondsAxis(len),
      capacityBps: secondsAxis(len).map((t) => cap.bps(t * 1000, (t + 1) * 1000)),
      mmsc: cut(mmsc?.series),
      page: cut(page?.series),
      anchor: cut(anchor?.series),
    },
    raw: report,
  };
}
