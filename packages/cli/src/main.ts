#!/usr/bin/env node

import { createRequire } from 'node:module';
import { ModelError } from '@mmsc/codec';
import { EXIT } from '@mmsc/protocol';
import { ImageError, LexiconError, SourceError } from '@mmsc/sender';
import { Command, CommanderError } from 'commander';
import { benchRelevanceCommand } from './commands/bench-relevance.js';
import { benchSenderCommand } from './commands/bench-sender.js';
import { codecBenchCommand } from './commands/codec-bench.js';
import { decodeCommand } from './commands/decode.js';
import { emulateCommand } from './commands/emulate.js';
import { evalCommand } from './commands/eval.js';
import { evalVideoCommand } from './commands/eval-video.js';
import { probeCommand } from './commands/probe.js';
import { relevanceCommand } from './commands/relevance.js';
import { relevanceEvalCommand } from './commands/relevance-eval.js';
import { replayCommand } from './commands/replay.js';
import { serveCommand } from './commands/serve.js';
import { emulateProbeCommand } from './emulate/mmsc-peer.js';
import { CliError } from './errors.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command('mmsc')
    .description('Multi-modal semantic communication: stream images over WebRTC, spending bytes where the query points.')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addCommand(serveCommand());
  program.addCommand(probeCommand());
  program.addCommand(codecBenchCommand());
  program.addCommand(relevanceCommand());
  program.addCommand(relevanceEvalCommand());
  program.addCommand(benchRelevanceCommand());
  program.addCommand(benchSenderCommand());
  program.addCommand(evalCommand());
  program.addCommand(evalVideoCommand());
  program.addCommand(decodeCommand());
  program.addCommand(emulateCommand());
  program.addCommand(serveCommand('record'));
  program.addCommand(
    replayCommand((argv) =>
      buildProgram()
        .parseAsync(['node', 'mmsc', ...argv])
        .then(() => undefined),
    ),
  );
  program.addCommand(emulateProbeCommand(), { hidden: true });
  // Every command's parse errors reach main (a usage error: exit 2), not commander's own exit (1).
  const override = (c: Command): void => {
    c.exitOverride();
    for (const sub of c.commands) override(sub);
  };
  override(program);
  return program;
}

function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  if (!(e instanceof Error)) return false;
  const { code, syscall } = e as NodeJS.ErrnoException;
  return typeof code === 'string' && code.startsWith('E') && typeof syscall === 'string';
}

async function main(argv: string[]) {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    // Help and version exit 0; a bad option or argument is a usage error (2), as `--help` documents.
    if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : EXIT.usage);
    if (
      e instanceof CliError ||
      e instanceof ModelError ||
      e instanceof LexiconError ||
      e instanceof SourceError ||
      e instanceof ImageError
    ) {
      console.error(`mmsc: ${e.message}`);
      // Bad input (a source or image the user named) exits 2 like a bad option.
      process.exit(e instanceof CliError ? e.exitCode : e instanceof SourceError || e instanceof ImageError ? EXIT.usage : EXIT.failed);
    }
    // A Node system error (EADDRINUSE, EACCES, ENOTFOUND, ...) is about the environment, not a bug:
    // one line. Anything else is a bug and keeps its stack.
    if (isSystemError(e)) {
      console.error(`mmsc: ${e.message}`);
      process.exit(EXIT.failed);
    }
    throw e;
  }
}

await main(process.argv);
