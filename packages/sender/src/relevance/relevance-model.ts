import type { GroundedWord } from '@mmsc/protocol';
import { DEFAULT_PEAKS, type Detection, type DetectorOutput, decodeDetections, type PeakOptions } from './decode-detections.js';
import type { Detector } from './detector.js';
import { DEFAULT_FUSE, type FuseOptions, fuse, type RelevanceMap } from './fuse.js';
import { type Fit, type FitMode, fitFrame, frameToInput, modelInputSize } from './geometry.js';
import { groundText } from './grounder.js';
import { IN_VIEW_SCORE, mapPeak } from './in-view.js';
import type { Lexicon } from './lexicon.js';
import { type InstanceRule, instanceFactors, UNPICKED } from './modifiers.js';
import { cropFrame, cropInput, maskCrop, type PersonMask, type PersonMaskGrid, type PixelRect, stretchMaskRegion } from './person-mask.js';
import type { TextDetector } from './text-detector.js';

export interface Frame {
  width: number;
  height: number;
  /** RGB uint8, row-major. */
  data: Uint8Array;
}

export interface RelevanceResult extends RelevanceMap {
  /** What each query word grounded to. */
  grounding: GroundedWord[];
  /** Query words that grounded to nothing. */
  ungrounded: string[];
  /** True when nothing grounded and the map is the query-agnostic baseline. */
  fallback: boolean;
  detections: Detection[];
  /** Wall time of this call: resize + model + fusion (+ grounding). */
  ms: number;
}

/** S_inf: text-guided relevance of every pixel and patch of a frame. */
export interface RelevanceModel {
  readonly name: string;
  relevance(frame: Frame, query: string): Promise<RelevanceResult>;
}

export interface DetectorRelevanceOptions {
  fit: FitMode;
  /** Detector input pixels per frame pixel (the input is then padded to the network's multiple). */
  inputScale: number;
  peaks: PeakOptions;
  fuse: FuseOptions;
  /**
   * The person mask (models/person-mask.onnx), null for none: the person part of a map is multiplied
   * by floor + (1 − floor) × the mask, which follows a body where the detector's box is a rectangle.
   * The mask runs on the crop around the people at least `minHeight` of the frame high, one input
   * pixel per frame pixel; `input` [W, H]: its long side is at most the larger of the two.
   */
  person: { floor: number; minHeight: number; input: [number, number] } | null;
  /**
   * The text detector (models/text-detector.onnx), null for none: a query for text, signs, labels,
   * plates or a quoted word gets its map; the frame goes in at most `maxSide` on its long side.
   */
  text: { maxSide: number } | null;
}

// Letterboxing beat stretching on the dev pairs (0.927 vs 0.924 AUROC) and keeps cats from reading as dogs.
// The person mask (floor 0.5, people ≥ 1/4 of the frame's height, 256² input), measured on the 200 dev
// pairs: AUROC 0.9367 against 0.9274 without, top-25 % coverage 0.805 against 0.793; floor 0.3 gave 0.9373
// but cost the coco-crowd clip's people 0.2 dB at 0.25 Mbit/s (eval-video, truth), 0.5 about nothing; the
// coco-tour's people lose 0.3 dB at 0.25–1 Mbit/s either way (docs/results/relevance/2026-12-07/). Run
// on the large people's crop instead of the whole frame at 256²: AUROC 0.9360, coverage 0.8046, the three
// COCO clips' people within 0.1 dB in their truth (docs/results/relevance/2026-12-08/).
export const DEFAULT_RELEVANCE: DetectorRelevanceOptions = {
  fit: 'letterbox',
  inputScale: 1,
  peaks: DEFAULT_PEAKS,
  fuse: DEFAULT_FUSE,
  person: { floor: 0.5, minHeight: 0.25, input: [256, 256] },
  text: { maxSide: 288 },
};

/** One detector pass over a frame, reusable for several queries (and for the baseline). */
export interface Analysis {
  frame: Frame;
  fit: Fit;
  out: DetectorOutput;
  /**
   * The person mask of the frame and the person class, when it was asked for. The mask is at the
   * model's size: `stretchMask(mask, frame.width, frame.height)` gives one probability per frame pixel.
   */
  person?: { cls: number; mask: PersonMaskGrid | null; rect: PixelRect } | undefined;
  /** The frame's text map (one probability per pixel), when a query asked for text. */
  text?: Float32Array | undefined;
  ms: number;
}

/** What an analysis computes beyond the detector pass. */
export interface AnalyseOptions {
  /** Run the person mask (when the relevance has one): a query asks for people. */
  person?: boolean;
  /** Or: the class weights of the queries the frame is analysed for; the mask runs when one weighs people. */
  weights?: readonly (Float32Array | null)[];
  /** Run the text detector (when the relevance has one): a query asks for text. */
  text?: boolean;
}

