#!/usr/bin/env node
// Committed entry point so npm can link the `mmsc` binary before the TypeScript build has run.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/main.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('mmsc: not built yet — run `npm run build` (or `npm install`) in the repository root.');
  process.exit(1);
}
await import(cli.href);
