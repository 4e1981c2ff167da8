/**
 * A one-line progress bar with ETA on stderr (a TTY redraws in place; otherwise a line every 10 %).
 * stdout stays clean for --json output.
 */
export function progress(label: string, total: number) {
  const t0 = performance.now();
  const tty = process.stderr.isTTY;
  let done = 0;
  let lastDecile = -1;
  return {
    tick(note = '') {
      done++;
      const elapsed = (performance.now() - t0) / 1000;
      const eta = done ? (elapsed / done) * (total - done) : 0;
      const pct = Math.floor((100 * done) / total);
      const width = 24;
      const bar = '#'.repeat(Math.round((width * done) / total)).padEnd(width, '.');
      const line = `${label} [${bar}] ${done}/${total} ${pct}% ${elapsed.toFixed(0)}s elapsed, ETA ${eta.toFixed(0)}s ${note.split('/').pop() ?? ''}`;
      if (tty)
        process.stderr.write(
          `\r${line.slice(0, (process.stderr.columns ?? 120) - 1).padEnd(Math.min(119, (process.stderr.columns ?? 120) - 1))}`,
        );
      else if (Math.floor(pct / 10) !== lastDecile) {
        lastDecile = Math.floor(pct / 10);
        process.stderr.write(`${line}\n`);
      }
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}
