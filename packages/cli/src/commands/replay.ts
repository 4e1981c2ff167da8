import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { clipFromFrames } from '../emulate/clip.js';
import { readRecording } from '../emulate/record.js';
import { CliError } from '../errors.js';

/**
 * `mmsc replay DIR`: the recording's frames as the source and its query changes at the same frame
 * indices. Alone it serves on this machine (and records the replay, to compare); with --scenario it
 * runs `mmsc emulate` on that link with the recording as the clip.
 */
export function replayCommand(reenter: (argv: string[]) => Promise<void>): Command {
  return new Command('replay')
    .description(
      'play a recording (`mmsc record --out DIR`) again: same frames, same query changes at the same frame indices\n' +
        'without --scenario: serves it (receivers connect as to `mmsc serve`) and records the replay into --out; with --scenario: runs it through `mmsc emulate` on that link',
    )
    .argument('<dir>', 'recording folder')
    .option('--scenario <name>', 'an `mmsc emulate` scenario to replay it on (needs root)')
    .option('--seconds <n>', 'with --scenario: stream this long (default: the recording’s length)')
    .option(
      '--out <dir>',
      'without --scenario: where the replay is recorded (default <dir>/replay); with --scenario: the reports folder',
      '',
    )
    .option('--port <n>', 'without --scenario: HTTP port', '8080')
    .option('--host <addr>', 'without --scenario: address to listen on', '127.0.0.1')
    .option('--token <token>', 'without --scenario: operator token (default: $MMSC_TOKEN, else a random one)')
    .option('--engine <name>', 'h264 or patches (default h264)')
    .action(
      async (
        dir: string,
        opts: { scenario?: string; seconds?: string; out: string; port: string; host: string; token?: string; engine?: string },
      ) => {
        const m = readRecording(dir);
        const framesDir = join(dir, 'frames');
        const files = (await readdir(framesDir).catch(() => [] as string[])).filter((f) => f.endsWith('.png')).sort();
        if (files.length === 0) throw new CliError(`${framesDir} holds no frames`, 2);
        const engine = opts.engine ? ['--engine', opts.engine] : [];
        if (!opts.scenario) {
          await reenter([
            'record',
            '--out',
            opts.out || join(dir, 'replay'),
            '--replay',
            dir,
            '--source',
            framesDir,
            '--fps',
            String(m.fps),
            '--port',
            opts.port,
            '--host',
            opts.host,
            ...(opts.token ? ['--token', opts.token] : []),
            ...engine,
          ]);
          return;
        }
        const first = m.queries[0]?.queries[0] ?? 'dog';
        const clip = join(tmpdir(), `mmsc-replay-clip-${process.pid}`);
        await clipFromFrames(framesDir, files, first, m.fps, clip);
        const seconds = opts.seconds ?? String(Math.max(2, Math.ceil(m.frames / m.fps)));
        await reenter([
          'emulate',
          opts.scenario,
          '--peers',
          'mmsc',
          '--seconds',
          seconds,
          '--clip',
          clip,
          '--serve-args',
          ['--replay', dir, ...engine].join(' '),
          ...(opts.out ? ['--out', opts.out] : []),
        ]);
      },
    );
}
