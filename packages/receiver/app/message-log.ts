/** The session's raw protocol messages, kept with `?debug` for the tests (test-api.ts hands them out). */
const LOG_LIMIT = { messages: 20_000, bytes: 96 * 1024 * 1024 };

/** The session's raw protocol messages, with `?debug` only: tests replay them through the Node receiver. */
export class MessageLog {
  messages: Uint8Array[] = [];
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

  /** A new session: the log restarts with its hello, the message just kept. */
  restart(): void {
    if (!this.enabled) return;
    this.messages = this.messages.slice(-1);
    this.bytes = this.messages[0]?.length ?? 0;
    this.truncated = false;
  }
}
