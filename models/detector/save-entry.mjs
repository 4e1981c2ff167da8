// Writes a model's manifest entry to its folder's entry.json (numeric arrays on one line) and puts it in
// models/manifest.json in place of the entry with the same id (appended when there is none), keeping
// the others. Shared by the detector's, the person mask's and the text detector's scripts.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export function saveEntry(entry, entryPath = join(here, 'entry.json')) {
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
  const at = manifest.models.findIndex((m) => m.id === entry.id);
  if (at >= 0) manifest.models[at] = entry;
  else manifest.models.push(entry);
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`updated ${manifestPath}`);
}
