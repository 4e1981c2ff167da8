// `npm run bench:receiver`: decode + reassembly time per 320×480 frame in Chromium (onnxruntime-web,
// wasm, 1 thread), measured in the page's decode worker with the receiver's own Reassembler.
//
// Headline (`decodeReassembleMsP50`): frames in which every one of the 2,400 patches is coded at the
// 48-byte level (random codes) — the heaviest decoder on every patch, the worst regular load. Also
// reported: the 12- and 24-byte levels, a mix of all three (three decoder batches), how much of each
// is the decoder itself, and the frames of a live session (`mmsc serve` on dog.jpg; on a still
// image the sender soon sends only "keep" patches, so few live frames decode much). One JSON line.
//
// `h264`: the default engine's live frames (`mmsc serve --engine h264` on the pan source, 1 Mbit/s
// cap): the worker's WebCodecs decode + YUV→RGB per frame (`decodeMs`), and the time from a
// frame's last part arriving to its picture on the canvas (`receiveToShownMs`: decode, the RGBA
// hand-over and the draw at the next animation frame).
import { launchBrowser, startSender, waitForState } from './harness.mjs';

const FRAMES = Number(process.env.MMSC_BENCH_FRAMES ?? 100);

/** @param {number[]} xs @param {number} q */
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Number((s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN).toFixed(2)) : null;
};

const sender = await startSender({ query: 'dog and bicycle', args: ['--engine', 'patches'] });
const browser = await launchBrowser();
try {
  const page = await browser.context.newPage();
  await page.goto(sender.page('/'));
  // Live frames: the session's opening frames carry most patches; later ones mostly "keep".
  await waitForState(page, 's.decoderReady && s.framesShown >= 30', 120_000);
  /** @type {{ frameId: number, applyMs: number | null, decoded: number | null }[]} */
  const live = await page.evaluate(() => /** @type {any} */ (window).mmsc.frames());
  const coded = live.filter((f) => f.applyMs !== null && (f.decoded ?? 0) > 0).slice(1); // the first run warms up
  const mixes = [
    { name: 'all-L48', shares: { 3: 1 } },
    { name: 'all-L12', shares: { 1: 1 } },
    { name: 'all-L24', shares: { 2: 1 } },
    { name: 'mixed-L12-L24-L48', shares: { 1: 1 / 3, 2: 1 / 3, 3: 1 / 3 } },
  ];
  /** @type {{ name: string, frames: number, applyMsP50: number, applyMsP90: number, modelMsP50: number }[]} */
  const results = await page.evaluate(([m, n]) => /** @type {any} */ (window).mmsc.bench(m, n), /** @type {const} */ ([mixes, FRAMES]));
  const ua = await page.evaluate(() => navigator.userAgent);
  const head = results[0];
  const out = {
    decodeReassembleMsP50: head?.applyMsP50 ?? null,
    frames: head?.frames ?? 0,
    decodeReassembleMsP90: head?.applyMsP90 ?? null,
    frame: '320x480, all 2400 patches at the 48-byte level (random codes)',
    decoderMsP50: head?.modelMsP50 ?? null,
    mixes: Object.fromEntries(
      results.slice(1).map((r) => [r.name, { p50: r.applyMsP50, p90: r.applyMsP90, decoderP50: r.modelMsP50, frames: r.frames }]),
    ),
    live: {
      frames: coded.length,
      meanDecodedPatches: coded.length ? Math.round(coded.reduce((s, f) => s + (f.decoded ?? 0), 0) / coded.length) : 0,
      p50: quantile(
        coded.map((f) => f.applyMs ?? 0),
        0.5,
      ),
      p90: quantile(
        coded.map((f) => f.applyMs ?? 0),
        0.9,
      ),
    },
    runtime: 'onnxruntime-web wasm (simd), 1 thread, Web Worker',
    h264: await benchH264(browser),
    browser: /(?:Headless)?Chrome\/[\d.]+/.exec(ua)?.[0] ?? ua,
  };
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
  await sender.stop();
}

/** @param {Awaited<ReturnType<typeof launchBrowser>>} browser */
async function benchH264(browser) {
  const { DEMO_IMAGE } = await import('../../sender/dist/assets.js');
  const video = await startSender({ source: `pan:${DEMO_IMAGE}`, query: 'dog', args: ['--engine', 'h264', '--max-rate', '1'] });
  try {
    const page = await browser.context.newPage();
    await page.goto(video.page('/'));
    await waitForState(page, `s.framesShown >= ${Math.min(FRAMES, 100)}`, 120_000);
    /** @type {{ applyMs: number | null, receiveTs: number, shownAt: number | null }[]} */
    const all = await page.evaluate(() => /** @type {any} */ (window).mmsc.frames());
    // What an operator waits for: from the page's navigation start to its first picture on the canvas.
    const origin = await page.evaluate(() => performance.timeOrigin);
    const firstShown = all.find((f) => f.shownAt !== null)?.shownAt ?? null;
    const frames = all.slice(1);
    const decoded = frames.filter((f) => f.applyMs !== null);
    const shown = frames.filter((f) => f.shownAt !== null);
    await page.close();
    return {
      frames: decoded.length,
      decodeMsP50: quantile(
        decoded.map((f) => f.applyMs ?? 0),
        0.5,
      ),
      decodeMsP90: quantile(
        decoded.map((f) => f.applyMs ?? 0),
        0.9,
      ),
      receiveToShownMsP50: quantile(
        shown.map((f) => (f.shownAt ?? 0) - f.receiveTs),
        0.5,
      ),
      receiveToShownMsP90: quantile(
        shown.map((f) => (f.shownAt ?? 0) - f.receiveTs),
        0.9,
      ),
      firstPictureMs: firstShown === null ? null : Math.round(firstShown - origin),
      source: 'pan over dog.jpg, --max-rate 1 (Mbit/s)',
      decoder: 'WebCodecs VideoDecoder (H.264, prefer-software) in the decode worker, YUV → RGB in JS',
    };
  } finally {
    await video.stop();
  }
}
