import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The tests run on the native TensorFlow backend (the numerics suite also runs wasm and cpu); a
    // machine where scripts/tensorflow.sh could not build it fails them rather than quietly use wasm.
    env: { SPIKENAS_BACKEND: process.env.SPIKENAS_BACKEND || 'tensorflow' },
    // tfjs work and real servers on a 2-core machine: generous per-test time, files in separate forks.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
  },
});
