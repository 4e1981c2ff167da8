import { arr, bin, bool, int, list, num, str, tuple } from './check.js';
import type { ProtocolContext } from './context.js';
import { ProtocolError } from './errors.js';
import { decodeLevels, encodeLevels } from './level-coding.js';
import {
  type BaseMessage,
  ENGINES,
  type EngineName,
  type ErrorMessage,
  type FeedbackMessage,
  type FrameMessage,
  type GroundedWord,
  type GroundingMessage,
  type HelloMessage,
  IMPLICIT_ENGINE,
  KEEP_LEVEL,
  type LevelKind,
  type LevelSpec,
  LIMITS,
  MAX_LEVEL_ID,
  MAX_VIEW_BPS,
  MESSAGE_TYPES,
  type Message,
  type PictureMessage,
  PROTOCOL_VERSION,
  type QueryMessage,
  type RefreshMessage,
  type RelevanceMessage,
  type VideoMessage,
  type VideoTransport,
  type ViewMessage,
  WORD_FLAGS,
} from './types.js';

// Messages travel as positional msgpack arrays `[version, type, ...fields]` (PROTOCOL.md § Messages).

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_PATCHES = 1 << 20;
const MAX_PARTS = 0xffff;
const SHA256 = /^[0-9a-f]{64}$/;
const KINDS: readonly LevelKind[] = ['skip', 'learned', 'raw'];

export function toWire(m: Message): unknown[] {
  const head = [PROTOCOL_VERSION, MESSAGE_TYPES[m.type]];
  switch (m.type) {
    case 'hello':
      return [
        ...head,
        m.sessionId,
        m.width,
        m.height,
        m.patchSize,
        list(m.levels, 'levels', MAX_LEVEL_ID + 1).map((l) => [l.id, l.bytes, l.kind, l.model ? [l.model.id, l.model.sha256] : null]),
        m.maxMessageBytes,
        m.fps,
        // A patches hello keeps its original 7 fields, byte for byte.
        ...(m.engine === IMPLICIT_ENGINE ? [] : [m.engine]),
        // The transport is a ninth field only when it is not the data channel.
        ...(m.transport === 'rtp' && m.engine !== IMPLICIT_ENGINE ? [m.transport] : []),
      ];
    case 'frame': {
      const { coding, bytes } = encodeLevels(bin(m.levels, 'levels'));
      return [...head, m.frameId, m.captureTs, m.budget, m.part, m.parts, m.firstPatch, m.levels.length, coding, bytes, m.payload];
    }
    case 'video':
      return [...head, m.frameId, m.captureTs, m.budget, m.part, m.parts, m.key, m.data];
    case 'picture':
      return [...head, m.frameId, m.captureTs, m.budget, m.key, m.rtpTs, m.bytes];
    case 'base':
      return [...head, m.frameId, m.data];
    case 'relevance':
      return [...head, m.frameId, m.width, m.height, m.values];
    case 'grounding':
      return [
        ...head,
        m.queryId,
        m.text,
        m.fallback,
        list(m.words, 'words', LIMITS.words).map((w) => {
          const classes = list(w.classes, 'classes', LIMITS.classesPerWord).map((c) => [c.name, c.weight]);
          // A word with flags carries them as a third element, one with modifiers these as a fourth
          // (its flags then 0 when none); an ordinary one stays a pair.
          const flags = (w.negated ? WORD_FLAGS.negated : 0) | (w.notInView ? WORD_FLAGS.notInView : 0);
          if (w.modifiers && w.modifiers.length > 0)
            return [w.word, classes, flags, list(w.modifiers, 'modifiers', LIMITS.modifiersPerWord)];
          return flags ? [w.word, classes, flags] : [w.word, classes];
        }),
        m.ungrounded,
      ];
    case 'query':
      return [...head, m.queryId, m.text];
    case 'feedback':
      return [...head, m.frameId, m.bytesReceived, m.partsReceived, m.receiveTs];
    case 'refresh':
      return [...head, m.reason];
    case 'view':
      return [...head, m.maps, m.maxBps];
    case 'error':
      return [...head, m.code, m.message, m.ref];
    default:
      throw new ProtocolError('unknown-type', `unknown message type ${String((m as { type: unknown }).type)}`, 'type');
  }
}

