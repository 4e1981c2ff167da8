import type { EncodedPictureIn } from '../src/index.js';

/** The session's raw protocol messages, kept with `?debug` for the tests (test-api.ts hands them out). */
const LOG_LIMIT = { messages: 20_000, bytes: 96 * 1024 * 1024 };

/** A picture from the video track, and where it came among the messages (before `messages[at]`). */
export interface LoggedPicture extends EncodedPictureIn {
  at: number;
}

/**
 * The session's raw protocol messages, and the video track's pictures where it has one, with
 * `?debug` only: tests replay them through the Node receiver.
 */
export class MessageLog {
  messages: Uint8Array[] = [];
  pictures: LoggedPicture[] = [];
  bytes = 0;
  truncated = false;

  constructor(readonly enabled: boolean) {}

  keep(bytes: Uint8Array): void {
    if (!this.enabled || this.truncated) return;
    if (this.messages.length >= LOG_LIMIT.messages || this.bytes + bytes.length > LOG_LIMIT.bytes) {
      this.truncated = true;
      return;
    }
    this.messages.push(bytes.slice());
    this.bytes += bytes.length;
  }

  keepPicture(p: EncodedPictureIn): void {
    if (!this.enabled || this.truncated) return;
    if (this.pictures.length >= LOG_LIMIT.messages || this.bytes + p.data.length > LOG_LIMIT.bytes) {
      this.truncated = true;
      return;
    }
    this.pictures.push({ ...p, data: p.data.slice(), at: this.messages.length });
    this.bytes += p.data.length;
  }

  /** A new session: the log restarts with its hello, the message just kept. */
  restart(): void {
    if (!this.enabled) return;
    this.messages = this.messages.slice(-1);
    this.pictures = [];
    this.bytes = this.messages[0]?.length ?? 0;
    this.truncated = false;
  }
}
