import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The evaluations with `--relevance onnx:<file>`, through the built CLI, on a hand-made COCO folder:
// grey 240×160 images, a red square annotated as a dog and a blue one as a cat. The fixture model
// weights R, G and B by the query's first three bytes: "z!!" finds the red dog, "!!z" the blue cat.
const cli = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../../../models/fixtures/text-image-fixture.onnx', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmsc-open-'));
  await mkdir(join(dir, 'images'));
  const square = (x: number, y: number, s: number) => [[x, y, x + s, y, x + s, y + s, x, y + s]];
  const annotations = [];
  for (const id of [1, 2, 3]) {
    const dog = { x: 20 + 40 * id, y: 40, s: 60 };
    const cat = { x: 10, y: 100, s: 50 };
    const fill = (sq: typeof dog, background: { r: number; g: number; b: number }) => ({
      input: { create: { width: sq.s, height: sq.s, channels: 3 as const, background } },
      left: sq.x,
      top: sq.y,
    });
    await sharp({ create: { width: 240, height: 160, channels: 3, background: { r: 120, g: 120, b: 120 } } })
      .composite([fill(dog, { r: 230, g: 20, b: 20 }), fill(cat, { r: 20, g: 20, b: 230 })])
      .png()
      .toFile(join(dir, 'images', `${id}.png`));
    annotations.push({ image_id: id, category_id: 18, segmentation: square(dog.x, dog.y, dog.s), area: dog.s ** 2, iscrowd: 0 });
    annotations.push({ image_id: id, category_id: 17, segmentation: square(cat.x, cat.y, cat.s), area: cat.s ** 2, iscrowd: 0 });
  }
  const coco = {
    images: [1, 2, 3].map((id) => ({ id, file_name: `${id}.png`, width: 240, height: 160 })),
    categories: [
      { id: 17, name: 'cat', supercategory: 'animal' },
      { id: 18, name: 'dog', supercategory: 'animal' },
    ],
    annotations,
  };
  await writeFile(join(dir, 'instances.json'), JSON.stringify(coco));
  for (const [q, file] of [
    ['z!!', 'red'],
    ['!!z', 'blue'],
  ] as const)
    await writeFile(join(dir, `${file}.json`), JSON.stringify([1, 2, 3].map((id) => ({ image_id: id, query: q, categories: ['dog'] }))));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const common = () => ['--images', join(dir, 'images'), '--annotations', join(dir, 'instances.json'), '--relevance', `onnx:${FIXTURE}`];

describe('relevance-eval and eval with --relevance onnx:<file> (fixture model)', () => {
  it('relevance-eval scores the export against the truth: the query that finds the dog wins, the baseline is the uniform map', () => {
    const score = (q: string) => {
      const r = run('relevance-eval', ...common(), '--pairs-file', join(dir, `${q}.json`), '--json');
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const red = score('red');
    const blue = score('blue');
    expect(red).toMatchObject({ pairs: 3, relevance: 'onnx text-image (text-image-fixture)', groundedShare: null });
    expect(red.auroc.baseline).toBeCloseTo(0.5, 5);
    expect(red.auroc.mmsc).toBeGreaterThan(0.9);
    expect(blue.auroc.mmsc).toBeLessThan(0.6);
  }, 60_000);

  it('eval allocates by the export: the dog is sharper when the query finds it', async () => {
    const maskedMse = async (q: string) => {
      const out = join(dir, `eval-${q}`);
      const r = run('eval', ...common(), '--pairs-file', join(dir, `${q}.json`), '--methods', 'mmsc', '--rates', '0.1', '--out', out);
      expect(r.status, r.stderr).toBe(0);
      const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
      expect(summary.relevance).toBe('onnx text-image (text-image-fixture)');
      return summary.methods.mmsc.maskedMse[0] as number;
    };
    expect(await maskedMse('red')).toBeLessThan(await maskedMse('blue'));
  }, 120_000);
});