export function fromWire(v: unknown, ctx: ProtocolContext): Message {
  if (!Array.isArray(v)) throw new ProtocolError('not-array', 'a message is a msgpack array [version, type, ...fields]');
  if (v.length < 2) throw new ProtocolError('bad-arity', `a message needs at least [version, type], got ${v.length} elements`);
  if (v[0] !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      'bad-version',
      `unsupported protocol version ${String(v[0])}; this build speaks ${PROTOCOL_VERSION}`,
      'version',
    );
  }
  const f = v.slice(2);
  switch (v[1]) {
    case MESSAGE_TYPES.hello:
      return hello(f.length === 8 || f.length === 9 ? f : tuple(f, 'hello', 7));
    case MESSAGE_TYPES.frame:
      return frame(tuple(f, 'frame', 10), ctx);
    case MESSAGE_TYPES.video:
      return video(tuple(f, 'video', 7));
    case MESSAGE_TYPES.picture:
      return picture(tuple(f, 'picture', 6));
    case MESSAGE_TYPES.base:
      return base(tuple(f, 'base', 2));
    case MESSAGE_TYPES.relevance:
      return relevance(tuple(f, 'relevance', 4), ctx);
    case MESSAGE_TYPES.grounding:
      return grounding(tuple(f, 'grounding', 5));
    case MESSAGE_TYPES.query:
      return query(tuple(f, 'query', 2));
    case MESSAGE_TYPES.feedback:
      return feedback(tuple(f, 'feedback', 4));
    case MESSAGE_TYPES.refresh:
      return refresh(tuple(f, 'refresh', 1));
    case MESSAGE_TYPES.view:
      return view(tuple(f, 'view', 2));
    case MESSAGE_TYPES.error:
      return error(tuple(f, 'error', 3));
    default:
      throw new ProtocolError('unknown-type', `unknown message type ${String(v[1])}`, 'type');
  }
}

function hello(f: unknown[]): HelloMessage {
  const sessionId = str(f[0], 'sessionId', LIMITS.idBytes);
  const patchSize = int(f[3], 'patchSize', 1, LIMITS.maxPatchSize);
  const width = int(f[1], 'width', patchSize, LIMITS.maxDimension);
  const height = int(f[2], 'height', patchSize, LIMITS.maxDimension);
  if (width % patchSize || height % patchSize) {
    throw new ProtocolError('bad-field', `frame ${width}×${height} is not a whole number of ${patchSize}-pixel patches`, 'width');
  }
  if ((width / patchSize) * (height / patchSize) > MAX_PATCHES) {
    throw new ProtocolError('out-of-range', `more than ${MAX_PATCHES} patches per frame`, 'width');
  }
  const raw = patchSize * patchSize * 3;
  const seen = new Set<number>();
  const levels = arr(f[4], 'levels', MAX_LEVEL_ID + 1).map((e, i): LevelSpec => {
    const p = `levels[${i}]`;
    const [rid, rbytes, rkind, rmodel] = tuple(e, p, 4);
    const id = int(rid, `${p}.id`, 0, MAX_LEVEL_ID);
    if (seen.has(id)) throw new ProtocolError('bad-field', `level id ${id} appears twice`, `${p}.id`);
    seen.add(id);
    const bytes = int(rbytes, `${p}.bytes`, 0, raw);
    const kind = str(rkind, `${p}.kind`, 16) as LevelKind;
    if (!KINDS.includes(kind)) throw new ProtocolError('bad-field', `kind must be one of ${KINDS.join(', ')}`, `${p}.kind`);
    const wantBytes = kind === 'skip' ? bytes === 0 : kind === 'raw' ? bytes === raw : bytes > 0 && bytes < raw;
    if (!wantBytes) throw new ProtocolError('out-of-range', `${bytes} bytes is not valid for a ${kind} level`, `${p}.bytes`);
    let model: LevelSpec['model'] = null;
    if (kind === 'learned') {
      const [mid, msha] = tuple(rmodel, `${p}.model`, 2);
      model = { id: str(mid, `${p}.model.id`, LIMITS.idBytes, 1), sha256: str(msha, `${p}.model.sha256`, 64) };
      if (!SHA256.test(model.sha256)) throw new ProtocolError('bad-field', 'expected 64 lowercase hex digits', `${p}.model.sha256`);
    } else if (rmodel !== null) {
      throw new ProtocolError('bad-field', `a ${kind} level has no model`, `${p}.model`);
    }
    return { id, bytes, kind, model };
  });
  if (levels.length === 0) throw new ProtocolError('bad-field', 'the level table is empty', 'levels');
  const maxMessageBytes = int(f[5], 'maxMessageBytes', LIMITS.minMessageBytes, LIMITS.maxMessageBytes);
  const fps = f[6] === null ? null : num(f[6], 'fps', Number.MIN_VALUE, 1000);
  let engine: EngineName = IMPLICIT_ENGINE;
  let transport: VideoTransport | undefined;
  if (f.length >= 8) {
    const e = str(f[7], 'engine', 16) as EngineName;
    if (!ENGINES.includes(e) || e === IMPLICIT_ENGINE) {
      throw new ProtocolError(
        'bad-field',
        `engine must be one of ${ENGINES.filter((x) => x !== IMPLICIT_ENGINE).join(', ')} (${IMPLICIT_ENGINE} is sent as no field)`,
        'engine',
      );
    }
    engine = e;
    if (width % 2 || height % 2) throw new ProtocolError('bad-field', `4:2:0 video needs even dimensions, got ${width}×${height}`, 'width');
  }
  if (f.length === 9) {
    if (f[8] !== 'rtp') throw new ProtocolError('bad-field', "transport must be 'rtp' (the data channel is sent as no field)", 'transport');
    transport = 'rtp';
  }
  const h: HelloMessage = { type: 'hello', sessionId, width, height, patchSize, levels, maxMessageBytes, fps, engine };
  if (transport) h.transport = transport;
  return h;
}

