import { DEFAULT_GEOMETRY } from '@mmsc/protocol';

/** The frame every source is scaled and cropped to, and its patch grid (one place: the protocol's default). */
export const GEOMETRY = { width: DEFAULT_GEOMETRY.width, height: DEFAULT_GEOMETRY.height, patchSize: DEFAULT_GEOMETRY.patchSize };
/** The frame size alone, as sources and images take it. */
export const FRAME_SIZE = { width: GEOMETRY.width, height: GEOMETRY.height };
