/**
 * Image ⇄ patches. Images are RGB uint8, row-major (HWC). Patches are numbered row-major over the
 * patch grid; each is `ps·ps·3` bytes in its own row-major HWC order — the order the wire, the raw
 * level and the codecs all use.
 */
export function patchify(rgb: Uint8Array, width: number, height: number, ps = 8): Uint8Array {
  checkGeometry(rgb, width, height, ps);
  const cols = width / ps;
  const rows = height / ps;
  const row = ps * 3;
  const out = new Uint8Array(rgb.length);
  let o = 0;
  for (let py = 0; py < rows; py++) {
    for (let px = 0; px < cols; px++) {
      for (let y = 0; y < ps; y++) {
        const src = ((py * ps + y) * width + px * ps) * 3;
        out.set(rgb.subarray(src, src + row), o);
        o += row;
      }
    }
  }
  return out;
}

/** Writes patches (`ps·ps·3` bytes each, in `patches`) to the grid positions `indices` of `rgb`, in place. */
export function placePatches(rgb: Uint8Array, width: number, patches: Uint8Array, indices: ArrayLike<number>, ps = 8): void {
  const cols = width / ps;
  const row = ps * 3;
  const size = ps * row;
  for (let k = 0; k < indices.length; k++) {
    const p = indices[k] as number;
    const px = p % cols;
    const py = (p - px) / cols;
    for (let y = 0; y < ps; y++) {
      const dst = ((py * ps + y) * width + px * ps) * 3;
      const src = k * size + y * row;
      rgb.set(patches.subarray(src, src + row), dst);
    }
  }
}

export function unpatchify(patches: Uint8Array, width: number, height: number, ps = 8): Uint8Array {
  checkGeometry(patches, width, height, ps);
  const rgb = new Uint8Array(patches.length);
  const n = (width / ps) * (height / ps);
  placePatches(
    rgb,
    width,
    patches,
    Uint32Array.from({ length: n }, (_, i) => i),
    ps,
  );
  return rgb;
}

export class GeometryError extends Error {
  override readonly name = 'GeometryError';
}

function checkGeometry(buf: Uint8Array, width: number, height: number, ps: number) {
  if (!Number.isInteger(width / ps) || !Number.isInteger(height / ps) || width <= 0 || height <= 0) {
    throw new GeometryError(`a ${width}×${height} image is not a whole number of ${ps}×${ps} patches`);
  }
  if (buf.length !== width * height * 3) {
    throw new GeometryError(`expected ${width}×${height}×3 = ${width * height * 3} bytes, got ${buf.length}`);
  }
}