function frame(f: unknown[], ctx: ProtocolContext): FrameMessage {
  const frameId = int(f[0], 'frameId', 0, LIMITS.maxFrameId);
  const captureTs = num(f[1], 'captureTs', 0, MAX_SAFE);
  const budget = int(f[2], 'budget', 0, MAX_SAFE);
  const parts = int(f[4], 'parts', 1, MAX_PARTS);
  const part = int(f[3], 'part', 0, parts - 1);
  const firstPatch = int(f[5], 'firstPatch', 0, ctx.patchCount - 1);
  const count = int(f[6], 'patchCount', 1, ctx.patchCount - firstPatch);
  const coding = int(f[7], 'levelCoding', 0, 255);
  const levels = decodeLevels(coding, bin(f[8], 'levels'), count);
  const payload = bin(f[9], 'payload');
  let expected = 0;
  for (let i = 0; i < count; i++) {
    const b = ctx.levelBytes[levels[i] as number];
    if (b === undefined) {
      const hint = levels[i] === KEEP_LEVEL ? '' : ' (not in the session level table)';
      throw new ProtocolError('unknown-level', `patch ${firstPatch + i} has level ${levels[i]}${hint}`, 'levels');
    }
    expected += b;
  }
  if (payload.length !== expected) {
    throw new ProtocolError('payload-length', `levels need ${expected} payload bytes, got ${payload.length}`, 'payload');
  }
  return { type: 'frame', frameId, captureTs, budget, part, parts, firstPatch, levels, payload };
}

function video(f: unknown[]): VideoMessage {
  const parts = int(f[4], 'parts', 1, MAX_PARTS);
  const data = bin(f[6], 'data');
  if (data.length === 0) throw new ProtocolError('payload-length', 'a video part carries at least one byte', 'data');
  return {
    type: 'video',
    frameId: int(f[0], 'frameId', 0, LIMITS.maxFrameId),
    captureTs: num(f[1], 'captureTs', 0, MAX_SAFE),
    budget: int(f[2], 'budget', 0, MAX_SAFE),
    part: int(f[3], 'part', 0, parts - 1),
    parts,
    key: bool(f[5], 'key'),
    data,
  };
}

function picture(f: unknown[]): PictureMessage {
  return {
    type: 'picture',
    frameId: int(f[0], 'frameId', 0, LIMITS.maxFrameId),
    captureTs: num(f[1], 'captureTs', 0, MAX_SAFE),
    budget: int(f[2], 'budget', 0, MAX_SAFE),
    key: bool(f[3], 'key'),
    rtpTs: int(f[4], 'rtpTs', 0, 0xffffffff),
    bytes: int(f[5], 'bytes', 1, MAX_SAFE),
  };
}

