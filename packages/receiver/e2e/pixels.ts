/** PSNR between an RGBA picture (a canvas read back) and an RGB one of the same size, in dB. */
export function psnrRgbaRgb(rgba: Uint8Array, rgb: Uint8Array): number {
  let s = 0;
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3)
    for (let c = 0; c < 3; c++) s += ((rgba[i + c] as number) - (rgb[j + c] as number)) ** 2;
  return 10 * Math.log10((255 * 255) / (s / rgb.length));
}
