import { defineConfig } from 'vitest/config';

/** Real-browser tests (Debian Chromium via playwright-core): `npm run test:e2e`, after `npm run build`. */
export default defineConfig({
  test: {
    include: ['packages/receiver/e2e/**/*.e2e.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