/**
 * The models' side of relevance, without a lexicon: one query-independent pass over a frame
 * (`analyse`, the detector) and the fusion of a query's class weights into a map (`fromWeights`).
 * This is what the frame pipeline's models run; the query's words are grounded where the receivers
 * are served, and only their weights come here.
 */
export interface AnalysingRelevance {
  analyse(frame: Frame, options?: AnalyseOptions): Promise<Analysis>;
  /**
   * The map for class weights on an analysis, its modified words' instances picked by `rules`; null
   * weights → the query-agnostic map. Results are read-only.
   */
  fromWeights(
    a: Analysis,
    weights: Float32Array | null,
    rules?: readonly InstanceRule[],
    text?: number,
  ): RelevanceMap & { detections: Detection[] };
}

/** Class weights → a soft map over an analysis (fusion only: no model, no lexicon). */
export class RelevanceFusion {
  /**
   * The query-agnostic map of each analysis, made once: it is the same for every query that grounds
   * nothing and for the baseline, and it costs ~1.5× a query's map (all 80 classes), so receivers
   * with ungroundable queries (or one sending many) share one per frame. Results are read-only.
   */
  private readonly agnostic = new WeakMap<Analysis, ReturnType<RelevanceFusion['map']>>();

  constructor(readonly options: DetectorRelevanceOptions = DEFAULT_RELEVANCE) {}

  fromWeights(
    a: Analysis,
    weights: Float32Array | null,
    rules: readonly InstanceRule[] = [],
    text = 0,
  ): RelevanceMap & { detections: Detection[] } {
    if (weights === null) return this.agnosticMap(a);
    if (text === 0 || !a.text) return this.classMap(a, weights, rules);
    // Text in the query: what is asked for (the text map joined with the classes' map by their
    // maximum; the whole picture when nothing is) times 1 − what is negated (classes, text).
    const { width, height } = a.frame;
    const ps = this.options.fuse.patchSize;
    const wanted = weights.map((w) => Math.max(0, w));
    const negated = weights.map((w) => Math.max(0, -w));
    let out: (RelevanceMap & { detections: Detection[] }) | null = wanted.some((w) => w > 0)
      ? this.map(
          a,
          wanted,
          rules.filter((r) => !r.negated),
        )
      : null;
    if (text > 0) {
      const map = Float32Array.from(a.text);
      if (out) for (let i = 0; i < map.length; i++) if ((out.map[i] as number) > (map[i] as number)) map[i] = out.map[i] as number;
      const peak = Math.max(out?.peak ?? 0, textPeak(a.text));
      out = { width, height, map, patchScores: patchMeansOf(map, width, height, ps), peak, detections: out?.detections ?? [] };
    }
    if (negated.some((w) => w > 0)) {
      const keep = this.map(
        a,
        negated,
        rules.filter((r) => r.negated),
      );
      out = suppress(out, keep, width, height, ps);
    }
    if (text < 0) out = suppress(out, { width, height, map: a.text, patchScores: new Float32Array(0), peak: 1 }, width, height, ps);
    return out as RelevanceMap & { detections: Detection[] };
  }

  private classMap(a: Analysis, weights: Float32Array, rules: readonly InstanceRule[]): RelevanceMap & { detections: Detection[] } {
    if (!weights.some((w) => w < 0)) return this.map(a, weights, rules);
    // A negated class: everything the query asks for (the whole picture when it names nothing
    // else) times one minus the negated objects' map. The boxes are the asked-for ones.
    const wanted = weights.map((w) => Math.max(0, w));
    const negated = weights.map((w) => Math.max(0, -w));
    const keep = this.map(
      a,
      negated,
      rules.filter((r) => r.negated),
    );
    const base = wanted.some((w) => w > 0)
      ? this.map(
          a,
          wanted,
          rules.filter((r) => !r.negated),
        )
      : null;
    return suppress(base, keep, a.frame.width, a.frame.height, this.options.fuse.patchSize);
  }

  private agnosticMap(a: Analysis) {
    let m = this.agnostic.get(a);
    if (!m) {
      // Query-agnostic: the detector's view alone (the person mask is there only when a query asks for people).
      m = this.detectorMap(a, allClasses(a.out.classes), []);
      this.agnostic.set(a, m);
    }
    return m;
  }

