import { EXIT } from '@mmsc/protocol';

/** Typed CLI failure: printed as one line (no stack), with its exit status (PROTOCOL.md § Exit codes). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}
