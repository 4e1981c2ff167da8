import { EXIT } from '@mmsc/protocol';
import { checkFrameOptions, DEFAULT_FRAME, FRAME_FITS, type FrameFit, type FrameOptions, SIZE_GRID } from '@mmsc/sender';
import type { Command } from 'commander';
import { CliError } from '../errors.js';

/** Adds `--size` and `--fit` (how a source's picture becomes the frame) to a command that makes frames. */
export function withFrameOptions(cmd: Command): Command {
  return cmd
    .option(
      '--size <px>',
      `the frame's long side in pixels (a multiple of ${SIZE_GRID}); the short side follows the source's aspect`,
      String(DEFAULT_FRAME.size),
    )
    .option(
      '--fit <mode>',
      "keep (the source's aspect, the short side rounded to the 8-px patch grid) or crop (the centre of the source cropped to a 3:2 frame)",
      DEFAULT_FRAME.fit,
    );
}

/** `--size`/`--fit` as checked FrameOptions; a usage error naming the option otherwise. */
export function frameOptionsOf(o: { size?: string; fit?: string }): FrameOptions {
  const frame = { size: Number(o.size ?? DEFAULT_FRAME.size), fit: (o.fit ?? DEFAULT_FRAME.fit) as FrameFit };
  if (!FRAME_FITS.includes(frame.fit)) throw new CliError(`--fit must be ${FRAME_FITS.join(' or ')}`, EXIT.usage);
  try {
    checkFrameOptions(frame);
  } catch (e) {
    throw new CliError(`--${(e as Error).message}`, EXIT.usage);
  }
  return frame;
}