  private map(a: Analysis, weights: Float32Array, rules: readonly InstanceRule[] = []): RelevanceMap & { detections: Detection[] } {
    const p = a.person;
    if (!p || !((weights[p.cls] as number) > 0)) return this.detectorMap(a, weights, rules);
    // People: the person part of the map times the mask; any other class fused on its own and
    // the two joined by their maximum (each keeps its own normalisation).
    const only = new Float32Array(weights.length);
    only[p.cls] = weights[p.cls] as number;
    const people = this.detectorMap(a, only, rules);
    const map = p.mask
      ? refineByMask(people.map, p.mask, people.detections, a.frame.width, a.frame.height, this.options.person, p.rect)
      : Float32Array.from(people.map);
    const rest = Float32Array.from(weights);
    rest[p.cls] = 0;
    let detections = people.detections;
    let peak = people.peak;
    if (rest.some((w) => w > 0)) {
      const others = this.detectorMap(a, rest, rules);
      for (let i = 0; i < map.length; i++) if ((others.map[i] as number) > (map[i] as number)) map[i] = others.map[i] as number;
      detections = [...people.detections, ...others.detections];
      peak = Math.max(peak, others.peak);
    }
    const { width, height } = a.frame;
    return { width, height, map, patchScores: patchMeansOf(map, width, height, this.options.fuse.patchSize), peak, detections };
  }

  private detectorMap(a: Analysis, weights: Float32Array, rules: readonly InstanceRule[]) {
    const active = [...weights.keys()].filter((c) => (weights[c] as number) > 0);
    const detections = decodeDetections(a.out, a.fit, a.frame.width, a.frame.height, { ...this.options.peaks, classes: active });
    const { width, height } = a.frame;
    if (rules.length === 0) return { ...fuse(detections, weights, a.out, a.fit, width, height, this.options.fuse), detections };
    // Modified words ("the red car", "the person on the left"): their instances weigh as picked,
    // and their classes' heatmaps (which cannot tell instances apart) as the unpicked ones.
    const factors = instanceFactors(detections, rules, a.frame);
    const picked = detections.map((d, i) => ({ ...d, score: d.score * (factors[i] as number) }));
    const heat = Float32Array.from(weights);
    for (const r of rules) for (const c of r.classes) heat[c] = (heat[c] as number) * UNPICKED;
    return { ...fuse(picked, weights, a.out, a.fit, width, height, this.options.fuse, heat), detections };
  }
}

/**
 * The query half of the default extractor: the query's grounding over the 80 classes (lexicon)
 * weights a detector pass's heatmaps and boxes, fused into a soft map.
 */
export class QueryRelevance extends RelevanceFusion {
  constructor(
    readonly lexicon: Lexicon,
    options: DetectorRelevanceOptions = DEFAULT_RELEVANCE,
  ) {
    super(options);
  }

  /** The map for `query` from an analysis; no grounded word → the baseline map, flagged. */
  fromAnalysis(a: Analysis, query: string): RelevanceResult {
    const t0 = performance.now();
    const g = reportGrounding(query, this.lexicon);
    const result = this.fromWeights(a, g.weights, g.rules, g.textWeight);
    return { ...result, grounding: g.grounding, ungrounded: g.ungrounded, fallback: g.fallback, ms: a.ms + performance.now() - t0 };
  }

  /** The query-agnostic map (class-agnostic objectness: every class, same footprint). */
  baselineFromAnalysis(a: Analysis): RelevanceResult {
    const t0 = performance.now();
    const result = this.fromWeights(a, null);
    return { ...result, grounding: [], ungrounded: [], fallback: false, ms: a.ms + performance.now() - t0 };
  }
}

/** One detector pass over a frame (resize, model), reusable for every query on it. */
class DetectorPass {
  private input: Float32Array | null = null;

  constructor(
    readonly detector: Detector,
    private readonly options: DetectorRelevanceOptions,
    private readonly personMask: PersonMask | null,
    private readonly textDetector: TextDetector | null = null,
  ) {}

  async analyse(frame: Frame, options: AnalyseOptions = {}): Promise<Analysis> {
    const t0 = performance.now();
    const [mw, mh] = modelInputSize(frame.width, frame.height, this.detector.multiple, this.options.inputScale);
    const fit = fitFrame(frame.width, frame.height, mw, mh, this.options.fit);
    this.input = frameToInput(frame.data, frame.width, frame.height, fit, 0, this.input ?? undefined);
    const cls = this.detector.classes.indexOf('person');
    const asked = options.person === true || weighsClass(options.weights ?? [], cls);
    const out = await this.detector.run(this.input, mw, mh);
    const person = asked && this.personMask && cls >= 0 ? await this.personPass(frame, fit, out, cls) : undefined;
    const text = options.text && this.textDetector ? await this.textDetector.run(frame) : null;
    return { frame, fit, out, person, text: text?.map, ms: performance.now() - t0 };
  }

