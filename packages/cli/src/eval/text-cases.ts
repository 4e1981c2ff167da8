/**
 * Text query cases: words drawn onto the dev images at known places and sizes, bare or on a plate
 * (a sign, a label, a number plate), and the queries an operator would type for them. The truth is
 * what was drawn (its pixels' bounding box, plate included), independent of any detector. Pure: the
 * drawing is an SVG the caller renders.
 */

/** What is written: sign words, and plate-like numbers. */
export const TEXT_WORDS = ['EXIT', 'OPEN', 'SALE', 'STOP', 'PUSH', 'CAFE', 'HOTEL', 'BUS 42', '7XK 391', 'PARKING', 'NO ENTRY', 'TAXI'];

/** The queries, cycled through: the channel's words and a quoted word. */
export const TEXT_QUERIES: readonly ((word: string) => string)[] = [
  () => 'text',
  () => 'the sign',
  () => 'the label',
  () => 'license plate',
  (w) => `the word "${w}"`,
];

export interface TextCase {
  query: string;
  word: string;
  /** The overlay, as large as the frame. */
  svg: string;
  /** Font size in frame pixels. */
  fontSize: number;
  plate: boolean;
}

const PLATES = ['#1f6f3f', '#1d4e9e', '#c8a000', '#b3261e', '#f2f2f2', '#202020'];

/**
 * The case for image `index` of a frame `width`×`height`: word, size (14–44 px at 360 lines, scaled),
 * place (inside the frame), plate or bare (white with a dark outline), from `rnd` (seeded).
 */
export function textCase(width: number, height: number, index: number, rnd: () => number): TextCase {
  const word = TEXT_WORDS[Math.floor(rnd() * TEXT_WORDS.length)] as string;
  const query = (TEXT_QUERIES[index % TEXT_QUERIES.length] as (w: string) => string)(word);
  const fontSize = Math.round((14 + rnd() * 30) * (height / 360));
  const plate = rnd() < 0.5;
  // Room for the word: DejaVu Sans capitals run ~0.7 em wide; the plate adds 0.3 em around.
  const pad = plate ? Math.round(fontSize * 0.3) : 0;
  const w = Math.ceil(fontSize * 0.72 * word.length) + 2 * pad;
  const h = Math.ceil(fontSize * 1.2) + 2 * pad;
  const x = Math.round(rnd() * Math.max(0, width - w - 4)) + 2;
  const y = Math.round(rnd() * Math.max(0, height - h - 4)) + 2;
  const fill = PLATES[Math.floor(rnd() * PLATES.length)] as string;
  const ink = fill === '#f2f2f2' || fill === '#c8a000' ? '#111' : '#fff';
  const text = `<text x="${x + pad}" y="${y + pad + Math.round(fontSize * 0.95)}" font-family="sans-serif" font-weight="bold" font-size="${fontSize}"`;
  const body = plate
    ? `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${Math.round(pad / 2)}" fill="${fill}"/>${text} fill="${ink}">${word}</text>`
    : `${text} fill="#fff" stroke="#000" stroke-width="${Math.max(1, Math.round(fontSize / 16))}">${word}</text>`;
  return { query, word, fontSize, plate, svg: `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${body}</svg>` };
}

/** The truth: the bounding box of the overlay's drawn pixels (alpha > 0), as a 0/1 mask. Empty when nothing was drawn. */
export function drawnBox(rgba: Uint8Array, width: number, height: number): Uint8Array {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      if (!rgba[(y * width + x) * 4 + 3]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  const mask = new Uint8Array(width * height);
  for (let y = y0; y <= y1; y++) mask.fill(1, y * width + x0, y * width + x1 + 1);
  return mask;
}
