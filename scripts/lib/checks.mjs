// @ts-check
// PASS/FAIL bookkeeping shared by the data, soak and abuse-style scripts: one line per check and
// the closing "N passed, M failed" line CI reads.

export function createChecks() {
  const counts = { passed: 0, failed: 0 };
  /** @param {string} name @param {unknown} ok @param {string} [detail] */
  const check = (name, ok, detail = '') => {
    console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
    if (ok) counts.passed++;
    else counts.failed++;
  };
  /** Prints the closing line and exits 1 when any check failed. */
  const finish = () => {
    console.log(`${counts.passed} passed, ${counts.failed} failed`);
    process.exit(counts.failed ? 1 : 0);
  };
  return { check, counts, finish };
}
