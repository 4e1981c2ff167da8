import { Writable } from 'node:stream';
import pino from 'pino';

/** The logging surface the sender uses (pino's and fastify's loggers satisfy it). */
export interface Log {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};
export const silentLog: Log = { debug: noop, info: noop, warn: noop, error: noop };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * One line per event for people at a terminal: `08:21:03 INFO  receiver a1b2c3d4 connected (…)`, the
 * stack of a logged error indented below. pino's JSON is what a log collector wants instead.
 */
function prettyStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const r = JSON.parse(line) as { level: number; time: number; msg?: string; err?: { stack?: string } };
          const t = new Date(r.time).toTimeString().slice(0, 8);
          const stack = r.err?.stack && r.level >= 50 ? `\n    ${r.err.stack.split('\n').slice(1).join('\n    ')}` : '';
          out.write(`${t} ${(LEVEL_NAMES[r.level] ?? String(r.level)).padEnd(5)} ${r.msg ?? ''}${stack}\n`);
        } catch {
          out.write(`${line}\n`);
        }
      }
      done();
    },
  });
}

/** The sender's logger: JSON lines when stdout is not a TTY (or `json`), short lines when it is. */
export function createLogger(level: LogLevel = 'info', json = !process.stdout.isTTY): pino.Logger {
  const opts: pino.LoggerOptions = {
    level,
    base: null,
    // A token never reaches the log through a request URL or header.
    redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '***' },
  };
  return json ? pino(opts) : pino(opts, prettyStream(process.stdout));
}
