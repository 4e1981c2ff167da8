/**
 * Where a receiving session's pictures are made: a PictureDecoding takes each session's hello and
 * frames, in order, and gives back each frame's decode. In this thread (`LocalDecoding`: the
 * probe, the e2e reference) or in the page's decode worker (app/decoder.ts); a session without one
 * only collects and acknowledges frames (the test receiver).
 */
import type { HelloMessage } from '@mmsc/protocol';
import type { CollectedFrame } from '../collect-frame.js';
import type { ReceiverPlatform } from '../engines/picture-source.js';
import { pictureSource } from '../engines/registry.js';
import type { ApplyStats } from '../reassemble.js';
import { SessionPicture } from '../receive/frame-receiver.js';

export interface DecodedPicture {
  frameId: number;
  stats: ApplyStats;
  /** Frames waiting to be decoded after this one. */
  queued: number;
  /** The picture (RGB) where this thread holds it; null where it is drawn elsewhere (the page's worker). */
  image: { rgb: Uint8Array; width: number; height: number } | null;
}

export interface DecoderReady {
  /** The decoders in use, for the operator. */
  models: string[];
  loadMs: number;
}

export interface PictureDecoding {
  /**
   * Session `epoch` begins: its picture is made afresh. Rejects when its decoders cannot decode the
   * hello (a DecoderMismatchError) or cannot be loaded.
   */
  begin(epoch: number, hello: HelloMessage): Promise<DecoderReady>;
  /** Decodes a frame after every one handed in before it; null when its session is not the current one (or was refused). */
  decode(epoch: number, frame: CollectedFrame): Promise<DecodedPicture | null>;
  close(): void;
}

/**
 * Decoding in this thread: a SessionPicture per session from the picture source of the hello's
 * engine. `platform(needsPatchDecoders)` gives the decoders, loading the patch decoders only when
 * the engine needs them.
 */
export class LocalDecoding implements PictureDecoding {
  private current: { epoch: number; picture: SessionPicture } | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private queued = 0;

  constructor(private readonly platform: (needsPatchDecoders: boolean) => Promise<ReceiverPlatform> | ReceiverPlatform) {}

  /** The current session's picture (null before a hello, or when refused). */
  get picture(): SessionPicture | null {
    return this.current?.picture ?? null;
  }

  begin(epoch: number, hello: HelloMessage): Promise<DecoderReady> {
    return this.inOrder(async () => {
      this.current?.picture.close();
      this.current = null;
      const t0 = performance.now();
      const source = pictureSource(hello.engine);
      const platform = await this.platform(source.needsPatchDecoders);
      const picture = SessionPicture.open(hello, platform);
      if (!picture) throw new Error(`${platform.decoderSource ?? 'this receiver'} has no decoders for engine ${hello.engine}`);
      this.current = { epoch, picture };
      return { models: source.decoderNames(platform), loadMs: Math.round(performance.now() - t0) };
    });
  }

  decode(epoch: number, frame: CollectedFrame): Promise<DecodedPicture | null> {
    this.queued++;
    return this.inOrder(async () => {
      this.queued--;
      const c = this.current;
      if (!c || c.epoch !== epoch) return null;
      const stats = await c.picture.apply(frame);
      const p = c.picture.picture;
      return { frameId: frame.frameId, stats, queued: this.queued, image: { rgb: p.image, width: p.width, height: p.height } };
    });
  }

  /** Resolves once every frame handed in so far is decoded. */
  drained(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  close(): void {
    this.current?.picture.close();
    this.current = null;
  }

  /** Runs `f` after everything handed in before it; one failure does not stop the rest. */
  private inOrder<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
