import { fileURLToPath } from 'node:url';

// Paths into the repository's own folders (the same depth from src/ and dist/).
/** The demo image `serve` pans over by default (assets/README.md: source and licence). */
export const DEMO_IMAGE = fileURLToPath(new URL('../../../assets/images/dog.jpg', import.meta.url));