  /**
   * The person mask where it will be read: refineByMask uses it inside the boxes of people at least
   * `minHeight` of the frame high, so it runs on the crop around those (grown by 1/32 of the frame's
   * long side) at one input pixel per frame pixel (the long side at most `person.input`'s), and not
   * at all when there is none. On person.jpg that made a person query's extra cost 4–5 ms instead
   * of 11–12 (the whole frame at 256²); the 200 dev pairs' AUROC 0.9360 against 0.9367.
   */
  private async personPass(frame: Frame, fit: Fit, out: DetectorOutput, cls: number): Promise<Analysis['person']> {
    const mask = this.personMask as PersonMask;
    const opts = this.options.person;
    if (!opts) return undefined;
    const people = decodeDetections(out, fit, frame.width, frame.height, { ...this.options.peaks, classes: [cls] });
    const big = people.filter((d) => d.score >= IN_VIEW_SCORE && d.y1 - d.y0 >= opts.minHeight * frame.height);
    const rect = maskCrop(big, frame.width, frame.height, Math.max(frame.width, frame.height) / 32);
    // No one large enough: the mask would change nothing (the person part is still fused on its own).
    if (!rect) return { cls, mask: null, rect: { x0: 0, y0: 0, x1: frame.width, y1: frame.height } };
    const { grid } = await mask.segment(cropFrame(frame, rect), cropInput(rect, Math.max(...opts.input), mask.entry.inputMultiple));
    return { cls, mask: grid, rect };
  }

  async release(): Promise<void> {
    await Promise.all([this.detector.release(), this.personMask?.release(), this.textDetector?.release()]);
  }
}

/** The detector pass and the fusion, without a lexicon: the frame pipeline's models (in the model worker). */
export class DetectorFusion extends RelevanceFusion implements AnalysingRelevance {
  private readonly pass: DetectorPass;

  constructor(
    readonly detector: Detector,
    options: DetectorRelevanceOptions = DEFAULT_RELEVANCE,
    readonly personMask: PersonMask | null = null,
    readonly textDetector: TextDetector | null = null,
  ) {
    super(options);
    this.pass = new DetectorPass(detector, options, personMask, textDetector);
  }

  analyse(frame: Frame, options?: AnalyseOptions): Promise<Analysis> {
    return this.pass.analyse(frame, options);
  }

  /** Releases the onnxruntime sessions (detector, person mask, text detector). */
  release(): Promise<void> {
    return this.pass.release();
  }
}

/** The default extractor, whole: COCO-80 CenterNet detector pass + the query's grounding and fusion. */
export class DetectorRelevance extends QueryRelevance implements RelevanceModel, AnalysingRelevance {
  readonly name = 'detector-grounded';
  private readonly pass: DetectorPass;

  constructor(
    readonly detector: Detector,
    lexicon: Lexicon,
    options: DetectorRelevanceOptions = DEFAULT_RELEVANCE,
    readonly personMask: PersonMask | null = null,
    readonly textDetector: TextDetector | null = null,
  ) {
    super(lexicon, options);
    this.pass = new DetectorPass(detector, options, personMask, textDetector);
  }

  /** One detector pass (resize, model; the person mask when asked for), reusable for every query on this frame. */
  analyse(frame: Frame, options?: AnalyseOptions): Promise<Analysis> {
    return this.pass.analyse(frame, options);
  }

  /** Whether a query asks for people (its analysis then needs the person mask). */
  wantsPerson(query: string): boolean {
    return weighsClass(this.analyseOptions(query).weights ?? [], this.detector.classes.indexOf('person'));
  }

  /** Whether a query asks for text (its analysis then needs the text detector). */
  wantsText(query: string): boolean {
    return this.analyseOptions(query).text === true;
  }

  /** What an analysis for these queries must run beyond the detector (each query grounded once). */
  analyseOptions(...queries: string[]): AnalyseOptions {
    const grounded = queries.map((q) => groundText(q, this.lexicon));
    return { weights: grounded.map((g) => g.weights), text: grounded.some((g) => g.textWeight !== 0) };
  }

  async relevance(frame: Frame, query: string): Promise<RelevanceResult> {
    return this.fromAnalysis(await this.analyse(frame, this.analyseOptions(query)), query);
  }

  /** Releases the onnxruntime sessions (detector, person mask, text detector). */
  release(): Promise<void> {
    return this.pass.release();
  }
}

