// @ts-check
// Types the scripts share (JSDoc; this module exports nothing at run time).

/**
 * What the sender's /stats answers: the fields the scripts read.
 * @typedef {object} SenderStats
 * @property {number} framesMade
 * @property {string} engine
 * @property {unknown} eventLoop
 * @property {Record<string, number>} refusals
 * @property {{ cpuUserMs: number, cpuSystemMs: number, rssBytes: number, heapUsedBytes: number }} process
 * @property {Array<{ budgetViolations: number } & Record<string, unknown>>} receivers
 */

/**
 * A probe's JSON report, as `mmsc probe --json` prints it (the fields the scripts read).
 * @typedef {{ fps: number, budgetViolations: number | null, latencyMsP50?: number | null, errors?: string[] }} ProbeReport
 */

export {};
