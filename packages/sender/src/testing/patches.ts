import { PATCH_VALUES } from '@mmsc/codec';

/** Textured patches from a fixed pseudo-random generator (test input for the codecs). */
export function noisyPatches(n: number): Uint8Array {
  let s = 12345;
  return Uint8Array.from({ length: n * PATCH_VALUES }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s >>> 24;
  });
}
