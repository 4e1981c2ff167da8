// Writes the text detector's manifest entry to text/entry.json (numeric arrays on one line) and puts it
// in models/manifest.json in place of its previous entry, keeping the others.
// Used by add.mjs.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export function saveEntry(entry) {
  const entryPath = join(here, 'entry.json');
  const text = JSON.stringify(entry, null, 2).replace(
    /\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]/g,
    (_, body) => `[${body.split(/,\s*/).join(', ')}]`,
  );
  writeFileSync(entryPath, `${text}\n`);
  console.log(`wrote ${entryPath}`);
  const manifestPath = join(here, '..', 'manifest.json');
  let manifest = { version: 1, models: [] };
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    // no manifest yet
  }
  manifest.models = [...manifest.models.filter((m) => m.id !== entry.id), entry];
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`updated ${manifestPath}`);
}
