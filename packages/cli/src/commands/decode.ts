import { existsSync, readFileSync } from 'node:fs';
import { decodeMessage, EXIT, ProtocolError } from '@mmsc/protocol';
import { Command } from 'commander';
import { CliError } from '../errors.js';

/** `mmsc decode`: inspect one captured protocol message (a file of raw bytes, or hex text). */
export function decodeCommand(): Command {
  return new Command('decode')
    .description('decode one protocol message and print it as JSON (or the ProtocolError code)')
    .argument('<message>', 'a file holding the raw message bytes, or the message as hex')
    .action((input: string) => {
      const bytes = readInput(input);
      try {
        const msg = decodeMessage(bytes);
        console.log(JSON.stringify({ ok: true, bytes: bytes.length, message: msg }, binaryAsSummary, 2));
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        console.log(JSON.stringify({ ok: false, bytes: bytes.length, code: e.code, field: e.field ?? null, error: e.message }, null, 2));
        process.exitCode = 1;
      }
    });
}

function readInput(input: string): Uint8Array {
  if (existsSync(input)) return new Uint8Array(readFileSync(input));
  const hex = input.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(hex))
    throw new CliError(`"${input.slice(0, 40)}" is neither a file nor an even-length hex string`, EXIT.usage);
  return Uint8Array.from(hex.match(/../g) as string[], (h) => Number.parseInt(h, 16));
}

function binaryAsSummary(_key: string, v: unknown) {
  if (!(v instanceof Uint8Array)) return v;
  const head = Buffer.from(v.subarray(0, 32)).toString('hex');
  return { binary: v.length, hex: v.length > 32 ? `${head}…` : head };
}