/** The query's grounding in the protocol's terms (what the operator is shown), plus its signed class weights. */
export function reportGrounding(query: string, lexicon: Lexicon) {
  const q = groundText(query, lexicon);
  return {
    grounding: [...q.words],
    ungrounded: [...q.ungrounded],
    fallback: q.weights === null,
    weights: q.weights,
    rules: q.rules,
    textWeight: q.textWeight,
  };
}

/**
 * `base` (or the whole picture, when null) times 1 − `negated`, per pixel; patch scores are the
 * patches' means of the product. The evidence (`peak`) is the base's, 1 for the whole picture.
 */
export function suppress(
  base: (RelevanceMap & { detections: Detection[] }) | null,
  negated: RelevanceMap,
  width: number,
  height: number,
  patchSize: number,
): RelevanceMap & { detections: Detection[] } {
  const map = new Float32Array(width * height);
  for (let i = 0; i < map.length; i++) map[i] = (base ? (base.map[i] as number) : 1) * (1 - (negated.map[i] as number));
  return {
    width,
    height,
    map,
    patchScores: patchMeansOf(map, width, height, patchSize),
    peak: base ? base.peak : 1,
    detections: base ? base.detections : [],
  };
}

/**
 * The person map times floor + (1 − floor) × the mask stretched to the frame, inside the boxes of
 * people seen large enough for the mask to be sharp (their height ≥ `minHeight` of the frame's);
 * elsewhere as it was: the mask runs at a low resolution and loses small people, whom the boxes
 * keep. The mask is stretched only inside those boxes (a pixel in several is refined once).
 */
export function refineByMask(
  map: Float32Array,
  mask: PersonMaskGrid,
  detections: readonly Detection[],
  width: number,
  height: number,
  opts: DetectorRelevanceOptions['person'],
  area: PixelRect = { x0: 0, y0: 0, x1: width, y1: height },
): Float32Array {
  const out = Float32Array.from(map);
  if (!opts) return out;
  const { floor, minHeight } = opts;
  let done: Uint8Array | null = null;
  for (const d of detections) {
    if (d.score < IN_VIEW_SCORE || d.y1 - d.y0 < minHeight * height) continue;
    // The box within the frame and within the area the mask covers.
    const rect = {
      x0: Math.min(area.x1, Math.max(area.x0, Math.floor(d.x0))),
      y0: Math.min(area.y1, Math.max(area.y0, Math.floor(d.y0))),
      x1: Math.max(area.x0, Math.min(area.x1, Math.ceil(d.x1))),
      y1: Math.max(area.y0, Math.min(area.y1, Math.ceil(d.y1))),
    };
    if (rect.x1 <= rect.x0 || rect.y1 <= rect.y0) continue;
    const local = { x0: rect.x0 - area.x0, y0: rect.y0 - area.y0, x1: rect.x1 - area.x0, y1: rect.y1 - area.y0 };
    const m = stretchMaskRegion(mask, area.x1 - area.x0, area.y1 - area.y0, local);
    done ??= new Uint8Array(width * height);
    let k = 0;
    for (let y = rect.y0; y < rect.y1; y++)
      for (let i = y * width + rect.x0, end = y * width + rect.x1; i < end; i++, k++) {
        if (done[i]) continue;
        done[i] = 1;
        out[i] = (out[i] as number) * (floor + (1 - floor) * (m[k] as number));
      }
  }
  return out;
}

/** Whether any of the queries' class weights gives `cls` a weight (asked for or negated). */
function weighsClass(weights: readonly (Float32Array | null)[], cls: number): boolean {
  return cls >= 0 && weights.some((w) => w !== null && (w[cls] ?? 0) !== 0);
}

/** The text map's evidence: its largest value. */
export const textPeak = mapPeak;

/**
 * The mean of a pixel map over each patch, patches row-major (sides are multiples of the patch's).
 * Each patch's sum runs over its pixels row-major in float32, a row's run of a patch at a time.
 */
export function patchMeansOf(map: Float32Array, width: number, height: number, patchSize: number): Float32Array {
  const cols = width / patchSize;
  const patchScores = new Float32Array(cols * (height / patchSize));
  for (let y = 0, i = 0; y < height; y++) {
    const row = Math.floor(y / patchSize) * cols;
    for (let p = row; p < row + cols; p++) {
      let sum = patchScores[p] as number;
      for (let k = 0; k < patchSize; k++) sum = Math.fround(sum + (map[i++] as number));
      patchScores[p] = sum;
    }
  }
  const n = patchSize * patchSize;
  for (let p = 0; p < patchScores.length; p++) patchScores[p] = (patchScores[p] as number) / n;
  return patchScores;
}

function allClasses(n: number): Float32Array {
  return new Float32Array(n).fill(1);
}