function base(f: unknown[]): BaseMessage {
  const data = bin(f[1], 'data');
  if (data.length < 3) throw new ProtocolError('payload-length', 'a base layer carries at least its three parameter bytes', 'data');
  return { type: 'base', frameId: int(f[0], 'frameId', 0, LIMITS.maxFrameId), data };
}

function refresh(f: unknown[]): RefreshMessage {
  return { type: 'refresh', reason: str(f[0], 'reason', LIMITS.idBytes) };
}

function relevance(f: unknown[], ctx: ProtocolContext): RelevanceMessage {
  const frameId = int(f[0], 'frameId', 0, LIMITS.maxFrameId);
  const width = int(f[1], 'width', 1, ctx.width);
  const height = int(f[2], 'height', 1, ctx.height);
  const values = bin(f[3], 'values');
  if (values.length !== width * height) {
    throw new ProtocolError('payload-length', `a ${width}×${height} map needs ${width * height} values, got ${values.length}`, 'values');
  }
  return { type: 'relevance', frameId, width, height, values };
}

function grounding(f: unknown[]): GroundingMessage {
  const words = arr(f[3], 'words', LIMITS.words).map((e, i): GroundedWord => {
    const [w, cs, flags, mods] = tuple(e, `words[${i}]`, Array.isArray(e) && (e.length === 3 || e.length === 4) ? e.length : 2);
    const word: GroundedWord = {
      word: str(w, `words[${i}].word`, LIMITS.wordBytes),
      classes: arr(cs, `words[${i}].classes`, LIMITS.classesPerWord).map((c, j) => {
        const p = `words[${i}].classes[${j}]`;
        const [name, weight] = tuple(c, p, 2);
        return { name: str(name, `${p}.name`, LIMITS.wordBytes), weight: num(weight, `${p}.weight`, 0, 1) };
      }),
    };
    if (flags !== undefined) {
      // A word without flags or modifiers is a pair: a third element of 0 alone, or with a bit not
      // defined, is a mistake; a fourth must list at least one modifier.
      const f = int(flags, `words[${i}].flags`, mods === undefined ? 1 : 0, WORD_FLAGS.negated | WORD_FLAGS.notInView);
      if (f & WORD_FLAGS.negated) word.negated = true;
      if (f & WORD_FLAGS.notInView) word.notInView = true;
    }
    if (mods !== undefined) {
      const list = arr(mods, `words[${i}].modifiers`, LIMITS.modifiersPerWord);
      if (list.length === 0)
        throw new ProtocolError('out-of-range', 'a fourth element lists at least one modifier', `words[${i}].modifiers`);
      word.modifiers = list.map((m, j) => str(m, `words[${i}].modifiers[${j}]`, LIMITS.wordBytes));
    }
    return word;
  });
  return {
    type: 'grounding',
    queryId: str(f[0], 'queryId', LIMITS.idBytes),
    text: str(f[1], 'text', LIMITS.textBytes),
    fallback: bool(f[2], 'fallback'),
    words,
    ungrounded: arr(f[4], 'ungrounded', LIMITS.words).map((w, i) => str(w, `ungrounded[${i}]`, LIMITS.wordBytes)),
  };
}

function query(f: unknown[]): QueryMessage {
  return { type: 'query', queryId: str(f[0], 'queryId', LIMITS.idBytes, 1), text: str(f[1], 'text', LIMITS.textBytes) };
}

function feedback(f: unknown[]): FeedbackMessage {
  return {
    type: 'feedback',
    frameId: int(f[0], 'frameId', 0, LIMITS.maxFrameId),
    bytesReceived: int(f[1], 'bytesReceived', 0, MAX_SAFE),
    partsReceived: int(f[2], 'partsReceived', 0, MAX_PARTS),
    receiveTs: num(f[3], 'receiveTs', 0, MAX_SAFE),
  };
}

function view(f: unknown[]): ViewMessage {
  return { type: 'view', maps: bool(f[0], 'maps'), maxBps: int(f[1], 'maxBps', 0, MAX_VIEW_BPS) };
}

function error(f: unknown[]): ErrorMessage {
  return {
    type: 'error',
    code: str(f[0], 'code', LIMITS.idBytes, 1),
    message: str(f[1], 'message', LIMITS.textBytes),
    ref: f[2] === null ? null : str(f[2], 'ref', LIMITS.idBytes),
  };
}
