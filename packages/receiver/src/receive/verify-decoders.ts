import type { HelloMessage } from '@mmsc/protocol';

/**
 * A decoder this receiver runs, as its manifest names it. A manifest's `CodecEntry` is one, so
 * `codecEntries(manifest)` can be passed as it is; `decoderIdentities` reads them off loaded codecs.
 */
export interface DecoderIdentity {
  id: string;
  /** Code bytes per patch: the level the decoder serves. */
  bytes: number;
  decoder: { sha256: string };
}

/** Loaded decoders that can say which models they are (PatchCodecs can). */
export interface IdentifiedDecoders {
  readonly levels: readonly number[];
  entry(bytes: number): DecoderIdentity;
}

export function decoderIdentities(codecs: IdentifiedDecoders): DecoderIdentity[] {
  return codecs.levels.map((bytes) => codecs.entry(bytes));
}

export type DecoderMismatchCode = 'decoder-missing' | 'decoder-mismatch';

/**
 * The hello names a decoder this receiver does not run. Decoding with another model than the
 * sender's encoder was trained with gives a plausible but wrong picture, so it is refused, not shown.
 */
export class DecoderMismatchError extends Error {
  override readonly name = 'DecoderMismatchError';
  constructor(
    readonly code: DecoderMismatchCode,
    /** The level's code bytes per patch. */
    readonly bytes: number,
    /** What the sender's hello announces for it. */
    readonly announced: { id: string; sha256: string },
    /** What this receiver runs for it; null when it runs nothing for that level. */
    readonly have: { id: string; sha256: string } | null,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Checks that every learned level of `hello` names, by id and sha256, a decoder among `decoders`:
 * the pictures would be wrong otherwise. Only the hash has to match for the pixels to be right; a
 * different id with the same hash is a renamed copy of the same model and passes.
 * `source` says where the receiver's decoders came from, for the message (e.g. "/models/manifest.json").
 *
 * @throws {DecoderMismatchError} on the first level that does not match
 */
export function verifyDecoders(hello: HelloMessage, decoders: readonly DecoderIdentity[], source = "this receiver's manifest"): void {
  const byBytes = new Map(decoders.map((d) => [d.bytes, d]));
  for (const level of hello.levels) {
    if (level.kind !== 'learned' || !level.model) continue;
    const announced = level.model;
    const have = byBytes.get(level.bytes);
    if (!have)
      throw new DecoderMismatchError(
        'decoder-missing',
        level.bytes,
        announced,
        null,
        `the sender uses a ${level.bytes}-byte decoder (${announced.id}) that ${source} does not list`,
      );
    if (have.decoder.sha256 !== announced.sha256)
      throw new DecoderMismatchError(
        'decoder-mismatch',
        level.bytes,
        announced,
        { id: have.id, sha256: have.decoder.sha256 },
        `decoder mismatch for ${level.bytes}-byte patches: the sender announces ${announced.id} sha256 ${announced.sha256.slice(0, 12)}…, ${source} has ${have.id} ${have.decoder.sha256.slice(0, 12)}…`,
      );
  }
}
