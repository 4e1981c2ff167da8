/**
 * Exit statuses of the `mmsc` commands: one registry with the wire codes, so scripts that run
 * `mmsc probe` (CI, the abuse suite) and the CLI agree. PROTOCOL.md § Exit codes documents each.
 */
export const EXIT = {
  /** the command did what it was asked (a probe run without errors) */
  ok: 0,
  /** a runtime failure: the sender unreachable, a token or Origin refused, errors during a probe run, a model or file missing */
  failed: 1,
  /** bad options or input: an unknown flag, a value out of range, a source or image that cannot be read */
  usage: 2,
  /** `mmsc probe`: the sender serves its maximum number of receivers (`busy`) */
  busy: 3,
} as const;

export type ExitName = keyof typeof EXIT;
